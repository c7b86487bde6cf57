"""Bulk loads: the unit tree from CSV, and survey responses from CSV/XLSX files.

Every bad row is reported with its line number and reason. The caller commits only when the
result says so: all-or-nothing (the default) keeps nothing if any row is bad.
"""

from __future__ import annotations

import hashlib
from collections import Counter as Tally
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Campaign,
    Channel,
    Counter,
    Dossier,
    Instrument,
    Item,
    ItemKind,
    RespondentType,
    Response,
    Stream,
    Unit,
    UnitLevel,
)
from surveyapp.services.access import Scope
from surveyapp.services.collection.bulk import NewResponse, insert_responses
from surveyapp.services.collection.submissions import new_response_values
from surveyapp.services.collection.tables import Table
from surveyapp.services.errors import InvalidInput
from surveyapp.services.org.units import save_unit
from surveyapp.services.periods import FIRST_YEAR, LAST_YEAR, Period
from surveyapp.services.rows import BadRow, ImportResult, RowError
from surveyapp.services.validation import CODE_RULE, is_code, parse_int

Progress = Callable[[int], None]
BATCH = 1000
FIXED_COLUMNS = (
    "unit_code",
    "submitted_at",
    "counter_code",
    "dossier_code",
    "respondent_type",
    "sex",
    "age_band",
)
RESPONDENT_TYPES = {
    "individual": RespondentType.INDIVIDUAL,
    "cá nhân": RespondentType.INDIVIDUAL,
    "ca nhan": RespondentType.INDIVIDUAL,
    "1": RespondentType.INDIVIDUAL,
    "organisation": RespondentType.ORGANISATION,
    "organization": RespondentType.ORGANISATION,
    "tổ chức": RespondentType.ORGANISATION,
    "to chuc": RespondentType.ORGANISATION,
    "2": RespondentType.ORGANISATION,
}
SEXES = {
    "male": "male",
    "nam": "male",
    "1": "male",
    "female": "female",
    "nữ": "female",
    "nu": "female",
    "2": "female",
}
AGE_BANDS = ("18-25", "25-34", "35-49", "50-60", "60+")
LEVELS = {level.value: level for level in UnitLevel}


def load_units(session: Session, table: Table, scope: Scope) -> ImportResult:
    """Create or update units from rows ``code,name,level,parent_code`` (parents in any order).

    Every unit a row names, and its parent, must be in ``scope`` (units the file itself creates
    under the scope count as in it); only an admin adds a unit at the top of a tree.
    """
    result = ImportResult()
    missing = [c for c in ("code", "name", "level", "parent_code") if c not in table.header]
    if missing:
        result.errors.append(RowError(1, f"thiếu cột: {', '.join(missing)}"))
        return result
    rows: dict[str, tuple[int, dict[str, str]]] = {}
    for line, row in table.rows:
        code = row["code"]
        problem = _unit_row_problem(row, rows)
        if problem:
            result.errors.append(RowError(line, problem))
            continue
        rows[code] = (line, row)
    existing = {u.code: u for u in session.scalars(select(Unit))}
    saved: dict[str, Unit] = {}
    visiting: set[str] = set()

    def save(code: str) -> Unit | None:
        nonlocal scope
        if code in saved:
            return saved[code]
        line, row = rows[code]
        parent_code = row["parent_code"]
        parent = None
        if parent_code:
            if parent_code in visiting:
                result.errors.append(RowError(line, f"vòng lặp cấp trên tại '{parent_code}'"))
                return None
            visiting.add(code)
            if parent_code in rows:
                parent = save(parent_code)
            else:
                parent = existing.get(parent_code)
                if parent is None:
                    result.errors.append(
                        RowError(line, f"không có đơn vị cấp trên '{parent_code}'")
                    )
            visiting.discard(code)
            if parent is None:
                return None
        try:
            unit = save_unit(session, scope, code, row["name"], LEVELS[row["level"]], parent)
        except InvalidInput as error:
            result.errors.append(RowError(line, error.render().rstrip(".")))
            return None
        scope = scope.including([unit.id])
        saved[code] = unit
        result.added += code not in existing
        result.already_present += code in existing
        return unit

    for code in rows:
        save(code)
    result.errors.sort(key=lambda e: e.line)
    return result


def _unit_row_problem(row: dict[str, str], seen: dict[str, tuple[int, dict[str, str]]]) -> str:
    code = row.get("code", "")
    if not is_code(code):
        return f"mã đơn vị trống hoặc không hợp lệ ({CODE_RULE})"
    if code in seen:
        return f"mã '{code}' lặp lại ở dòng {seen[code][0]}"
    if not row.get("name") or len(row["name"]) > 200:
        return "tên đơn vị trống hoặc dài quá 200 ký tự"
    if row.get("level") not in LEVELS:
        return f"cấp '{row.get('level')}' không hợp lệ; dùng {', '.join(LEVELS)}"
    if row.get("parent_code") == code:
        return "đơn vị không thể là cấp trên của chính nó"
    return ""


@dataclass(frozen=True)
class ImportOptions:
    instrument: Instrument
    timezone: str
    scope: Scope  # rows naming a unit outside it are refused
    now: datetime  # no response from the future is accepted
    period: Period | None = None
    stream: Stream = Stream.OFFICIAL
    campaign: Campaign | None = None
    ignore_extra_columns: bool = False


def import_responses(
    session: Session, table: Table, options: ImportOptions, progress: Progress | None = None
) -> ImportResult:
    """Validate every row and insert the good ones in batches, skipping earlier imports' rows.

    The caller commits when ``result.ok`` (or when it accepts partial imports) and rolls back
    otherwise.
    """
    result = ImportResult()
    instrument = options.instrument
    items = {i.code: i for i in instrument.items if i.kind is not ItemKind.TEXT}
    header_errors = _check_header(table.header, items, options.ignore_extra_columns)
    if header_errors:
        result.errors.extend(RowError(1, m) for m in header_errors)
        return result
    item_columns = [c for c in table.header if c in items]
    units = {u.code: u for u in session.scalars(select(Unit))}
    counters = {c.code: c for c in session.scalars(select(Counter))}
    seen_keys: dict[str, int] = {}
    seen_dossiers: dict[str, int] = {}
    batch: list[NewResponse] = []
    done = 0
    for line, row in table.rows:
        done += 1
        if progress and done % 500 == 0:
            progress(done)
        digest = _row_digest(instrument, row, item_columns)
        occurrence = seen_keys.get(digest, 0)
        seen_keys[digest] = occurrence + 1
        key = f"imp-{digest[:40]}-{occurrence}"
        try:
            record, dossier_code = _row_to_record(
                session, row, key, options, items, item_columns, units, counters
            )
        except BadRow as bad:
            result.errors.append(RowError(line, str(bad)))
            continue
        if dossier_code:
            if dossier_code in seen_dossiers:
                result.errors.append(
                    RowError(
                        line, f"hồ sơ '{dossier_code}' đã có ở dòng {seen_dossiers[dossier_code]}"
                    )
                )
                continue
            seen_dossiers[dossier_code] = line
        batch.append(record)
        if len(batch) >= BATCH:
            _flush(session, batch, result)
    _flush(session, batch, result)
    if progress:
        progress(done)
    return result


def _check_header(header: list[str], items: Mapping[str, object], ignore_extra: bool) -> list[str]:
    problems = []
    for required in ("unit_code", "submitted_at"):
        if required not in header:
            problems.append(f"thiếu cột bắt buộc '{required}'")
    duplicates = sorted(h for h, n in Tally(header).items() if n > 1)
    if duplicates:
        problems.append(f"cột lặp lại: {', '.join(d[:40] for d in duplicates[:20])}")
    unknown = [h for h in header if h not in FIXED_COLUMNS and h not in items]
    if unknown and not ignore_extra:
        shown = ", ".join(h[:40] for h in unknown[:20]) + (" …" if len(unknown) > 20 else "")
        problems.append(
            f"cột không có trong phiếu: {shown} (dùng --ignore-extra-columns để bỏ qua)"
        )
    if not any(h in items for h in header):
        problems.append("không có cột câu hỏi nào của phiếu")
    return problems


def _row_to_record(
    session: Session,
    row: dict[str, str],
    key: str,
    options: ImportOptions,
    items: Mapping[str, Item],
    item_columns: list[str],
    units: dict[str, Unit],
    counters: dict[str, Counter],
) -> tuple[NewResponse, str | None]:
    if row.get("__extra__"):
        raise BadRow("có nhiều ô hơn số cột tiêu đề")
    unit = units.get(row["unit_code"])
    if unit is None:
        raise BadRow(f"không có đơn vị '{row['unit_code'][:40]}' (nạp danh mục bằng load-units)")
    if not options.scope.covers(unit.id):
        raise BadRow(f"đơn vị '{unit.code}' không thuộc phạm vi của bạn")
    submitted = _parse_moment(row["submitted_at"], options.timezone)
    if submitted > options.now:
        raise BadRow(f"submitted_at '{row['submitted_at'][:30]}' ở thời điểm trong tương lai")
    local_day = submitted.astimezone(ZoneInfo(options.timezone)).date()
    if options.period and not options.period.contains(local_day):
        raise BadRow(f"ngày {local_day.isoformat()} nằm ngoài kỳ {options.period.label}")
    counter = None
    if row.get("counter_code"):
        counter = counters.get(row["counter_code"])
        if counter is None or counter.unit_id != unit.id:
            raise BadRow(f"quầy '{row['counter_code']}' không thuộc đơn vị '{unit.code}'")
    dossier = None
    dossier_code = row.get("dossier_code") or None
    if dossier_code:
        dossier = session.scalar(select(Dossier).where(Dossier.code == dossier_code))
        if dossier is None or dossier.unit_id != unit.id:
            raise BadRow(f"hồ sơ '{dossier_code}' không thuộc đơn vị '{unit.code}'")
        rated_by = session.scalar(
            select(Response.idempotency_key).where(Response.dossier_id == dossier.id)
        )
        if rated_by is not None and rated_by != key:
            raise BadRow(f"hồ sơ '{dossier_code}' đã được đánh giá")
    values = {
        "respondent_type": _lookup(row, "respondent_type", RESPONDENT_TYPES),
        "sex": _lookup(row, "sex", SEXES),
        "age_band": _lookup(row, "age_band", {a: a for a in AGE_BANDS}),
    }
    answers: list[tuple[int, int | None, str | None]] = []
    for code in item_columns:
        text = row.get(code, "")
        if not text:
            continue
        value = parse_int(text)
        if value is None:
            raise BadRow(f"câu {code}: '{text[:20]}' không phải là số nguyên")
        if value not in items[code].allowed_values():
            allowed = ", ".join(str(v) for v in sorted(items[code].allowed_values()))
            raise BadRow(f"câu {code}: giá trị {value} không thuộc thang đo ({allowed})")
        answers.append((items[code].id, value, None))
    if not answers:
        raise BadRow("dòng không có câu trả lời nào")
    record = NewResponse(
        values=new_response_values(
            idempotency_key=key,
            instrument_id=options.instrument.id,
            campaign_id=options.campaign.id if options.campaign else None,
            unit_id=unit.id,
            counter_id=counter.id if counter else None,
            dossier_id=dossier.id if dossier else None,
            channel=Channel.IMPORT,
            stream=options.stream,
            submitted_at=submitted,
            timezone=options.timezone,
        )
        | values,
        answers=answers,
    )
    return record, dossier_code


def _lookup(row: dict[str, str], column: str, allowed: Mapping[str, object]) -> Any:
    text = row.get(column, "").strip()
    if not text:
        return None
    value = allowed.get(text.lower())
    if value is None:
        choices = ", ".join(sorted({str(v) for v in allowed.values()}))
        raise BadRow(f"{column} '{text[:20]}' không hợp lệ; dùng {choices}")
    return value


def _parse_moment(text: str, timezone: str) -> datetime:
    """ISO 8601 date or date-time; without an offset it is local time in ``timezone``. Its local
    year must be one that reports can hold (FIRST_YEAR … LAST_YEAR)."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), time(12))
        else:
            moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(timezone))
        year = moment.astimezone(ZoneInfo(timezone)).year
    except (ValueError, OverflowError) as exc:
        raise BadRow(f"submitted_at '{text[:30]}' không phải ngày ISO 8601 (YYYY-MM-DD)") from exc
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadRow(f"submitted_at '{text[:30]}': năm phải từ {FIRST_YEAR} đến {LAST_YEAR}")
    return moment


def _row_digest(instrument: Instrument, row: dict[str, str], item_columns: list[str]) -> str:
    fixed = [row.get(c, "") for c in FIXED_COLUMNS]
    answers = [f"{c}={row.get(c, '')}" for c in sorted(item_columns)]
    blob = "\x1f".join([instrument.code, str(instrument.version), *fixed, *answers])
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _flush(session: Session, batch: list[NewResponse], result: ImportResult) -> None:
    if not batch:
        return
    keys = [r.values["idempotency_key"] for r in batch]
    present = set(
        session.scalars(select(Response.idempotency_key).where(Response.idempotency_key.in_(keys)))
    )
    fresh = [r for r in batch if r.values["idempotency_key"] not in present]
    insert_responses(session, fresh)
    result.added += len(fresh)
    result.already_present += len(present)
    batch.clear()

"""Exports as data: a header and rows; the CSV and XLSX writers are thin (STYLE.md pattern 9).

Every text cell that a spreadsheet would read as a formula (starting with =, +, -, @, tab or
carriage return) is neutralised with a leading apostrophe.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import PublicationRules
from surveyapp.models import (
    Answer,
    Counter,
    Instrument,
    Item,
    ParScheme,
    Response,
    ResponseStatus,
    Stream,
    Unit,
    UnitLevel,
)
from surveyapp.services.access import Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.par import ParRow, par_table
from surveyapp.services.periods import Period
from surveyapp.services.tables import TableLimits, open_table
from surveyapp.services.units import root_of

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


@dataclass(frozen=True)
class Sheet:
    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass(frozen=True)
class ScoresExport:
    meta: list[tuple[str, str]]  # header block: province, period, instrument, rules, time
    scores: Sheet
    items: Sheet


def read_appraisal(
    path: str, stream: Any = None, limits: TableLimits | None = None
) -> dict[str, Decimal]:
    """unit_code → appraisal_points (0 … 100) from a CSV or XLSX file; every bad row is
    reported."""
    table = open_table(path, stream, limits)
    if not {"unit_code", "appraisal_points"} <= set(table.header):
        raise InvalidInput(
            N_("Tệp điểm thẩm định cần các cột unit_code, appraisal_points."), field="appraisal"
        )
    points: dict[str, Decimal] = {}
    problems = []
    for line, row in table.rows:
        try:
            value = Decimal(row["appraisal_points"].replace(",", "."))
            if not value.is_finite() or not 0 <= value <= 100:
                raise ValueError
        except (ValueError, ArithmeticError):
            problems.append(
                f"dòng {line}: '{row['appraisal_points'][:20]}' không phải là số từ 0 đến 100"
            )
            continue
        points[row["unit_code"]] = value
    if problems:
        raise InvalidInput(
            N_("Tệp điểm thẩm định có dòng lỗi: %(rows)s"),
            field="appraisal",
            rows="; ".join(problems),
        )
    return points


def scores_export(
    session: Session,
    *,
    scope: Scope,
    parent: Unit,
    level: UnitLevel,
    period: Period,
    appraisal: Mapping[str, Decimal] | None,
    generated_at: datetime,
    stream: Stream | None = Stream.OFFICIAL,
    rules: PublicationRules | None = None,
) -> ScoresExport:
    """One row per unit of ``level`` under ``parent`` with its indices, CI, points and rank; units
    the scope may not open are left out."""
    rules = rules or PublicationRules()
    province = root_of(parent)
    scheme = session.scalar(
        select(ParScheme).where(
            ParScheme.province_id == province.id,
            ParScheme.level == level,
            ParScheme.year == period.start.year,
        )
    )
    if scheme is None:
        raise NotFound(
            N_("Chưa có cấu hình điểm CCHC của %(p)s cho cấp %(l)s năm %(y)s."),
            p=province.code,
            l=level.value,
            y=period.start.year,
        )
    rows = [
        r
        for r in par_table(session, scheme, period, appraisal, stream, rules)
        if r.unit.path.startswith(parent.path) and scope.covers(r.unit.id)
    ]
    elements = [e.code for e in (rows[0].index.parts if rows else ())]
    header = [
        "unit_code",
        "unit_name",
        "level",
        "period",
        "n",
        "sipas",
        "sipas_ci_low",
        "sipas_ci_high",
        *elements,
        "reliable",
        "survey_points",
    ]
    with_appraisal = appraisal is not None
    if with_appraisal:
        header += ["appraisal_points", "total_points", "par_index", "rank", "band"]
    body = [_score_row(r, period, elements, with_appraisal) for r in rows]
    item_header = ["unit_code", "element", "item", "satisfied", "valid", "index"]
    item_rows = [
        [r.unit.code, element.code, item.code, item.satisfied, item.valid, item.percent()]
        for r in rows
        for element in r.index.parts
        for item in element.parts
    ]
    meta = [
        ("Tỉnh / Province", f"{province.code} — {province.name}"),
        ("Kỳ / Period", period.label),
        ("Cấp / Level", level.value),
        ("Phiếu / Instrument", scheme.instrument_code),
        ("Luồng / Stream", stream.value if stream else "all"),
        ("Quy tắc công bố / Publication rules", rules.version),
        ("Cấu hình điểm CCHC / PAR settings", f"{scheme.year} {scheme.decision}".strip()),
        ("Thời điểm lập / Generated", generated_at.isoformat(timespec="seconds")),
    ]
    return ScoresExport(
        meta, Sheet("Điểm", header, body), Sheet("Chỉ số theo câu", item_header, item_rows)
    )


def _score_row(
    row: ParRow, period: Period, elements: Sequence[str], with_appraisal: bool
) -> list[Any]:
    hidden = row.verdict.hidden
    by_code = {e.code: e for e in row.index.parts}
    cells: list[Any] = [
        row.unit.code,
        row.unit.name,
        row.unit.level.value,
        period.label,
        row.respondents,
        None if hidden else row.index.percent(),
        None if hidden or row.interval is None else Decimal(f"{100 * row.interval.low:.2f}"),
        None if hidden or row.interval is None else Decimal(f"{100 * row.interval.high:.2f}"),
        *[None if hidden else by_code[c].percent() for c in elements],
        "yes" if row.verdict.rankable else "no",
        row.survey_points,
    ]
    if with_appraisal:
        cells += [row.appraisal_points, row.total, row.par_index, row.rank, row.band]
    return cells


def write_scores(export: ScoresExport, path: str | Path, fmt: str) -> None:
    """The scores file: "csv" (the scores sheet) or "xlsx" (header block, scores, items)."""
    if fmt == "csv":
        write_rows_csv(export.scores.header, iter(export.scores.rows), path)
    else:
        write_xlsx(export, path)


def write_responses(
    export: ResponsesExport,
    path: str | Path,
    fmt: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The responses file, streamed as "csv" or "xlsx"; returns the rows written."""
    writer = write_rows_csv if fmt == "csv" else write_rows_xlsx
    return writer(export.header, export.rows, path, progress)


def write_xlsx(export: ScoresExport, path: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = export.scores.title
    for label, value in export.meta:
        sheet.append([safe_cell(label), safe_cell(value)])
    sheet.append([])
    sheet.append([safe_cell(h) for h in export.scores.header])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in export.scores.rows:
        sheet.append([_xlsx_value(v) for v in row])
    items = book.create_sheet(export.items.title)
    items.append([safe_cell(h) for h in export.items.header])
    for row in export.items.rows:
        items.append([_xlsx_value(v) for v in row])
    book.save(path)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # a number cell, shown with the figure's decimals
    return safe_cell(value)


RESPONSE_COLUMNS = [
    "submitted_at",
    "period",
    "unit_code",
    "counter_code",
    "channel",
    "stream",
    "instrument",
    "respondent_type",
    "sex",
    "age_band",
    "has_dossier",
]


@dataclass(frozen=True)
class ResponsesExport:
    """Header and a lazy row iterator: one row per reportable response, one column per item."""

    header: list[str]
    total: int
    rows: Iterator[list[Any]]


def responses_export(
    session: Session,
    *,
    scope: Scope,
    period: Period | None,
    unit: Unit | None,
    timezone: str,
    batch: int = 2000,
) -> ResponsesExport:
    """Responses without personal data (no comment, contact, dossier code or receipt), of the
    units the scope may open, streamed in batches so that millions of rows never sit in memory."""
    conditions = [Response.status == ResponseStatus.REPORTABLE, scope.where(Response.unit_id)]
    if period is not None:
        conditions.append(Response.period.between(period.first_month, period.last_month))
    if unit is not None:
        ids = select(Unit.id).where(Unit.path.startswith(unit.path))
        conditions.append(Response.unit_id.in_(ids))
    instrument_ids = list(
        session.scalars(select(Response.instrument_id).where(*conditions).distinct())
    )
    items = list(
        session.execute(
            select(Item.id, Item.code, Instrument.code)
            .join(Instrument, Item.instrument_id == Instrument.id)
            .where(Item.instrument_id.in_(instrument_ids))
            .order_by(Instrument.code, Instrument.version, Item.position)
        )
    )
    codes: list[str] = []
    for _id, code, _instrument in items:
        if code not in codes:
            codes.append(code)
    column_of = {item_id: len(RESPONSE_COLUMNS) + codes.index(code) for item_id, code, _ in items}
    total = session.scalar(select(func.count()).select_from(Response).where(*conditions)) or 0
    zone = ZoneInfo(timezone)
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    counters = dict(session.execute(select(Counter.id, Counter.code)).all())
    instruments_by_id = {
        i.id: f"{i.code}:{i.version}"
        for i in session.scalars(select(Instrument).where(Instrument.id.in_(instrument_ids)))
    }

    def rows() -> Iterator[list[Any]]:
        last_id = 0
        while True:
            chunk = list(
                session.execute(
                    select(
                        Response.id,
                        Response.submitted_at,
                        Response.period,
                        Response.unit_id,
                        Response.counter_id,
                        Response.channel,
                        Response.stream,
                        Response.instrument_id,
                        Response.respondent_type,
                        Response.sex,
                        Response.age_band,
                        Response.dossier_id,
                    )
                    .where(*conditions, Response.id > last_id)
                    .order_by(Response.id)
                    .limit(batch)
                )
            )
            if not chunk:
                return
            last_id = chunk[-1].id
            answers: dict[int, list[tuple[int, int | None]]] = {}
            for response_id, item_id, value in session.execute(
                select(Answer.response_id, Answer.item_id, Answer.value).where(
                    Answer.response_id.in_([r.id for r in chunk])
                )
            ):
                answers.setdefault(response_id, []).append((item_id, value))
            for r in chunk:
                row: list[Any] = [
                    r.submitted_at.astimezone(zone).isoformat(timespec="seconds"),
                    r.period,
                    units.get(r.unit_id),
                    counters.get(r.counter_id) if r.counter_id else None,
                    r.channel.value,
                    r.stream.value,
                    instruments_by_id.get(r.instrument_id),
                    r.respondent_type.value if r.respondent_type else None,
                    r.sex,
                    r.age_band,
                    "yes" if r.dossier_id else "no",
                ] + [None] * len(codes)
                for item_id, value in answers.get(r.id, []):
                    row[column_of[item_id]] = value
                yield row
            session.expunge_all()

    return ResponsesExport(RESPONSE_COLUMNS + codes, int(total), rows())


def _reported(
    rows: Iterator[list[Any]], progress: Callable[[int], None] | None, written: list[int]
) -> Iterator[list[Any]]:
    """Pass rows through, counting them in ``written[0]`` and reporting every thousand."""
    for row in rows:
        yield row
        written[0] += 1
        if progress and written[0] % 1000 == 0:
            progress(1000)
    if progress:
        progress(written[0] % 1000)


def write_rows_csv(
    header: list[str],
    rows: Iterator[list[Any]],
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream rows to a UTF-8 (BOM) CSV file; returns the number of rows written."""
    written = [0]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([safe_cell(h) for h in header])
        for row in _reported(rows, progress, written):
            writer.writerow(["" if v is None else safe_cell(v) for v in row])
    return written[0]


def write_rows_xlsx(
    header: list[str],
    rows: Iterator[list[Any]],
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream rows to an XLSX file (openpyxl write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Phiếu trả lời")
    sheet.append([safe_cell(h) for h in header])
    written = [0]
    for row in _reported(rows, progress, written):
        sheet.append([safe_cell(v) for v in row])
    book.save(path)
    return written[0]

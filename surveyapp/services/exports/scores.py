"""The PAR council's scores file: one row per unit with its indices, interval, survey points and,
with an appraisal file, totals, rank and band (a header block and a per-item sheet in XLSX)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import PublicationRules
from surveyapp.models import (
    AnswerCount,
    ParScheme,
    Response,
    ResponseStatus,
    Stream,
    Unit,
    UnitLevel,
)
from surveyapp.services.access import Scope
from surveyapp.services.collection.tables import TableLimits, open_table
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.exports.writers import safe_cell, write_rows_csv
from surveyapp.services.instruments import publishing
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.org import lineage, units
from surveyapp.services.org.units import root_of
from surveyapp.services.par import settings as par_settings
from surveyapp.services.periods import Period
from surveyapp.services.reporting.dashboards import choose_instrument
from surveyapp.services.reporting.par import ParRow, level_table


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
    note: str | None = None  # why columns are empty (no PAR settings)
    empty: bool = False  # every unit has n = 0
    instrument_code: str = ""
    rules_version: str = ""
    changes: Sheet | None = None  # published figures: what has changed since
    published: Any = None  # the Publication these figures are, if any


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


@dataclass(frozen=True)
class Suggestion:
    """What a scores export form starts from for an official: the level below their unit (the
    level its children have most often) and the stream that has answers this year."""

    level: UnitLevel | None
    stream: str  # "official", "general" or "all"


def suggest(session: Session, unit: Unit, period: Period) -> Suggestion:
    levels = Counter(
        session.scalars(select(Unit.level).where(Unit.parent_id == unit.id, Unit.is_active))
    )
    level = levels.most_common(1)[0][0] if levels else None
    ids = units.subtree_ids(session, unit)
    by_stream = {stream: n for stream, n in _answers_by_stream(session, ids, period).items() if n}
    if Stream.OFFICIAL in by_stream:
        return Suggestion(level, Stream.OFFICIAL.value)
    return Suggestion(level, Stream.GENERAL.value if by_stream else Stream.OFFICIAL.value)


def has_answers(
    session: Session, parent: Unit, level: UnitLevel, period: Period, stream: Stream | None
) -> bool:
    """Whether any unit of ``level`` under ``parent`` has an answer in the period and stream: a
    file where every unit has n = 0 is refused rather than written."""
    tops = session.scalars(
        select(Unit).where(Unit.path.startswith(parent.path), Unit.level == level)
    ).all()
    ids = sorted({i for top in tops for i in units.subtree_ids(session, top)})
    counted = _answers_by_stream(session, ids, period)
    if counted.get(stream, 0) if stream is not None else sum(counted.values()):
        return True
    # The PAR survey's respondent groups count too (their answers are in no stream's rollup).
    grouped = select(Response.id).where(
        Response.group_id.is_not(None),
        Response.unit_id.in_(ids),
        Response.period.between(period.first_month, period.last_month),
        Response.status == ResponseStatus.REPORTABLE,
    )
    return session.scalar(grouped.limit(1)) is not None


def check_request(
    session: Session,
    parent: Unit,
    level: UnitLevel,
    period: Period,
    stream: Stream | None,
    with_appraisal: bool,
) -> None:
    """Refuse, before any work, a scores file that would hold only zeros or that asks to add
    appraisal points without PAR settings."""
    if with_appraisal and find_scheme(session, root_of(parent), level, period) is None:
        raise InvalidInput(
            NO_SCHEME_FOR_APPRAISAL, field="appraisal", **_where(root_of(parent), level, period)
        )
    if not has_answers(session, parent, level, period, stream):
        raise InvalidInput(ALL_EMPTY, field="period")


def find_scheme(
    session: Session, province: Unit, level: UnitLevel, period: Period
) -> ParScheme | None:
    """The province's PAR settings for the level and the period's year, if any."""
    return par_settings.find_scheme(session, province.id, level, period.start.year)


def _answers_by_stream(
    session: Session, unit_ids: Sequence[int], period: Period
) -> dict[Stream, int]:
    """Answer counts of the units over the period's months, from the rollup, by stream."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(AnswerCount.stream, func.sum(AnswerCount.count))
        .where(
            AnswerCount.unit_id.in_(unit_ids),
            AnswerCount.period.between(period.first_month, period.last_month),
        )
        .group_by(AnswerCount.stream)
    )
    return {Stream(stream): int(n or 0) for stream, n in rows}


def scores_export(
    session: Session,
    *,
    scope: Scope,
    parent: Unit,
    level: UnitLevel,
    period: Period,
    appraisal: Mapping[str, Decimal] | None,
    generated_at: datetime,
    timezone: str,
    stream: Stream | None = Stream.OFFICIAL,
    rules: PublicationRules | None = None,
) -> ScoresExport:
    """One row per unit of ``level`` under ``parent`` with its indices, CI, points and rank; units
    the scope may not open are left out."""
    rules = rules or PublicationRules()
    province = root_of(parent)
    scheme = find_scheme(session, province, level, period)
    note = None
    if scheme is None:
        if appraisal is not None:
            raise InvalidInput(
                NO_SCHEME_FOR_APPRAISAL, field="appraisal", **_where(province, level, period)
            )
        note = NO_SCHEME % _where(province, level, period)
        view, _ = choose_instrument(session, units.subtree_ids(session, parent), period, None)
    else:
        instrument = publishing.get_instrument(session, scheme.instrument_code)
        view = instrument_view(session, instrument.id, instrument.source_hash)
    table = level_table(
        session, province, level, view, period, scheme, appraisal, stream, rules, timezone=timezone
    )
    rows = [r for r in table if r.unit.path.startswith(parent.path) and scope.covers(r.unit.id)]
    elements = [e.code for e in (rows[0].index.parts if rows else ())]
    # With respondent-group criteria: each criterion's points and each group's answers.
    group_criteria = [c for c in scheme.criteria if c.get("groups")] if scheme else []
    groups = sorted({g for c in group_criteria for g in c["groups"]})
    criteria = [str(c["code"]) for c in scheme.criteria] if scheme and group_criteria else []
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
        *(f"n_{g}" for g in groups),
        *(f"points_{c}" for c in criteria),
        "survey_points",
        "rank",
        "former_codes",
    ]
    with_appraisal = appraisal is not None
    if with_appraisal:
        header += ["appraisal_points", "total_points", "par_index", "band"]
    former = lineage.former_codes(session, [r.unit for r in rows])
    body = [
        _score_row(r, period, elements, with_appraisal, former[r.unit.id], groups, criteria)
        for r in rows
    ]
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
        ("Phiếu / Instrument", view.code),
        ("Luồng / Stream", stream.value if stream else "all"),
        ("Quy tắc công bố / Publication rules", rules.version),
        (
            "Cấu hình điểm CCHC / PAR settings",
            f"{scheme.year} {scheme.decision}".strip() if scheme else "—",
        ),
        ("Xếp hạng theo / Ranked by", RANKED_BY[_ranked_by(scheme, appraisal)]),
        ("Thời điểm lập / Generated", generated_at.isoformat(timespec="seconds")),
    ]
    if note is not None:
        meta.append(("Ghi chú / Note", note))
    return ScoresExport(
        meta,
        Sheet("Điểm", header, body),
        Sheet("Chỉ số theo câu", item_header, item_rows),
        note,
        all(r.respondents == 0 and not any(r.group_n.values()) for r in rows),
        view.code,
        rules.version,
    )


# Vietnamese, as the file's header block is; the dashboard shows the translated msgid.
NO_SCHEME = N_(
    "Chưa có cấu hình điểm CCHC của %(p)s cho cấp %(l)s năm %(y)s: cột survey_points để trống, "
    "xếp hạng theo chỉ số SIPAS."
)
ALL_EMPTY = N_(
    "Không đơn vị nào có phiếu trong kỳ và luồng này (n = 0 ở mọi đơn vị): hãy chọn cấp, kỳ hoặc "
    "luồng khác."
)
NO_SCHEME_FOR_APPRAISAL = N_(
    "Chưa có cấu hình điểm CCHC của %(p)s cho cấp %(l)s năm %(y)s: không cộng được điểm thẩm "
    "định. Khai báo cấu hình (trang Cấu hình điểm CCHC hoặc load-par-scheme) hoặc bỏ tệp thẩm định."
)


RANKED_BY = {
    "total": "tổng điểm (thẩm định + điều tra) / total points",
    "survey": "điểm điều tra xã hội học / survey points",
    "sipas": "chỉ số SIPAS / SIPAS index",
}


def _ranked_by(scheme: ParScheme | None, appraisal: Mapping[str, Decimal] | None) -> str:
    """What the rank column orders by (the same rule as reporting.par.level_table)."""
    if scheme is None:
        return "sipas"
    return "total" if appraisal is not None else "survey"


def _where(province: Unit, level: UnitLevel, period: Period) -> dict[str, Any]:
    return {"p": province.code, "l": level.value, "y": period.start.year}


def _score_row(
    row: ParRow,
    period: Period,
    elements: Sequence[str],
    with_appraisal: bool,
    former: Sequence[str],
    groups: Sequence[str] = (),
    criteria: Sequence[str] = (),
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
        *(row.group_n.get(g, 0) for g in groups),
        *(row.points.get(c) for c in criteria),
        row.survey_points,
        row.rank,
        ";".join(former),
    ]
    if with_appraisal:
        cells += [row.appraisal_points, row.total, row.par_index, row.band]
    return cells


def write_scores(export: ScoresExport, path: str | Path, fmt: str) -> None:
    """The scores file: "csv" (the scores sheet) or "xlsx" (header block, scores, items)."""
    if fmt == "csv":
        write_rows_csv(export.scores.header, iter(export.scores.rows), path)
    else:
        write_xlsx(export, path)


def write_xlsx(export: ScoresExport, path: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = export.scores.title
    for label, value in export.meta:
        sheet.append([safe_cell(label), safe_cell(value)])
    sheet.append([])
    sheet.append([safe_cell(h) for h in export.scores.header])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in export.scores.rows:
        sheet.append([_xlsx_value(v) for v in row])
    for extra in (export.items, export.changes):
        if extra is None:
            continue
        other = book.create_sheet(extra.title)
        other.append([safe_cell(h) for h in extra.header])
        for row in extra.rows:
            other.append([_xlsx_value(v) for v in row])
    book.save(path)


def _xlsx_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)  # a number cell, shown with the figure's decimals
    return safe_cell(value)

"""Published results (chốt số liệu): the PAR office freezes a period's scores for one level of its
province. A publication is an immutable snapshot of the scores file's rows and per-item sheet
(figures, n, intervals, reliability, points, ranks) with the publication-rule version, the PAR
settings and the instrument that produced them, and the moment the data was cut off. From then on
the scores file, the API and the dashboards give the published figures, marked as such, and list
what later data (imports, spam marks, late ratings) would change; publishing again makes the next
version, with its reason. The year's PAR settings become read-only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import band_of, par_score, rank
from surveyapp.models import Publication, Stream, Unit, UnitLevel
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope, get_visible_unit
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.exports import scores
from surveyapp.services.exports.scores import ScoresExport, Sheet
from surveyapp.services.org.units import root_of
from surveyapp.services.par import settings
from surveyapp.services.periods import Period

COMPARED = ("n", "sipas", "sipas_ci_low", "sipas_ci_high", "reliable", "survey_points", "rank")


def stream_key(stream: Stream | None) -> str:
    return stream.value if stream is not None else "all"


def latest(
    session: Session, province: Unit, level: UnitLevel, period: Period, stream: Stream | None
) -> Publication | None:
    """The newest version published for the province, level, period and stream."""
    return session.scalar(
        select(Publication)
        .where(
            Publication.province_id == province.id,
            Publication.level == level,
            Publication.period == period.label,
            Publication.stream == stream_key(stream),
        )
        .order_by(Publication.version.desc())
        .limit(1)
    )


def covering(
    session: Session, unit: Unit, level: UnitLevel | None, period: Period, stream: Stream | None
) -> Publication | None:
    """The newest publication that holds ``unit``'s level (or its children's) for the period, so
    that a dashboard can say its figures have been published."""
    if level is None:
        return None
    return latest(session, root_of(unit), level, period, stream)


# The published columns a dashboard shows beside its live figures, in this order.
SHOWN_COLUMNS = (
    "n",
    "sipas",
    "sipas_ci_low",
    "sipas_ci_high",
    "survey_points",
    "total_points",
    "rank",
    "band",
)


@dataclass(frozen=True)
class PublishedRow:
    unit_code: str
    unit_name: str
    cells: dict[str, Any]  # column → the published value (Decimal, int, text or None)


def published_rows(
    publication: Publication, scope: Scope, units: Iterable[Unit]
) -> list[PublishedRow]:
    """The publication's rows of ``units`` (those in scope), with the columns a dashboard shows,
    exactly as published."""
    wanted = {u.code for u in units if scope.covers(u.id)}
    at = {name: i for i, name in enumerate(publication.header)}
    return [
        PublishedRow(
            str(row[at["unit_code"]]),
            str(row[at["unit_name"]]),
            {c: loaded(row[at[c]]) for c in SHOWN_COLUMNS if c in at},
        )
        for row in publication.rows
        if row[at["unit_code"]] in wanted
    ]


def publish(
    session: Session,
    scope: Scope,
    *,
    province_code: str,
    level: UnitLevel,
    period: Period,
    stream: Stream | None,
    reason: str,
    timezone: str,
    now: datetime,
) -> Publication:
    """Freeze the level's scores as they are now (version 1, or the next with a reason)."""
    scope.require(Permission.MANAGE_SETUP)
    province = get_visible_unit(session, scope, province_code)
    if province.parent_id is not None:
        raise InvalidInput(N_("%(code)s không phải là một tỉnh."), field="unit", code=province.code)
    reason = reason.strip()[:2000]
    previous = latest(session, province, level, period, stream)
    if previous is not None and not reason:
        raise InvalidInput(
            N_("Kỳ này đã công bố (phiên bản %(v)s): công bố lại cần ghi lý do."),
            field="reason",
            v=previous.version,
        )
    export = scores.scores_export(
        session,
        scope=scope,
        parent=province,
        level=level,
        period=period,
        appraisal=None,
        generated_at=now,
        timezone=timezone,
        stream=stream,
    )
    if export.empty:
        raise InvalidInput(scores.ALL_EMPTY, field="period")
    scheme = scores.find_scheme(session, province, level, period)
    publication = Publication(
        province_id=province.id,
        level=level,
        period=period.label,
        stream=stream_key(stream),
        version=previous.version + 1 if previous is not None else 1,
        reason=reason,
        cutoff_at=now,
        user_id=scope.user_id,
        rules_version=export.rules_version,
        instrument_code=export.instrument_code,
        scheme=settings.as_mapping(scheme) if scheme is not None else None,
        header=export.scores.header,
        rows=[[_stored(v) for v in row] for row in export.scores.rows],
        items=[[_stored(v) for v in row] for row in export.items.rows],
        created_at=now,
    )
    session.add(publication)
    if scheme is not None and scheme.published_at is None:
        scheme.published_at = now
    session.flush()
    audit.record(
        session,
        user_id=scope.user_id,
        action="par.publish",
        entity=("publication", label_of(publication)),
        before=None,
        after={"version": publication.version, "reason": reason, "units": len(publication.rows)},
        now=now,
    )
    return publication


def label_of(publication: Publication) -> str:
    return (
        f"{publication.province.code}/{publication.level.value}/{publication.period}/"
        f"{publication.stream}/v{publication.version}"
    )


def list_publications(session: Session, scope: Scope) -> list[Publication]:
    return [
        p
        for p in session.scalars(select(Publication).order_by(Publication.id.desc()).limit(200))
        if scope.covers(p.province_id)
    ]


def get_publication(session: Session, scope: Scope, publication_id: int) -> Publication:
    found = session.get(Publication, publication_id)
    if found is None or not scope.covers(found.province_id):
        raise NotFound(N_("Không tìm thấy kết quả đã công bố."))
    return found


def versions(session: Session, publication: Publication) -> int:
    """How many versions of the same results exist."""
    return int(
        session.scalar(
            select(func.count()).where(
                Publication.province_id == publication.province_id,
                Publication.level == publication.level,
                Publication.period == publication.period,
                Publication.stream == publication.stream,
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Change:
    unit_code: str
    column: str
    published: Any
    now: Any


def changes(published: Publication, live: ScoresExport) -> list[Change]:
    """What the live figures would change in the published ones, unit by unit."""
    at = {name: i for i, name in enumerate(published.header)}
    now_at = {name: i for i, name in enumerate(live.scores.header)}
    before = {row[0]: row for row in published.rows}
    after = {row[0]: [_stored(v) for v in row] for row in live.scores.rows}
    out = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code), after.get(code)
        for column in COMPARED:
            was = old[at[column]] if old is not None and column in at else None
            is_ = new[now_at[column]] if new is not None and column in now_at else None
            if was != is_:
                out.append(Change(code, column, loaded(was), loaded(is_)))
    return out


def scores_file(
    session: Session,
    *,
    scope: Scope,
    parent: Unit,
    level: UnitLevel,
    period: Period,
    appraisal: Mapping[str, Decimal] | None,
    generated_at: datetime,
    timezone: str,
    stream: Stream | None,
) -> ScoresExport:
    """The scores file as officials get it: the published figures when this period is published
    for the level (marked, with what has changed since and, with an appraisal file, totals on the
    published points), else the live figures."""
    published = latest(session, root_of(parent), level, period, stream)
    live = scores.scores_export(
        session,
        scope=scope,
        parent=parent,
        level=level,
        period=period,
        appraisal=appraisal if published is None else None,
        generated_at=generated_at,
        timezone=timezone,
        stream=stream,
    )
    if published is None:
        return live
    visible = {row[0] for row in live.scores.rows}  # units in scope under ``parent``
    header = list(published.header)
    rows = [[loaded(v) for v in row] for row in published.rows if row[0] in visible]
    if appraisal is not None:
        header, rows = _with_appraisal(published, header, rows, appraisal)
    diffs = [c for c in changes(published, live) if c.unit_code in visible]
    meta = [
        *live.meta,
        (
            "Số liệu / Figures",
            f"đã công bố, phiên bản {published.version}, lúc "
            f"{published.created_at.isoformat(timespec='seconds')}; số liệu đến "
            f"{published.cutoff_at.isoformat(timespec='seconds')}",
        ),
        ("Thay đổi sau công bố / Changed since publication", str(len(diffs)) if diffs else "0"),
    ]
    return replace(
        live,
        meta=meta,
        scores=Sheet(live.scores.title, header, rows),
        items=Sheet(
            live.items.title,
            live.items.header,
            [[loaded(v) for v in r] for r in published.items if r[0] in visible],
        ),
        changes=Sheet(
            "Thay đổi sau công bố",
            ["unit_code", "column", "published", "now"],
            [[c.unit_code, c.column, c.published, c.now] for c in diffs],
        ),
        published=published,
    )


def _with_appraisal(
    published: Publication,
    header: list[str],
    rows: list[list[Any]],
    appraisal: Mapping[str, Decimal],
) -> tuple[list[str], list[list[Any]]]:
    """Totals of the appraisal points and the published survey points, ranked by total among the
    units the publication ranks, banded by the published settings."""
    if published.scheme is None:
        raise InvalidInput(
            N_("Kết quả đã công bố không có cấu hình điểm CCHC: không cộng được điểm thẩm định."),
            field="appraisal",
        )
    at = {name: i for i, name in enumerate(header)}
    scored = {}
    for row in rows:
        survey = row[at["survey_points"]]
        scored[row[0]] = par_score(row[0], survey or Decimal(0), appraisal.get(row[0]), 100)
    # The units the published table ranks (reporting.par decides which may be) are ranked again
    # by total.
    reliable = {r[0] for r in rows if r[at["rank"]] is not None}
    ranks = rank(
        {
            code: Fraction(score.total)
            for code, score in scored.items()
            if score.total is not None and code in reliable
        }
    )
    bands = [(b["label"], Decimal(str(b["lower"]))) for b in published.scheme["ranking_bands"]]
    out = []
    for row in rows:
        score = scored[row[0]]
        row = list(row)
        row[at["rank"]] = ranks.get(row[0])
        band = band_of(score.par_index, bands) if score.par_index is not None and bands else None
        out.append([*row, score.appraisal_points, score.total, score.par_index, band])
    return [*header, "appraisal_points", "total_points", "par_index", "band"], out


def _stored(value: Any) -> Any:
    """A cell as JSON keeps it exactly: a decimal as {"d": its text}."""
    return {"d": str(value)} if isinstance(value, Decimal) else value


def loaded(value: Any) -> Any:
    """A stored cell back as the file writes it."""
    return Decimal(value["d"]) if isinstance(value, dict) else value

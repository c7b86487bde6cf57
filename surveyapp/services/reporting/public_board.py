"""Results in public (/cong-khai and its open-data feed): each active unit's SIPAS with n and its
interval under the publication rules, the published snapshot where the PAR office has published
one. Nothing below the minimum n is shown (neither the index nor n), and nothing a citizen wrote
or left is ever read here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis.publication import PublicationRules
from surveyapp.models import Stream, Unit, UnitLevel
from surveyapp.services.access import PUBLIC
from surveyapp.services.errors import N_, NotFound
from surveyapp.services.org import units
from surveyapp.services.par import publication
from surveyapp.services.periods import Period
from surveyapp.services.reporting import counts, dashboards
from surveyapp.services.reporting.figures import figure
from surveyapp.services.validation import folded

# The feed's columns, documented in the README ("Results in public").
COLUMNS = (
    "unit_code",
    "unit_name",
    "level",
    "parent_code",
    "period",
    "n",
    "sipas",
    "ci_low",
    "ci_high",
    "reliable",
    "published_version",
)


@dataclass(frozen=True)
class BoardRow:
    unit: Unit
    depth: int
    n: int | None  # None: below the minimum n (nothing shown)
    sipas: Decimal | None
    ci_low: Decimal | None
    ci_high: Decimal | None
    reliable: bool
    published_version: int | None  # the publication the figures come from; None: live

    @property
    def shown(self) -> bool:
        return self.sipas is not None

    def cells(self, period: Period) -> list[Any]:
        parent = self.unit.parent.code if self.unit.parent is not None else None
        return [
            self.unit.code,
            self.unit.name,
            self.unit.level.value,
            parent,
            period.label,
            self.n,
            _float(self.sipas),
            _float(self.ci_low),
            _float(self.ci_high),
            self.reliable if self.shown else None,
            self.published_version,
        ]


@dataclass(frozen=True)
class Board:
    period: Period
    rows: list[BoardRow]
    rules: PublicationRules


def board(
    session: Session,
    period: Period,
    *,
    timezone: str,
    search: str = "",
    rules: PublicationRules | None = None,
) -> Board:
    """Every active unit, tree order, with its figure (one rollup read for all of them)."""
    rules = rules or PublicationRules()
    found = list(session.scalars(select(Unit).where(Unit.is_active.is_(True)).order_by(Unit.path)))
    if not found:
        return Board(period, [], rules)
    ids = [u.id for u in found]
    try:
        instrument, _ = dashboards.choose_instrument(session, ids, period, None)
    except NotFound:  # no published questionnaire yet
        return Board(period, [], rules)
    table = counts.unit_table(session, found, period, instrument, None, None, timezone)
    published = _published_rows(session, found, period)
    rows = []
    for row in table:
        unit = row.unit
        depth = unit.path.strip("/").count("/")
        snap = published.get(unit.code)
        if snap is not None:
            version, cells = snap
            rows.append(_from_published(unit, depth, version, cells, rules))
            continue
        shown = figure(row.index, row.respondents, rules)
        if not shown.shown:
            rows.append(BoardRow(unit, depth, None, None, None, None, False, None))
            continue
        _, low, high = shown.span
        rows.append(
            BoardRow(
                unit,
                depth,
                shown.n,
                shown.index.percent(),
                None if low is None else Decimal(str(round(low, 2))),
                None if high is None else Decimal(str(round(high, 2))),
                not shown.verdict.low_reliability,
                None,
            )
        )
    if search.strip():
        wanted = folded(search.strip()[:100])
        rows = [r for r in rows if wanted in folded(f"{r.unit.code} {r.unit.name}")]
    return Board(period, rows, rules)


def unit_page(
    session: Session, code: str, period: Period, *, timezone: str
) -> tuple[BoardRow, dashboards.UnitDashboard | None]:
    """One active unit's public figures: its board row, and (when shown) the dashboard's trend
    and elements under the same rules; never its comments."""
    unit = session.scalar(select(Unit).where(Unit.code == code[:40], Unit.is_active.is_(True)))
    if unit is None:
        raise NotFound(N_("Không tìm thấy đơn vị %(code)s."), code=code[:40])
    rows = [r for r in board(session, period, timezone=timezone).rows if r.unit.id == unit.id]
    if not rows:
        raise NotFound(N_("Chưa có kết quả công khai của đơn vị %(code)s."), code=unit.code)
    row = rows[0]
    view = None
    if row.shown:
        view = dashboards.unit_dashboard(
            session, unit, dashboards.Query(period), scope=PUBLIC, timezone=timezone, comments=0
        )
    return row, view


def _published_rows(
    session: Session, found: list[Unit], period: Period
) -> dict[str, tuple[int, dict[str, Any]]]:
    """The published figures of the units, by code: the newest publication of each level (of
    all streams, else the official one, else the general one)."""
    wanted = {u.code for u in found}
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    roots = {units.root_of(u).id: units.root_of(u) for u in found}
    for root in roots.values():
        for level in UnitLevel:
            for stream in (None, Stream.OFFICIAL, Stream.GENERAL):
                snap = publication.latest(session, root, level, period, stream)
                if snap is None:
                    continue
                at = {name: i for i, name in enumerate(snap.header)}
                for row in snap.rows:
                    code = str(row[at["unit_code"]])
                    if code in wanted:
                        cells = {c: publication.loaded(row[i]) for c, i in at.items()}
                        out.setdefault(code, (snap.version, cells))
    return out


def _from_published(
    unit: Unit, depth: int, version: int, cells: dict[str, Any], rules: PublicationRules
) -> BoardRow:
    n = cells.get("n")
    value = cells.get("sipas")
    if value is None or n is None or int(n) < rules.hide_below_n:
        return BoardRow(unit, depth, None, None, None, None, False, version)
    return BoardRow(
        unit,
        depth,
        int(n),
        Decimal(str(value)),
        None if cells.get("sipas_ci_low") is None else Decimal(str(cells["sipas_ci_low"])),
        None if cells.get("sipas_ci_high") is None else Decimal(str(cells["sipas_ci_high"])),
        bool(cells.get("reliable")),
        version,
    )


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def score_line(session: Session, unit: Unit, period: Period, *, timezone: str) -> str:
    """The unit's public score as a QR poster prints it; empty when it is not shown."""
    rows = [r for r in board(session, period, timezone=timezone).rows if r.unit.id == unit.id]
    if not rows or not rows[0].shown:
        return ""
    row = rows[0]
    value = f"{row.sipas}".replace(".", ",")
    return f"Chỉ số hài lòng {period.label}: {value}% (n = {row.n})"

"""The map's history as data: since 1 July 2025 Vietnam has two tiers of local government
(districts abolished) and provinces and communes were merged. Each step links a predecessor unit
to a successor with a kind and an effective date:

- ``merge``: the predecessor became part of the successor (three communes into one ward);
- ``rename``: the same unit under a new code;
- ``split``: the predecessor became several successors.

The rule for figures: a unit's figures pool its own subtree's answers with those of all its
predecessors (transitively), whatever the period. Answers keep the unit they were given at, so
for periods before the change the successor reads the predecessors' answers, and trends, period
comparisons, rankings and exports follow the lineage; after a merge the counters have moved, so
new answers are the successor's own. A split gives each successor the whole predecessor's
history (it cannot be divided). A merge or rename moves the predecessor's counters, officials and
open cases to the successor; a split moves nothing (the office assigns them). The predecessor is
made inactive and is no longer listed among the units of its level for periods that begin on or
after the change."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from surveyapp.models import OPEN_STATUSES, Case, Counter, Unit, UnitLineage, User
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope, get_visible_unit
from surveyapp.services.collection.tables import Table
from surveyapp.services.errors import N_, Conflict, InvalidInput, ServiceError
from surveyapp.services.periods import Period
from surveyapp.services.rows import BadRow, ImportResult, RowError, columns_of, first_of

KINDS = ("merge", "split", "rename")
COLUMNS = {
    "old_code": ("old_code",),
    "new_code": ("new_code",),
    "effective_date": ("effective_date",),
    "kind": ("kind",),
}


def link(
    session: Session,
    scope: Scope,
    *,
    old_code: str,
    new_code: str,
    kind: str,
    effective_on: date,
    now: datetime,
) -> UnitLineage:
    """Record that ``old_code`` became (part of) ``new_code`` on ``effective_on``, and carry out
    what the kind implies (see the module). Both units must be in the scope."""
    scope.require(Permission.MANAGE_SETUP)
    if kind not in KINDS:
        raise InvalidInput(N_("Loại thay đổi phải là merge, split hoặc rename."), field="kind")
    old = get_visible_unit(session, scope, old_code)
    new = get_visible_unit(session, scope, new_code)
    if old.id == new.id:
        raise InvalidInput(N_("Đơn vị cũ và mới phải khác nhau."), field="new_code")
    before = predecessor_ids(session, [old.id, new.id])  # one read of the lineage
    if old.id in before[new.id] or new.id in before[old.id]:
        raise Conflict(
            N_("%(old)s và %(new)s đã có quan hệ kế thừa."),
            field="new_code",
            old=old.code,
            new=new.code,
        )
    if new.path.startswith(old.path):
        raise InvalidInput(
            N_("%(new)s nằm dưới %(old)s: không thể kế thừa chính cấp trên."),
            field="new_code",
            old=old.code,
            new=new.code,
        )
    step = UnitLineage(
        predecessor_id=old.id,
        successor_id=new.id,
        kind=kind,
        effective_on=effective_on,
        created_at=now,
    )
    session.add(step)
    moved = {"counters": 0, "users": 0, "cases": 0}
    if kind in ("merge", "rename"):
        for model, key, extra in (
            (Counter, "counters", ()),
            (User, "users", ()),
            (Case, "cases", (Case.status.in_(OPEN_STATUSES),)),
        ):
            done = session.execute(
                update(model).where(model.unit_id == old.id, *extra).values(unit_id=new.id),
                execution_options={"synchronize_session": False},
            )
            moved[key] = int(getattr(done, "rowcount", 0) or 0)
        # Objects already loaded would keep their old unit: they read it again when next used.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Counter | User | Case) and obj.unit_id == old.id:
                session.expire(obj)
    old.is_active = False
    session.flush()
    audit.record(
        session,
        user_id=scope.user_id,
        action=f"unit.{kind}",
        entity=("unit", old.code),
        before={"code": old.code, "active": True},
        after={"successor": new.code, "effective_on": effective_on.isoformat(), **moved},
        now=now,
    )
    return step


def load_lineage(session: Session, scope: Scope, table: Table, now: datetime) -> ImportResult:
    """Rows ``old_code,new_code,effective_date,kind`` (dates YYYY-MM-DD); all rows or none."""
    result = ImportResult()
    names = columns_of(table.header, COLUMNS)
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        result.errors.append(RowError(1, f"thiếu cột: {', '.join(missing)}"))
        return result
    for line, row in table.rows:
        values = {key: first_of(row, names, key) for key in COLUMNS}
        try:
            try:
                effective_on = date.fromisoformat(values["effective_date"])
            except ValueError:
                raise BadRow(
                    f"ngày hiệu lực '{values['effective_date'][:20]}' phải có dạng YYYY-MM-DD"
                ) from None
            link(
                session,
                scope,
                old_code=values["old_code"],
                new_code=values["new_code"],
                kind=values["kind"].lower(),
                effective_on=effective_on,
                now=now,
            )
            result.added += 1
        except ServiceError as error:
            result.errors.append(RowError(line, error.render().rstrip(".")))
        except BadRow as reason:
            result.errors.append(RowError(line, str(reason)))
    return result


def _edges(session: Session) -> list[tuple[int, int, date]]:
    return [
        (int(p), int(s), d)
        for p, s, d in session.execute(
            select(UnitLineage.predecessor_id, UnitLineage.successor_id, UnitLineage.effective_on)
        )
    ]


def predecessor_ids(session: Session, unit_ids: Iterable[int]) -> dict[int, set[int]]:
    """Each unit's predecessors, transitively (one read of the lineage)."""
    before: dict[int, set[int]] = defaultdict(set)
    for predecessor, successor, _ in _edges(session):
        before[successor].add(predecessor)
    out = {}
    for unit_id in unit_ids:
        seen: set[int] = set()
        todo = list(before.get(unit_id, ()))
        while todo:
            current = todo.pop()
            if current not in seen and current != unit_id:
                seen.add(current)
                todo.extend(before.get(current, ()))
        out[unit_id] = seen
    return out


def pooled_ids(session: Session, units: Sequence[Unit]) -> dict[int, list[int]]:
    """For each unit, the ids whose answers its figures pool: its subtree and the subtrees of all
    its predecessors."""
    paths = list(session.execute(select(Unit.id, Unit.path)))
    path_of = {int(i): p for i, p in paths}
    before = predecessor_ids(session, [u.id for u in units])
    out = {}
    for unit in units:
        tops = [path_of[unit.id], *(path_of[i] for i in before[unit.id] if i in path_of)]
        out[unit.id] = sorted(
            {int(i) for i, path in paths if any(path.startswith(t) for t in tops)}
        )
    return out


def former_codes(session: Session, units: Sequence[Unit]) -> dict[int, list[str]]:
    """Each unit's predecessors' codes, for exports beside the new code."""
    before = predecessor_ids(session, [u.id for u in units])
    wanted = {i for ids in before.values() for i in ids}
    codes: dict[int, str] = {}
    if wanted:
        found = session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(wanted)))
        codes = {int(i): str(code) for i, code in found}
    return {unit.id: sorted(codes[i] for i in before[unit.id]) for unit in units}


def ended_before(session: Session, period: Period) -> set[int]:
    """Units that became others before ``period`` began: not listed among their level's units."""
    return {p for p, _, on in _edges(session) if on <= period.start}


def history(session: Session, scope: Scope) -> list[UnitLineage]:
    """The lineage steps that touch the scope, newest first."""
    steps = session.scalars(
        select(UnitLineage).order_by(UnitLineage.effective_on.desc(), UnitLineage.id.desc())
    )
    return [s for s in steps if scope.covers(s.predecessor_id) or scope.covers(s.successor_id)]

"""What officials are alerted to, found by the queue's periodic scan (never on the citizen's
path): each event is keyed, so scanning again tells no one twice.

- ``comment``: a case opened for a comment (in the last ``lookback``).
- ``low_burst``: at least ``low_burst_count`` low ratings within ``low_burst_minutes`` in the
  subscribed subtree; once per window.
- ``due_soon``: an open case due within ``due_soon_hours``; ``overdue``: an open case whose due
  date passed within ``lookback``.
- ``drop``: the unit's SIPAS of the last complete month fell from the month before, by the score
  test of analysis.trends at ``drop_p`` (checked once a day).

An official is alerted only about units their scope still covers, and only while active.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from analysis.types import Index
from surveyapp.models import (
    OPEN_STATUSES,
    AlertKind,
    Case,
    Notification,
    Response,
    ResponseStatus,
    Subscription,
    User,
)
from surveyapp.services.access import Scope, scope_for
from surveyapp.services.errors import NotFound
from surveyapp.services.feedback.cases import mask_personal_data
from surveyapp.services.org import units
from surveyapp.services.periods import Period
from surveyapp.services.reporting import dashboards

EXCERPT = 160


@dataclass(frozen=True)
class AlertRules:
    low_burst_count: int = 5
    low_burst_minutes: int = 60
    due_soon_hours: int = 24
    lookback_hours: int = 48
    drop_p: float = 0.05


@dataclass(frozen=True)
class Event:
    user_id: int
    unit_id: int
    kind: AlertKind
    key: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class Watch:
    """A subscription as the scan reads it: the subscriber's scope and the subtree watched."""

    subscription: Subscription
    scope: Scope
    unit_ids: list[int]

    def wants(self, kind: AlertKind) -> bool:
        return kind.value in self.subscription.kinds


def watches(session: Session) -> list[Watch]:
    """Every subscription of an active official whose scope still covers its unit."""
    scopes: dict[int, Scope] = {}
    out = []
    for sub in session.scalars(
        select(Subscription)
        .join(User, User.id == Subscription.user_id)
        .where(User.is_active.is_(True))
        .options(selectinload(Subscription.unit), selectinload(Subscription.user))
        .order_by(Subscription.id)
    ):
        scope = scopes.get(sub.user_id) or scopes.setdefault(
            sub.user_id, scope_for(session, sub.user)
        )
        if not scope.covers(sub.unit_id):
            continue
        ids = [i for i in units.subtree_ids(session, sub.unit) if scope.covers(i)]
        out.append(Watch(sub, scope, ids))
    return out


def scan(session: Session, now: datetime, rules: AlertRules) -> int:
    """Record the notifications of what happened (comments, bursts, due dates); returns how many
    are new. A concurrent scan's duplicate is dropped by the unique key, and retried next run."""
    events: list[Event] = []
    for watch in watches(session):
        events += _case_events(session, watch, now, rules)
        events += _burst_events(session, watch, now, rules)
    return record(session, events, now)


def scan_drops(session: Session, now: datetime, rules: AlertRules, timezone: str) -> int:
    """Record significant month-on-month SIPAS drops of the last complete month."""
    local = now.astimezone(ZoneInfo(timezone)).date().replace(day=1)
    last = local - timedelta(days=1)
    month = Period(f"{last.year}-{last.month:02d}", date(last.year, last.month, 1), last)
    events = []
    for watch in watches(session):
        if not watch.wants(AlertKind.DROP):
            continue
        unit = watch.subscription.unit
        try:
            view = dashboards.unit_dashboard(
                session, unit, dashboards.Query(month), scope=watch.scope, timezone=timezone
            )
        except NotFound:  # no published instrument yet: nothing to compare
            continue
        previous = view.previous
        change = previous.change if previous else None
        if (
            previous is None
            or change is None
            or change.difference >= 0
            or change.p_value >= rules.drop_p
        ):
            continue
        events.append(
            Event(
                watch.subscription.user_id,
                unit.id,
                AlertKind.DROP,
                f"{unit.id}:{month.label}",
                {
                    "unit": unit.name,
                    "month": month.label,
                    "now": _percent(view.sipas.index),
                    "before": _percent(previous.other.index),
                    "p": round(change.p_value, 4),
                },
            )
        )
    return record(session, events, now)


def record(session: Session, events: Iterable[Event], now: datetime) -> int:
    """Insert the events no one was told of yet."""
    fresh = {(e.user_id, e.kind.value, e.key): e for e in events}
    if not fresh:
        return 0
    seen = set()
    keys = list(fresh)
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        seen |= {
            (u, str(getattr(k, "value", k)), key)
            for u, k, key in session.execute(
                select(Notification.user_id, Notification.kind, Notification.key).where(
                    tuple_(Notification.user_id, Notification.kind, Notification.key).in_(chunk)
                )
            )
        }
    new = [e for k, e in fresh.items() if k not in seen]
    try:
        with session.begin_nested():
            session.add_all(
                Notification(
                    user_id=e.user_id,
                    unit_id=e.unit_id,
                    kind=e.kind,
                    key=e.key,
                    facts=e.facts,
                    created_at=now,
                )
                for e in new
            )
    except IntegrityError:  # another worker recorded some of them first
        return 0
    return len(new)


def _case_events(
    session: Session, watch: Watch, now: datetime, rules: AlertRules
) -> Iterator[Event]:
    sub = watch.subscription
    since = now - timedelta(hours=rules.lookback_hours)
    checks: list[tuple[AlertKind, tuple[ColumnElement[bool], ...]]] = []
    if watch.wants(AlertKind.COMMENT):
        checks.append(
            (
                AlertKind.COMMENT,
                (Case.reason.in_(("comment", "both")), Case.created_at >= since),
            )
        )
    if watch.wants(AlertKind.DUE_SOON):
        soon = now + timedelta(hours=rules.due_soon_hours)
        checks.append(
            (
                AlertKind.DUE_SOON,
                (Case.status.in_(OPEN_STATUSES), Case.due_at > now, Case.due_at <= soon),
            )
        )
    if watch.wants(AlertKind.OVERDUE):
        checks.append(
            (
                AlertKind.OVERDUE,
                (Case.status.in_(OPEN_STATUSES), Case.due_at <= now, Case.due_at > since),
            )
        )
    for kind, conditions in checks:
        for case in session.scalars(
            select(Case)
            .where(Case.unit_id.in_(watch.unit_ids), *conditions)
            .options(
                selectinload(Case.unit), selectinload(Case.response).selectinload(Response.comment)
            )
            .order_by(Case.id)
        ):
            comment = case.response.comment
            text = mask_personal_data(comment.body)[:EXCERPT] if comment else ""
            yield Event(
                sub.user_id,
                case.unit_id,
                kind,
                f"case:{case.id}",
                {
                    "case_id": case.id,
                    "unit": case.unit.name,
                    "excerpt": text,
                    "due_at": case.due_at.isoformat(),
                },
            )


def _burst_events(
    session: Session, watch: Watch, now: datetime, rules: AlertRules
) -> Iterator[Event]:
    if not watch.wants(AlertKind.LOW_BURST):
        return
    window = timedelta(minutes=rules.low_burst_minutes)
    count = session.scalar(
        select(func.count())
        .select_from(Response)
        .where(
            Response.unit_id.in_(watch.unit_ids),
            Response.low_rating.is_(True),
            Response.status == ResponseStatus.REPORTABLE,
            Response.submitted_at > now - window,
            Response.submitted_at <= now,
        )
    )
    if (count or 0) < rules.low_burst_count:
        return
    # One alert per window: the key is the window the burst was seen in.
    slot = int(now.timestamp() // window.total_seconds())
    unit = watch.subscription.unit
    yield Event(
        watch.subscription.user_id,
        unit.id,
        AlertKind.LOW_BURST,
        f"{unit.id}:{slot}",
        {"unit": unit.name, "count": int(count or 0), "minutes": rules.low_burst_minutes},
    )


def _percent(index: Index) -> float | None:
    shown = index.percent()
    return None if shown is None else float(shown)

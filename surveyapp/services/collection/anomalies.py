"""Ballot stuffing, detected cheaply: unusual activity at a counter flags responses for review.

A response is never dropped for looking unusual; it is flagged, shown to officials (unit dashboard,
inbox filter, the flagged-responses page) and kept or marked spam by them, audited. Two rules, per
counter, over a sliding window (``AnomalyRule.window``):

- rate: the window holds far more submissions than the counter usually gets in one
  (more than ``rate_factor`` × its usual count, and more than ``rate_min``);
- low sets: the window holds ``low_sets`` or more answer sets that are mostly low ratings (more
  than half of the rated element items at or below the low-rating level).

Identical answer sets are not a signal: "very satisfied" with everything is the commonest honest
answer at a busy counter.

Cost: one upsert of the counter's row per submission (O(1), whatever the traffic), and, once
per burst, one UPDATE flagging the window's earlier responses. The sliding count is the usual
two-window estimate: the previous window's count weighted by the part of it still inside the
sliding window, plus the current window's. The usual count is an exponentially weighted mean of
the counts of the windows the counter was used in (idle windows, nights and weekends, do not pull
it down), updated when a window closes, so a burst never raises its own threshold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, false, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from surveyapp.db import table_of
from surveyapp.models import Channel, CounterActivity, Response
from surveyapp.services.instruments.snapshots import InstrumentView

# Channels a citizen reaches by a counter's QR code or tablet (paper entry is officials typing).
WATCHED_CHANNELS = frozenset({Channel.QR, Channel.KIOSK})
RATE, LOW_SETS = "rate", "low_burst"


@dataclass(frozen=True)
class AnomalyRule:
    """Thresholds (configuration: ANOMALY_*)."""

    window: timedelta = timedelta(minutes=10)
    rate_min: int = 20
    rate_factor: float = 4.0
    low_sets: int = 5
    smoothing: float = 0.2  # weight of the newest closed window in the usual count


@dataclass(frozen=True)
class Activity:
    """The counter's window after this submission, as the upsert returned it."""

    count: int
    low: int
    previous_count: int
    previous_low: int
    usual: float


def is_low_set(instrument: InstrumentView, answers: Mapping[str, int | str], low_max: int) -> bool:
    """More than half of the rated element items answered at or below ``low_max``."""
    minimum = int(instrument.scale["min"])
    rated = [
        value
        for item in instrument.items
        if item.element is not None
        and isinstance(value := answers.get(item.code), int)
        and minimum <= value <= int(instrument.scale["max"])
    ]
    return bool(rated) and 2 * sum(v <= low_max for v in rated) > len(rated)


def _upsert(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING on the counter's row, built once per dialect.
    Every SET expression reads the row as it was, so they roll the window over together."""
    table = table_of(CounterActivity)
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    now_slot = insert.excluded.slot
    same = table.c.slot == now_slot
    following = table.c.slot + 1 == now_slot
    usual = table.c.usual + bindparam("smoothing") * (table.c.count - table.c.usual)
    return (
        insert.values(
            counter_id=bindparam("counter_id"),
            slot=bindparam("slot"),
            count=1,
            low=bindparam("low"),
            previous_count=0,
            previous_low=0,
            usual=0.0,
        )
        .on_conflict_do_update(
            index_elements=["counter_id"],
            set_={
                "slot": now_slot,
                "count": case((same, table.c.count + 1), else_=1),
                "low": case((same, table.c.low + insert.excluded.low), else_=insert.excluded.low),
                "previous_count": case(
                    (same, table.c.previous_count), (following, table.c.count), else_=0
                ),
                "previous_low": case(
                    (same, table.c.previous_low), (following, table.c.low), else_=0
                ),
                "usual": case((same, table.c.usual), else_=usual),
            },
        )
        .returning(
            table.c.count, table.c.low, table.c.previous_count, table.c.previous_low, table.c.usual
        )
    )


_UPSERTS = {dialect: _upsert(dialect) for dialect in ("postgresql", "sqlite")}
_FLAG_WINDOW = (
    update(Response)
    .where(
        Response.counter_id == bindparam("at_counter"),
        Response.submitted_at >= bindparam("since"),
        Response.is_flagged == false(),
    )
    .values(is_flagged=True, flag_reason=bindparam("reason"))
    .execution_options(synchronize_session=False)
)


def note_submission(
    session: Session, counter_id: int, low: bool, now: datetime, rule: AnomalyRule
) -> str | None:
    """Count a submission at the counter; the reason to flag it (RATE, LOW_SETS) or None.

    When this submission is the one that makes the window unusual, the window's earlier
    responses at the counter are flagged with it (once per burst).
    """
    seconds = rule.window.total_seconds()
    stamp = now.timestamp()
    connection = session.connection()
    row = connection.execute(
        _UPSERTS[connection.dialect.name],
        {
            "counter_id": counter_id,
            "slot": int(stamp // seconds),
            "low": int(low),
            "smoothing": rule.smoothing,
        },
    ).one()
    activity = Activity(*row)
    # The part of the previous window still inside the sliding window ending now.
    weight = 1 - (stamp % seconds) / seconds
    submissions = activity.previous_count * weight + activity.count
    low_sets = activity.previous_low * weight + activity.low
    limit = max(rule.rate_min, rule.rate_factor * activity.usual)
    reason, crossed = None, False
    if low_sets >= rule.low_sets:
        reason = LOW_SETS
        crossed = low and low_sets - 1 < rule.low_sets
    elif submissions > limit:
        reason = RATE
        crossed = submissions - 1 <= limit
    if reason is not None and crossed:
        connection.execute(
            _FLAG_WINDOW, {"at_counter": counter_id, "since": now - rule.window, "reason": reason}
        )
    return reason

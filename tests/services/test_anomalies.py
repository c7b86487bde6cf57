"""Unusual activity at a counter flags responses for review; ordinary busy counters are left be."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Channel, Response
from surveyapp.services.collection.anomalies import AnomalyRule, is_low_set
from surveyapp.services.collection.submissions import Rules, Submission, accept_submission
from surveyapp.services.collection.targets import counter_target
from surveyapp.services.instruments.snapshots import instrument_view
from tests.conftest import NOW
from tests.factories import RATING_CODES, full_answers, make_counter, setup_counter

START = NOW.replace(minute=0, second=0)  # the start of a 10-minute window
DEFAULT_RULE = AnomalyRule()


def submit(
    session: Session,
    counter: Any,
    answers: dict[str, int],
    at: Any,
    rule: AnomalyRule = DEFAULT_RULE,
    channel: Channel = Channel.QR,
) -> Response:
    rules = Rules(timezone="Asia/Ho_Chi_Minh", anomaly=rule)
    target = counter_target(session, counter, at, rules.timezone)
    submission = Submission(idempotency_key=f"key-{random.getrandbits(64):016x}", answers=answers)
    response, _ = accept_submission(
        session, target=target, channel=channel, submission=submission, now=at, rules=rules
    )
    session.commit()
    return response


def varied(rng: random.Random, low: bool) -> dict[str, int]:
    """A plausible answer set, every one different: mostly 1–2 (low) or mostly 4–5."""
    levels = (1, 2) if low else (4, 5)
    return {code: rng.choice(levels) for code in [*RATING_CODES, "OVR"]}


def flags(session: Session) -> list[tuple[bool, str | None]]:
    session.expire_all()
    return list(
        session.execute(select(Response.is_flagged, Response.flag_reason).order_by(Response.id))
    )


def test_a_low_answer_set_is_mostly_low_ratings(session: Session) -> None:
    _, counter, campaign = setup_counter(session)
    view = instrument_view(session, campaign.instrument_id, campaign.instrument.source_hash)
    assert is_low_set(view, full_answers(1), 2)
    assert not is_low_set(view, full_answers(3), 2)
    half = full_answers(5) | dict.fromkeys(RATING_CODES[:9], 1)  # 9 of 19 low: not most
    assert not is_low_set(view, half, 2)
    most = full_answers(5) | dict.fromkeys(RATING_CODES[:10], 2)  # 10 of 19
    assert is_low_set(view, most, 2)
    assert not is_low_set(view, {"OVR": 1}, 2)  # no element item rated


def test_many_identical_top_ratings_at_a_busy_counter_are_not_flagged(session: Session) -> None:
    """ "Very satisfied" with everything, again and again, is what an honest busy counter sees."""
    _, counter, _ = setup_counter(session)
    for i in range(18):
        submit(session, counter, full_answers(5), START + timedelta(seconds=30 * i))
    assert flags(session) == [(False, None)] * 18


def test_a_burst_of_varied_low_sets_is_flagged_whole(session: Session) -> None:
    """25 different all-low answer sets within seconds (new browser each time, so no per-browser
    limit): the fifth makes the window unusual and flags the four before it; all 25 are kept."""
    _, counter, _ = setup_counter(session)
    rng = random.Random(7)
    for i in range(25):
        submit(session, counter, varied(rng, low=True), START + timedelta(seconds=2 * i))
    assert flags(session) == [(True, "low_burst")] * 25
    assert session.scalar(select(func.count()).select_from(Response)) == 25


def test_a_few_low_sets_are_ordinary(session: Session) -> None:
    _, counter, _ = setup_counter(session)
    rng = random.Random(3)
    for i in range(4):
        submit(session, counter, varied(rng, low=True), START + timedelta(minutes=i))
    # The fifth comes when the first four have slid out of the window.
    submit(session, counter, varied(rng, low=True), START + timedelta(minutes=25))
    assert flags(session) == [(False, None)] * 5


def test_a_rate_far_above_the_counters_own_is_flagged(session: Session) -> None:
    """A new counter has no usual rate yet: more than rate_min within the window is unusual."""
    _, counter, _ = setup_counter(session)
    rule = AnomalyRule(rate_min=10)
    rng = random.Random(5)
    for i in range(14):
        submit(session, counter, varied(rng, low=False), START + timedelta(seconds=10 * i), rule)
    assert flags(session) == [(True, "rate")] * 14  # the 11th flags the ten before it


def test_a_counter_that_is_usually_busy_keeps_its_pace(session: Session) -> None:
    """The same 12 submissions in ten minutes are ordinary at a counter that has seen about 8
    per window for an hour (12 < 3 × its usual count, about 5.4 after six windows), and unusual at
    a quiet new counter. (The busy counter's own first windows, before it had a usual count,
    were above rate_min and flagged: a new counter earns its pace.)"""
    unit, busy, _ = setup_counter(session)
    quiet = make_counter(session, unit, "P.D1-Q2")
    session.commit()
    rule = AnomalyRule(rate_min=5, rate_factor=3.0)
    rng = random.Random(11)
    for window in range(6):
        for i in range(8):
            at = START + timedelta(minutes=10 * window, seconds=60 * i)
            submit(session, busy, varied(rng, low=False), at, rule)
    hour_later = START + timedelta(minutes=60)
    for i in range(12):
        at = hour_later + timedelta(seconds=40 * i)
        submit(session, busy, varied(rng, low=False), at, rule)
        submit(session, quiet, varied(rng, low=False), at, rule)
    session.expire_all()
    flagged = dict(
        session.execute(
            select(Response.counter_id, func.count())
            .where(Response.is_flagged.is_(True), Response.submitted_at >= hour_later)
            .group_by(Response.counter_id)
        ).all()
    )
    assert busy.id not in flagged
    assert flagged[quiet.id] == 12


def test_paper_entry_is_not_counter_activity(session: Session) -> None:
    """Officials keying in a pile of paper forms are fast by nature."""
    _, counter, _ = setup_counter(session)
    rng = random.Random(2)
    for i in range(30):
        submit(
            session,
            counter,
            varied(rng, low=True),
            START + timedelta(seconds=i),
            channel=Channel.PAPER,
        )
    assert flags(session) == [(False, None)] * 30


@pytest.mark.parametrize("low", [False, True])
def test_each_submission_costs_the_same_and_a_burst_is_flagged_once(
    session: Session, low: bool
) -> None:
    """Statements per submission do not grow with the traffic: the earlier responses are
    flagged by one UPDATE when the burst begins, never again (the old rule rewrote every twin
    on every insert)."""
    _, counter, _ = setup_counter(session)
    rng = random.Random(1)
    statements: list[list[str]] = []
    engine = session.get_bind()

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[-1].append(" ".join(statement.split()[:3]))

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        for i in range(40):
            statements.append([])
            submit(session, counter, varied(rng, low=low), START + timedelta(seconds=5 * i))
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    updates = [
        i for i, run in enumerate(statements) if any(s.startswith("UPDATE responses") for s in run)
    ]
    assert updates == [4 if low else 20]  # the fifth low set, or the 21st submission
    counts = {len(run) for i, run in enumerate(statements) if i not in updates and i > 0}
    assert len(counts) == 1, counts

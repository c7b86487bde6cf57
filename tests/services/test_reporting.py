"""Rollups equal raw counts after every kind of write; index tables come from the rollup."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from analysis import find
from surveyapp.models import AnswerCount, Instrument, ResponseStatus, Unit
from surveyapp.services.access import scope_for
from surveyapp.services.collection import moderation, rollup
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import counts
from tests.conftest import NOW
from tests.factories import RATING_CODES, build_world, submit_response

TZ = "Asia/Ho_Chi_Minh"


def rollup_cells(session: Session) -> dict:
    rows = session.execute(
        select(
            AnswerCount.unit_id,
            AnswerCount.period,
            AnswerCount.stream,
            AnswerCount.item_id,
            AnswerCount.level,
            AnswerCount.count,
        ).where(AnswerCount.count != 0)
    )
    return {tuple(r[:5]): r[5] for r in rows}


def raw(session: Session) -> dict:
    return {(u, p, s, i, v): n for u, p, s, i, v, n in session.execute(rollup._raw_counts_query())}


def test_rollup_equals_raw_after_random_writes(app: Flask, session: Session) -> None:
    world = build_world(session)
    rng = random.Random(5)
    responses = []
    for _i in range(40):
        counter = rng.choice(list(world["counters"].values()))
        answers = {code: rng.choice([0, 1, 2, 3, 4, 5]) for code in RATING_CODES}
        answers["OVR"] = rng.randint(1, 5)
        responses.append(
            submit_response(session, counter, answers, now=NOW + timedelta(days=rng.randint(0, 90)))
        )
    par = scope_for(session, world["users"]["par"])
    for response in rng.sample(responses, 5):
        moderation.set_response_status(session, par, response.id, ResponseStatus.SPAM, NOW)
    session.commit()
    assert rollup_cells(session) == raw(session)
    assert len(raw(session)) > 100
    # Corrupt the rollup: the rebuild puts it right and says what it fixed.
    session.execute(
        update(AnswerCount).where(AnswerCount.level == 5).values(count=AnswerCount.count + 7)
    )
    some = session.execute(select(AnswerCount.unit_id, AnswerCount.item_id).limit(1)).one()
    session.execute(
        AnswerCount.__table__.delete().where(
            AnswerCount.unit_id == some[0], AnswerCount.item_id == some[1]
        )
    )
    session.commit()
    result = app.test_cli_runner().invoke(args=["rebuild-rollups"])
    assert result.exit_code == 0
    assert "thêm" in result.output
    session.expire_all()
    assert rollup_cells(session) == raw(session)
    again = app.test_cli_runner().invoke(args=["rebuild-rollups"]).output
    assert "thêm 0, sửa 0, bỏ 0" in again


def test_unit_table_matches_a_direct_count(session: Session) -> None:
    world = build_world(session)
    d1 = world["counters"]["P.D1"]
    x = world["counters"]["P.D1.X"]
    submit_response(session, d1, dict.fromkeys(RATING_CODES, 5) | {"OVR": 5})
    submit_response(session, d1, dict.fromkeys(RATING_CODES, 2) | {"OVR": 2})
    submit_response(session, x, dict.fromkeys(RATING_CODES, 4) | {"OVR": 4, "S15": 0})
    instrument = session.scalars(select(Instrument).where(Instrument.code == "COUNTER")).one()
    view = instrument_view(session, instrument.id, instrument.source_hash)
    units = list(
        session.scalars(
            select(Unit).where(Unit.code.in_(["P.D1", "P.D1.X", "P.D2"])).order_by(Unit.code)
        )
    )
    rows = {
        r.unit.code: r
        for r in counts.unit_table(session, units, parse_period("2026"), view, None, None, TZ)
    }
    # P.D1 covers itself and P.D1.X: S15 has 2 valid answers (5 and 2; X said "don't know").
    s15 = find(rows["P.D1"].index, "S15")
    assert (s15.satisfied, s15.valid) == (1, 2)
    # Every other item: 2 of 3 satisfied → 66.67%; S15 50% → element TC = (50 + 3 × 66.67) / 4.
    tc = find(rows["P.D1"].index, "TC")
    assert tc.percent() == Decimal("62.50")
    assert rows["P.D1"].respondents == 3
    assert rows["P.D1.X"].index.percent() == Decimal("100.00")
    assert rows["P.D2"].index.value is None
    assert rows["P.D2"].respondents == 0
    # Outside the period: nothing.
    empty = counts.unit_table(session, units[:1], parse_period("2025"), view, None, None, TZ)[0]
    assert empty.index.value is None
    assert session.scalar(select(func.count()).select_from(AnswerCount)) > 0


def test_raw_counting_with_filters_agrees_with_the_rollup(session: Session) -> None:
    from surveyapp.models import Channel
    from surveyapp.services.reporting.counts import Filters, counts_by_unit, counts_by_unit_filtered

    world = build_world(session)
    rng = random.Random(9)
    for _ in range(15):
        counter = rng.choice(list(world["counters"].values()))
        submit_response(session, counter, {c: rng.randint(0, 5) for c in RATING_CODES} | {"OVR": 3})
    instrument = session.scalars(select(Instrument).where(Instrument.code == "COUNTER")).one()
    view = instrument_view(session, instrument.id, instrument.source_hash)
    ids = list(session.scalars(select(Unit.id)))
    year = parse_period("2026")
    rolled = counts_by_unit(session, ids, year, view)
    raw_all = counts_by_unit_filtered(
        session, ids, year, view, None, Filters(channel=Channel.QR), TZ
    )
    assert {k: dict(v) for k, v in rolled.items()} == {k: dict(v) for k, v in raw_all.items()}
    kiosk = counts_by_unit_filtered(
        session, ids, year, view, None, Filters(channel=Channel.KIOSK), TZ
    )
    assert dict(kiosk) == {}


def test_custom_range_counts_only_those_days(session: Session) -> None:
    world = build_world(session)
    d1 = world["counters"]["P.D1"]
    # NOW is 15 June 2026, 10:00 in Hà Nội.
    submit_response(session, d1, dict.fromkeys(RATING_CODES, 5) | {"OVR": 5}, now=NOW)
    submit_response(
        session, d1, dict.fromkeys(RATING_CODES, 1) | {"OVR": 1}, now=NOW + timedelta(days=10)
    )
    instrument = session.scalars(select(Instrument).where(Instrument.code == "COUNTER")).one()
    view = instrument_view(session, instrument.id, instrument.source_hash)
    unit = session.scalars(select(Unit).where(Unit.code == "P.D1")).one()
    whole = counts.unit_table(session, [unit], parse_period("2026-06"), view, None, None, TZ)[0]
    first_half = counts.unit_table(
        session, [unit], parse_period("2026-06-01..2026-06-20"), view, None, None, TZ
    )[0]
    assert whole.respondents == 2
    assert whole.index.percent() == Decimal("50.00")
    assert first_half.respondents == 1
    assert first_half.index.percent() == Decimal("100.00")
    assert not parse_period("2026-06-01..2026-06-20").whole_months
    assert parse_period("2026-Q2").whole_months


def test_bad_custom_ranges_are_refused() -> None:
    import pytest

    from surveyapp.services.errors import InvalidInput

    for text in ("2026-06-20..2026-06-01", "2026-06-01..x", "2026-02-30..2026-03-01"):
        with pytest.raises(InvalidInput):
            parse_period(text)


def test_rollup_equals_raw_after_imports(app: Flask, session: Session, tmp_path) -> None:
    build_world(session)
    items = ",".join(RATING_CODES)
    lines = [
        f"P.D1,2026-03-{d:02d}," + ",".join(str((d + i) % 6) for i in range(19))
        for d in range(1, 29)
    ]
    path = tmp_path / "r.csv"
    path.write_text(f"unit_code,submitted_at,{items}\n" + "\n".join(lines) + "\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(
        args=["import-responses", str(path), "--instrument", "COUNTER"]
    )
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert rollup_cells(session) == raw(session)
    assert sum(raw(session).values()) == sum(
        1 for line in lines for v in line.split(",")[2:] if v != ""
    )

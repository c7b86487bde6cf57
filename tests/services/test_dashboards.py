"""Unit dashboards, rankings and Thông tư 01 tables against hand-computed figures."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import PublicationRules, wilson
from surveyapp.models import Channel, Dossier, Instrument, Role, Stream
from surveyapp.services.access import SYSTEM
from surveyapp.services.collection.submissions import Rules, Submission, accept_submission
from surveyapp.services.collection.targets import dossier_target
from surveyapp.services.errors import InvalidInput
from surveyapp.services.org.staff import save_staff
from surveyapp.services.periods import months_of, parse_period, previous_period, trailing_months
from surveyapp.services.reporting import dashboards, ranking, tt01
from surveyapp.services.reporting.counts import Attribution, Filters
from tests.conftest import NOW
from tests.factories import (
    build_world,
    full_answers,
    make_campaign,
    make_dossier,
    make_user,
    submit_response,
)

TZ = "Asia/Ho_Chi_Minh"
# Tiny samples in these tests: show and rank every figure.
OPEN = PublicationRules(hide_below_n=1, min_effective_n=1, max_width=1.0, max_rank_width=1.0)


@pytest.mark.parametrize(
    ("label", "before"),
    [
        ("2026", "2025"),
        ("2026-Q1", "2025-Q4"),
        ("2026-Q3", "2026-Q2"),
        ("2026-01", "2025-12"),
        ("2026-07", "2026-06"),
        ("2026-03-01..2026-03-10", "2026-02-19..2026-02-28"),
    ],
)
def test_previous_period(label: str, before: str) -> None:
    assert previous_period(parse_period(label)).label == before


@pytest.mark.parametrize(
    ("typed", "label"),
    [
        ("06/2026", "2026-06"),
        ("6/2026", "2026-06"),
        ("T6/2026", "2026-06"),
        ("Tháng 06 năm 2026", "2026-06"),
        ("thang 6/2026", "2026-06"),
        ("Q2/2026", "2026-Q2"),
        ("Quý 2/2026", "2026-Q2"),
        ("quý II/2026", "2026-Q2"),
        ("quy 4 2026", "2026-Q4"),
        ("năm 2026", "2026"),
        ("01/01/2026-31/03/2026", "2026-01-01..2026-03-31"),
        ("15/01/2026 .. 10/03/2026", "2026-01-15..2026-03-10"),
    ],
)
def test_the_periods_officials_type(typed: str, label: str) -> None:
    assert parse_period(typed).label == label


@pytest.mark.parametrize("typed", ["13/2026", "Q5/2026", "31/02/2026-01/03/2026", "06/20266"])
def test_impossible_typed_periods_are_refused_by_what_was_typed(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_period(typed)
    assert f"'{typed}'" in refused.value.render()


def test_months_and_trailing_window() -> None:
    assert months_of(parse_period("2026-Q2")) == [202604, 202605, 202606]
    window = trailing_months(parse_period("2026-03"), 12)
    assert (window.start, window.end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert len(months_of(window)) == 12
    assert window.whole_months


@pytest.fixture
def world(session: Session) -> dict:
    """D1: three respondents (all 4; all 2; S15 = 1 and the rest 5); D2: two (all 5)."""
    world = build_world(session)
    d1, d2 = world["counters"]["P.D1"], world["counters"]["P.D2"]
    submit_response(session, d1, full_answers(4))
    submit_response(session, d1, full_answers(2), comment="Chờ lâu, gọi 0912345678")
    third = full_answers(5)
    third["S15"] = 1
    submit_response(session, d1, third)
    submit_response(session, d2, full_answers(5))
    submit_response(session, d2, full_answers(5), comment="Rất tốt")
    return world


def test_unit_dashboard_figures_by_hand(session: Session, world: dict) -> None:
    d1 = world["units"]["d1"]
    view = dashboards.unit_dashboard(
        session, d1, dashboards.Query(parse_period("2026")), scope=SYSTEM, timezone=TZ, rules=OPEN
    )
    # S15: 1 of 3 satisfied; every other item 2 of 3. TC = (1/3 + 3 × 2/3) / 4 = 7/12;
    # TT, CC, KQ, PA = 2/3; SIPAS = (7/12 + 4 × 2/3) / 5 = 13/20.
    assert view.sipas.index.value == Fraction(65)
    assert view.sipas.n == 3
    expected = wilson(0.65 * 3, 3)
    assert view.sipas.interval.low == pytest.approx(expected.low)
    assert view.sipas.interval.high == pytest.approx(expected.high)
    by_code = {f.index.code: f for f in view.elements}
    assert by_code["TC"].index.value == Fraction(700, 12)
    assert by_code["TT"].index.percent() == Decimal("66.67")
    s15 = view.items["TC"][0]
    assert (s15.index.code, s15.index.satisfied, s15.index.valid) == ("S15", 1, 3)
    assert s15.interval.low == pytest.approx(wilson(1, 3).low)
    # Parent P = D1 + D2: S15 3 of 5, others 4 of 5; TC = 0.75, others 0.8; SIPAS = 0.79.
    assert view.parent.other.index.value == Fraction(79)
    assert view.parent.other.n == 5
    assert view.parent.difference == pytest.approx(-14.0)
    assert view.parent.change.interval.low < -14 / 100 < view.parent.change.interval.high
    # Nothing in 2025: no comparison with the previous period.
    assert view.previous_period.label == "2025"
    assert view.previous.change is None
    assert view.channels == [(Channel.QR, 3)]
    assert [c.body for c in view.comments] == ["Chờ lâu, gọi 0912345678"]
    assert view.comments[0].case_id is not None
    june = next(p for p in view.trend if p.month == 202606)
    assert june.figure.index.value == Fraction(65)
    assert [p.month for p in view.trend][0] == 202601
    assert all(p.figure.n == 0 for p in view.trend if p.month != 202606)


def test_publication_rules_hide_small_samples(session: Session, world: dict) -> None:
    view = dashboards.unit_dashboard(
        session,
        world["units"]["d1"],
        dashboards.Query(parse_period("2026")),
        scope=SYSTEM,
        timezone=TZ,
    )
    assert view.sipas.verdict.hidden
    assert not view.sipas.shown
    assert view.sipas.as_dict()["value"] is None
    assert view.sipas.as_dict()["n"] == 3
    assert view.parent.change is None  # never compare a hidden figure


def test_filters_and_previous_period(session: Session, world: dict) -> None:
    d1 = world["units"]["d1"]
    kiosk = dashboards.Query(parse_period("2026"), filters=Filters(channel=Channel.KIOSK))
    view = dashboards.unit_dashboard(session, d1, kiosk, scope=SYSTEM, timezone=TZ, rules=OPEN)
    assert view.sipas.n == 0
    assert view.sipas.index.value is None
    assert view.channels == []
    later = NOW + timedelta(days=40)  # July
    submit_response(session, world["counters"]["P.D1"], full_answers(5), now=later)
    july = dashboards.Query(parse_period("2026-07"))
    view = dashboards.unit_dashboard(session, d1, july, scope=SYSTEM, timezone=TZ, rules=OPEN)
    assert view.sipas.index.value == Fraction(100)
    assert view.previous_period.label == "2026-06"
    assert view.previous.other.index.value == Fraction(65)
    assert view.previous.difference == pytest.approx(35.0)


def test_sample_progress_uses_yamane_on_returned_dossiers(session: Session, world: dict) -> None:
    d1 = world["units"]["d1"]
    for i in range(40):
        make_dossier(session, d1, code=f"HS-P-{i:03d}")
    session.commit()
    view = dashboards.unit_dashboard(
        session, d1, dashboards.Query(parse_period("2026")), scope=SYSTEM, timezone=TZ, rules=OPEN
    )
    (progress,) = view.progress
    # N = 40, e = 0.05: n = 40 / (1 + 40 × 0.0025) = 36.36… → 37.
    assert (progress.population, progress.target, progress.collected) == (40, 37, 3)
    assert progress.share == pytest.approx(3 / 37)


def test_ranking_children_with_funnel_and_ties(session: Session, world: dict) -> None:
    p = world["units"]["p"]
    table = ranking.ranking(
        session, p, dashboards.Query(parse_period("2026")), scope=SYSTEM, timezone=TZ, rules=OPEN
    )
    assert [(r.unit.code, r.rank) for r in table.rows] == [("P.D2", 1), ("P.D1", 2)]
    assert table.rows[1].has_children  # D1 has commune X
    assert table.centre == pytest.approx((0.65 * 3 + 1.0 * 2) / 5)
    by_name = ranking.ranking(
        session,
        p,
        dashboards.Query(parse_period("2026")),
        scope=SYSTEM,
        timezone=TZ,
        rules=OPEN,
        sort="n",
    )
    assert [r.unit.code for r in by_name.rows] == ["P.D1", "P.D2"]
    strict = ranking.ranking(
        session, p, dashboards.Query(parse_period("2026")), scope=SYSTEM, timezone=TZ
    )
    assert all(r.rank is None for r in strict.rows)  # n < 10: hidden, never ranked
    with pytest.raises(InvalidInput):
        ranking.ranking(
            session, p, dashboards.Query(parse_period("2026")), scope=SYSTEM, timezone=TZ, sort="x"
        )


def tt01_rating(session: Session, dossier: Dossier, points: dict[str, int]) -> None:
    rules = Rules(timezone=TZ)
    target = dossier_target(session, dossier, NOW, rules.timezone)
    answers = {f"T{i}": points.get(f"T{i}", 2) for i in range(1, 10)}
    answers["HL3"] = 2
    accept_submission(
        session,
        target=target,
        channel=Channel.LINK,
        submission=Submission(idempotency_key=f"tt01-{dossier.code}", answers=answers),
        now=NOW,
        rules=rules,
    )


def test_tt01_scores_per_agency_and_official_with_minimum(session: Session) -> None:
    world = build_world(session)
    d1 = world["units"]["d1"]
    # The staff register: one official with an account, one without (a desk officer).
    make_user(session, "canbo@x.vn", Role.COUNTER_STAFF, d1)
    official = save_staff(
        session, SYSTEM, code="CB01", name="Cán Bộ", unit=d1, account_email="canbo@x.vn", now=NOW
    )
    quiet = save_staff(session, SYSTEM, code="CB02", name="Ít Việc", unit=d1, now=NOW)
    form = session.scalar(select(Instrument).where(Instrument.code == "TT01"))
    make_campaign(
        session, [world["units"]["p"]], code="TT01-2026", instrument=form, stream=Stream.OFFICIAL
    )
    session.commit()
    # The official's three dossiers: T1 = 2, 1, 0 → 1.0; T7 = 2, 2, 1 → 5/3 → 1.7.
    for i, (t1, t7) in enumerate([(2, 2), (1, 2), (0, 1)]):
        dossier = make_dossier(session, d1, code=f"HS-T-{i}", staff_id=official.id)
        tt01_rating(session, dossier, {"T1": t1, "T7": t7, "T5": 9})
    # One rating for the other official, below the minimum of 2.
    tt01_rating(session, make_dossier(session, d1, code="HS-Q", staff_id=quiet.id), {})
    session.commit()
    tables = tt01.tt01_tables(
        session, SYSTEM, world["units"]["p"], parse_period("2026"), min_ratings=2, timezone=TZ
    )
    officials = {r.key: r for r in tables.officials}
    scores = {s.code: s.score for s in officials["CB01"].result.indicators}
    assert scores["T1"] == Decimal("1.0")
    assert scores["T7"] == Decimal("1.7")
    assert scores["T5"] is None  # "không áp dụng" on every dossier
    assert officials["CB01"].result.official_total == Decimal("1.0") + 2 + 2 + 2 + Decimal("1.7")
    assert officials["CB02"].rated == 1
    assert officials["CB02"].result is None  # never a score on too few ratings
    (agency,) = tables.agencies
    assert (agency.key, agency.rated) == ("P.D1", 4)
    # T1 over 4 dossiers: 2 + 1 + 0 + 2 = 5 → 1.25 → 1.3 (half up).
    agency_scores = {s.code: s.score for s in agency.result.indicators}
    assert agency_scores["T1"] == Decimal("1.3")
    assert agency.band is not None


def test_ratings_counted_for_the_receiving_place_on_request(session: Session, world: dict) -> None:
    """A service centre at D1 received a dossier that D2 handles (Nghị định 118/2025/NĐ-CP)."""
    d1, d2 = world["units"]["d1"], world["units"]["d2"]
    make_campaign(session, [world["units"]["p"]], code="OFF-2026", stream=Stream.OFFICIAL)
    dossier = make_dossier(session, d2, code="HS-TTPV", receiving_unit=d1)
    rules = Rules(timezone=TZ)
    accept_submission(
        session,
        target=dossier_target(session, dossier, NOW, TZ),
        channel=Channel.LINK,
        submission=Submission(idempotency_key="ttpv", answers=full_answers(5)),
        now=NOW,
        rules=rules,
    )
    session.commit()

    def view(unit: object, attribution: Attribution) -> dashboards.UnitDashboard:
        query = dashboards.Query(parse_period("2026"), filters=Filters(attribution=attribution))
        return dashboards.unit_dashboard(
            session, unit, query, scope=SYSTEM, timezone=TZ, rules=OPEN
        )

    # By default the rating counts for D2, which handles the dossier; D1 keeps its 3 ratings.
    assert (view(d1, Attribution.HANDLING).sipas.n, view(d2, Attribution.HANDLING).sipas.n) == (
        3,
        3,
    )
    assert view(d1, Attribution.HANDLING).sipas.index.value == Fraction(65)
    by_place = view(d1, Attribution.RECEIVING)
    # D1 by receiving place: S15 2 of 4, every other item 3 of 4. TC = (2/4 + 3 × 3/4) / 4
    # = 11/16; the other four elements 3/4; SIPAS = (11/16 + 4 × 3/4) / 5 = 59/80 = 73.75 %.
    assert by_place.sipas.n == 4
    assert by_place.sipas.index.value == Fraction(7375, 100)
    assert dict(by_place.channels) == {Channel.QR: 3, Channel.LINK: 1}
    assert view(d2, Attribution.RECEIVING).sipas.n == 2
    # The province holds both places: the same figure either way.
    p = world["units"]["p"]
    assert view(p, Attribution.RECEIVING).sipas.index == view(p, Attribution.HANDLING).sipas.index
    # Yamane's N follows the attribution: the returned dossier was received at D1.
    assert [g.population for g in by_place.progress] == [
        g.population + 1 for g in view(d1, Attribution.HANDLING).progress
    ]

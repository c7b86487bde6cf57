"""accept_submission on a real session: stored once, rolled up, bad input refused whole."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Answer,
    AnswerCount,
    Channel,
    Comment,
    ItemKind,
    RespondentType,
    Response,
    Stream,
)
from surveyapp.services.collection.submissions import (
    Rules,
    Submission,
    accept_submission,
    check_answers,
)
from surveyapp.services.collection.targets import counter_target, dossier_target
from surveyapp.services.errors import Conflict, Gone, InvalidInput
from surveyapp.services.instruments.snapshots import InstrumentView, ItemView
from surveyapp.services.periods import local_period
from surveyapp.services.reporting.counts import count_reportable_by_unit
from tests.conftest import NOW
from tests.factories import full_answers, make_dossier, make_unit, setup_counter

RULES = Rules(timezone="Asia/Ho_Chi_Minh")


def submit(session: Session, counter, answers=None, key="k" * 20, now=NOW, target=None, **extra):
    submission = Submission(idempotency_key=key, answers=answers or full_answers(), **extra)
    if target is None:
        target = counter_target(session, counter, now, RULES.timezone)
    result = accept_submission(
        session,
        target=target,
        channel=Channel.QR if target.counter else Channel.LINK,
        submission=submission,
        now=now,
        rules=RULES,
    )
    session.commit()
    return result


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_stores_response_answers_comment_and_rollup(session: Session) -> None:
    unit, counter, campaign = setup_counter(session)
    answers = full_answers(4) | {"S15": 2, "S16": 0, "RTYPE": 2, "E01": 3}
    response, created = submit(session, counter, answers, comment="  Chờ lâu quá  ")
    assert created
    assert response.unit_id == unit.id
    assert response.counter_id == counter.id
    assert response.campaign_id == campaign.id
    assert response.stream is Stream.GENERAL
    assert response.period == 202606
    assert response.respondent_type is RespondentType.ORGANISATION
    assert count(session, Answer) == len(answers)
    assert session.scalar(select(Comment.body)) == "Chờ lâu quá"
    s15 = next(i.id for i in response.instrument.items if i.code == "S15")
    rollup = session.execute(
        select(AnswerCount.level, AnswerCount.count).where(
            AnswerCount.unit_id == unit.id, AnswerCount.item_id == s15, AnswerCount.period == 202606
        )
    ).all()
    assert rollup == [(2, 1)]
    # The rollup holds every valued answer, the "don't know" level (0) included.
    assert session.scalar(select(func.sum(AnswerCount.count))) == len(answers)
    assert count_reportable_by_unit(session) == [("P.D1", 1)]


def test_same_idempotency_key_stores_once(session: Session) -> None:
    _, counter, _ = setup_counter(session)
    first, created_first = submit(session, counter, key="double-tap-key-123")
    second, created_second = submit(session, counter, full_answers(1), key="double-tap-key-123")
    assert (created_first, created_second) == (True, False)
    assert second.id == first.id
    assert count(session, Response) == 1
    assert session.scalar(select(func.sum(AnswerCount.count))) == 20


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (full_answers() | {"S15": 6}, "S15"),
        (full_answers() | {"S15": -1}, "S15"),
        (full_answers() | {"E01": 4}, "E01"),
        (full_answers() | {"NOPE": 3}, "NOPE"),
        ({k: v for k, v in full_answers().items() if k != "S20"}, "S20"),
        ({k: v for k, v in full_answers().items() if k != "OVR"}, "OVR"),
    ],
)
def test_invalid_answers_store_nothing(session: Session, answers, field) -> None:
    _, counter, _ = setup_counter(session)
    with pytest.raises(InvalidInput) as caught:
        submit(session, counter, answers)
    assert caught.value.field == field
    session.rollback()
    assert count(session, Response) == 0
    assert count(session, AnswerCount) == 0


def test_overlong_comment_is_refused(session: Session) -> None:
    _, counter, _ = setup_counter(session)
    with pytest.raises(InvalidInput) as caught:
        submit(session, counter, comment="x" * 2001)
    assert caught.value.field == "comment"
    assert "2000" in caught.value.render()


def test_dossier_must_belong_to_the_unit_and_is_rated_once(session: Session) -> None:
    unit, counter, _ = setup_counter(session)
    other = make_unit(session, "OTHER")
    make_dossier(session, unit, "HS-1")
    make_dossier(session, other, "HS-2")
    session.commit()
    with pytest.raises(InvalidInput) as caught:
        submit(session, counter, dossier_code="HS-2")
    assert caught.value.field == "dossier_code"
    session.rollback()
    with pytest.raises(InvalidInput):
        submit(session, counter, dossier_code="HS-404")
    session.rollback()
    response, _ = submit(session, counter, dossier_code="HS-1")
    assert response.dossier_id is not None
    with pytest.raises(Conflict):
        submit(session, counter, key="another-key-000000", dossier_code="HS-1")
    session.rollback()
    assert count(session, Response) == 1


def test_closed_or_finished_campaign_is_gone(session: Session) -> None:
    _, counter, campaign = setup_counter(session)
    with pytest.raises(Gone):
        submit(session, counter, now=datetime(2027, 1, 1, 3, tzinfo=UTC))
    session.rollback()
    campaign.is_closed = True
    session.commit()
    with pytest.raises(Gone):
        submit(session, counter)


def test_campaign_of_another_stream_does_not_cover_counter(session: Session) -> None:
    _, counter, campaign = setup_counter(session)
    campaign.stream = Stream.OFFICIAL
    session.commit()
    with pytest.raises(Gone):
        submit(session, counter)


def test_period_is_the_local_month() -> None:
    # 18:00 UTC on 31 January is 01:00 on 1 February in Hà Nội (UTC+7).
    assert local_period(datetime(2026, 1, 31, 18, tzinfo=UTC), "Asia/Ho_Chi_Minh") == 202602
    assert local_period(datetime(2026, 1, 31, 16, tzinfo=UTC), "Asia/Ho_Chi_Minh") == 202601
    assert date(2026, 1, 1) < date(2026, 2, 1)


def test_signed_link_rating_can_be_revised_within_the_window(session: Session) -> None:
    unit, counter, campaign = setup_counter(session)
    campaign.stream = Stream.OFFICIAL
    dossier = make_dossier(session, unit, "HS-7")
    session.commit()
    target = dossier_target(session, dossier, NOW, RULES.timezone)
    first, created = submit(
        session, None, full_answers(2), key="first-key-0000000", target=target, comment="chậm"
    )
    assert created
    assert first.stream is Stream.OFFICIAL
    assert first.counter_id is None
    later = NOW + timedelta(hours=5)
    revised, created = submit(
        session,
        None,
        full_answers(5) | {"S20": 0},
        key="second-key-00000",
        now=later,
        target=target,
    )
    assert not created
    assert revised.id == first.id
    assert revised.updated_at == later
    assert revised.comment is None
    assert count(session, Response) == 1
    levels = dict(
        session.execute(
            select(AnswerCount.level, func.sum(AnswerCount.count)).group_by(AnswerCount.level)
        ).all()
    )
    # The first answers left the rollup (their cells stay, at zero).
    assert {level: n for level, n in levels.items() if n} == {5: 19, 0: 1}
    with pytest.raises(Gone):
        submit(
            session,
            None,
            full_answers(4),
            key="third-key-000000",
            now=NOW + timedelta(hours=73),
            target=target,
        )


def test_dossier_link_needs_an_open_official_campaign(session: Session) -> None:
    unit, _, _ = setup_counter(session)
    dossier = make_dossier(session, unit, "HS-8")
    session.commit()
    with pytest.raises(Gone):
        dossier_target(session, dossier, NOW, RULES.timezone)


def test_free_text_answers_are_capped_like_comments() -> None:
    note = ItemView(
        id=1,
        code="NOTE",
        position=1,
        kind=ItemKind.TEXT,
        section="satisfaction",
        text={"vi": "Điều bạn muốn nói thêm"},
        is_required=False,
        options=None,
        element=None,
        allowed=frozenset(),
    )
    view = InstrumentView(
        id=1,
        code="LOCAL",
        version=1,
        name={"vi": "Phiếu của tỉnh"},
        scale={"min": 1, "max": 5},
        aggregation={},
        source_hash="x",
        items=(note,),
        elements=(),
    )
    check_answers(view, {"NOTE": "x" * 300}, text_max_length=300)
    with pytest.raises(InvalidInput) as caught:
        check_answers(view, {"NOTE": "x" * 301}, text_max_length=300)
    assert caught.value.field == "NOTE"
    assert "300" in caught.value.render()


def test_a_dossier_citizen_whose_campaign_closed_reads_the_dossier_message(
    session: Session,
) -> None:
    """The form was opened on the campaign's last day and sent after midnight: the citizen is told
    about their dossier's rating, not about a counter."""
    from tests.factories import make_campaign

    unit, _, _ = setup_counter(session)
    campaign = make_campaign(
        session,
        [unit],
        code="C-HS",
        stream=Stream.OFFICIAL,
        starts_on=date(2026, 6, 1),
        ends_on=date(2026, 6, 15),
    )
    session.commit()
    dossier = make_dossier(session, unit, "HS-LAST")
    session.commit()
    target = dossier_target(session, dossier, NOW, RULES.timezone)
    assert target.campaign.id == campaign.id
    after_midnight = datetime(2026, 6, 15, 17, 30, tzinfo=UTC)  # 00:30 on the 16th in Hà Nội
    with pytest.raises(Gone) as refused:
        submit(session, None, target=target, now=after_midnight)
    assert refused.value.message == "Hiện không có đợt đánh giá nào đang mở cho hồ sơ này."

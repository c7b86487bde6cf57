"""Feedback cases: opened by comments and low ratings, listed by scope, handled and audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    AnswerCount,
    AuditEntry,
    Case,
    CaseStatus,
    ResponseStatus,
    Role,
)
from surveyapp.services.access import Forbidden, scope_for
from surveyapp.services.collection import moderation
from surveyapp.services.errors import InvalidInput, NotFound
from surveyapp.services.feedback import cases
from surveyapp.services.periods import parse_period
from tests.conftest import NOW
from tests.factories import build_world, full_answers, make_user, submit_response

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def world(session: Session):
    return build_world(session)


def test_comments_and_low_ratings_open_cases(session: Session, world) -> None:
    counter = world["counters"]["P.D1"]
    fine = submit_response(session, counter, full_answers(4))
    commented = submit_response(session, counter, full_answers(5), comment="Chờ quá lâu")
    low = submit_response(session, counter, full_answers(4) | {"S24": 1, "S29": 2})
    opened = {c.response_id: c for c in session.scalars(select(Case))}
    assert fine.id not in opened
    assert opened[commented.id].reason == "comment"
    assert opened[low.id].reason == "low_rating"
    assert opened[low.id].element_code == "CC"  # the first element answered low
    case = opened[low.id]
    assert case.status is CaseStatus.NEW
    assert case.unit_id == counter.unit_id
    # 10 working days from Monday 15 June 2026 (10:00 local): Monday 29 June, end of day.
    assert case.due_at == datetime(2026, 6, 29, 16, 59, tzinfo=UTC)


def test_working_days_skip_weekends_and_holidays() -> None:
    friday = datetime(2026, 6, 19, 3, tzinfo=UTC)
    due = cases.add_working_days(friday, 1, TZ)
    assert due.date() == date(2026, 6, 22)  # Monday
    due = cases.add_working_days(friday, 1, TZ, holidays=[date(2026, 6, 22)])
    assert due.date() == date(2026, 6, 23)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Gọi tôi 0912 345 678 nhé", "Gọi tôi •••••••678 nhé"),
        ("sđt +84912345678", "sđt ••••••••678"),
        ("CCCD 001203004567 của tôi", "CCCD •••••••••567 của tôi"),
        ("Hồ sơ HS-2026-000123, chờ 3 ngày", "Hồ sơ HS-2026-000123, chờ 3 ngày"),
    ],
)
def test_phone_and_citizen_id_numbers_are_masked(text: str, masked: str) -> None:
    assert cases.mask_personal_data(text) == masked


def _scope(session: Session, world, who: str):
    return scope_for(session, world["users"][who])


def test_each_official_lists_only_their_units(session: Session, world) -> None:
    for code in ("P.D1", "P.D1.X", "P.D2"):
        submit_response(session, world["counters"][code], comment=f"ý kiến {code}")

    def listed(who: str) -> set[str]:
        page = cases.list_cases(session, _scope(session, world, who), cases.CaseFilters(), NOW, TZ)
        return {c.response.comment.body for c in page.cases}

    everything = {"ý kiến P.D1", "ý kiến P.D1.X", "ý kiến P.D2"}
    assert listed("admin") == listed("par") == everything
    assert listed("manager") == {"ý kiến P.D1", "ý kiến P.D1.X"}
    assert listed("staff") == {"ý kiến P.D1"}  # its own unit only
    other = session.scalar(select(Case.id).where(Case.unit_id == world["units"]["d2"].id))
    with pytest.raises(NotFound):
        cases.get_case(session, _scope(session, world, "manager"), other)


def test_filters_and_keyset_pages(session: Session, world) -> None:
    counter = world["counters"]["P.D1"]
    for i in range(7):
        submit_response(session, counter, comment=f"góp ý số {i}", now=NOW + timedelta(minutes=i))
    submit_response(session, counter, full_answers(4) | {"S15": 1}, now=NOW + timedelta(days=40))
    scope = _scope(session, world, "manager")
    seen, cursor = [], None
    while True:
        page = cases.list_cases(
            session, scope, cases.CaseFilters(), NOW, TZ, cursor=cursor, limit=3
        )
        seen += [c.id for c in page.cases]
        assert page.total == 8  # on every page, the count of all that match
        cursor = page.next_cursor
        if cursor is None:
            break
    all_ids = [
        c.id for c in session.scalars(select(Case).order_by(Case.created_at.desc(), Case.id.desc()))
    ]
    assert seen == all_ids
    assert len(seen) == 8
    found = cases.list_cases(session, scope, cases.CaseFilters(text="SỐ 3"), NOW, TZ).cases
    assert [c.response.comment.body for c in found] == ["góp ý số 3"]
    by_element = cases.list_cases(session, scope, cases.CaseFilters(element="TC"), NOW, TZ).cases
    assert len(by_element) == 1
    june = cases.list_cases(
        session, scope, cases.CaseFilters(period=parse_period("2026-06")), NOW, TZ
    )
    assert len(june.cases) == 7
    assert june.total == 7
    oldest = cases.list_cases(session, scope, cases.CaseFilters(sort="oldest"), NOW, TZ, limit=1)
    assert oldest.cases[0].response.comment.body == "góp ý số 0"
    overdue = cases.CaseFilters(overdue=True)
    assert cases.list_cases(session, scope, overdue, NOW, TZ).cases == []
    later = NOW + timedelta(days=30)
    assert len(cases.list_cases(session, scope, overdue, later, TZ).cases) == 7
    with pytest.raises(InvalidInput):
        cases.list_cases(session, scope, cases.CaseFilters(), NOW, TZ, cursor="garbage")


def test_handling_a_case_is_audited(session: Session, world) -> None:
    response = submit_response(session, world["counters"]["P.D1"], comment="Không có ghế ngồi")
    case = session.scalars(select(Case)).one()
    manager = _scope(session, world, "manager")
    me = world["users"]["manager"].id
    cases.assign(session, manager, case, me, NOW)
    assert case.status is CaseStatus.ASSIGNED
    assert case.assignee_id == me
    with pytest.raises(InvalidInput):
        cases.set_status(session, manager, case, CaseStatus.ANSWERED, NOW)  # no reply yet
    cases.add_note(session, manager, case, "Đã kiểm tra camera", NOW)
    cases.reply(session, manager, case, "Đã bổ sung 10 ghế chờ.", NOW + timedelta(hours=2))
    assert case.status is CaseStatus.ANSWERED
    cases.set_status(session, manager, case, CaseStatus.CLOSED, NOW + timedelta(hours=3))
    session.commit()
    actions = [
        e.action
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "case").order_by(AuditEntry.id)
        )
    ]
    assert actions == ["case.assign", "case.note", "case.reply", "case.status"]
    reply_entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.reply")).one()
    assert reply_entry.before["status"] == "assigned"
    assert reply_entry.after["status"] == "answered"
    assert reply_entry.user_id == me
    public = cases.status_for_receipt(session, response.receipt_code.lower())
    assert public.status is CaseStatus.CLOSED
    assert public.reply == "Đã bổ sung 10 ghế chờ."
    # Staff may read but not act.
    with pytest.raises(Forbidden):
        cases.add_note(session, _scope(session, world, "staff"), case, "x", NOW)
    other = make_user(session, "other@x.vn", Role.UNIT_MANAGER, world["units"]["d2"])
    with pytest.raises(InvalidInput):
        cases.assign(session, manager, case, other.id, NOW)


def test_receipt_lookup_hides_internal_state(session: Session, world) -> None:
    response = submit_response(session, world["counters"]["P.D1"], comment="Thủ tục rườm rà")
    status = cases.status_for_receipt(session, response.receipt_code)
    assert status.status is CaseStatus.NEW
    assert status.reply is None
    quiet = submit_response(session, world["counters"]["P.D1"], full_answers(5))
    assert cases.status_for_receipt(session, quiet.receipt_code).status is None
    for code in ("NOPE", "A" * 10, "' OR 1=1 --"):
        with pytest.raises(NotFound):
            cases.status_for_receipt(session, code)


def test_bulk_assign_and_close(session: Session, world) -> None:
    for i in range(3):
        submit_response(session, world["counters"]["P.D1"], comment=f"c{i}")
    submit_response(session, world["counters"]["P.D2"], comment="other")
    ids = list(session.scalars(select(Case.id).where(Case.unit_id == world["units"]["d1"].id)))
    manager = _scope(session, world, "manager")
    assert cases.bulk(session, manager, ids, "assign", world["users"]["manager"].id, NOW) == 3
    assert cases.bulk(session, manager, ids[:2], "close", None, NOW) == 2
    session.commit()
    statuses = sorted(s.value for s in session.scalars(select(Case.status).where(Case.id.in_(ids))))
    assert statuses == ["assigned", "closed", "closed"]
    other = session.scalar(select(Case.id).where(Case.unit_id == world["units"]["d2"].id))
    with pytest.raises(NotFound):
        cases.bulk(session, manager, [ids[2], other], "close", None, NOW)


def test_marking_spam_is_reversible_and_keeps_rollups_right(session: Session, world) -> None:
    response = submit_response(session, world["counters"]["P.D1"])

    def counted() -> int:
        session.expire_all()
        return session.scalar(select(func.coalesce(func.sum(AnswerCount.count), 0)))

    assert counted() == 20
    par = _scope(session, world, "par")
    moderation.set_response_status(session, par, response.id, ResponseStatus.SPAM, NOW)
    session.commit()
    assert counted() == 0
    moderation.set_response_status(session, par, response.id, ResponseStatus.TEST, NOW)
    moderation.set_response_status(session, par, response.id, ResponseStatus.REPORTABLE, NOW)
    session.commit()
    assert counted() == 20
    log = [
        (e.before, e.after)
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action == "response.status").order_by(AuditEntry.id)
        )
    ]
    assert log[0] == ({"status": "reportable"}, {"status": "spam"})
    assert len(log) == 3
    with pytest.raises(Forbidden):
        moderation.set_response_status(
            session, _scope(session, world, "manager"), response.id, ResponseStatus.SPAM, NOW
        )
    with pytest.raises(InvalidInput):
        moderation.set_response_status(session, par, response.id, ResponseStatus.DELETED, NOW)

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
    Verdict,
)
from surveyapp.services.access import Forbidden, scope_for
from surveyapp.services.collection import moderation
from surveyapp.services.collection.submissions import Rules
from surveyapp.services.errors import Conflict, InvalidInput, NotFound
from surveyapp.services.feedback import cases, triage
from surveyapp.services.periods import parse_period
from tests.conftest import NOW
from tests.factories import build_world, full_answers, make_user, submit_response

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def world(session: Session):
    return build_world(session)


def test_comments_and_low_ratings_open_cases(session: Session, world) -> None:
    counter = world["counters"]["P.D1"]
    low_answers = full_answers(4) | {"S24": 1, "S29": 2}
    fine = submit_response(session, counter, full_answers(4))
    commented = submit_response(session, counter, full_answers(5), comment="Chờ quá lâu")
    low = submit_response(session, counter, low_answers, contact="0912345678")
    anonymous = submit_response(session, counter, low_answers)
    nothing = submit_response(session, counter, low_answers, comment="Không có ý kiến.")
    both = submit_response(session, counter, low_answers, comment="Cán bộ không hướng dẫn")
    praise = submit_response(
        session, counter, full_answers(5), comment="Cán bộ nhiệt tình, cảm ơn!"
    )
    praise_but = submit_response(
        session, counter, full_answers(5), comment="Cán bộ nhiệt tình nhưng phải chờ lâu"
    )
    opened = {c.response_id: c for c in session.scalars(select(Case))}
    assert fine.id not in opened
    assert opened[commented.id].reason == "comment"
    assert opened[both.id].reason == "both"
    assert opened[praise_but.id].reason == "comment"
    # Nothing to act on: an anonymous low rating, "no comment", a plain compliment. They are kept:
    # the low ratings count in the unit's signal, the compliment is shown with the comments.
    assert anonymous.id not in opened
    assert nothing.id not in opened
    assert praise.id not in opened
    assert anonymous.low_rating
    assert nothing.low_rating
    assert not praise.low_rating
    assert praise.comment is not None
    assert praise.comment.kind == "compliment"
    assert nothing.comment is not None
    assert nothing.comment.kind == "empty"
    assert opened[low.id].reason == "low_rating"  # the citizen left a way back
    assert opened[low.id].element_code == "CC"  # the first element answered low
    case = opened[low.id]
    assert case.status is CaseStatus.NEW
    assert case.unit_id == counter.unit_id
    # 10 working days from Monday 15 June 2026 (10:00 local): Monday 29 June, end of day.
    assert case.due_at == datetime(2026, 6, 29, 16, 59, tzinfo=UTC)


def test_the_triage_is_configurable(session: Session, world) -> None:
    counter = world["counters"]["P.D1"]
    rules = Rules(
        timezone=TZ, case_triage=triage.TriageRule(open_compliments=True, open_anonymous_low=True)
    )
    anonymous = submit_response(session, counter, full_answers(4) | {"S24": 1}, rules=rules)
    praise = submit_response(session, counter, full_answers(5), comment="Rất tốt", rules=rules)
    opened = {c.response_id: c.reason for c in session.scalars(select(Case))}
    assert opened == {anonymous.id: "low_rating", praise.id: "comment"}


@pytest.mark.parametrize(
    ("text", "all_top", "kind"),
    [
        ("Cán bộ nhiệt tình, cảm ơn", True, "compliment"),
        ("can bo nhiet tinh cam on", True, "compliment"),
        ("Very friendly staff, thanks", True, "compliment"),
        ("Tốt nhưng phải chờ lâu", True, "feedback"),
        ("Đề nghị bố trí thêm ghế", True, "feedback"),
        ("de nghi them ghe ngoi", True, "feedback"),
        ("Cán bộ nhiệt tình", False, "feedback"),  # praise with a low or middling rating
        ("Phòng chờ rộng", True, "feedback"),  # neither praise nor a request: someone reads it
        ("Không có ý kiến.", True, "empty"),
        ("khong co y kien", False, "empty"),
        ("  ", True, "empty"),
    ],
)
def test_which_comments_are_compliments(text: str, all_top: bool, kind: str) -> None:
    assert triage.comment_kind(text, all_top) == kind


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
    submit_response(
        session,
        counter,
        full_answers(4) | {"S15": 1},
        now=NOW + timedelta(days=40),
        contact="an@example.vn",
    )
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
    by_element = cases.list_cases(session, scope, cases.CaseFilters(element="TC"), NOW, TZ)
    assert len(by_element.cases) == 1
    # The inbox names the element, not its code.
    assert by_element.element_names[by_element.cases[0].id]["vi"].startswith("Tiếp cận")
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


def test_search_ignores_diacritics(session: Session, world) -> None:
    counter = world["counters"]["P.D1"]
    submit_response(session, counter, comment="Thủ tục đất đai quá rườm rà")
    submit_response(session, counter, comment="Thu phí không rõ ràng")
    scope = _scope(session, world, "manager")

    def found(text: str) -> list[str]:
        page = cases.list_cases(session, scope, cases.CaseFilters(text=text), NOW, TZ)
        return sorted(c.response.comment.body for c in page.cases)

    assert found("thu tuc") == ["Thủ tục đất đai quá rườm rà"]
    assert found("DAT DAI") == ["Thủ tục đất đai quá rườm rà"]  # đ is d
    assert found("Thủ Tục") == ["Thủ tục đất đai quá rườm rà"]
    assert found("thu") == ["Thu phí không rõ ràng", "Thủ tục đất đai quá rườm rà"]
    assert found("100%_") == []


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


POLICY = cases.CasePolicy(TZ)


def test_answered_then_resolved_and_the_citizens_verdict(session: Session, world) -> None:
    """Answered is not resolved; "không hài lòng" reopens once with a new due date, a second one
    escalates to the PAR office above; one verdict per reply; "hài lòng" resolves."""
    response = submit_response(session, world["counters"]["P.D1.X"], comment="Chờ 3 giờ")
    case = session.scalars(select(Case)).one()
    manager = _scope(session, world, "manager")
    code = response.receipt_code
    with pytest.raises(Conflict):  # nothing to judge before a reply
        cases.give_verdict(session, code, Verdict.UNSATISFIED, False, NOW, POLICY)
    cases.reply(session, manager, case, "Đã bố trí thêm quầy.", NOW + timedelta(hours=1))
    session.commit()
    assert case.status is CaseStatus.ANSWERED
    assert case.resolved_at is None
    assert case.handled_at == NOW + timedelta(hours=1)
    assert cases.status_for_receipt(session, code).may_judge

    first = NOW + timedelta(days=1)
    cases.give_verdict(session, code, Verdict.UNSATISFIED, True, first, POLICY)
    session.commit()
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.reopen_count == 1
    assert case.verdict_late
    assert case.escalated_to_id is None
    assert case.due_at == cases.add_working_days(first, 10, TZ)
    shown = cases.status_for_receipt(session, code)
    assert shown.verdict is Verdict.UNSATISFIED
    assert not shown.may_judge
    assert shown.reply is None
    with pytest.raises(Conflict):  # the same reply is judged once
        cases.give_verdict(session, code, Verdict.SATISFIED, False, first, POLICY)

    cases.reply(session, manager, case, "Đã bố trí thêm hai quầy.", first + timedelta(hours=1))
    second = first + timedelta(days=1)
    cases.give_verdict(session, code, Verdict.UNSATISFIED, False, second, POLICY)
    session.commit()
    assert case.status is CaseStatus.IN_PROGRESS
    assert case.escalated_to_id == world["units"]["p"].id  # the PAR office sits at P
    escalated = cases.CaseFilters(escalated=True)
    par_inbox = cases.list_cases(session, _scope(session, world, "par"), escalated, NOW, TZ)
    assert [c.id for c in par_inbox.cases] == [case.id]

    cases.reply(
        session, _scope(session, world, "par"), case, "Sở đã kiểm tra.", second + timedelta(hours=1)
    )
    cases.give_verdict(session, code, Verdict.SATISFIED, True, second + timedelta(hours=2), POLICY)
    session.commit()
    assert case.status is CaseStatus.RESOLVED
    assert case.resolved_at is not None
    assert not case.verdict_late  # "late" only counts with "unsatisfied"
    assert case.handled_at == NOW + timedelta(hours=1)  # the first handling is kept
    actions = [
        e.action
        for e in session.scalars(
            select(AuditEntry).where(AuditEntry.entity_type == "case").order_by(AuditEntry.id)
        )
    ]
    assert actions == [
        "case.reply",
        "case.reopen",
        "case.reply",
        "case.escalate",
        "case.reply",
        "case.verdict",
    ]


def test_a_case_is_transferred_to_the_agency_it_is_about(session: Session, world) -> None:
    submit_response(session, world["counters"]["P.D1"], comment="Việc này của huyện D2")
    case = session.scalars(select(Case)).one()
    manager = _scope(session, world, "manager")
    cases.assign(session, manager, case, world["users"]["manager"].id, NOW)
    with pytest.raises(InvalidInput):
        cases.transfer(session, manager, case, "P.D2", "  ", NOW)  # a reason is needed
    with pytest.raises(InvalidInput):
        cases.transfer(session, manager, case, "NOWHERE", "Không thuộc thẩm quyền", NOW)
    with pytest.raises(InvalidInput):
        cases.transfer(session, manager, case, "P.D1", "Không thuộc thẩm quyền", NOW)
    cases.transfer(session, manager, case, "P.D2", "Không thuộc thẩm quyền", NOW)
    session.commit()
    assert case.unit_id == world["units"]["d2"].id
    assert case.transferred_from_id == world["units"]["d1"].id
    assert case.status is CaseStatus.NEW
    assert case.assignee_id is None
    # It left the sender's inbox; the receiving unit's officials see it.
    with pytest.raises(NotFound):
        cases.get_case(session, manager, case.id)
    assert cases.get_case(session, _scope(session, world, "par"), case.id) is case
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "case.transfer")).one()
    assert (entry.before["unit"], entry.after["unit"]) == ("P.D1", "P.D2")
    assert entry.after["reason"] == "Không thuộc thẩm quyền"
    with pytest.raises(Forbidden):
        cases.transfer(session, _scope(session, world, "staff"), case, "P.D1", "x", NOW)


def test_duplicates_are_merged_and_share_the_reply(session: Session, world) -> None:
    first = submit_response(session, world["counters"]["P.D1"], comment="Máy lấy số hỏng")
    second = submit_response(session, world["counters"]["P.D1"], comment="Máy lấy số không chạy")
    one, two = session.scalars(select(Case).order_by(Case.id)).all()
    manager = _scope(session, world, "manager")
    with pytest.raises(InvalidInput):
        cases.merge(session, manager, two, two.id, NOW)
    with pytest.raises(InvalidInput):
        cases.merge(session, manager, two, 999999, NOW)
    cases.merge(session, manager, two, one.id, NOW)
    session.commit()
    assert two.status is CaseStatus.CLOSED
    assert two.merged_into_id == one.id
    with pytest.raises(InvalidInput):
        cases.merge(session, manager, one, two.id, NOW)  # into a case that is itself merged
    with pytest.raises(InvalidInput):
        cases.set_status(session, manager, two, CaseStatus.IN_PROGRESS, NOW)
    cases.reply(session, manager, one, "Đã sửa máy lấy số.", NOW)
    session.commit()
    for response in (first, second):
        shown = cases.status_for_receipt(session, response.receipt_code)
        assert shown.reply == "Đã sửa máy lấy số."
        assert shown.may_judge
    # The duplicate's citizen judges the reply they read: the case it was merged into.
    cases.give_verdict(session, second.receipt_code, Verdict.SATISFIED, False, NOW, POLICY)
    assert one.status is CaseStatus.RESOLVED


def test_overdue_cases_by_unit_worst_first(session: Session, world) -> None:
    for code, n in (("P.D1", 1), ("P.D2", 3), ("P.D1.X", 2)):
        for i in range(n):
            submit_response(session, world["counters"][code], comment=f"{code} {i}")
    fresh = submit_response(
        session, world["counters"]["P.D1"], comment="mới", now=NOW + timedelta(days=30)
    )
    later = NOW + timedelta(days=31)
    rows = cases.overdue_by_unit(session, _scope(session, world, "par"), later)
    assert [(r.unit.code, r.overdue, r.open) for r in rows] == [
        ("P.D2", 3, 3),
        ("P.D1.X", 2, 2),
        ("P.D1", 1, 2),
    ]
    assert fresh.id
    mine = cases.overdue_by_unit(session, _scope(session, world, "manager"), later)
    assert [r.unit.code for r in mine] == ["P.D1.X", "P.D1"]


def test_the_assign_list_puts_the_units_own_officials_first(session: Session, world) -> None:
    own = make_user(session, "xa@x.vn", Role.UNIT_MANAGER, world["units"]["x"])
    make_user(session, "d2@x.vn", Role.UNIT_MANAGER, world["units"]["d2"])
    listed = [u.email for u in cases.assignable_users(session, world["units"]["x"].id)]
    assert listed == [own.email, "manager@x.vn", "par@x.vn", "admin@x.vn"]

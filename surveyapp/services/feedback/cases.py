"""The feedback inbox: cases opened from comments and low ratings, handled by officials."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy import case as case_when
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from surveyapp.models import (
    OPEN_STATUSES,
    REPLIED_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    Comment,
    Dossier,
    Element,
    Response,
    Role,
    Unit,
    User,
    Verdict,
)
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope, transfer_target
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound
from surveyapp.services.periods import Period
from surveyapp.services.validation import folded, parse_id

PHONE_RE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
CITIZEN_ID_RE = re.compile(r"(?<!\d)\d{12}(?!\d)")
MAX_REPLY = 4000
MAX_NOTE = 4000
PAGE_SIZE = 50


def mask_personal_data(text: str) -> str:
    """Hide phone numbers and 12-digit citizen ID numbers, keeping their last three digits."""

    def hide(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return "•" * (len(digits) - 3) + digits[-3:]

    return CITIZEN_ID_RE.sub(hide, PHONE_RE.sub(hide, text))


def add_working_days(
    moment: datetime, days: int, timezone: str, holidays: Iterable[date] = ()
) -> datetime:
    """The end (23:59 local) of the ``days``-th working day (Mon–Fri, not a holiday) after it."""
    zone = ZoneInfo(timezone)
    day = moment.astimezone(zone).date()
    closed = set(holidays)
    left = days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            left -= 1
    return datetime.combine(day, time(23, 59), tzinfo=zone)


@dataclass(frozen=True)
class CasePolicy:
    timezone: str
    due_working_days: int = 10
    low_rating_max: int = 2  # an element item answered at or below this opens a case
    holidays: tuple[date, ...] = ()


def open_case_if_needed(
    session: Session,
    response: Response,
    reason: str | None,
    low_elements: Sequence[str],
    now: datetime,
    policy: CasePolicy,
    new_response: bool = False,
) -> Case | None:
    """Open a case for ``reason`` (services.feedback.triage; None: nothing to handle), unless the
    response already has one.

    ``new_response``: created in this transaction, so it has none (no lookup needed).
    """
    if reason is None:
        return None
    if not new_response and session.scalar(select(Case.id).where(Case.response_id == response.id)):
        return None
    case = Case(
        response_id=response.id,
        unit_id=response.unit_id,
        status=CaseStatus.NEW,
        reason=reason,
        element_code=low_elements[0] if low_elements else None,
        due_at=add_working_days(now, policy.due_working_days, policy.timezone, policy.holidays),
        created_at=now,
    )
    session.add(case)
    return case


@dataclass(frozen=True)
class CaseFilters:
    unit_ids: Sequence[int] | None = None  # a unit and its subtree, resolved by the view
    status: CaseStatus | None = None
    overdue: bool = False
    assignee: int | str | None = None  # a user id, "me" or "none"
    period: Period | None = None
    element: str | None = None
    text: str | None = None
    flagged: bool = False  # only cases of responses flagged for review
    escalated: bool = False  # only cases the citizen's second "unsatisfied" escalated
    open_only: bool = False  # new, assigned or in progress
    sort: str = "newest"  # newest | oldest | due


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    next_cursor: str | None
    total: int = 0  # the cases the filters match, on every page
    element_names: dict[int, dict[str, str]] = field(default_factory=dict)  # by case id
    dossier_codes: dict[int, str] = field(default_factory=dict)  # by case id


def _page_labels(
    session: Session, rows: Sequence[Case]
) -> tuple[dict[int, dict[str, str]], dict[int, str]]:
    """The names of the cases' low elements and the codes of their dossiers, in two queries."""
    keys = {(c.response.instrument_id, c.element_code) for c in rows if c.element_code}
    names: dict[tuple[int, str], dict[str, str]] = {}
    if keys:
        found = session.execute(
            select(Element.instrument_id, Element.code, Element.name).where(
                Element.instrument_id.in_({k[0] for k in keys}),
                Element.code.in_({k[1] for k in keys}),
            )
        )
        names = {(i, code): dict(name) for i, code, name in found}
    dossier_ids = {c.response.dossier_id for c in rows if c.response.dossier_id}
    codes: dict[int, str] = {}
    if dossier_ids:
        codes = dict(
            session.execute(select(Dossier.id, Dossier.code).where(Dossier.id.in_(dossier_ids)))
            .tuples()
            .all()
        )
    return (
        {
            c.id: names[(c.response.instrument_id, c.element_code)]
            for c in rows
            if c.element_code and (c.response.instrument_id, c.element_code) in names
        },
        {c.id: codes[c.response.dossier_id] for c in rows if c.response.dossier_id in codes},
    )


SORTS = ("newest", "oldest", "due")


def count_cases(
    session: Session, scope: Scope, filters: CaseFilters, now: datetime, timezone: str
) -> int:
    """How many of the scope's cases the filters match (the inbox's count, without its page)."""
    return _count(session, _matching(scope, filters, now, timezone))


def _count(session: Session, query: Select[Any]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _matching(scope: Scope, filters: CaseFilters, now: datetime, timezone: str) -> Select[Any]:
    """The scope's cases that the filters match, unordered."""
    scope.require(Permission.VIEW_FEEDBACK)
    query = (
        select(Case)
        .join(Response, Case.response_id == Response.id)
        .outerjoin(Comment, Comment.response_id == Response.id)
        .where(scope.where(Case.unit_id))
    )
    if filters.unit_ids is not None:
        query = query.where(Case.unit_id.in_(filters.unit_ids))
    if filters.status is not None:
        query = query.where(Case.status == filters.status)
    if filters.overdue:
        query = query.where(Case.status.in_(OPEN_STATUSES), Case.due_at < now)
    if filters.open_only:
        query = query.where(Case.status.in_(OPEN_STATUSES))
    if filters.assignee == "me":
        query = query.where(Case.assignee_id == scope.user_id)
    elif filters.assignee == "none":
        query = query.where(Case.assignee_id.is_(None))
    elif isinstance(filters.assignee, int):
        query = query.where(Case.assignee_id == filters.assignee)
    if filters.period is not None:
        start, end = filters.period.bounds(timezone)
        query = query.where(Case.created_at >= start, Case.created_at < end)
    if filters.element:
        query = query.where(Case.element_code == filters.element)
    if filters.flagged:
        query = query.where(Response.is_flagged.is_(True))
    if filters.text:
        # "thu tuc" finds "thủ tục": both sides without diacritics (unaccent on PostgreSQL, the
        # same function registered on SQLite; see surveyapp.db).
        text = folded(filters.text)
        pattern = "%" + text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        query = query.where(
            or_(
                func.lower(func.unaccent(Comment.body)).like(pattern, escape="\\"),
                func.lower(func.unaccent(Case.reply)).like(pattern, escape="\\"),
            )
        )
    if filters.escalated:
        query = query.where(Case.escalated_to_id.is_not(None))
    return query


def list_cases(
    session: Session,
    scope: Scope,
    filters: CaseFilters,
    now: datetime,
    timezone: str,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> CasePage:
    """One page of the scope's cases, and how many match; keyset pagination stays fast however
    many there are."""
    query = _matching(scope, filters, now, timezone)
    total = _count(session, query)
    query = query.options(
        selectinload(Case.unit),
        selectinload(Case.assignee),
        selectinload(Case.response).selectinload(Response.comment),
        selectinload(Case.response).selectinload(Response.counter),
    )
    key, descending = _sort_key(filters.sort)
    if cursor:
        value, case_id = _decode_cursor(cursor, filters.sort)
        if descending:
            query = query.where(or_(key < value, and_(key == value, Case.id < case_id)))
        else:
            query = query.where(or_(key > value, and_(key == value, Case.id > case_id)))
    order = (key.desc(), Case.id.desc()) if descending else (key.asc(), Case.id.asc())
    rows = list(session.scalars(query.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        stamp = last.due_at if filters.sort == "due" else last.created_at
        next_cursor = f"{stamp.timestamp():.6f}_{last.id}"
    return CasePage(rows, next_cursor, total, *_page_labels(session, rows))


def _sort_key(sort: str) -> tuple[InstrumentedAttribute[datetime], bool]:
    if sort == "due":
        return Case.due_at, False
    if sort == "oldest":
        return Case.created_at, False
    return Case.created_at, True


def _decode_cursor(cursor: str, sort: str) -> tuple[datetime, int]:
    try:
        stamp, raw_id = cursor.split("_", 1)
        case_id = parse_id(raw_id)
        if case_id is None or len(stamp) > 30:
            raise ValueError(cursor)
        return datetime.fromtimestamp(float(stamp), tz=UTC), case_id
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidInput(N_("Trang không hợp lệ."), field="after") from exc


def get_case(session: Session, scope: Scope, case_id: int) -> Case:
    scope.require(Permission.VIEW_FEEDBACK)
    case = session.scalar(
        select(Case)
        .where(Case.id == case_id)
        .options(
            selectinload(Case.notes).selectinload(CaseNote.author),
            selectinload(Case.response).selectinload(Response.comment),
            selectinload(Case.response).selectinload(Response.answers),
            selectinload(Case.unit),
            selectinload(Case.assignee),
        )
    )
    if case is None or not scope.covers(case.unit_id):
        raise NotFound(N_("Không tìm thấy."))
    return case


def dossier_code(session: Session, case: Case) -> str | None:
    """The code of the dossier the case's rating was given for, if any."""
    if case.response.dossier_id is None:
        return None
    return session.scalar(select(Dossier.code).where(Dossier.id == case.response.dossier_id))


def is_visible(session: Session, scope: Scope, case_id: int) -> bool:
    unit_id = session.scalar(select(Case.unit_id).where(Case.id == case_id))
    return unit_id is not None and scope.covers(unit_id) and scope.can(Permission.VIEW_FEEDBACK)


def assignable_users(session: Session, unit_id: int) -> list[User]:
    """Officials who can handle a unit's cases (those whose scope covers it and who may handle
    cases): the unit's own first, then those above it, nearest first; admins last."""
    unit = session.get_one(Unit, unit_id)
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    depth = {unit_id: i for i, unit_id in enumerate(ancestors)}
    users = list(
        session.scalars(
            select(User)
            .where(
                User.is_active.is_(True),
                or_(
                    User.role == Role.ADMIN,
                    and_(
                        User.role.in_([Role.PAR_OFFICE, Role.UNIT_MANAGER]),
                        User.unit_id.in_(ancestors),
                    ),
                ),
            )
            .order_by(User.email)
        )
    )
    return sorted(
        users,
        key=lambda u: -depth[u.unit_id] if u.role != Role.ADMIN and u.unit_id in depth else 1,
    )


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a case's audit trail, with the people it names resolved to their names."""

    at: datetime
    actor: str | None  # the official's name (or e-mail); None: the system
    action: str  # case.assign, case.status, case.reply, case.note, …
    before: dict[str, Any]
    after: dict[str, Any]
    assignee: str | None  # case.assign: the name of the official given the case


def case_history(session: Session, scope: Scope, case: Case) -> list[HistoryEntry]:
    """The case's audit trail, oldest first, naming the officials who acted or were assigned
    (whatever their unit: they acted on a case the reader may see)."""
    scope.require_unit(case.unit_id)
    entries = audit.history(session, "case", case.id)
    ids = {e.user_id for e in entries if e.user_id is not None}
    ids |= {int((e.after or {}).get("assignee_id") or 0) for e in entries} - {0}
    names = {
        u.id: u.full_name or u.email for u in session.scalars(select(User).where(User.id.in_(ids)))
    }
    return [
        HistoryEntry(
            at=e.at,
            actor=names.get(e.user_id) if e.user_id is not None else None,
            action=e.action,
            before=dict(e.before or {}),
            after=dict(e.after or {}),
            assignee=names.get(int((e.after or {}).get("assignee_id") or 0)),
        )
        for e in entries
    ]


def _snapshot(case: Case) -> dict[str, object]:
    return {
        "status": case.status.value,
        "assignee_id": case.assignee_id,
        "reply": case.reply,
    }


def _handled(case: Case, now: datetime) -> None:
    """Note the first handling of the case, and whether it was by its due date."""
    if case.handled_at is None:
        case.handled_at, case.handled_on_time = now, now <= case.due_at


def _settle(case: Case, status: CaseStatus, now: datetime) -> None:
    """Set the status and the moments it marks: first handled, resolved, closed."""
    case.status = status
    if status in REPLIED_STATUSES and status is not CaseStatus.CLOSED:
        _handled(case, now)
    case.resolved_at = now if status is CaseStatus.RESOLVED else case.resolved_at
    if status in OPEN_STATUSES:
        case.resolved_at = None
    case.closed_at = now if status is CaseStatus.CLOSED else None


def _change(
    session: Session,
    user_id: int | None,
    case: Case,
    action: str,
    now: datetime,
    before: dict[str, object],
    **after: object,
) -> None:
    """Audit a change of ``case`` by ``user_id`` (None: the citizen or the system): its status,
    assignee and reply before and after, and what else ``after`` names."""
    case.updated_at = now
    audit.record(
        session,
        user_id=user_id,
        action=action,
        entity=("case", case.id),
        before=before,
        after={**_snapshot(case), **after},
        now=now,
    )


def assign(
    session: Session, scope: Scope, case: Case, assignee_id: int | None, now: datetime
) -> None:
    scope.require(Permission.HANDLE_CASES)
    before = _snapshot(case)
    if assignee_id is not None:
        allowed = {u.id for u in assignable_users(session, case.unit_id)}
        if assignee_id not in allowed:
            raise InvalidInput(N_("Người được giao không phụ trách đơn vị này."), field="assignee")
    case.assignee_id = assignee_id
    if assignee_id is not None and case.status is CaseStatus.NEW:
        case.status = CaseStatus.ASSIGNED
    _change(session, scope.user_id, case, "case.assign", now, before)


def set_status(
    session: Session, scope: Scope, case: Case, status: CaseStatus, now: datetime
) -> None:
    scope.require(Permission.HANDLE_CASES)
    before = _snapshot(case)
    if status is CaseStatus.ANSWERED and not case.reply:
        raise InvalidInput(N_("Hãy nhập nội dung trả lời trước."), field="reply")
    if case.merged_into_id is not None and status is not CaseStatus.CLOSED:
        raise InvalidInput(
            N_("Phản ánh này đã được gộp vào phản ánh #%(n)s."),
            field="status",
            n=case.merged_into_id,
        )
    _settle(case, status, now)
    _change(session, scope.user_id, case, "case.status", now, before)


def add_note(session: Session, scope: Scope, case: Case, body: str, now: datetime) -> CaseNote:
    scope.require(Permission.HANDLE_CASES)
    body = body.strip()
    if not body or len(body) > MAX_NOTE:
        raise InvalidInput(
            N_("Ghi chú không được để trống và dài tối đa %(n)s ký tự."), field="note", n=MAX_NOTE
        )
    note = CaseNote(case=case, author_id=scope.user_id, body=body, created_at=now)
    session.add(note)
    audit.record(
        session,
        user_id=scope.user_id,
        action="case.note",
        entity=("case", case.id),
        before=None,
        after={"note": body},
        now=now,
    )
    return note


def reply(session: Session, scope: Scope, case: Case, text: str, now: datetime) -> None:
    """Record the reply the citizen sees with their receipt code; the case becomes answered."""
    scope.require(Permission.HANDLE_CASES)
    text = text.strip()
    if not text or len(text) > MAX_REPLY:
        raise InvalidInput(
            N_("Nội dung trả lời không được để trống và dài tối đa %(n)s ký tự."),
            field="reply",
            n=MAX_REPLY,
        )
    before = _snapshot(case)
    case.reply, case.replied_at = text, now
    _handled(case, now)
    if case.status in OPEN_STATUSES:
        _settle(case, CaseStatus.ANSWERED, now)
    _change(session, scope.user_id, case, "case.reply", now, before)


def transfer(
    session: Session, scope: Scope, case: Case, unit_code: str, reason: str, now: datetime
) -> Unit:
    """Pass an open case to the unit the citizen's matter belongs to (another agency of the
    province); it leaves the sender's inbox, keeps its due date and is audited."""
    scope.require(Permission.HANDLE_CASES)
    reason = reason.strip()
    if not reason or len(reason) > MAX_NOTE:
        raise InvalidInput(
            N_("Hãy ghi lý do chuyển (tối đa %(n)s ký tự)."), field="reason", n=MAX_NOTE
        )
    if case.status not in OPEN_STATUSES:
        raise InvalidInput(N_("Chỉ chuyển được phản ánh đang mở."), field="unit")
    target = transfer_target(session, scope, case.unit_id, unit_code.strip()[:40])
    before = {**_snapshot(case), "unit": case.unit.code, "unit_name": case.unit.name}
    case.transferred_from_id = case.unit_id
    case.unit_id, case.unit = target.id, target
    case.assignee_id = None
    case.status = CaseStatus.NEW
    _change(
        session,
        scope.user_id,
        case,
        "case.transfer",
        now,
        before,
        unit=target.code,
        unit_name=target.name,
        reason=reason,
    )
    return target


def merge(session: Session, scope: Scope, case: Case, into_id: int | None, now: datetime) -> Case:
    """Close ``case`` as a duplicate of case ``into_id`` (same unit tree, in scope); its citizen
    then reads the other case's reply with their own receipt code."""
    scope.require(Permission.HANDLE_CASES)
    if into_id is None or into_id == case.id:
        raise InvalidInput(N_("Hãy nhập số của một phản ánh khác."), field="into")
    target = session.get(Case, into_id)
    if target is None or not scope.covers(target.unit_id):
        raise InvalidInput(N_("Không tìm thấy phản ánh #%(n)s."), field="into", n=into_id)
    if target.merged_into_id is not None or case.merged_into_id is not None:
        raise InvalidInput(
            N_("Phản ánh #%(n)s đã được gộp vào phản ánh khác."),
            field="into",
            n=into_id if target.merged_into_id is not None else case.id,
        )
    if session.scalar(select(Case.id).where(Case.merged_into_id == case.id).limit(1)):
        raise InvalidInput(
            N_("Phản ánh này có phản ánh trùng gộp vào; hãy gộp phản ánh kia vào nó."), field="into"
        )
    before = _snapshot(case)
    case.merged_into_id = target.id
    _settle(case, CaseStatus.CLOSED, now)
    _change(session, scope.user_id, case, "case.merge", now, before, merged_into=target.id)
    audit.record(
        session,
        user_id=scope.user_id,
        action="case.merged",
        entity=("case", target.id),
        before=None,
        after={"duplicate": case.id},
        now=now,
    )
    return target


def bulk(
    session: Session,
    scope: Scope,
    case_ids: Sequence[int],
    action: str,
    assignee_id: int | None,
    now: datetime,
) -> int:
    """Assign or close many cases at once; every one must be in scope."""
    scope.require(Permission.HANDLE_CASES)
    if not case_ids:
        raise InvalidInput(N_("Hãy chọn ít nhất một phản ánh."), field="ids")
    cases = list(session.scalars(select(Case).where(Case.id.in_(case_ids))))
    if len(cases) != len(set(case_ids)) or not all(scope.covers(c.unit_id) for c in cases):
        raise NotFound(N_("Không tìm thấy."))
    for case in cases:
        if action == "assign":
            assign(session, scope, case, assignee_id, now)
        elif action == "close":
            set_status(session, scope, case, CaseStatus.CLOSED, now)
        else:
            raise InvalidInput(N_("Thao tác không hợp lệ."), field="action")
    return len(cases)


@dataclass(frozen=True)
class PublicStatus:
    status: CaseStatus | None  # None: feedback received, no case (nothing to handle)
    reply: str | None
    replied_at: datetime | None
    unit_name: str
    verdict: Verdict | None = None  # the citizen's verdict on this reply, once given
    may_judge: bool = False  # a published reply without a verdict yet
    escalated: bool = False


def _receipt_case(session: Session, receipt_code: str) -> tuple[Response, Case | None]:
    """The response of a receipt code and its case, the one it was merged into if a duplicate."""
    code = receipt_code.strip().upper().replace("-", "").replace(" ", "")
    if not (8 <= len(code) <= 16) or not code.isalnum():
        raise NotFound(N_("Không tìm thấy mã tiếp nhận này."))
    found = session.execute(
        select(Response, Case)
        .outerjoin(Case, Case.response_id == Response.id)
        .where(Response.receipt_code == code)
        .options(selectinload(Response.unit))
    ).first()
    if found is None:
        raise NotFound(N_("Không tìm thấy mã tiếp nhận này."))
    response, case = found
    for _ in range(5):  # a duplicate's citizen follows the case it was merged into
        if case is None or case.merged_into_id is None:
            break
        case = session.get_one(Case, case.merged_into_id)
    return response, case


def _judged(case: Case) -> bool:
    return (
        case.verdict_at is not None
        and case.replied_at is not None
        and case.verdict_at >= case.replied_at
    )


def status_for_receipt(session: Session, receipt_code: str) -> PublicStatus:
    """What the citizen may see with their receipt code: status and reply, no internal notes."""
    response, case = _receipt_case(session, receipt_code)
    if case is None:
        return PublicStatus(None, None, None, response.unit.name)
    shown = case.status in REPLIED_STATUSES and case.reply is not None
    judged = _judged(case)
    return PublicStatus(
        case.status,
        case.reply if shown else None,
        case.replied_at if shown else None,
        response.unit.name,
        verdict=case.verdict if judged else None,
        may_judge=shown and not judged and case.merged_into_id is None,
        escalated=case.escalated_to_id is not None,
    )


def give_verdict(
    session: Session,
    receipt_code: str,
    verdict: Verdict,
    late: bool,
    now: datetime,
    policy: CasePolicy,
) -> Case:
    """The citizen's verdict on a published reply. Unsatisfied reopens the case once (with a new
    due date); a second time it is escalated to the PAR office above the unit. Satisfied
    resolves an answered case. One verdict per reply."""
    _response, case = _receipt_case(session, receipt_code)
    if case is None or case.status not in REPLIED_STATUSES or not case.reply:
        raise Conflict(N_("Chưa có trả lời để đánh giá."), field="verdict")
    if _judged(case):
        raise Conflict(N_("Bạn đã gửi ý kiến về trả lời này. Cảm ơn bạn."), field="verdict")
    before = {**_snapshot(case), "verdict": case.verdict.value if case.verdict else None}
    case.verdict, case.verdict_at = verdict, now
    case.verdict_late = late and verdict is Verdict.UNSATISFIED
    action = "case.verdict"
    if verdict is Verdict.SATISFIED:
        if case.status is CaseStatus.ANSWERED:
            _settle(case, CaseStatus.RESOLVED, now)
    elif case.reopen_count == 0:
        case.reopen_count = 1
        _settle(case, CaseStatus.IN_PROGRESS, now)
        case.due_at = add_working_days(
            now, policy.due_working_days, policy.timezone, policy.holidays
        )
        action = "case.reopen"
    elif case.escalated_to_id is None:
        office = par_office_above(session, case.unit_id)
        case.escalated_to_id, case.escalated_at = office.id, now
        _settle(case, CaseStatus.IN_PROGRESS, now)
        case.due_at = add_working_days(
            now, policy.due_working_days, policy.timezone, policy.holidays
        )
        action = "case.escalate"
    _change(
        session,
        None,
        case,
        action,
        now,
        before,
        verdict=verdict.value,
        late=case.verdict_late,
        escalated_to=case.escalated_to.name if case.escalated_to else None,
    )
    return case


def par_office_above(session: Session, unit_id: int) -> Unit:
    """The nearest unit above (or at) ``unit_id`` with an active PAR office official; the top
    of its tree (the province) when none has one."""
    unit = session.get_one(Unit, unit_id)
    chain = [int(p) for p in unit.path.strip("/").split("/") if p]
    offices = set(
        session.scalars(
            select(User.unit_id).where(
                User.role == Role.PAR_OFFICE, User.is_active.is_(True), User.unit_id.in_(chain)
            )
        )
    )
    above = [i for i in chain[:-1] if i in offices] or ([unit.id] if unit.id in offices else [])
    return session.get_one(Unit, above[-1] if above else chain[0])


def count_open(session: Session, scope: Scope, now: datetime) -> tuple[int, int]:
    """(open cases, overdue cases) in scope."""
    open_count = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(scope.where(Case.unit_id), Case.status.in_(OPEN_STATUSES))
    )
    overdue = session.scalar(
        select(func.count())
        .select_from(Case)
        .where(scope.where(Case.unit_id), Case.status.in_(OPEN_STATUSES), Case.due_at < now)
    )
    return int(open_count or 0), int(overdue or 0)


@dataclass(frozen=True)
class OverdueRow:
    unit: Unit
    overdue: int
    open: int


def overdue_by_unit(
    session: Session, scope: Scope, now: datetime, limit: int = 20
) -> list[OverdueRow]:
    """Units of the scope with overdue cases, the most overdue first (then by open cases)."""
    scope.require(Permission.VIEW_FEEDBACK)
    overdue = func.sum(case_when((Case.due_at < now, 1), else_=0))
    rows = session.execute(
        select(Case.unit_id, overdue.label("overdue"), func.count().label("open"))
        .where(scope.where(Case.unit_id), Case.status.in_(OPEN_STATUSES))
        .group_by(Case.unit_id)
        .having(overdue > 0)
        .order_by(overdue.desc(), func.count().desc(), Case.unit_id)
        .limit(limit)
    ).all()
    units = {
        u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_([r[0] for r in rows])))
    }
    return [OverdueRow(units[r[0]], int(r[1]), int(r[2])) for r in rows]

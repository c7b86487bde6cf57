"""The feedback inbox: cases opened from comments and low ratings, handled by officials."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload

from surveyapp.models import (
    OPEN_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    Comment,
    Response,
    Role,
    Unit,
    User,
)
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.periods import Period
from surveyapp.services.validation import parse_id

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
    low_elements: Sequence[str],
    has_comment: bool,
    now: datetime,
    policy: CasePolicy,
    new_response: bool = False,
) -> Case | None:
    """Open a case for a comment or a low rating (unless the response already has one).

    ``new_response``: created in this transaction, so it has none (no lookup needed).
    """
    if not low_elements and not has_comment:
        return None
    if not new_response and session.scalar(select(Case.id).where(Case.response_id == response.id)):
        return None
    reason = (
        "both" if low_elements and has_comment else ("comment" if has_comment else "low_rating")
    )
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
    sort: str = "newest"  # newest | oldest | due


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    next_cursor: str | None
    total: int = 0  # the cases the filters match, on every page


SORTS = ("newest", "oldest", "due")


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
        pattern = (
            "%" + filters.text.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
        )
        query = query.where(
            or_(Comment.body.ilike(pattern, escape="\\"), Case.reply.ilike(pattern, escape="\\"))
        )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.options(
        selectinload(Case.unit),
        selectinload(Case.assignee),
        selectinload(Case.response).selectinload(Response.comment),
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
    return CasePage(rows, next_cursor, total)


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


def assignable_users(session: Session, case_or_unit_id: int) -> list[User]:
    """Officials who can handle a unit's cases: those whose scope covers it."""
    unit = session.get_one(Unit, case_or_unit_id)
    ancestors = [int(p) for p in unit.path.strip("/").split("/") if p]
    return list(
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


def _change(
    session: Session,
    scope: Scope,
    case: Case,
    action: str,
    now: datetime,
    before: dict[str, object],
) -> None:
    case.updated_at = now
    audit.record(
        session,
        user_id=scope.user_id,
        action=action,
        entity=("case", case.id),
        before=before,
        after=_snapshot(case),
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
    _change(session, scope, case, "case.assign", now, before)


def set_status(
    session: Session, scope: Scope, case: Case, status: CaseStatus, now: datetime
) -> None:
    scope.require(Permission.HANDLE_CASES)
    before = _snapshot(case)
    if status is CaseStatus.ANSWERED and not case.reply:
        raise InvalidInput(N_("Hãy nhập nội dung trả lời trước."), field="reply")
    case.status = status
    case.closed_at = now if status is CaseStatus.CLOSED else None
    _change(session, scope, case, "case.status", now, before)


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
    if case.status is not CaseStatus.CLOSED:
        case.status = CaseStatus.ANSWERED
    _change(session, scope, case, "case.reply", now, before)


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


def status_for_receipt(session: Session, receipt_code: str) -> PublicStatus:
    """What the citizen may see with their receipt code: status and reply, no internal notes."""
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
    if case is None:
        return PublicStatus(None, None, None, response.unit.name)
    shown = case.status in (CaseStatus.ANSWERED, CaseStatus.CLOSED)
    return PublicStatus(
        case.status,
        case.reply if shown else None,
        case.replied_at if shown else None,
        response.unit.name,
    )


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

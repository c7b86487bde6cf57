"""Units, counters and their public tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session, contains_eager, selectinload

from surveyapp.models import Counter, CounterToken, Unit, UnitLevel
from surveyapp.services.access import OUTSIDE, Scope, require_unit_placement
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.validation import check_code, check_text

TOKEN_BYTES = 12  # 16 url-safe characters: short enough for a QR code, unguessable


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


PATH_MAX = 400  # the column's length: about 50 levels of ids, far deeper than any real tree


def save_unit(
    session: Session,
    scope: Scope,
    code: str,
    name: str,
    level: UnitLevel,
    parent: Unit | None = None,
    name_en: str | None = None,
) -> Unit:
    """Create the unit ``code`` or update it in place; keeps the materialised paths right.

    The scope must cover the unit and its new parent (only an admin adds a top unit). Moving a
    unit moves its whole subtree; a unit cannot move below itself.
    """
    code = check_code(code)
    name = check_text(name, "name", 200)
    name_en = check_text(name_en or "", "name_en", 200) or None
    if not name:
        raise InvalidInput(N_("Tên đơn vị không được để trống."), field="name")
    unit = session.scalar(select(Unit).where(Unit.code == code))
    require_unit_placement(scope, code, unit, parent)
    old_path = unit.path if unit is not None else ""
    if parent is not None and old_path and parent.path.startswith(old_path):
        raise InvalidInput(
            N_("Không thể đặt đơn vị %(code)s dưới chính nó hoặc đơn vị cấp dưới của nó."),
            field="parent",
            code=code,
        )
    deepest = 0
    if old_path:
        deepest = int(
            session.scalar(
                select(func.max(func.length(Unit.path))).where(Unit.path.startswith(old_path))
            )
            or 0
        ) - len(old_path)
    # The new path is the parent's plus this unit's id (at most 19 digits) and a slash.
    if len(parent.path if parent else "/") + 20 + deepest > PATH_MAX:
        raise InvalidInput(
            N_("Cây đơn vị quá sâu: không thể đặt %(code)s ở vị trí này."),
            field="parent",
            code=code,
        )
    if unit is None:
        unit = Unit(code=code, name=name, level=level, path="")
        session.add(unit)
    unit.name, unit.level, unit.name_en, unit.parent = name, level, name_en, parent
    session.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    if old_path and old_path != unit.path:
        session.execute(
            update(Unit)
            .where(Unit.path.startswith(old_path), Unit.id != unit.id)
            .values(path=unit.path + func.substr(Unit.path, len(old_path) + 1))
            .execution_options(synchronize_session=False)
        )
        session.expire_all()
    return unit


def subtree_ids(session: Session, unit: Unit) -> list[int]:
    """Ids of ``unit`` and every unit below it."""
    return list(session.scalars(select(Unit.id).where(Unit.path.startswith(unit.path))))


def ancestor_ids(unit: Unit) -> list[int]:
    """Ids from the root down to ``unit`` itself, read off the path."""
    return [int(part) for part in unit.path.strip("/").split("/") if part]


def root_of(unit: Unit) -> Unit:
    """The top of the unit's tree: its province."""
    while unit.parent is not None:
        unit = unit.parent
    return unit


def get_unit(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(N_("Không tìm thấy đơn vị %(code)s."), code=code)
    return unit


def save_counter(
    session: Session, scope: Scope, unit: Unit, code: str, name: str, now: datetime
) -> Counter:
    """Create the counter ``code`` (with a fresh token) or update its unit and name; both the
    counter's unit and the new one must be in the scope."""
    code = check_code(code)
    name = check_text(name, "name", 200)
    if not name:
        raise InvalidInput(N_("Tên quầy không được để trống."), field="name")
    counter = session.scalar(select(Counter).where(Counter.code == code))
    if not scope.covers(unit.id):
        raise InvalidInput(OUTSIDE, field="unit", code=unit.code)
    if counter is not None and not scope.covers(counter.unit_id):
        raise InvalidInput(
            N_("Quầy %(code)s không thuộc phạm vi của bạn."), field="code", code=code
        )
    if counter is None:
        counter = Counter(code=code, name=name, unit=unit)
        session.add(counter)
        counter.tokens.append(CounterToken(token=new_token(), created_at=now))
    counter.unit, counter.name = unit, name
    session.flush()
    return counter


def list_counters(session: Session, include_retired: bool = False) -> list[Counter]:
    query = select(Counter).options(selectinload(Counter.unit), selectinload(Counter.tokens))
    if not include_retired:
        query = query.where(Counter.is_active.is_(True))
    return list(session.scalars(query.order_by(Counter.code)))


def find_counter(session: Session, code: str) -> Counter | None:
    return session.scalar(select(Counter).where(Counter.code == code))


_COUNTER_BY_TOKEN = (
    select(CounterToken, Counter)
    .join(Counter, CounterToken.counter_id == Counter.id)
    .join(Counter.unit)
    .options(contains_eager(Counter.unit))
    .where(CounterToken.token == bindparam("token"))
)


def resolve_counter_token(session: Session, token: str) -> Counter:
    """The active counter behind a public token; NotFound (with its own message) if retired."""
    found = session.execute(_COUNTER_BY_TOKEN, {"token": token}).first()
    if found is None:
        raise NotFound(N_("Mã QR này không tồn tại. Vui lòng quét lại mã tại quầy."))
    counter_token, counter = found
    if counter_token.retired_at is not None or not counter.is_active:
        raise NotFound(N_("Mã QR này đã ngừng sử dụng. Vui lòng quét mã mới đang dán tại quầy."))
    return counter


def survey_url(base_url: str, token: str, kiosk: bool = False) -> str:
    return f"{base_url}/{'k' if kiosk else 's'}/{token}"


def status_url(base_url: str) -> str:
    """Where a citizen reads the reply to their comment with the receipt code."""
    return f"{base_url}/tra-cuu"


def rotate_token(session: Session, counter: Counter, now: datetime) -> CounterToken:
    """Retire the counter's current token and issue a new one (print a new poster)."""
    for token in counter.tokens:
        if token.retired_at is None:
            token.retired_at = now
    fresh = CounterToken(token=new_token(), created_at=now)
    counter.tokens.append(fresh)
    session.flush()
    return fresh


def retire_counter(session: Session, counter: Counter, now: datetime) -> None:
    """Stop a counter: its QR code shows a friendly "no longer in use" page."""
    counter.is_active = False
    for token in counter.tokens:
        if token.retired_at is None:
            token.retired_at = now
    session.flush()


def get_counter(session: Session, code: str) -> Counter:
    counter = session.scalar(
        select(Counter).where(Counter.code == code).options(selectinload(Counter.tokens))
    )
    if counter is None:
        raise NotFound(N_("Không tìm thấy quầy %(code)s."), code=code)
    return counter

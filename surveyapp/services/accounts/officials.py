"""Officials' accounts: creation, sign-in with lockout, password changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from surveyapp.models import LoginFailure, Role, Unit, User
from surveyapp.services import audit
from surveyapp.services.access import ASSIGNABLE_ROLES, Scope
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 10
# Argon2id with the library's recommended parameters (memory-hard).
_HASHER = PasswordHasher()
# Checked against when the email is unknown, so a wrong email takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = 5
    lockout: timedelta = timedelta(minutes=15)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            N_("Mật khẩu phải có ít nhất %(n)s ký tự."), field="password", n=MIN_PASSWORD
        )
    if len(password) > 200:
        raise InvalidInput(N_("Mật khẩu quá dài."), field="password")


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not EMAIL_RE.match(email) or len(email) > 254:
        raise InvalidInput(N_("Địa chỉ email không hợp lệ."), field="email")
    return email


def create_user(
    session: Session,
    *,
    email: str,
    password: str,
    role: Role,
    unit_code: str,
    full_name: str = "",
    now: datetime,
    by: Scope | None = None,
) -> User:
    """Create an official. ``by`` (the creating official) may only give roles up to its own and
    units in its scope; None is the command line."""
    email = normalize_email(email)
    check_new_password(password)
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or (by is not None and not by.covers(unit.id)):
        raise InvalidInput(N_("Không có đơn vị %(code)s."), field="unit", code=unit_code)
    if by is not None and role not in ASSIGNABLE_ROLES[by.role]:
        raise InvalidInput(N_("Bạn không thể cấp vai trò này."), field="role")
    if session.scalar(select(User.id).where(func.lower(User.email) == email)):
        raise Conflict(N_("Email này đã có tài khoản."), field="email")
    user = User(
        email=email,
        full_name=full_name.strip()[:200],
        password_hash=hash_password(password),
        role=role,
        unit_id=unit.id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        user_id=by.user_id if by else None,
        action="user.create",
        entity=("user", user.id),
        before=None,
        after={"email": email, "role": role.value, "unit": unit.code},
        now=now,
    )
    return user


class LoginFailed(InvalidInput):
    status_code = 401


SIGN_IN_REFUSED = N_(
    "Email hoặc mật khẩu không đúng. Sau %(n)s lần sai liên tiếp, việc đăng nhập từ thiết bị này "
    "được tạm dừng %(m)s phút."
)
KEEP_FAILURES = timedelta(days=1)  # a client's failures older than this are forgotten


def authenticate(
    session: Session,
    email: str,
    password: str,
    now: datetime,
    policy: LoginPolicy,
    client: str,
) -> User:
    """The user, or LoginFailed with one message, after one password check, whatever the cause:
    unknown e-mail, inactive account, wrong password, or a lock (no account enumeration, by
    text or by time).

    ``client`` is a keyed hash of the address the attempt comes from. Failures count per
    account and client: after ``policy.max_failures`` that client waits ``policy.lockout`` for
    that account, while the official signs in from anywhere else.
    """
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    matches = check_password(user.password_hash if user else _DUMMY_HASH, password)
    refused = LoginFailed(
        SIGN_IN_REFUSED, n=policy.max_failures, m=int(policy.lockout.total_seconds() // 60)
    )
    if user is None:
        raise refused
    record = session.get(LoginFailure, (user.id, client))
    locked = record is not None and record.locked_until is not None and record.locked_until > now
    if locked:
        raise refused
    if not matches or not user.is_active:
        if record is None:
            record = LoginFailure(user_id=user.id, client=client, failures=0)
            session.add(record)
        record.failures, record.locked_until, record.updated_at = record.failures + 1, None, now
        if record.failures >= policy.max_failures:
            record.failures, record.locked_until = 0, now + policy.lockout
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.user_id == user.id,
                LoginFailure.client != client,
                LoginFailure.updated_at < now - KEEP_FAILURES,
            )
        )
        raise refused
    if record is not None:
        session.delete(record)
    user.last_login_at = now
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def sign_out(session: Session, user: User) -> None:
    """End every session of the official (the cookie of this one, and any copy of it)."""
    user.end_sessions()


def change_password(session: Session, user: User, current: str, new: str, now: datetime) -> None:
    if not check_password(user.password_hash, current):
        raise InvalidInput(N_("Mật khẩu hiện tại không đúng."), field="current")
    check_new_password(new)
    user.password_hash = hash_password(new)
    user.end_sessions()
    audit.record(
        session,
        user_id=user.id,
        action="user.password",
        entity=("user", user.id),
        before=None,
        after=None,
        now=now,
    )


def get_user(session: Session, scope: Scope, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not scope.covers(user.unit_id):
        raise NotFound(N_("Không tìm thấy."))
    return user


def list_users(session: Session, scope: Scope) -> list[User]:
    return list(session.scalars(select(User).where(scope.where(User.unit_id)).order_by(User.email)))


def update_user(
    session: Session,
    scope: Scope,
    user_id: int,
    *,
    role: Role,
    unit_code: str,
    is_active: bool,
    now: datetime,
) -> User:
    """Change an official's role, unit or activity, within what the editor may give."""
    user = get_user(session, scope, user_id)
    if user.id == scope.user_id and (not is_active or role != user.role):
        raise InvalidInput(
            N_("Bạn không thể tự đổi vai trò hoặc tự khóa tài khoản của mình."), field="role"
        )
    if user.role not in ASSIGNABLE_ROLES[scope.role] or role not in ASSIGNABLE_ROLES[scope.role]:
        raise InvalidInput(N_("Bạn không thể cấp vai trò này."), field="role")
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None or not scope.covers(unit.id):
        raise InvalidInput(N_("Không có đơn vị %(code)s."), field="unit", code=unit_code)
    before = {"role": user.role.value, "unit_id": user.unit_id, "active": user.is_active}
    if user.is_active and not is_active:
        user.end_sessions()  # a deactivated official's open sessions end at once
    user.role, user.unit_id, user.is_active = role, unit.id, is_active
    audit.record(
        session,
        user_id=scope.user_id,
        action="user.update",
        entity=("user", user.id),
        before=before,
        after={"role": role.value, "unit_id": unit.id, "active": is_active},
        now=now,
    )
    return user

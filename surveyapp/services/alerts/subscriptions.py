"""What an official asked to be told about, per unit, and the list of what they were told."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import AlertKind, DigestFrequency, Notification, Subscription
from surveyapp.services.access import Permission, Scope, get_visible_unit
from surveyapp.services.errors import N_, InvalidInput, NotFound

SALT = "alert-stop"
PAGE = 50


def list_subscriptions(session: Session, scope: Scope) -> list[Subscription]:
    """The signed-in official's subscriptions, by unit."""
    scope.require(Permission.VIEW_FEEDBACK)
    return list(
        session.scalars(
            select(Subscription)
            .where(Subscription.user_id == scope.user_id)
            .options(selectinload(Subscription.unit))
            .order_by(Subscription.id)
        )
    )


def save_subscription(
    session: Session,
    scope: Scope,
    unit_code: str,
    kinds: Sequence[str],
    digest: str,
    now: datetime,
) -> Subscription:
    """Create or change the official's subscription to a unit of their scope."""
    scope.require(Permission.VIEW_FEEDBACK)
    if scope.user_id is None:
        raise InvalidInput(N_("Chỉ cán bộ đã đăng nhập mới đăng ký nhận thông báo."), field="unit")
    unit = get_visible_unit(session, scope, unit_code.strip()[:40])
    try:
        chosen = sorted({AlertKind(k).value for k in kinds})
        frequency = DigestFrequency(digest or "none")
    except ValueError:
        raise InvalidInput(N_("Loại thông báo không hợp lệ."), field="kinds") from None
    if not chosen and frequency is DigestFrequency.NONE:
        raise InvalidInput(
            N_("Hãy chọn ít nhất một loại thông báo hoặc một bản tin định kỳ."), field="kinds"
        )
    found = session.scalar(
        select(Subscription).where(
            Subscription.user_id == scope.user_id, Subscription.unit_id == unit.id
        )
    )
    if found is None:
        found = Subscription(user_id=scope.user_id, unit_id=unit.id, created_at=now)
        session.add(found)
    else:
        found.updated_at = now
    found.unit, found.kinds, found.digest = unit, chosen, frequency
    session.flush()
    return found


def remove_subscription(session: Session, scope: Scope, subscription_id: int) -> None:
    found = session.get(Subscription, subscription_id)
    if found is None or found.user_id != scope.user_id:
        raise NotFound(N_("Không tìm thấy."))
    session.delete(found)
    session.flush()


def stop_token(secret_key: str, user_id: int, subscription_id: int | None = None) -> str:
    """The capability in an alert e-mail's stop link: one subscription, or all of the user's."""
    return str(URLSafeSerializer(secret_key, salt=SALT).dumps([user_id, subscription_id]))


def check_stop_token(secret_key: str, token: str) -> tuple[int, int | None]:
    """The (user, subscription or None) a stop link names; NotFound if it is not ours."""
    try:
        user_id, subscription_id = URLSafeSerializer(secret_key, salt=SALT).loads(token[:200])
    except (BadSignature, ValueError, TypeError):
        raise NotFound(N_("Liên kết ngừng nhận thông báo không hợp lệ.")) from None
    if not isinstance(user_id, int) or not isinstance(subscription_id, int | None):
        raise NotFound(N_("Liên kết ngừng nhận thông báo không hợp lệ."))
    return user_id, subscription_id


def stop_by_token(session: Session, secret_key: str, token: str) -> int:
    """End what a stop link names (no sign-in: the signed token is the capability); returns how
    many subscriptions it removed (0 when already gone)."""
    user_id, subscription_id = check_stop_token(secret_key, token)
    query = select(Subscription).where(Subscription.user_id == user_id)
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    found = list(session.scalars(query))
    for subscription in found:
        session.delete(subscription)
    session.flush()
    return len(found)


def notifications(session: Session, scope: Scope, limit: int = PAGE) -> list[Notification]:
    """The official's notifications, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == scope.user_id, scope.where(Notification.unit_id))
            .options(selectinload(Notification.unit))
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def unread_count(session: Session, scope: Scope) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == scope.user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(session: Session, scope: Scope, now: datetime) -> None:
    session.execute(
        update(Notification)
        .where(Notification.user_id == scope.user_id, Notification.read_at.is_(None))
        .values(read_at=now)
    )

"""Officials' alerts: what they subscribed to per unit, what happened, what was mailed."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, BigId, utcnow
from surveyapp.models.enums import str_enum
from surveyapp.models.unit import Unit
from surveyapp.models.user import User


class AlertKind(enum.StrEnum):
    COMMENT = "comment"  # a case opened for a citizen's comment
    LOW_BURST = "low_burst"  # many low ratings within the hour
    DUE_SOON = "due_soon"  # an open case due within the day
    OVERDUE = "overdue"  # an open case past its due date
    DROP = "drop"  # the unit's SIPAS fell significantly, month on month


class DigestFrequency(enum.StrEnum):
    NONE = "none"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Subscription(Base):
    """An official's alerts about a unit (and the units below it)."""

    __tablename__ = "alert_subscriptions"
    __table_args__ = (UniqueConstraint("user_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # AlertKind values
    digest: Mapped[DigestFrequency] = mapped_column(
        str_enum(DigestFrequency), default=DigestFrequency.NONE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
    unit: Mapped[Unit] = relationship()


class Notification(Base):
    """One thing an official was told of (in the app, and by e-mail unless they opted out).
    ``key`` names the event, so a rescan never tells anyone twice."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "key"),
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        Index("ix_notifications_emailed_at_user_id", "emailed_at", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind))
    key: Mapped[str] = mapped_column(String(80))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    # Mailing: claimed by a worker (for a lease), then sent.
    mail_claimed_at: Mapped[datetime | None]
    emailed_at: Mapped[datetime | None]

    unit: Mapped[Unit] = relationship()


class DigestSent(Base):
    """A digest mailed for a subscription and period (2026-W49, 2026-11): never twice."""

    __tablename__ = "digests_sent"
    __table_args__ = (UniqueConstraint("subscription_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("alert_subscriptions.id", ondelete="CASCADE")
    )
    period: Mapped[str] = mapped_column(String(10))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

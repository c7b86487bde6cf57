"""Dossier intake and rating invitations: what the one-stop system sent, and what we sent back."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.catalog import Dossier
from surveyapp.models.enums import str_enum


class InvitationChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    ZALO = "zalo"


class InvitationStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    OPTED_OUT = "opted_out"  # the contact asked for no more invitations


class Invitation(Base):
    """The one rating invitation of a returned dossier (unique per dossier, ever). ``channel`` is
    the one tried last; ``due_at`` holds it back (quiet hours, the next retry)."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True
    )
    channel: Mapped[InvitationChannel | None] = mapped_column(str_enum(InvitationChannel))
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus), default=InvitationStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))
    # Keyed hashes of the contacts it was offered for: an opt-out link works after the
    # dossier's contacts are erased.
    contact_digests: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    dossier: Mapped[Dossier] = relationship()


class OptOut(Base):
    """A phone number or e-mail address that asked for no invitations, kept as a keyed hash."""

    __tablename__ = "opt_outs"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IntakeBatch(Base):
    """One batch of dossiers received (API call, file, demo): counts only, no personal data."""

    __tablename__ = "intake_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # "api", "file", "demo"
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    received: Mapped[int] = mapped_column(default=0)
    created: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

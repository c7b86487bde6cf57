"""Feedback cases (tiếp nhận, xử lý phản ánh, kiến nghị) opened from comments and low ratings."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, BigId, utcnow
from surveyapp.models.enums import str_enum
from surveyapp.models.response import Response
from surveyapp.models.unit import Unit
from surveyapp.models.user import User


class CaseStatus(enum.StrEnum):
    """A case's life: open (new, assigned, in progress) until a reply is published (answered);
    resolved once the matter is settled (the official says so, or the citizen is satisfied);
    closed: archived, or ended without handling (a duplicate merged into another case)."""

    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN_STATUSES = (CaseStatus.NEW, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS)
# Statuses the citizen sees a reply in, and may give a verdict on it.
REPLIED_STATUSES = (CaseStatus.ANSWERED, CaseStatus.RESOLVED, CaseStatus.CLOSED)


class Verdict(enum.StrEnum):
    """The citizen's word on the reply (at /tra-cuu)."""

    SATISFIED = "satisfied"
    UNSATISFIED = "unsatisfied"


class Case(Base):
    """One citizen's comment or low rating to act on, with its reply and due date."""

    __tablename__ = "cases"
    __table_args__ = (
        # Inbox: a unit's cases by status, newest first (keyset on created_at, id).
        Index("ix_cases_unit_id_status_created_at", "unit_id", "status", "created_at"),
        Index("ix_cases_created_at_id", "created_at", "id"),
        Index("ix_cases_status_due_at", "status", "due_at"),
        Index("ix_cases_due_at_id", "due_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.NEW)
    # comment | low_rating | both (what opened it; see services.feedback.triage)
    reason: Mapped[str] = mapped_column(String(20))
    # Lowest element a low rating was about, for the element filter.
    element_code: Mapped[str | None] = mapped_column(String(40))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    due_at: Mapped[datetime]
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    # First time the case was handled (a reply published, or resolved), and whether that was by
    # the due date of the time (a reopened case gets a new one; this stays).
    handled_at: Mapped[datetime | None]
    handled_on_time: Mapped[bool | None]
    resolved_at: Mapped[datetime | None]
    # The unit that passed the case on (the citizen's matter was another agency's).
    transferred_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    # A duplicate: closed, and the citizen reads the reply of the case it was merged into.
    merged_into_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("cases.id", ondelete="SET NULL"), index=True
    )
    # The citizen's latest verdict on the reply; unsatisfied reopens once, then escalates.
    verdict: Mapped[Verdict | None] = mapped_column(str_enum(Verdict))
    verdict_late: Mapped[bool] = mapped_column(default=False, server_default=false())
    verdict_at: Mapped[datetime | None]
    reopen_count: Mapped[int] = mapped_column(default=0, server_default="0")
    escalated_to_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="SET NULL"), index=True
    )
    escalated_at: Mapped[datetime | None]

    response: Mapped[Response] = relationship()
    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    transferred_from: Mapped[Unit | None] = relationship(foreign_keys=[transferred_from_id])
    escalated_to: Mapped[Unit | None] = relationship(foreign_keys=[escalated_to_id])
    assignee: Mapped[User | None] = relationship()
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.created_at", cascade="all, delete-orphan"
    )

    def is_overdue(self, now: datetime) -> bool:
        return self.status in OPEN_STATUSES and self.due_at < now


class CaseNote(Base):
    """An internal note on a case (never shown to the citizen)."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("cases.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[Case] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()

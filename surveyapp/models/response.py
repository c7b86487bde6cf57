"""What citizens submit: responses, one answer row per item, comments, and rollup counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, BigId, utcnow
from surveyapp.models.enums import Channel, RespondentType, ResponseStatus, Stream, str_enum
from surveyapp.models.instrument import Instrument
from surveyapp.models.unit import Counter, Unit


class Response(Base):
    """One citizen's completed questionnaire."""

    __tablename__ = "responses"
    __table_args__ = (
        Index("ix_responses_unit_id_period", "unit_id", "period"),
        Index("ix_responses_period_status", "period", "status"),
        # A counter's recent responses (flagging a burst of them for review).
        Index("ix_responses_counter_id_submitted_at", "counter_id", "submitted_at"),
        CheckConstraint("period BETWEEN 190001 AND 299912", name="period_is_yyyymm"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Public receipt code the citizen can keep (status page); never the integer id.
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    # One key per rendered form: a retry or double tap stores one response.
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="RESTRICT"), index=True
    )
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="RESTRICT"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id", ondelete="RESTRICT"))
    # One response per dossier.
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="RESTRICT"), unique=True
    )
    channel: Mapped[Channel] = mapped_column(str_enum(Channel), index=True)
    stream: Mapped[Stream] = mapped_column(str_enum(Stream))
    status: Mapped[ResponseStatus] = mapped_column(
        str_enum(ResponseStatus), default=ResponseStatus.REPORTABLE
    )
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Local calendar month of submission as YYYYMM, the period key of reports and rollups.
    period: Mapped[int]
    locale: Mapped[str] = mapped_column(String(8), default="vi")
    respondent_type: Mapped[RespondentType | None] = mapped_column(str_enum(RespondentType))
    sex: Mapped[str | None] = mapped_column(String(10))
    age_band: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime | None]
    # Flagged for review (never dropped) when the counter's activity was unusual (see
    # services.anomalies); an official may clear the flag, or mark the response spam.
    is_flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    flag_reason: Mapped[str | None] = mapped_column(String(40))
    # An element item answered low (1..CASE_LOW_RATING_MAX): the unit's low-rating signal, case
    # or not (an anonymous low rating without text opens none).
    low_rating: Mapped[bool] = mapped_column(default=False, server_default=false())
    # An answer of a PAR-survey respondent group (services.par.rounds): never in the SIPAS
    # figures or their rollup, and never linked to the respondent.
    group_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondent_groups.id", ondelete="RESTRICT"), index=True
    )

    instrument: Mapped[Instrument] = relationship()
    unit: Mapped[Unit] = relationship()
    counter: Mapped[Counter | None] = relationship()
    answers: Mapped[list[Answer]] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )
    comment: Mapped[Comment | None] = relationship(
        back_populates="response", cascade="all, delete-orphan"
    )


class Answer(Base):
    """One answer: a level on the scale or an option value, or text."""

    __tablename__ = "answers"
    __table_args__ = (
        CheckConstraint("value IS NULL OR value BETWEEN 0 AND 10", name="value_in_range"),
        CheckConstraint("value IS NOT NULL OR text IS NOT NULL", name="has_value"),
    )

    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_items.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    value: Mapped[int | None] = mapped_column(SmallInteger)
    text: Mapped[str | None] = mapped_column(Text)

    response: Mapped[Response] = relationship(back_populates="answers")


class Comment(Base):
    """A citizen's free-text comment or complaint, with contact details only if volunteered."""

    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("responses.id", ondelete="CASCADE"), unique=True
    )
    body: Mapped[str] = mapped_column(Text)
    contact: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # What the triage made of it: feedback (a case), compliment (kept, shown, not handled) or
    # empty ("không có ý kiến"). See services.feedback.triage.
    kind: Mapped[str] = mapped_column(String(12), default="feedback", server_default="feedback")

    response: Mapped[Response] = relationship(back_populates="comment")


class AnswerCount(Base):
    """Rollup: reportable answers by (unit, month, stream, item, level), kept in step on insert."""

    __tablename__ = "answer_counts"

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True
    )
    period: Mapped[int] = mapped_column(primary_key=True)
    stream: Mapped[Stream] = mapped_column(str_enum(Stream), primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_items.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)

    __table_args__ = (CheckConstraint("count >= 0", name="count_not_negative"),)

"""The PAR sociological survey (điều tra xã hội học Chỉ số CCHC) as a province runs it: a round,
its respondent groups (HĐND delegates, leaders, civil servants, businesses, …) with who rates
which units and how many, the named invitation list, and one single-use link per respondent and
rated unit. The list is erased when the round closes: answers never point to a respondent."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import str_enum
from surveyapp.models.instrument import Instrument
from surveyapp.models.invitation import InvitationChannel, InvitationStatus
from surveyapp.models.unit import Unit


class SurveyRound(Base):
    """One round of the PAR survey in a province (usually one per year)."""

    __tablename__ = "survey_rounds"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="round_ends_after_starts"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    province_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reminder_limit: Mapped[int] = mapped_column(default=2)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    # Closing erases the invitation list (names, contacts, link tokens); the round is then final.
    closed_at: Mapped[datetime | None]

    province: Mapped[Unit] = relationship()
    groups: Mapped[list[RespondentGroup]] = relationship(
        back_populates="round", order_by="RespondentGroup.position"
    )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class RespondentGroup(Base):
    """A respondent group of a round: its own instrument, the unit levels it rates (a row of the
    who-rates-whom matrix) and the quota of answers wanted per rated unit (``quotas``: per unit
    code where it differs)."""

    __tablename__ = "respondent_groups"
    __table_args__ = (
        UniqueConstraint("round_id", "code"),
        CheckConstraint("quota >= 0", name="quota_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("survey_rounds.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[dict[str, str]]
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="RESTRICT"), index=True
    )
    rates: Mapped[list[str]] = mapped_column(JSON)  # unit levels, e.g. ["department"]
    quota: Mapped[int] = mapped_column(default=0)
    quotas: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    round: Mapped[SurveyRound] = relationship(back_populates="groups")
    instrument: Mapped[Instrument] = relationship()

    def quota_of(self, unit_code: str) -> int:
        return int(self.quotas.get(unit_code, self.quota))


class Respondent(Base):
    """A named person of the invitation list: only what sending and reminding need. Deleted when
    the round closes."""

    __tablename__ = "respondents"
    __table_args__ = (UniqueConstraint("group_id", "contact"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_groups.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), default="")
    contact: Mapped[str] = mapped_column(String(200))  # E.164 phone or e-mail address
    channel: Mapped[InvitationChannel] = mapped_column(str_enum(InvitationChannel))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RaterLink(Base):
    """One respondent's single-use link to rate one unit. ``token`` and ``respondent_id`` are
    erased at the round's close; the row stays to count progress (invited, answered). A response
    never records which link it came from."""

    __tablename__ = "rater_links"
    __table_args__ = (UniqueConstraint("respondent_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("respondent_groups.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    respondent_id: Mapped[int | None] = mapped_column(
        ForeignKey("respondents.id", ondelete="SET NULL"), index=True
    )
    token: Mapped[str | None] = mapped_column(String(40), unique=True)
    used: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[InvitationChannel | None] = mapped_column(str_enum(InvitationChannel))
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus), default=InvitationStatus.QUEUED, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    reminders: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[RespondentGroup] = relationship()
    unit: Mapped[Unit] = relationship()
    respondent: Mapped[Respondent | None] = relationship()

"""Survey campaigns: an instrument version run at some units over a period."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import Stream, str_enum
from surveyapp.models.instrument import Instrument
from surveyapp.models.unit import Unit

campaign_units = Table(
    "campaign_units",
    Base.metadata,
    Column("campaign_id", ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Campaign(Base):
    """A survey round. It covers each listed unit and every unit below it."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="ends_after_starts"),
        CheckConstraint("min_n >= 0", name="min_n_not_negative"),
        CheckConstraint("margin > 0 AND margin < 1", name="margin_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="RESTRICT"), index=True
    )
    stream: Mapped[Stream] = mapped_column(str_enum(Stream), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    min_n: Mapped[int] = mapped_column(default=30)
    # Yamane margin e for each unit's target sample, n = N / (1 + N e^2).
    margin: Mapped[Decimal] = mapped_column(Numeric(4, 3), default=Decimal("0.05"))
    is_closed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    instrument: Mapped[Instrument] = relationship()
    units: Mapped[list[Unit]] = relationship(secondary=campaign_units, order_by="Unit.code")

    def is_open_on(self, day: date) -> bool:
        return not self.is_closed and self.starts_on <= day <= self.ends_on

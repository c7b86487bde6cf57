"""Units (the tree of agencies being measured) and their counters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import UnitLevel, str_enum


class Unit(Base):
    """An agency: province, department (Sở), service centre, district (history) or commune;
    units form a tree."""

    __tablename__ = "units"
    __table_args__ = (Index("ix_units_path", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    # Materialised path of ids, "/1/7/42/": a subtree is one prefix match.
    path: Mapped[str] = mapped_column(String(400), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.code")
    counters: Mapped[list[Counter]] = relationship(back_populates="unit", order_by="Counter.code")

    def __repr__(self) -> str:
        return f"<Unit {self.code}>"


class UnitLineage(Base):
    """One step of the map's history: ``predecessor`` became (part of) ``successor`` on
    ``effective_on`` — merged into it, split into it and others, or renamed to it (the 2025
    reorganisation: merged provinces and communes, districts abolished)."""

    __tablename__ = "unit_lineage"
    __table_args__ = (
        UniqueConstraint("predecessor_id", "successor_id"),
        CheckConstraint("predecessor_id <> successor_id", name="not_itself"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    predecessor_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    successor_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))  # merge, split or rename
    effective_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    predecessor: Mapped[Unit] = relationship(foreign_keys=[predecessor_id])
    successor: Mapped[Unit] = relationship(foreign_keys=[successor_id])


class Counter(Base):
    """A one-stop-shop desk (Bộ phận một cửa) of a unit; citizens reach it by its QR token."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(back_populates="counters")
    tokens: Mapped[list[CounterToken]] = relationship(
        back_populates="counter", order_by="CounterToken.created_at"
    )

    @property
    def active_token(self) -> CounterToken | None:
        return next((t for t in self.tokens if t.retired_at is None), None)

    def __repr__(self) -> str:
        return f"<Counter {self.code}>"


class CounterToken(Base):
    """A public token printed in a counter's QR code; rotating retires the old one."""

    __tablename__ = "counter_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    retired_at: Mapped[datetime | None]

    counter: Mapped[Counter] = relationship(back_populates="tokens")


class CounterActivity(Base):
    """How busy a counter is, kept in O(1) per submission: the submissions and low answer sets of
    its current and previous time window, and its usual submissions per window (an exponentially
    weighted mean of the windows it was used in)."""

    __tablename__ = "counter_activity"

    counter_id: Mapped[int] = mapped_column(
        ForeignKey("counters.id", ondelete="CASCADE"), primary_key=True
    )
    slot: Mapped[int]  # which window: seconds since the epoch // the window's length
    count: Mapped[int] = mapped_column(default=0)
    low: Mapped[int] = mapped_column(default=0)
    previous_count: Mapped[int] = mapped_column(default=0)
    previous_low: Mapped[int] = mapped_column(default=0)
    usual: Mapped[float] = mapped_column(default=0.0)

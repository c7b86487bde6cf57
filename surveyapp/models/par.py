"""PAR-index settings, per province, unit level and year (each province's decision, e.g. QĐ
876/QĐ-BNV for the national index): data, never code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import UnitLevel, str_enum
from surveyapp.models.unit import Unit
from surveyapp.models.user import User


class ParScheme(Base):
    """How a province turns survey indices into PAR points for one level of units in one year.

    ``criteria``: [{"code", "source" (index code: "SIPAS" or an element code), "max_points",
    "method": "linear"|"banded", "bands": [{"lower", "upper" (null: none), "points"}, …]}];
    ``ranking_bands``: [{"label", "lower"}, …] on the PAR index %, lower bound inclusive.
    Numbers are stored as decimal strings.
    """

    __tablename__ = "par_schemes"
    __table_args__ = (UniqueConstraint("province_id", "level", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel))
    year: Mapped[int]
    instrument_code: Mapped[str] = mapped_column(String(40))
    appraisal_max: Mapped[str] = mapped_column(String(20))  # a decimal, e.g. "65"
    criteria: Mapped[list[dict[str, Any]]]
    ranking_bands: Mapped[list[dict[str, Any]]]
    decision: Mapped[str] = mapped_column(String(200), default="")  # e.g. "QĐ 876/QĐ-BNV"
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime | None]
    # Set when a period's results are published with these settings: read-only from then on.
    published_at: Mapped[datetime | None]

    province: Mapped[Unit] = relationship()


class Publication(Base):
    """A period's results for one level of a province, published by the PAR office (chốt số
    liệu): an immutable snapshot of the scores rows (figures, n, intervals, reliability, points,
    ranks) with what produced them (publication rules, settings, instrument) and the data cut-off.
    A re-publication is the next ``version``, with its reason; rows are never updated."""

    __tablename__ = "publications"
    __table_args__ = (UniqueConstraint("province_id", "level", "period", "stream", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_id: Mapped[int] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    level: Mapped[UnitLevel] = mapped_column(str_enum(UnitLevel))
    period: Mapped[str] = mapped_column(String(40))  # a period label: 2026, 2026-Q2, …
    stream: Mapped[str] = mapped_column(String(20))  # official, general or all
    version: Mapped[int]
    reason: Mapped[str] = mapped_column(Text, default="")
    cutoff_at: Mapped[datetime]  # answers stored after this are "changed since publication"
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    rules_version: Mapped[str] = mapped_column(String(40))
    instrument_code: Mapped[str] = mapped_column(String(40))
    scheme: Mapped[dict[str, Any] | None]  # the PAR settings as they were (None: without)
    header: Mapped[list[str]]
    rows: Mapped[list[list[Any]]]  # numbers as decimal strings, exactly as published
    items: Mapped[list[list[Any]]]  # the per-item sheet, likewise
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    province: Mapped[Unit] = relationship()
    user: Mapped[User | None] = relationship()

"""Service fields (lĩnh vực), procedures and dossiers (hồ sơ)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.unit import Unit


class ServiceField(Base):
    __tablename__ = "service_fields"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[dict[str, str]]
    is_active: Mapped[bool] = mapped_column(default=True)

    procedures: Mapped[list[Procedure]] = relationship(
        back_populates="service_field", order_by="Procedure.code"
    )


class Procedure(Base):
    """An administrative procedure (thủ tục hành chính) within a service field."""

    __tablename__ = "procedures"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_field_id: Mapped[int] = mapped_column(
        ForeignKey("service_fields.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[dict[str, str]]
    is_active: Mapped[bool] = mapped_column(default=True)

    service_field: Mapped[ServiceField] = relationship(back_populates="procedures")


class Dossier(Base):
    """One administrative procedure case with its code (mã hồ sơ)."""

    __tablename__ = "dossiers"
    __table_args__ = (
        CheckConstraint("due_at IS NULL OR due_at >= received_at", name="due_after_received"),
        CheckConstraint(
            "returned_at IS NULL OR returned_at >= received_at", name="returned_after_received"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    service_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_fields.id", ondelete="RESTRICT"), index=True
    )
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="RESTRICT"), index=True
    )
    receiving_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    service_field: Mapped[ServiceField | None] = relationship()
    procedure: Mapped[Procedure | None] = relationship()

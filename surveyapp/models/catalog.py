"""Service fields (lĩnh vực), procedures, the staff register and dossiers (hồ sơ)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import DossierStatus, RespondentType, str_enum
from surveyapp.models.unit import Counter, Unit
from surveyapp.models.user import User


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


class CatalogueAlias(Base):
    """A code a one-stop system sends for a field (``kind`` "field") or a procedure the catalogue
    knows by another code, mapped by an official: its dossiers count under the catalogue entry."""

    __tablename__ = "catalogue_aliases"
    __table_args__ = (
        UniqueConstraint("kind", "code"),
        CheckConstraint(
            "(kind = 'field' AND service_field_id IS NOT NULL AND procedure_id IS NULL)"
            " OR (kind = 'procedure' AND procedure_id IS NOT NULL AND service_field_id IS NULL)",
            name="one_target",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(60))
    service_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_fields.id", ondelete="CASCADE"), index=True
    )
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    service_field: Mapped[ServiceField | None] = relationship()
    procedure: Mapped[Procedure | None] = relationship()

    @property
    def target_code(self) -> str:
        target = self.service_field or self.procedure
        return target.code if target else ""


class Staff(Base):
    """A receiving official (công chức tiếp nhận) in the staff register: dossiers name them by
    staff code, so Thông tư 01 scores per official need no dashboard account (``user`` links one
    when there is)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), unique=True
    )
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship()
    user: Mapped[User | None] = relationship()


class Dossier(Base):
    """One administrative procedure case with its code (mã hồ sơ), as the one-stop system sent it.

    ``unit`` handles it (DonViXuLy); since Nghị định 118/2025/NĐ-CP a service centre may receive it
    elsewhere (``receiving_unit``, ``counter``). The codes are kept as sent, and the catalogue ids
    filled when the codes are known. ``phone`` and ``email`` exist only to send the invitation and
    are erased when the rating window closes (Nghị định 13/2023/NĐ-CP)."""

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
    receiving_unit_id: Mapped[int | None] = mapped_column(
        ForeignKey("units.id", ondelete="RESTRICT"), index=True
    )
    counter_id: Mapped[int | None] = mapped_column(
        ForeignKey("counters.id", ondelete="SET NULL"), index=True
    )
    service_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_fields.id", ondelete="RESTRICT"), index=True
    )
    procedure_id: Mapped[int | None] = mapped_column(
        ForeignKey("procedures.id", ondelete="RESTRICT"), index=True
    )
    field_code: Mapped[str | None] = mapped_column(String(40), index=True)
    procedure_code: Mapped[str | None] = mapped_column(String(60), index=True)
    procedure_name: Mapped[str | None] = mapped_column(String(500))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    staff_code: Mapped[str | None] = mapped_column(String(40))
    respondent_type: Mapped[RespondentType | None] = mapped_column(str_enum(RespondentType))
    status: Mapped[DossierStatus] = mapped_column(
        str_enum(DossierStatus), default=DossierStatus.RECEIVED, server_default="received"
    )
    status_code: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime]
    due_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None] = mapped_column(index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    contact_erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id])
    receiving_unit: Mapped[Unit | None] = relationship(foreign_keys=[receiving_unit_id])
    counter: Mapped[Counter | None] = relationship()
    service_field: Mapped[ServiceField | None] = relationship()
    procedure: Mapped[Procedure | None] = relationship()
    staff: Mapped[Staff | None] = relationship()

    @property
    def has_contact(self) -> bool:
        return bool(self.phone or self.email)

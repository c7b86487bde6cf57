"""Questionnaires as versioned data: instrument > domains > elements > items."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from surveyapp.db import Base, utcnow
from surveyapp.models.enums import InstrumentStatus, ItemKind, str_enum


def localized(texts: dict[str, str] | None, locale: str, fallback: str = "vi") -> str:
    """The text for ``locale``, else the fallback language's, else any."""
    if not texts:
        return ""
    return texts.get(locale) or texts.get(fallback) or next(iter(texts.values()))


def scale_levels(scale: dict[str, Any]) -> list[int]:
    """The levels of an answer scale, min to max."""
    return list(range(int(scale["min"]), int(scale["max"]) + 1))


def missing_levels(scale: dict[str, Any]) -> list[int]:
    """The levels meaning "don't know / no answer", left out of denominators."""
    return [int(v) for v in scale.get("missing", [])]


def scale_label(scale: dict[str, Any], level: int, locale: str) -> str:
    """A level's label in ``locale`` (Vietnamese if missing); "don't know" levels included."""
    if level in scale_levels(scale):
        labels: dict[str, list[str]] = scale.get("labels", {})
        seq = labels.get(locale) or labels.get("vi") or []
        index = level - int(scale["min"])
        return seq[index] if index < len(seq) else str(level)
    missing: dict[str, dict[str, str]] = scale.get("missing_labels", {})
    return localized(missing.get(str(level)), locale) or str(level)


class _HasScale(Protocol):
    @property
    def scale(self) -> dict[str, Any]: ...


class ScaleMethods:
    """The answer scale's levels and labels, for the model and its snapshot alike."""

    def scale_levels(self: _HasScale) -> list[int]:
        return scale_levels(self.scale)

    def missing_levels(self: _HasScale) -> list[int]:
        return missing_levels(self.scale)

    def scale_label(self: _HasScale, level: int, locale: str) -> str:
        return scale_label(self.scale, level, locale)


class Instrument(ScaleMethods, Base):
    """One version of a questionnaire. A published version never changes."""

    __tablename__ = "instruments"
    __table_args__ = (UniqueConstraint("code", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    version: Mapped[int]
    name: Mapped[dict[str, str]]
    # {"min", "max", "satisfied": [levels], "missing": [levels], "labels": {locale: [..]}}
    scale: Mapped[dict[str, Any]]
    # {"element": "mean"|"pooled", "domain": ..., "overall": ..., "weights": {domain: w}}
    aggregation: Mapped[dict[str, Any]]
    status: Mapped[InstrumentStatus] = mapped_column(
        str_enum(InstrumentStatus), default=InstrumentStatus.DRAFT
    )
    published_at: Mapped[datetime | None]
    # SHA-256 of the canonical definition: loading the same file again is a no-op.
    source_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    domains: Mapped[list[Domain]] = relationship(
        back_populates="instrument", order_by="Domain.position"
    )
    items: Mapped[list[Item]] = relationship(back_populates="instrument", order_by="Item.position")

    @property
    def is_published(self) -> bool:
        return self.status is InstrumentStatus.PUBLISHED

    def __repr__(self) -> str:
        return f"<Instrument {self.code} v{self.version}>"


class Domain(Base):
    """A group of elements (e.g. policy, services)."""

    __tablename__ = "instrument_domains"
    __table_args__ = (UniqueConstraint("instrument_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    name: Mapped[dict[str, str]]
    weight: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))

    instrument: Mapped[Instrument] = relationship(back_populates="domains")
    elements: Mapped[list[Element]] = relationship(
        back_populates="domain", order_by="Element.position"
    )


class Element(Base):
    """A group of criteria (yếu tố), e.g. access to the service."""

    __tablename__ = "instrument_elements"
    __table_args__ = (UniqueConstraint("instrument_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    domain_id: Mapped[int] = mapped_column(
        ForeignKey("instrument_domains.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    name: Mapped[dict[str, str]]

    instrument: Mapped[Instrument] = relationship()
    domain: Mapped[Domain] = relationship(back_populates="elements")
    items: Mapped[list[Item]] = relationship(back_populates="element", order_by="Item.position")


class Item(Base):
    """A question. Rating items use the instrument's scale; choice items carry their options."""

    __tablename__ = "instrument_items"
    __table_args__ = (
        UniqueConstraint("instrument_id", "code"),
        UniqueConstraint("instrument_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instruments.id", ondelete="CASCADE"), index=True
    )
    element_id: Mapped[int | None] = mapped_column(
        ForeignKey("instrument_elements.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int]
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind))
    # satisfaction | overall | profile | perception | priority | comment
    section: Mapped[str] = mapped_column(String(20))
    text: Mapped[dict[str, str]]
    is_required: Mapped[bool] = mapped_column(default=False)
    # choice items: [{"value": int, "label": {locale: text}, "missing": bool}]
    options: Mapped[list[dict[str, Any]] | None] = mapped_column(default=None)

    instrument: Mapped[Instrument] = relationship(back_populates="items")
    element: Mapped[Element | None] = relationship(back_populates="items")

    def allowed_values(self) -> set[int]:
        if self.kind is ItemKind.RATING:
            return set(self.instrument.scale_levels()) | set(self.instrument.missing_levels())
        return {int(option["value"]) for option in self.options or []}


class PublishedInstrumentError(Exception):
    """A published instrument version was about to change; publish a new version instead."""


def _was_published(instrument: Instrument | None) -> bool:
    if instrument is None or not inspect(instrument).persistent:
        return False
    history = inspect(instrument).attrs.status.history
    before = history.deleted[0] if history.deleted else instrument.status
    return before == InstrumentStatus.PUBLISHED


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_published(session: Session, _context: Any, _instances: Any) -> None:
    for obj in [*session.new, *session.dirty, *session.deleted]:
        if not isinstance(obj, Instrument | Domain | Element | Item):
            continue
        instrument = obj if isinstance(obj, Instrument) else obj.instrument
        changed = obj in session.new or obj in session.deleted or session.is_modified(obj)
        if changed and _was_published(instrument):
            raise PublishedInstrumentError(
                f"{instrument.code} v{instrument.version} is published and cannot change"
            )

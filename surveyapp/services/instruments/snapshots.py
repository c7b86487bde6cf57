"""Immutable snapshots of published instruments.

A published instrument version never changes, so the survey pages and submission checks read a
plain frozen copy, built once and kept in the app's caches (surveyapp.caching), instead of loading
~60 rows on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.caching import caches_of
from surveyapp.models import Domain, Element, Instrument, ItemKind
from surveyapp.models.instrument import ScaleMethods


@dataclass(frozen=True)
class ElementView:
    id: int
    code: str
    name: dict[str, str]
    domain_code: str


@dataclass(frozen=True)
class ItemView:
    id: int
    code: str
    position: int
    kind: ItemKind
    section: str
    text: dict[str, str]
    is_required: bool
    options: tuple[dict[str, Any], ...] | None
    element: ElementView | None
    allowed: frozenset[int]

    @property
    def element_id(self) -> int | None:
        return self.element.id if self.element else None

    def allowed_values(self) -> frozenset[int]:
        return self.allowed


@dataclass(frozen=True)
class InstrumentView(ScaleMethods):
    id: int
    code: str
    version: int
    name: dict[str, str]
    scale: dict[str, Any]
    aggregation: dict[str, Any]
    source_hash: str
    items: tuple[ItemView, ...]
    elements: tuple[ElementView, ...]

    def item(self, code: str) -> ItemView:
        return next(i for i in self.items if i.code == code)


def snapshot(instrument: Instrument) -> InstrumentView:
    """A frozen copy of a loaded instrument (items, elements and domains loaded)."""
    elements: dict[int, ElementView] = {}
    for domain in instrument.domains:
        for element in domain.elements:
            elements[element.id] = ElementView(element.id, element.code, element.name, domain.code)
    scale_values = set(instrument.scale_levels()) | set(instrument.missing_levels())
    items = tuple(
        ItemView(
            id=item.id,
            code=item.code,
            position=item.position,
            kind=item.kind,
            section=item.section,
            text=item.text,
            is_required=item.is_required,
            options=tuple(item.options) if item.options else None,
            element=elements.get(item.element_id) if item.element_id else None,
            allowed=frozenset(
                scale_values
                if item.kind is ItemKind.RATING
                else {int(o["value"]) for o in item.options or []}
            ),
        )
        for item in sorted(instrument.items, key=lambda i: i.position)
    )
    return InstrumentView(
        id=instrument.id,
        code=instrument.code,
        version=instrument.version,
        name=instrument.name,
        scale=instrument.scale,
        aggregation=instrument.aggregation,
        source_hash=instrument.source_hash,
        items=items,
        elements=tuple(elements.values()),
    )


def instrument_view(session: Session, instrument_id: int, source_hash: str) -> InstrumentView:
    """The snapshot of a published instrument, loaded once and kept in the app's caches.

    Keyed by id and content hash, so two databases (a restored backup) never mix.
    """

    def load() -> InstrumentView:
        instrument = session.scalars(
            select(Instrument)
            .where(Instrument.id == instrument_id)
            .options(
                selectinload(Instrument.items),
                selectinload(Instrument.domains)
                .selectinload(Domain.elements)
                .selectinload(Element.items),
            )
        ).one()
        return snapshot(instrument)

    caches = caches_of(session)
    return caches.remember(caches.instruments, (instrument_id, source_hash), load)

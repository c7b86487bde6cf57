"""Publishing validated definitions as immutable versions; the built-in instruments; reading
published ones back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import (
    Domain,
    Element,
    Instrument,
    InstrumentStatus,
    Item,
    ItemKind,
)
from surveyapp.services.errors import N_, Conflict, NotFound
from surveyapp.services.instruments.definitions import (
    definition_hash,
    parse_definition,
    validate_definition,
)

BUILTIN_FILES = ("sipas2023.yaml", "counter.yaml", "sipas2017.yaml", "tt01.yaml")


def publish_instrument(session: Session, data: Mapping[str, Any], now: datetime) -> Instrument:
    """Validate and publish a definition as a new version; the same definition again is a no-op."""
    canonical = validate_definition(data)
    digest = definition_hash(canonical)
    existing = session.scalar(
        select(Instrument).where(
            Instrument.code == canonical["code"], Instrument.version == canonical["version"]
        )
    )
    if existing is not None:
        if existing.source_hash == digest:
            return existing
        raise Conflict(
            N_(
                "Phiên bản %(version)s của phiếu %(code)s đã được công bố với nội dung khác; "
                "hãy tăng số phiên bản."
            ),
            code=canonical["code"],
            version=canonical["version"],
        )
    weights = canonical["aggregation"].get("weights", {})
    instrument = Instrument(
        code=canonical["code"],
        version=canonical["version"],
        name=canonical["name"],
        scale=canonical["scale"],
        aggregation=canonical["aggregation"],
        source_hash=digest,
        status=InstrumentStatus.PUBLISHED,
        published_at=now,
    )
    session.add(instrument)
    position = 0

    def add_question(q: dict[str, Any]) -> None:
        nonlocal position
        position += 1
        options = [
            {
                **o,
                **({"column": q["column"]} if q["column"] else {}),
                **({"satisfied": o["value"] in q["satisfied"]} if q["satisfied"] else {}),
            }
            for o in q["options"] or []
        ] or None
        instrument.items.append(
            Item(
                code=q["code"],
                position=position,
                kind=ItemKind(q["kind"]),
                section=q["section"],
                text=q["text"],
                is_required=q["required"],
                options=options,
            )
        )

    for q in canonical["questions"]:
        if q["placement"] == "before":
            add_question(q)
    for d_pos, d in enumerate(canonical["domains"], start=1):
        weight = weights.get(d["code"])
        domain = Domain(
            code=d["code"],
            position=d_pos,
            name=d["name"],
            weight=Decimal(weight) if weight else None,
        )
        instrument.domains.append(domain)
        for e_pos, e in enumerate(d["elements"], start=1):
            element = Element(code=e["code"], position=e_pos, name=e["name"], instrument=instrument)
            domain.elements.append(element)
            for it in e["items"]:
                position += 1
                item = Item(
                    code=it["code"],
                    position=position,
                    kind=ItemKind.RATING,
                    section="satisfaction",
                    text=it["text"],
                    is_required=it["required"],
                )
                instrument.items.append(item)
                element.items.append(item)
    for q in canonical["questions"]:
        if q["placement"] == "after":
            add_question(q)
    session.flush()
    return instrument


def load_builtin_instruments(session: Session, now: datetime) -> list[Instrument]:
    """Publish the instruments shipped with the product (idempotent)."""
    folder = resources.files("surveyapp") / "instruments"
    return [
        publish_instrument(session, parse_definition(folder.joinpath(name).read_text("utf-8")), now)
        for name in BUILTIN_FILES
    ]


def get_instrument(session: Session, code: str, version: int | None = None) -> Instrument:
    """A published instrument by code (newest version unless given), with its structure loaded."""
    query = (
        select(Instrument)
        .where(Instrument.code == code, Instrument.status == InstrumentStatus.PUBLISHED)
        .options(
            selectinload(Instrument.items),
            selectinload(Instrument.domains).selectinload(Domain.elements),
        )
        .order_by(Instrument.version.desc())
    )
    if version is not None:
        query = query.where(Instrument.version == version)
    instrument = session.scalars(query.limit(1)).first()
    if instrument is None:
        raise NotFound(N_("Không tìm thấy phiếu khảo sát %(code)s."), code=code)
    return instrument


def published_instruments(session: Session) -> list[Instrument]:
    return list(
        session.scalars(
            select(Instrument)
            .where(Instrument.status == InstrumentStatus.PUBLISHED)
            .order_by(Instrument.code, Instrument.version.desc())
        )
    )

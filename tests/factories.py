"""Plain factory functions with keyword overrides."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from surveyapp.models import Campaign, Counter, Dossier, Instrument, Stream, Unit, UnitLevel
from surveyapp.services.instruments import load_builtin_instruments
from surveyapp.services.units import save_counter, save_unit
from tests.conftest import NOW

RATING_CODES = [f"S{i}" for i in range(15, 34)]


def counter_instrument(session: Session) -> Instrument:
    return next(i for i in load_builtin_instruments(session, NOW) if i.code == "COUNTER")


def make_unit(session: Session, code: str = "T", **overrides: Any) -> Unit:
    values: dict[str, Any] = {"name": f"Đơn vị {code}", "level": UnitLevel.PROVINCE, "parent": None}
    values.update(overrides)
    return save_unit(session, code, values["name"], values["level"], values["parent"])


def make_counter(
    session: Session, unit: Unit, code: str | None = None, **overrides: Any
) -> Counter:
    return save_counter(
        session, unit, code or f"{unit.code}-Q1", overrides.get("name", "Quầy 1"), NOW
    )


def make_campaign(session: Session, units: list[Unit], **overrides: Any) -> Campaign:
    values: dict[str, Any] = {
        "code": "C2026",
        "name": "Khảo sát 2026",
        "instrument": counter_instrument(session),
        "stream": Stream.GENERAL,
        "starts_on": date(2026, 1, 1),
        "ends_on": date(2026, 12, 31),
    }
    values.update(overrides)
    campaign = Campaign(**values)
    campaign.units.extend(units)
    session.add(campaign)
    session.flush()
    return campaign


def make_dossier(session: Session, unit: Unit, code: str = "HS-001", **overrides: Any) -> Dossier:
    received: datetime = overrides.pop("received_at", NOW - timedelta(days=10))
    values: dict[str, Any] = {
        "code": code,
        "unit": unit,
        "received_at": received,
        "due_at": received + timedelta(days=5),
        "returned_at": received + timedelta(days=4),
    }
    values.update(overrides)
    dossier = Dossier(**values)
    session.add(dossier)
    session.flush()
    return dossier


def setup_counter(session: Session) -> tuple[Unit, Counter, Campaign]:
    """A province with one district and a counter at the district, with an open campaign."""
    province = make_unit(session, "P")
    district = make_unit(session, "P.D1", level=UnitLevel.DISTRICT, parent=province)
    counter = make_counter(session, district)
    campaign = make_campaign(session, [province])
    session.commit()
    return district, counter, campaign


def full_answers(level: int = 4) -> dict[str, int]:
    answers = dict.fromkeys(RATING_CODES, level)
    answers["OVR"] = level
    return answers

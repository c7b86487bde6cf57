"""Plain factory functions with keyword overrides."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from surveyapp.models import (
    Campaign,
    Channel,
    Counter,
    Dossier,
    DossierStatus,
    Instrument,
    ParScheme,
    Response,
    Role,
    Stream,
    Unit,
    UnitLevel,
    User,
)
from surveyapp.services.access import SYSTEM, Scope
from surveyapp.services.accounts.officials import create_user
from surveyapp.services.collection.submissions import Rules, Submission, accept_submission
from surveyapp.services.collection.targets import counter_target
from surveyapp.services.instruments.publishing import load_builtin_instruments
from surveyapp.services.org.units import save_counter, save_unit
from surveyapp.services.par import settings as par_settings
from tests.conftest import NOW

RATING_CODES = [f"S{i}" for i in range(15, 34)]


def counter_instrument(session: Session) -> Instrument:
    return next(i for i in load_builtin_instruments(session, NOW) if i.code == "COUNTER")


def make_unit(session: Session, code: str = "T", **overrides: Any) -> Unit:
    values: dict[str, Any] = {"name": f"Đơn vị {code}", "level": UnitLevel.PROVINCE, "parent": None}
    values.update(overrides)
    return save_unit(
        session, Scope.system(), code, values["name"], values["level"], values["parent"]
    )


def make_counter(
    session: Session, unit: Unit, code: str | None = None, **overrides: Any
) -> Counter:
    return save_counter(
        session,
        Scope.system(),
        unit,
        code or f"{unit.code}-Q1",
        overrides.get("name", "Quầy 1"),
        NOW,
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
    values.setdefault(
        "status", DossierStatus.RETURNED if values["returned_at"] else DossierStatus.RECEIVED
    )
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


PASSWORD = "mat-khau-thu-nghiem-1"


def make_user(
    session: Session, email: str, role: Role, unit: Unit, password: str = PASSWORD
) -> User:
    return create_user(
        session, email=email, password=password, role=role, unit_code=unit.code, now=NOW
    )


def submit_response(
    session: Session,
    counter: Counter,
    answers: dict[str, int] | None = None,
    comment: str | None = None,
    key: str | None = None,
    now: datetime = NOW,
    contact: str | None = None,
    rules: Rules | None = None,
) -> Response:
    """A citizen's submission through the real service, committed."""
    rules = rules or Rules(timezone="Asia/Ho_Chi_Minh")
    target = counter_target(session, counter, now, rules.timezone)
    submission = Submission(
        idempotency_key=key or f"key-{secrets.token_hex(8)}",
        answers=answers or full_answers(),
        comment=comment,
        contact=contact,
    )
    response, _ = accept_submission(
        session, target=target, channel=Channel.QR, submission=submission, now=now, rules=rules
    )
    session.commit()
    return response


def build_world(session: Session) -> dict:
    """Province P with districts D1 (and commune D1.X below it) and D2, a counter in each,
    an open general campaign, and one official per role (staff and manager at D1)."""
    p = make_unit(session, "P")
    d1 = make_unit(session, "P.D1", level=UnitLevel.DISTRICT, parent=p)
    x = make_unit(session, "P.D1.X", level=UnitLevel.COMMUNE, parent=d1)
    d2 = make_unit(session, "P.D2", level=UnitLevel.DISTRICT, parent=p)
    counters = {u.code: make_counter(session, u) for u in (d1, x, d2)}
    make_campaign(session, [p])
    users = {
        "admin": make_user(session, "admin@x.vn", Role.ADMIN, p),
        "par": make_user(session, "par@x.vn", Role.PAR_OFFICE, p),
        "manager": make_user(session, "manager@x.vn", Role.UNIT_MANAGER, d1),
        "staff": make_user(session, "staff@x.vn", Role.COUNTER_STAFF, d1),
    }
    session.commit()
    return {"counters": counters, "users": users, "units": {"p": p, "d1": d1, "x": x, "d2": d2}}


PAR_SCHEME: dict[str, Any] = {
    "province": "P",
    "level": "district",
    "year": 2026,
    "instrument": "COUNTER",
    "appraisal_max": 65,
    "criteria": [{"code": "SXH", "source": "SIPAS", "max_points": 35}],
    "ranking_bands": [
        {"label": "Tốt", "lower": 85},
        {"label": "Khá", "lower": 75},
        {"label": "Trung bình", "lower": 0},
    ],
    "decision": "QĐ thử nghiệm",
}


def make_par_scheme(session: Session, scope: Scope = SYSTEM, **changes: Any) -> ParScheme:
    """District PAR settings of province P for 2026 through the settings service (65 points of
    appraisal, 35 from SIPAS), committed."""
    scheme, _ = par_settings.save_scheme(session, scope, PAR_SCHEME | changes, NOW)
    session.commit()
    return scheme

"""String enums stored as VARCHAR (portable migrations)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


class UnitLevel(enum.StrEnum):
    """Since 1 July 2025: province → department (Sở) or Public Administration Service Centre
    (Trung tâm phục vụ hành chính công, Nghị định 118/2025/NĐ-CP) or commune/ward; the district
    level stays for the history of units merged away."""

    PROVINCE = "province"
    DEPARTMENT = "department"
    CENTRE = "centre"
    DISTRICT = "district"
    COMMUNE = "commune"


class Stream(enum.StrEnum):
    """Official SIPAS sample (linked to a returned dossier) or general counter feedback."""

    OFFICIAL = "official"
    GENERAL = "general"


class Channel(enum.StrEnum):
    QR = "qr"
    KIOSK = "kiosk"
    LINK = "link"
    PAPER = "paper"
    IMPORT = "import"


class ResponseStatus(enum.StrEnum):
    REPORTABLE = "reportable"
    SPAM = "spam"
    TEST = "test"
    DELETED = "deleted"


class RespondentType(enum.StrEnum):
    INDIVIDUAL = "individual"
    ORGANISATION = "organisation"


class DossierStatus(enum.StrEnum):
    """Where a dossier stands; each one-stop system's own status codes are mapped onto these."""

    RECEIVED = "received"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class Role(enum.StrEnum):
    ADMIN = "admin"
    PAR_OFFICE = "par_office"
    UNIT_MANAGER = "unit_manager"
    COUNTER_STAFF = "counter_staff"


class ItemKind(enum.StrEnum):
    """rating: on the instrument's scale; choice: own options; text: free text."""

    RATING = "rating"
    CHOICE = "choice"
    TEXT = "text"


class InstrumentStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


def str_enum(cls: type[enum.StrEnum], length: int = 20) -> Enum:
    """A non-native enum column storing the values, with a named CHECK constraint."""
    return Enum(
        cls,
        native_enum=False,
        length=length,
        values_callable=_values,
        create_constraint=True,
        name=cls.__name__.lower(),
        validate_strings=True,
    )


def _values(cls: Any) -> list[str]:
    return [member.value for member in cls]

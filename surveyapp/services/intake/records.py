"""One dossier record as a one-stop system sends it, validated by one pydantic model that also
writes the OpenAPI schema. Our field names and the national ones (the ``DongBoHoSoMC`` records
one-stop systems synchronise with the national public service portal) are both accepted; dates
are ISO 8601 or ``yyyyMMddHHmmss``, local time when they carry no offset."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from surveyapp.models import DossierStatus, RespondentType
from surveyapp.services.validation import CODE_PATTERN, error_template, has_control_characters

DOSSIER_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,59}$")
COMPACT_RE = re.compile(r"^\d{14}$")  # yyyyMMddHHmmss
MAX_BATCH = 500
OUR_STATUSES = {s.value: s for s in DossierStatus}
RESPONDENT_CODES = {
    "1": RespondentType.INDIVIDUAL,
    "individual": RespondentType.INDIVIDUAL,
    "2": RespondentType.ORGANISATION,
    "organisation": RespondentType.ORGANISATION,
    "organization": RespondentType.ORGANISATION,
}


def _text(value: Any) -> Any:
    """Numbers become their text (systems send codes as numbers); blanks become None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(int(value)) if float(value).is_integer() else str(value)
    if isinstance(value, str):
        value = value.strip()
        if has_control_characters(value):
            raise ValueError("chứa ký tự điều khiển")
        return value or None
    return value


Text = Annotated[str | None, BeforeValidator(_text)]


def _named(ours: str, *national: str, **extra: Any) -> Any:
    """A field read under our name or a national one (documented in the OpenAPI schema)."""
    return Field(
        default=extra.pop("default", None),
        validation_alias=AliasChoices(ours, *national),
        json_schema_extra={"x-national-names": list(national)} if national else None,
        **extra,
    )


class DossierRecord(BaseModel):
    """A dossier (hồ sơ) of the one-stop system."""

    model_config = ConfigDict(extra="ignore", str_max_length=500)

    code: Annotated[str, BeforeValidator(_text)] = _named(
        "code",
        "MaHoSo",
        default=...,
        description="Mã hồ sơ (dossier code), unique in the province.",
        pattern=DOSSIER_CODE_RE.pattern,
    )
    unit_code: Annotated[str, BeforeValidator(_text)] = _named(
        "unit_code",
        "DonViXuLy",
        default=...,
        description="Code of the handling unit as it stands in the unit tree.",
        pattern=CODE_PATTERN,
    )
    receiving_unit_code: Text = _named(
        "receiving_unit_code",
        "NoiTiepNhan",
        description="Unit (e.g. a Public Administration Service Centre) that received the "
        "dossier, when it is not the handling unit.",
        pattern=CODE_PATTERN,
    )
    counter_code: Text = _named(
        "counter_code", description="Counter (quầy) that received it.", pattern=CODE_PATTERN
    )
    procedure_code: Text = _named(
        "procedure_code", "MaTTHC", description="National procedure code.", pattern=CODE_PATTERN
    )
    procedure_name: Text = _named("procedure_name", "TenTTHC", max_length=500)
    field_code: Text = _named(
        "field_code", "MaLinhVuc", description="Service field code.", pattern=CODE_PATTERN
    )
    staff_code: Text = _named(
        "staff_code",
        "MaCanBoTiepNhan",
        "CanBoTiepNhan",
        description="Staff code of the receiving official (staff register).",
        pattern=CODE_PATTERN,
    )
    respondent_type: Text = _named(
        "respondent_type",
        "LoaiDoiTuong",
        description="1 or individual (citizen); 2 or organisation (business, organisation).",
    )
    phone: Text = _named(
        "phone", "SoDienThoai", description="For the rating invitation only.", max_length=30
    )
    email: Text = _named("email", "Email", description="For the rating invitation only.")
    received_at: Annotated[str, BeforeValidator(_text)] = _named(
        "received_at",
        "NgayTiepNhan",
        default=...,
        description="ISO 8601 or yyyyMMddHHmmss (local time without an offset).",
    )
    due_at: Text = _named("due_at", "NgayHenTra", description="Due date (hẹn trả).")
    returned_at: Text = _named("returned_at", "NgayTra", description="Result returned.")
    status: Text = _named(
        "status",
        "TrangThaiHoSo",
        description="received, returned, cancelled, or the system's own code as mapped by "
        "SURVEYAPP_DOSSIER_STATUS_MAP.",
        max_length=40,
    )

    @field_validator("respondent_type")
    @classmethod
    def _respondent(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in RESPONDENT_CODES:
            raise ValueError("dùng 1 (cá nhân) hoặc 2 (tổ chức)")
        return value


class ProblemOut(BaseModel):
    """Why a record was refused (``problems``) or stored without a value (``warnings``)."""

    field: str | None = Field(description="The field, in our naming; null: the whole record.")
    message: str = Field(description="What is wrong, in Vietnamese.")


class OutcomeOut(BaseModel):
    index: int = Field(description="Position of the record in the batch, from 0.")
    code: str | None = Field(description="Its dossier code, when it had a readable one.")
    result: str = Field(
        description="created, updated, unchanged or refused",
        json_schema_extra={"enum": ["created", "updated", "unchanged", "refused"]},
    )
    problems: list[ProblemOut] | None = None
    warnings: list[ProblemOut] | None = None


class BatchOut(BaseModel):
    """The answer to a batch: every record's outcome, in the order sent."""

    batch: int = Field(description="Number of this batch in the intake log.")
    counts: dict[str, int] = Field(description="Records per outcome.")
    results: list[OutcomeOut]


class BatchIn(BaseModel):
    """A batch of dossier records (a bare JSON array of records is accepted too)."""

    dossiers: list[DossierRecord] = Field(min_length=1, max_length=MAX_BATCH)


@dataclass(frozen=True)
class Dates:
    received_at: datetime
    due_at: datetime | None
    returned_at: datetime | None


@dataclass
class Problem:
    """Why a record (or one of its fields) was refused or set aside: a Vietnamese msgid with
    parameters, and the field in our naming."""

    field: str | None
    message: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class Parsed:
    """A record checked on its own: the values to store, or the problems refusing it."""

    record: DossierRecord | None
    dates: Dates | None = None
    status: DossierStatus = DossierStatus.RECEIVED
    respondent_type: RespondentType | None = None
    phone: str | None = None
    email: str | None = None
    problems: list[Problem] = dataclasses.field(default_factory=list)  # refuse the record
    warnings: list[Problem] = dataclasses.field(default_factory=list)  # stored without that value


def parse(raw: object, statuses: Mapping[str, DossierStatus], timezone: str) -> Parsed:
    """Check one record; the field checks of the schema, then dates, status and contacts."""
    if not isinstance(raw, dict):
        return Parsed(None, problems=[Problem(None, "bản ghi phải là một đối tượng JSON")])
    try:
        record = DossierRecord.model_validate(raw)
    except ValidationError as error:
        return Parsed(None, problems=[_problem(e) for e in error.errors()])
    parsed = Parsed(record)
    zone = ZoneInfo(timezone)
    moments: dict[str, datetime | None] = {}
    for name in ("received_at", "due_at", "returned_at"):
        text = getattr(record, name)
        try:
            moments[name] = parse_moment(text, zone) if text else None
        except ValueError:
            parsed.problems.append(
                Problem(
                    name,
                    "%(field)s '%(value)s' không phải thời điểm ISO 8601 hay yyyyMMddHHmmss",
                    {"field": name, "value": text[:30]},
                )
            )
    if parsed.problems:
        return parsed
    received = moments["received_at"] or datetime.min.replace(tzinfo=UTC)  # required: set
    for name in ("due_at", "returned_at"):
        moment = moments[name]
        if moment is not None and moment < received:
            parsed.problems.append(
                Problem(name, "%(field)s sớm hơn ngày tiếp nhận", {"field": name})
            )
    parsed.dates = Dates(received, moments["due_at"], moments["returned_at"])
    parsed.status = _status(record, parsed, statuses)
    if record.respondent_type:
        parsed.respondent_type = RESPONDENT_CODES[record.respondent_type.lower()]
    parsed.phone = _phone(record.phone, parsed)
    parsed.email = _email(record.email, parsed)
    return parsed


def parse_moment(text: str, zone: ZoneInfo) -> datetime:
    """An aware UTC moment from ISO 8601 or ``yyyyMMddHHmmss``; local ``zone`` without offset."""
    if COMPACT_RE.match(text):
        moment = datetime.strptime(text, "%Y%m%d%H%M%S")
    else:
        moment = datetime.fromisoformat(text)
    if not 1900 <= moment.year <= 2999:
        raise ValueError(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _status(
    record: DossierRecord, parsed: Parsed, statuses: Mapping[str, DossierStatus]
) -> DossierStatus:
    returned = parsed.dates is not None and parsed.dates.returned_at is not None
    derived = DossierStatus.RETURNED if returned else DossierStatus.RECEIVED
    if record.status is None:
        return derived
    status = statuses.get(record.status) or OUR_STATUSES.get(record.status.lower())
    if status is None:
        parsed.warnings.append(
            Problem(
                "status",
                "mã trạng thái '%(value)s' chưa được ánh xạ; xác định theo ngày trả",
                {"value": record.status[:40]},
            )
        )
        return derived
    if status is DossierStatus.RETURNED and not returned:
        parsed.problems.append(
            Problem("returned_at", "hồ sơ đã trả kết quả cần ngày trả (returned_at, NgayTra)")
        )
    return status


def _phone(text: str | None, parsed: Parsed) -> str | None:
    if not text:
        return None
    try:
        number = phonenumbers.parse(text, "VN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        parsed.warnings.append(
            Problem("phone", "số điện thoại không hợp lệ, không lưu; không gửi được lời mời")
        )
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _email(text: str | None, parsed: Parsed) -> str | None:
    if not text:
        return None
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        parsed.warnings.append(
            Problem("email", "địa chỉ e-mail không hợp lệ, không lưu; không gửi được lời mời")
        )
        return None


def _problem(error: Any) -> Problem:
    name = str(error["loc"][0]) if error.get("loc") else None
    if name is not None and name not in DossierRecord.model_fields:
        # An alias was read: name the field in our words.
        name = next(
            (f for f, info in DossierRecord.model_fields.items() if _has_alias(info, name)), name
        )
    template, params = error_template(error)
    return Problem(name, template, {"field": name, **params})


def _has_alias(info: Any, name: str) -> bool:
    alias = info.validation_alias
    return isinstance(alias, AliasChoices) and name in alias.choices


def status_map(setting: str | Mapping[str, str] | None) -> dict[str, DossierStatus]:
    """SURVEYAPP_DOSSIER_STATUS_MAP ("10=returned,11=returned,3=cancelled", or a mapping from
    a config file) as the system's code → our status; raises ValueError naming a bad entry."""
    if not setting:
        return {}
    pairs = (
        setting.items()
        if isinstance(setting, Mapping)
        else (p.split("=", 1) if "=" in p else (p, "") for p in setting.split(",") if p.strip())
    )
    out = {}
    for code, meaning in pairs:
        if meaning.strip() not in OUR_STATUSES:
            raise ValueError(f"{code}={meaning}: the meaning must be received, returned, cancelled")
        out[str(code).strip()] = OUR_STATUSES[meaning.strip()]
    return out

"""A batch of dossier records upserted by dossier code. Each record ends created, updated,
unchanged or refused with its reasons; one bad record never blocks the others and is never half
stored. Contacts kept for the invitation only (Nghị định 13/2023/NĐ-CP): once erased, a re-sent
record does not bring them back. The batch log keeps counts, never personal data."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, text
from sqlalchemy.orm import Session

from surveyapp.models import (
    ApiToken,
    Counter,
    Dossier,
    DossierStatus,
    IntakeBatch,
    Procedure,
    ServiceField,
    Staff,
    Unit,
    User,
)
from surveyapp.services.access import Permission, Scope
from surveyapp.services.intake.records import Parsed, Problem, parse
from surveyapp.services.org import catalogue

FUTURE_SKEW = timedelta(minutes=10)  # clocks of the one-stop system and ours may differ a little
# What a record sets, compared to tell "updated" from "unchanged".
COMPARED = (
    "unit_id",
    "receiving_unit_id",
    "counter_id",
    "field_code",
    "procedure_code",
    "procedure_name",
    "staff_code",
    "respondent_type",
    "status",
    "status_code",
    "received_at",
    "due_at",
    "returned_at",
    "phone",
    "email",
)


class Result(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


@dataclass
class Outcome:
    index: int  # position in the batch (0-based), or the file's line
    code: str | None
    result: Result
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


@dataclass
class BatchResult:
    outcomes: list[Outcome]
    batch_id: int | None = None
    returned: list[Dossier] = field(default_factory=list)  # newly returned: to invite

    def count(self, result: Result) -> int:
        return sum(1 for o in self.outcomes if o.result is result)

    @property
    def counts(self) -> dict[str, int]:
        return {r.value: self.count(r) for r in Result}


@dataclass(frozen=True)
class IntakeOptions:
    statuses: Mapping[str, DossierStatus]
    timezone: str
    source: str = "api"  # "api", "file", "demo"
    token_id: int | None = None

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], source: str, token_id: int | None = None
    ) -> IntakeOptions:
        return cls(config["DOSSIER_STATUS_MAP"], config["TIMEZONE"], source, token_id)


Invite = Callable[[Session, Sequence[Dossier], datetime], None]


def receive(
    session: Session,
    scope: Scope,
    records: Sequence[object],
    options: IntakeOptions,
    now: datetime,
    *,
    lines: Sequence[int] | None = None,
    invite: Invite | None = None,
) -> BatchResult:
    """Upsert ``records`` (dicts in our or the national naming) for units in ``scope``; flushes.
    Every record is checked before anything is written, so the flush fails only when a concurrent
    batch stored one of these codes first (IntegrityError): the caller rolls back and sends the
    batch again, which then finds the dossier and updates it.
    ``lines`` numbers the records in the answer (a file's lines; default their positions).
    Dossiers that are returned with a contact are handed to ``invite`` (the invitations)."""
    scope.require(Permission.WRITE_DOSSIERS)
    if session.get_bind().dialect.name == "postgresql":
        # Lookups of 500 codes at a time: plan each with the table's size of now. A generic plan
        # cached while the table was small scans it whole until the next ANALYZE (hours, on a
        # server without autovacuum): 0.6 s a batch at 50,000 dossiers instead of 2 ms.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    parsed = [parse(raw, options.statuses, options.timezone) for raw in records]
    lookup = _Lookup(session, [p for p in parsed if p.record is not None])
    outcomes: list[Outcome] = []
    staged: list[tuple[Outcome, Parsed, dict[str, Any]]] = []
    seen: set[str] = set()
    for position, item in enumerate(parsed):
        code = item.record.code if item.record else _raw_code(records[position])
        index = lines[position] if lines is not None else position
        outcome = Outcome(index, code, Result.REFUSED, item.problems, item.warnings)
        outcomes.append(outcome)
        if item.problems or item.record is None:
            continue
        if item.record.code in seen:
            outcome.problems.append(
                Problem("code", "mã hồ sơ lặp lại trong cùng một lô; gửi một bản ghi mỗi hồ sơ")
            )
            continue
        seen.add(item.record.code)
        values = _values(item, lookup, scope, outcome, now)
        if values is not None:
            staged.append((outcome, item, values))
    fresh: list[dict[str, Any]] = []
    returned = [d for o, i, v in staged if (d := _apply(lookup, o, v, now, fresh))]
    session.flush()  # the updates
    if fresh:
        # New dossiers in one executemany (the driver pipelines it), not one ORM object each.
        session.execute(insert(Dossier), fresh)
        inviting = [r["code"] for r in fresh if _invitable(r)]
        if inviting:
            returned.extend(session.scalars(select(Dossier).where(Dossier.code.in_(inviting))))
    result = BatchResult(outcomes, returned=returned)
    batch = IntakeBatch(
        source=options.source,
        token_id=options.token_id,
        user_id=scope.user_id,
        received=len(records),
        created=result.count(Result.CREATED),
        updated=result.count(Result.UPDATED),
        unchanged=result.count(Result.UNCHANGED),
        refused=result.count(Result.REFUSED),
        created_at=now,
    )
    session.add(batch)
    session.flush()
    result.batch_id = batch.id
    if invite is not None and returned:
        invite(session, returned, now)
    return result


def intake_log(session: Session, scope: Scope, limit: int = 20) -> list[IntakeBatch]:
    """The newest batches received by the intake tokens of units in scope, or loaded by
    officials of units in scope (an admin sees all, the command line's and the demo's too)."""
    query = select(IntakeBatch).order_by(IntakeBatch.id.desc()).limit(limit)
    if scope.unit_ids is not None:
        by_token = select(ApiToken.id).where(scope.where(ApiToken.unit_id))
        by_user = select(User.id).where(scope.where(User.unit_id))
        query = query.where(
            or_(IntakeBatch.token_id.in_(by_token), IntakeBatch.user_id.in_(by_user))
        )
    return list(session.scalars(query))


def _raw_code(raw: object) -> str | None:
    if isinstance(raw, dict):
        value = raw.get("code", raw.get("MaHoSo"))
        return str(value)[:60] if isinstance(value, str | int) else None
    return None


class _Lookup:
    """Everything the batch's records name, read in one query per kind."""

    def __init__(self, session: Session, parsed: list[Parsed]) -> None:
        self.session = session
        records = [p.record for p in parsed if p.record is not None]
        unit_codes = {r.unit_code for r in records} | {
            r.receiving_unit_code for r in records if r.receiving_unit_code
        }
        self.units = self._by_code(Unit, unit_codes)
        self.counters = self._by_code(Counter, {r.counter_code for r in records if r.counter_code})
        field_codes = {r.field_code for r in records if r.field_code}
        self.fields = self._ids(ServiceField, field_codes)
        procedure_codes = {r.procedure_code for r in records if r.procedure_code}
        self.procedures = {p.code: p for p in self._chunks(Procedure, procedure_codes)}
        # Codes the catalogue knows by another code, as an official mapped them.
        if missing := field_codes - self.fields.keys():
            aliased = catalogue.resolve_aliases(session, "field", missing)
            self.fields.update({code: field.id for code, field in aliased.items()})
        if missing := procedure_codes - self.procedures.keys():
            self.procedures.update(catalogue.resolve_aliases(session, "procedure", missing))
        self.staff = self._ids(Staff, {r.staff_code for r in records if r.staff_code})
        self.dossiers: dict[str, Dossier] = {}
        self.load_dossiers([r.code for r in records])

    def load_dossiers(self, codes: Iterable[str]) -> None:
        self.dossiers.update(self._by_code(Dossier, set(codes), lock=True))

    def _chunks(self, model: Any, codes: set[str], lock: bool = False) -> list[Any]:
        found: list[Any] = []
        ordered = sorted(codes)
        for start in range(0, len(ordered), 500):
            query = select(model).where(model.code.in_(ordered[start : start + 500]))
            if lock:
                query = query.with_for_update()
            found.extend(self.session.scalars(query))
        return found

    def _by_code(self, model: Any, codes: set[str], lock: bool = False) -> dict[str, Any]:
        return {row.code: row for row in self._chunks(model, codes, lock)}

    def _ids(self, model: Any, codes: set[str]) -> dict[str, int]:
        return {row.code: row.id for row in self._chunks(model, codes)}


def _values(
    item: Parsed, lookup: _Lookup, scope: Scope, outcome: Outcome, now: datetime
) -> dict[str, Any] | None:
    """The columns a record sets, or None (with the problem on ``outcome``) if it is refused."""
    record, dates = item.record, item.dates
    if record is None or dates is None:
        return None
    unit = lookup.units.get(record.unit_code)
    if unit is None:
        outcome.problems.append(
            Problem("unit_code", "không có đơn vị '%(code)s'", {"code": record.unit_code})
        )
        return None
    if not scope.covers(unit.id):
        outcome.problems.append(
            Problem(
                "unit_code",
                "đơn vị '%(code)s' không thuộc phạm vi của mã truy cập",
                {"code": unit.code},
            )
        )
        return None
    existing = lookup.dossiers.get(record.code)
    if existing is not None and not scope.covers(existing.unit_id):
        outcome.problems.append(
            Problem("code", "hồ sơ này thuộc một đơn vị ngoài phạm vi của mã truy cập")
        )
        return None
    for name in ("received_at", "returned_at"):
        moment = getattr(dates, name)
        if moment is not None and moment > now + FUTURE_SKEW:
            outcome.problems.append(
                Problem(name, "%(field)s ở thời điểm trong tương lai", {"field": name})
            )
    if outcome.problems:
        return None
    receiving = None
    if record.receiving_unit_code:
        receiving = lookup.units.get(record.receiving_unit_code)
        if receiving is None:
            outcome.warnings.append(
                Problem(
                    "receiving_unit_code",
                    "không có đơn vị tiếp nhận '%(code)s'; ghi nhận theo đơn vị xử lý",
                    {"code": record.receiving_unit_code},
                )
            )
    counter_id = None
    if record.counter_code:
        counter = lookup.counters.get(record.counter_code)
        place = receiving or unit
        if counter is None or counter.unit_id != place.id:
            outcome.warnings.append(
                Problem(
                    "counter_code",
                    "quầy '%(code)s' không thuộc đơn vị tiếp nhận '%(unit)s'; không ghi quầy",
                    {"code": record.counter_code, "unit": place.code},
                )
            )
        else:
            counter_id = counter.id
    procedure = lookup.procedures.get(record.procedure_code or "")
    field_id = lookup.fields.get(record.field_code or "")
    if field_id is None and procedure is not None:
        field_id = procedure.service_field_id
    phone, email = item.phone, item.email
    if existing is not None and existing.contact_erased_at is not None:
        phone = email = None  # erased once the rating window closed: never stored again
    return {
        "unit_id": unit.id,
        "receiving_unit_id": receiving.id if receiving else None,
        "counter_id": counter_id,
        "field_code": record.field_code,
        "service_field_id": field_id,
        "procedure_code": record.procedure_code,
        "procedure_id": procedure.id if procedure else None,
        "procedure_name": record.procedure_name,
        "staff_code": record.staff_code,
        "staff_id": lookup.staff.get(record.staff_code or ""),
        "respondent_type": item.respondent_type,
        "status": item.status,
        "status_code": record.status,
        "received_at": dates.received_at,
        "due_at": dates.due_at,
        "returned_at": dates.returned_at,
        "phone": phone,
        "email": email,
    }


def _apply(
    lookup: _Lookup,
    outcome: Outcome,
    values: dict[str, Any],
    now: datetime,
    fresh: list[dict[str, Any]],
) -> Dossier | None:
    """Stage one record: a new row into ``fresh``, or the changes on the stored dossier; the
    stored dossier if it is now returned with a contact (the invitations skip one invited)."""
    code = outcome.code or ""
    dossier = lookup.dossiers.get(code)
    if dossier is None:
        fresh.append({"code": code, "created_at": now, "updated_at": now, **values})
        outcome.result = Result.CREATED
        return None
    if not any(_differs(getattr(dossier, k), values[k]) for k in COMPARED):
        outcome.result = Result.UNCHANGED
        return None
    for key, value in values.items():
        setattr(dossier, key, value)
    dossier.updated_at = now
    outcome.result = Result.UPDATED
    return dossier if _invitable(values) else None


def _invitable(values: dict[str, Any]) -> bool:
    return values["status"] is DossierStatus.RETURNED and bool(values["phone"] or values["email"])


def _differs(stored: Any, new: Any) -> bool:
    if isinstance(stored, datetime) and isinstance(new, datetime):
        return abs((stored - new).total_seconds()) >= 1
    return bool(stored != new)

"""Accepting a citizen's submission: check, store answers, keep the rollup in step."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import (
    Answer,
    AnswerCount,
    Campaign,
    Channel,
    Comment,
    Counter,
    Domain,
    Dossier,
    Instrument,
    Item,
    ItemKind,
    RespondentType,
    Response,
    ResponseStatus,
    Stream,
    Unit,
    campaign_units,
)
from surveyapp.services.errors import N_, Conflict, Gone, InvalidInput
from surveyapp.services.units import ancestor_ids

RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or typed safely


@dataclass(frozen=True)
class Submission:
    """What a citizen sent: answers by item code, and the optional extras."""

    idempotency_key: str
    answers: Mapping[str, int | str]
    comment: str | None = None
    contact: str | None = None
    dossier_code: str | None = None
    locale: str = "vi"
    extra: Mapping[str, str] = field(default_factory=dict)


def local_period(moment: datetime, timezone: str) -> int:
    """The YYYYMM month of ``moment`` in the province's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.year * 100 + local.month


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def find_open_campaign(session: Session, unit: Unit, day: date, stream: Stream) -> Campaign | None:
    """The newest open campaign of ``stream`` that covers ``unit`` (directly or via an ancestor)."""
    return session.scalars(
        select(Campaign)
        .join(campaign_units, campaign_units.c.campaign_id == Campaign.id)
        .where(
            campaign_units.c.unit_id.in_(ancestor_ids(unit)),
            Campaign.stream == stream,
            Campaign.is_closed.is_(False),
            Campaign.starts_on <= day,
            Campaign.ends_on >= day,
        )
        .options(
            selectinload(Campaign.instrument).selectinload(Instrument.items),
            selectinload(Campaign.instrument)
            .selectinload(Instrument.domains)
            .selectinload(Domain.elements),
        )
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(1)
    ).first()


def find_response_by_key(session: Session, idempotency_key: str) -> Response | None:
    return session.scalar(select(Response).where(Response.idempotency_key == idempotency_key))


def check_answers(instrument: Instrument, answers: Mapping[str, int | str]) -> None:
    """Raise InvalidInput for an unknown item, a value off its scale, or a missing required one."""
    items = {item.code: item for item in instrument.items}
    for code in answers:
        if code not in items:
            raise InvalidInput(N_("Câu hỏi %(code)s không có trong phiếu."), field=code, code=code)
    for code, item in items.items():
        value = answers.get(code)
        if value is None or value == "":
            if item.is_required:
                raise InvalidInput(N_("Vui lòng trả lời câu hỏi này."), field=code)
            continue
        if item.kind is ItemKind.TEXT:
            if not isinstance(value, str):
                raise InvalidInput(N_("Câu trả lời phải là văn bản."), field=code)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (value not in item.allowed_values())
        ):
            raise InvalidInput(N_("Lựa chọn không hợp lệ."), field=code)


def accept_submission(
    session: Session,
    *,
    counter: Counter,
    channel: Channel,
    submission: Submission,
    now: datetime,
    timezone: str,
    comment_max_length: int,
) -> tuple[Response, bool]:
    """Store a counter submission; return (response, created). A repeated key returns the first."""
    existing = find_response_by_key(session, submission.idempotency_key)
    if existing is not None:
        return existing, False
    unit = counter.unit
    campaign = find_open_campaign(session, unit, local_date(now, timezone), Stream.GENERAL)
    if campaign is None:
        raise Gone(N_("Đợt khảo sát tại quầy này đã kết thúc hoặc chưa bắt đầu."))
    instrument = campaign.instrument
    check_answers(instrument, submission.answers)
    comment = (submission.comment or "").strip()
    if len(comment) > comment_max_length:
        raise InvalidInput(
            N_("Ý kiến dài quá %(max)s ký tự."), field="comment", max=comment_max_length
        )
    contact = (submission.contact or "").strip()
    if len(contact) > 200:
        raise InvalidInput(N_("Thông tin liên hệ dài quá 200 ký tự."), field="contact")
    dossier = None
    if submission.dossier_code:
        dossier = find_dossier_for_rating(session, unit, submission.dossier_code.strip())

    response = Response(
        receipt_code=new_receipt_code(),
        idempotency_key=submission.idempotency_key,
        instrument=instrument,
        campaign_id=campaign.id,
        unit_id=unit.id,
        counter_id=counter.id,
        dossier_id=dossier.id if dossier else None,
        channel=channel,
        stream=campaign.stream,
        status=ResponseStatus.REPORTABLE,
        submitted_at=now,
        period=local_period(now, timezone),
        locale=submission.locale,
    )
    items = {item.code: item for item in instrument.items}
    for code, value in submission.answers.items():
        if value is None or value == "":
            continue
        item = items[code]
        if isinstance(value, str):
            response.answers.append(Answer(item_id=item.id, text=value))
            continue
        response.answers.append(Answer(item_id=item.id, value=value))
        apply_profile_column(response, item, value)
    if comment:
        response.comment = Comment(body=comment, contact=contact or None, created_at=now)
    session.add(response)
    session.flush()
    add_to_rollup(session, rollup_keys(response))
    return response, True


def apply_profile_column(response: Response, item: Item, value: int) -> None:
    """Copy a profile answer to its response column (respondent type, sex, age band)."""
    for option in item.options or []:
        column, key = option.get("column"), option.get("key")
        if column and key and option["value"] == value:
            if column == "respondent_type":
                response.respondent_type = RespondentType(key)
            else:
                setattr(response, column, key)


def find_dossier_for_rating(session: Session, unit: Unit, code: str) -> Dossier:
    """The dossier ``code`` of ``unit``, if it has not been rated yet."""
    if len(code) > 60:
        raise InvalidInput(N_("Mã hồ sơ không hợp lệ."), field="dossier_code")
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None or dossier.unit_id != unit.id:
        raise InvalidInput(
            N_("Không tìm thấy mã hồ sơ này tại đơn vị. Vui lòng kiểm tra lại trên giấy hẹn."),
            field="dossier_code",
        )
    if session.scalar(select(Response.id).where(Response.dossier_id == dossier.id)):
        raise Conflict(N_("Hồ sơ này đã được đánh giá."), field="dossier_code")
    return dossier


RollupKey = tuple[int, int, str, int, int]  # unit_id, period, stream, item_id, level


def rollup_keys(response: Response) -> list[RollupKey]:
    """The rollup cells an ORM response adds to (none unless it is reportable)."""
    if response.status is not ResponseStatus.REPORTABLE:
        return []
    return [
        (response.unit_id, response.period, Stream(response.stream).value, a.item_id, a.value)
        for a in response.answers
        if a.value is not None
    ]


def add_to_rollup(session: Session, keys: Iterable[RollupKey], sign: int = 1) -> None:
    """Add (or with sign=-1 remove) one count per key to ``answer_counts``, in one statement."""
    deltas: dict[RollupKey, int] = {}
    for key in keys:
        deltas[key] = deltas.get(key, 0) + sign
    if not deltas:
        return
    rows = [
        {
            "unit_id": k[0],
            "period": k[1],
            "stream": k[2],
            "item_id": k[3],
            "level": k[4],
            "count": v,
        }
        for k, v in sorted(deltas.items())  # one lock order for every writer: no deadlocks
    ]
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(AnswerCount.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["unit_id", "period", "stream", "item_id", "level"],
        set_={"count": AnswerCount.__table__.c.count + stmt.excluded["count"]},
    )
    connection.execute(stmt, rows)


@dataclass
class NewResponse:
    """A response for bulk insertion: column values, (item_id, value, text) answers, comment."""

    values: dict[str, Any]
    answers: list[tuple[int, int | None, str | None]]
    comment: str | None = None


def insert_responses(session: Session, records: Sequence[NewResponse]) -> list[int]:
    """Insert many responses with their answers, comments and rollup counts; return their ids.

    Bulk statements (executemany/insertmanyvalues) instead of one ORM object per answer: the
    path for imports and demo data. ``values`` must hold every NOT NULL column of Response.
    """
    if not records:
        return []
    ids = list(
        session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True),
            [r.values for r in records],
        )
    )
    answers = [
        {"response_id": rid, "item_id": item_id, "value": value, "text": text}
        for rid, record in zip(ids, records, strict=True)
        for item_id, value, text in record.answers
    ]
    if answers:
        session.execute(insert(Answer), answers)
    comments = [
        {"response_id": rid, "body": r.comment, "created_at": r.values["submitted_at"]}
        for rid, r in zip(ids, records, strict=True)
        if r.comment
    ]
    if comments:
        session.execute(insert(Comment), comments)
    add_to_rollup(
        session,
        (
            (r.values["unit_id"], r.values["period"], Stream(r.values["stream"]).value, i, v)
            for r in records
            if r.values.get("status", ResponseStatus.REPORTABLE) == ResponseStatus.REPORTABLE
            for i, v, _t in r.answers
            if v is not None
        ),
    )
    return ids


def count_reportable_by_unit(session: Session) -> list[tuple[str, int]]:
    """(unit code, reportable responses) for each unit that has any, by unit code."""
    rows = session.execute(
        select(Unit.code, func.count(Response.id))
        .join(Response, Response.unit_id == Unit.id)
        .where(Response.status == ResponseStatus.REPORTABLE)
        .group_by(Unit.code)
        .order_by(Unit.code)
    )
    return [(code, count) for code, count in rows]

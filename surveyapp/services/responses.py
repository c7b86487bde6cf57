"""Accepting a citizen's submission: check, store answers, keep the rollup in step."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session, contains_eager, selectinload, sessionmaker

from surveyapp.models import (
    Answer,
    AnswerCount,
    Campaign,
    Channel,
    Comment,
    Counter,
    CounterToken,
    Dossier,
    Item,
    ItemKind,
    RespondentType,
    Response,
    ResponseStatus,
    Stream,
    Unit,
    campaign_units,
)
from surveyapp.services.anomalies import (
    WATCHED_CHANNELS,
    AnomalyRule,
    is_low_set,
    note_submission,
)
from surveyapp.services.cases import CasePolicy, open_case_if_needed
from surveyapp.services.errors import N_, Conflict, Gone, InvalidInput
from surveyapp.services.snapshots import InstrumentView, ItemView, instrument_view
from surveyapp.services.units import ancestor_ids, resolve_counter_token

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


# Built once: constructing a statement costs more than running it on the survey's hot path.
_OPEN_CAMPAIGN = (
    select(Campaign)
    .join(campaign_units, campaign_units.c.campaign_id == Campaign.id)
    .join(Campaign.instrument)
    .options(contains_eager(Campaign.instrument))
    .where(
        campaign_units.c.unit_id.in_(bindparam("unit_ids", expanding=True)),
        Campaign.stream == bindparam("stream"),
        Campaign.is_closed.is_(False),
        Campaign.starts_on <= bindparam("day"),
        Campaign.ends_on >= bindparam("day"),
    )
    .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
    .limit(1)
)
_RESPONSE_ID_BY_KEY = select(Response.id).where(Response.idempotency_key == bindparam("key"))


def find_open_campaign(session: Session, unit: Unit, day: date, stream: Stream) -> Campaign | None:
    """The newest open campaign of ``stream`` that covers ``unit`` (directly or via an ancestor)."""
    found = session.execute(
        _OPEN_CAMPAIGN, {"unit_ids": ancestor_ids(unit), "stream": stream, "day": day}
    ).first()
    return found[0] if found else None


def find_response_by_key(session: Session, idempotency_key: str) -> Response | None:
    """The response stored under a form's key (a plain lookup first: almost always none)."""
    session.flush()
    found = session.connection().execute(_RESPONSE_ID_BY_KEY, {"key": idempotency_key}).scalar()
    return None if found is None else session.get(Response, found)


def check_answers(
    instrument: InstrumentView, answers: Mapping[str, int | str], text_max_length: int
) -> None:
    """Raise InvalidInput for an unknown item, a value off its scale, a missing required one, or
    a free-text answer over ``text_max_length`` characters."""
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
            if len(value) > text_max_length:
                raise InvalidInput(
                    N_("Ý kiến dài quá %(max)s ký tự."), field=code, max=text_max_length
                )
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (value not in item.allowed_values())
        ):
            raise InvalidInput(N_("Lựa chọn không hợp lệ."), field=code)


@dataclass(frozen=True)
class Place:
    """A unit or counter as a survey page needs it: plain values, safe to keep between requests."""

    id: int
    name: str


@dataclass(frozen=True)
class OpenCampaign:
    """The campaign a submission joins, as it was when the target was resolved."""

    id: int
    stream: Stream
    starts_on: date
    ends_on: date

    @classmethod
    def of(cls, campaign: Campaign) -> OpenCampaign:
        return cls(campaign.id, campaign.stream, campaign.starts_on, campaign.ends_on)

    def is_open_on(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on


@dataclass(frozen=True)
class Target:
    """Where a submission goes: the unit, its open campaign, and the counter or dossier."""

    unit: Place
    campaign: OpenCampaign
    instrument: InstrumentView
    counter: Place | None = None
    dossier: Dossier | None = None  # fixed by a signed per-dossier link


@dataclass(frozen=True)
class Rules:
    """Limits from configuration."""

    timezone: str
    comment_max_length: int = 2000
    revision_window: timedelta = timedelta(hours=72)
    anomaly: AnomalyRule = AnomalyRule()
    low_rating_max: int = 2  # an element item answered 1..this opens a feedback case
    case_due_working_days: int = 10
    holidays: tuple[date, ...] = ()

    def case_policy(self) -> CasePolicy:
        return CasePolicy(
            self.timezone, self.case_due_working_days, self.low_rating_max, self.holidays
        )


def counter_target(session: Session, counter: Counter, now: datetime, timezone: str) -> Target:
    """The general-stream campaign open today at the counter's unit, or Gone."""
    return _target(
        session,
        counter.unit,
        local_date(now, timezone),
        Stream.GENERAL,
        N_("Đợt khảo sát tại quầy này đã kết thúc hoặc chưa bắt đầu."),
        counter=Place(counter.id, counter.name),
    )


def _target(
    session: Session,
    unit: Unit,
    day: date,
    stream: Stream,
    closed: str,
    counter: Place | None = None,
    dossier: Dossier | None = None,
) -> Target:
    """The target at ``unit`` with the campaign of ``stream`` open on ``day``; else Gone(closed)."""
    campaign = find_open_campaign(session, unit, day, stream)
    if campaign is None:
        raise Gone(closed)
    return Target(
        unit=Place(unit.id, unit.name),
        campaign=OpenCampaign.of(campaign),
        instrument=instrument_view(
            session, campaign.instrument_id, campaign.instrument.source_hash
        ),
        counter=counter,
        dossier=dossier,
    )


class CounterTargets:
    """Counter tokens resolved to their targets, kept for ``max_age`` seconds (one per app).

    A form and its submission both need the counter, its unit, the open campaign and the
    instrument: resolving them was a third of the survey's cost. A commit through ``sessions``
    that changes a unit, counter, token or campaign empties the cache at once (see ``watch``);
    another process sees such a change within ``max_age`` seconds. The date is checked on every
    use, so a campaign still ends on its last day.
    """

    WATCHED = (Unit, Counter, CounterToken, Campaign)

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self._entries: dict[str, tuple[float, Target]] = {}

    def get(self, session: Session, token: str, now: datetime, timezone: str) -> Target:
        """The target of an active counter token; NotFound or Gone as ``counter_target``."""
        entry = self._entries.get(token)
        if (
            entry is not None
            and time.monotonic() - entry[0] < self.max_age
            and entry[1].campaign.is_open_on(local_date(now, timezone))
        ):
            return entry[1]
        target = counter_target(session, resolve_counter_token(session, token), now, timezone)
        if self.max_age > 0:
            self._entries[token] = (time.monotonic(), target)
        return target

    def clear(self) -> None:
        self._entries.clear()

    def watch(self, sessions: sessionmaker[Session]) -> None:
        """Empty the cache after each commit of ``sessions`` that changed a watched object."""

        def note(session: Session, _context: Any, _instances: Any) -> None:
            changed = chain(session.new, session.dirty, session.deleted)
            if any(isinstance(obj, self.WATCHED) for obj in changed):
                session.info["targets_changed"] = True

        def committed(session: Session) -> None:
            if session.info.pop("targets_changed", False):
                self.clear()

        def rolled_back(session: Session, _previous: Any) -> None:
            session.info.pop("targets_changed", None)

        event.listen(sessions, "before_flush", note)
        event.listen(sessions, "after_commit", committed)
        event.listen(sessions, "after_soft_rollback", rolled_back)


def dossier_target(session: Session, dossier: Dossier, now: datetime, timezone: str) -> Target:
    """The official-stream campaign open today at the dossier's unit, or Gone."""
    return _target(
        session,
        session.get_one(Unit, dossier.unit_id),
        local_date(now, timezone),
        Stream.OFFICIAL,
        N_("Hiện không có đợt đánh giá nào đang mở cho hồ sơ này."),
        dossier=dossier,
    )


def answers_digest(answers: Mapping[str, int | str]) -> str:
    blob = "|".join(f"{code}={answers[code]}" for code in sorted(answers))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def accept_submission(
    session: Session,
    *,
    target: Target,
    channel: Channel,
    submission: Submission,
    now: datetime,
    rules: Rules,
) -> tuple[Response, bool]:
    """Store a submission; return (response, created). A repeated key returns the first.

    A signed dossier link may revise its rating within ``rules.revision_window``.
    """
    existing = find_response_by_key(session, submission.idempotency_key)
    if existing is not None:
        if not _issued_for(existing, target, channel):
            # A key belongs to the form it was issued with: replayed elsewhere it stores nothing
            # and acknowledges nothing.
            raise Conflict(KEY_REUSED, field="idempotency_key")
        return existing, False
    campaign = target.campaign
    if not campaign.is_open_on(local_date(now, rules.timezone)):
        raise Gone(N_("Đợt khảo sát tại quầy này đã kết thúc hoặc chưa bắt đầu."))
    instrument = target.instrument
    check_answers(instrument, submission.answers, rules.comment_max_length)
    comment = (submission.comment or "").strip()
    if len(comment) > rules.comment_max_length:
        raise InvalidInput(
            N_("Ý kiến dài quá %(max)s ký tự."), field="comment", max=rules.comment_max_length
        )
    contact = (submission.contact or "").strip()
    if len(contact) > 200:
        raise InvalidInput(N_("Thông tin liên hệ dài quá 200 ký tự."), field="contact")
    dossier = target.dossier
    if dossier is not None:
        previous = find_rating(session, dossier, lock=True)
        if previous is not None:
            if previous.submitted_at + rules.revision_window < now:
                raise Gone(N_("Hồ sơ này đã được đánh giá và đã hết thời hạn sửa đánh giá."))
            revised = revise_response(
                session, previous, instrument, submission, comment, contact, now
            )
            open_case_if_needed(
                session,
                revised,
                low_elements(instrument, submission.answers, rules),
                bool(comment),
                now,
                rules.case_policy(),
            )
            return revised, False
    elif submission.dossier_code:
        dossier = find_dossier_for_rating(session, target.unit.id, submission.dossier_code.strip())

    flag = None
    if target.counter is not None and channel in WATCHED_CHANNELS:
        low = is_low_set(instrument, submission.answers, rules.low_rating_max)
        flag = note_submission(session, target.counter.id, low, now, rules.anomaly)
    response = Response(
        receipt_code=new_receipt_code(),
        idempotency_key=submission.idempotency_key,
        instrument_id=instrument.id,
        campaign_id=campaign.id,
        unit_id=target.unit.id,
        counter_id=target.counter.id if target.counter else None,
        dossier_id=dossier.id if dossier else None,
        channel=channel,
        stream=campaign.stream,
        status=ResponseStatus.REPORTABLE,
        submitted_at=now,
        period=local_period(now, rules.timezone),
        locale=submission.locale,
        is_flagged=flag is not None,
        flag_reason=flag,
    )
    rows = _answer_rows(response, instrument, submission.answers)
    if comment:
        response.comment = Comment(body=comment, contact=contact or None, created_at=now)
    session.add(response)
    session.flush()
    # Answers go in one bulk statement (the hot path); ``response.answers`` loads on access.
    if rows:
        session.connection().execute(
            Answer.__table__.insert(), [{"response_id": response.id, **row} for row in rows]
        )
    add_to_rollup(
        session,
        (
            (response.unit_id, response.period, response.stream.value, row["item_id"], row["value"])
            for row in rows
            if row["value"] is not None
        ),
    )
    open_case_if_needed(
        session,
        response,
        low_elements(instrument, submission.answers, rules),
        bool(comment),
        now,
        rules.case_policy(),
        new_response=True,
    )
    return response, True


KEY_REUSED = N_(
    "Phiếu này đã được gửi từ một trang khác. Vui lòng bấm Gửi lại để gửi câu trả lời tại đây."
)


def _issued_for(response: Response, target: Target, channel: Channel) -> bool:
    """Whether ``response`` came from a form of this target and channel (its key's form)."""
    return (
        response.unit_id == target.unit.id
        and response.counter_id == (target.counter.id if target.counter else None)
        and response.channel == channel
        and (target.dossier is None or response.dossier_id == target.dossier.id)
    )


def low_elements(
    instrument: InstrumentView, answers: Mapping[str, int | str], rules: Rules
) -> list[str]:
    """Codes of the elements with an item answered low (1..low_rating_max), in form order."""
    low = []
    minimum = int(instrument.scale["min"])
    for item in instrument.items:
        value = answers.get(item.code)
        if (
            item.element is not None
            and isinstance(value, int)
            and minimum <= value <= rules.low_rating_max
            and item.element.code not in low
        ):
            low.append(item.element.code)
    return low


def _answer_rows(
    response: Response, instrument: InstrumentView, answers: Mapping[str, int | str]
) -> list[dict[str, Any]]:
    """Answer rows for the given values; profile answers also fill their response columns."""
    items = {item.code: item for item in instrument.items}
    rows: list[dict[str, Any]] = []
    for code, value in answers.items():
        if value is None or value == "":
            continue
        item = items[code]
        if isinstance(value, str):
            rows.append({"item_id": item.id, "value": None, "text": value})
            continue
        rows.append({"item_id": item.id, "value": value, "text": None})
        apply_profile_column(response, item, value)
    return rows


def revise_response(
    session: Session,
    response: Response,
    instrument: InstrumentView,
    submission: Submission,
    comment: str,
    contact: str,
    now: datetime,
) -> Response:
    """Replace a dossier rating's answers (and its rollup counts) with the revised ones."""
    add_to_rollup(session, rollup_keys(response), sign=-1)
    response.answers.clear()
    response.respondent_type = response.sex = response.age_band = None
    session.flush()
    for row in _answer_rows(response, instrument, submission.answers):
        response.answers.append(Answer(**row))
    response.idempotency_key = submission.idempotency_key
    response.updated_at = now
    if comment:
        if response.comment is None:
            response.comment = Comment(body=comment, contact=contact or None, created_at=now)
        else:
            response.comment.body, response.comment.contact = comment, contact or None
    elif response.comment is not None:
        response.comment = None
    session.flush()
    add_to_rollup(session, rollup_keys(response))
    return response


def find_rating(session: Session, dossier: Dossier, lock: bool = False) -> Response | None:
    """The dossier's rating; ``lock`` holds its row until commit (a revision, racing an official's
    moderation of the same response, must see the status that official committed)."""
    query = (
        select(Response)
        .where(Response.dossier_id == dossier.id)
        .options(selectinload(Response.answers), selectinload(Response.comment))
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalar(query)


def apply_profile_column(response: Response, item: Item | ItemView, value: int) -> None:
    """Copy a profile answer to its response column (respondent type, sex, age band)."""
    for option in item.options or []:
        column, key = option.get("column"), option.get("key")
        if column and key and option["value"] == value:
            if column == "respondent_type":
                response.respondent_type = RespondentType(key)
            else:
                setattr(response, column, key)


def find_dossier_for_rating(session: Session, unit_id: int, code: str) -> Dossier:
    """The dossier ``code`` of the unit, if it has not been rated yet."""
    if len(code) > 60:
        raise InvalidInput(N_("Mã hồ sơ không hợp lệ."), field="dossier_code")
    dossier = session.scalar(select(Dossier).where(Dossier.code == code))
    if dossier is None or dossier.unit_id != unit_id:
        raise InvalidInput(
            N_("Không tìm thấy mã hồ sơ này tại đơn vị. Vui lòng kiểm tra lại trên giấy hẹn."),
            field="dossier_code",
        )
    if session.scalar(select(Response.id).where(Response.dossier_id == dossier.id)):
        raise Conflict(N_("Hồ sơ này đã được đánh giá."), field="dossier_code")
    return dossier


RollupKey = tuple[int, int, str, int, int]  # unit_id, period, stream, item_id, level
ROLLUP_KEY_COLUMNS = ("unit_id", "period", "stream", "item_id", "level")


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
    table = AnswerCount.__table__
    if sign < 0:
        # Removing counts: a plain UPDATE (an upsert would check the negative row first).
        connection.execute(
            update(table)
            .where(*(table.c[k] == bindparam(f"k_{k}") for k in ROLLUP_KEY_COLUMNS))
            .values(count=table.c.count + bindparam("delta")),
            [
                {"delta": row["count"], **{f"k_{k}": row[k] for k in ROLLUP_KEY_COLUMNS}}
                for row in rows
            ],
        )
        return
    if connection.dialect.name == "postgresql":
        # One statement with array parameters, whatever the number of cells.
        columns = {k: [row[k] for row in rows] for k in (*ROLLUP_KEY_COLUMNS, "count")}
        connection.execute(_PG_ROLLUP_UPSERT, columns)
        return
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY_COLUMNS),
        set_={"count": table.c.count + stmt.excluded["count"]},
    )
    connection.execute(stmt, rows)


_PG_ROLLUP_UPSERT = text(
    """
    INSERT INTO answer_counts (unit_id, period, stream, item_id, level, count)
    SELECT * FROM unnest(
        CAST(:unit_id AS integer[]), CAST(:period AS integer[]), CAST(:stream AS varchar[]),
        CAST(:item_id AS integer[]), CAST(:level AS smallint[]), CAST(:count AS integer[])
    )
    ON CONFLICT (unit_id, period, stream, item_id, level)
    DO UPDATE SET count = answer_counts.count + excluded.count
    """
)


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

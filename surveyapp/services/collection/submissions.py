"""Accepting a citizen's submission: check the answers, store them (or revise a dossier's rating),
keep the rollup in step, open a feedback case when one is needed."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, selectinload

from surveyapp.db import table_of
from surveyapp.models import (
    Answer,
    Channel,
    Comment,
    Dossier,
    Item,
    ItemKind,
    RespondentType,
    Response,
    ResponseStatus,
    Stream,
)
from surveyapp.services.collection.anomalies import (
    WATCHED_CHANNELS,
    AnomalyRule,
    is_low_set,
    note_submission,
)
from surveyapp.services.collection.rollup import add_to_rollup, rollup_keys
from surveyapp.services.collection.targets import Target
from surveyapp.services.errors import N_, Conflict, Gone, InvalidInput
from surveyapp.services.feedback import triage
from surveyapp.services.feedback.cases import CasePolicy, open_case_if_needed
from surveyapp.services.instruments.snapshots import InstrumentView, ItemView
from surveyapp.services.periods import local_date, local_period

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


def new_response_values(
    *,
    idempotency_key: str,
    instrument_id: int,
    campaign_id: int | None,
    unit_id: int,
    counter_id: int | None,
    dossier_id: int | None,
    channel: Channel,
    stream: Stream,
    submitted_at: datetime,
    timezone: str,
    locale: str = "vi",
) -> dict[str, Any]:
    """The column values of a new reportable response (every write path builds it here): a
    fresh receipt code, and its reporting month in the province's time zone."""
    return {
        "receipt_code": new_receipt_code(),
        "idempotency_key": idempotency_key,
        "instrument_id": instrument_id,
        "campaign_id": campaign_id,
        "unit_id": unit_id,
        "counter_id": counter_id,
        "dossier_id": dossier_id,
        "channel": channel,
        "stream": stream,
        "status": ResponseStatus.REPORTABLE,
        "submitted_at": submitted_at,
        "period": local_period(submitted_at, timezone),
        "locale": locale,
    }


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


_RESPONSE_ID_BY_KEY = select(Response.id).where(Response.idempotency_key == bindparam("key"))


def find_response_by_key(session: Session, idempotency_key: str) -> Response | None:
    """The response stored under a form's key (a plain lookup first: almost always none)."""
    session.flush()
    found = session.connection().execute(_RESPONSE_ID_BY_KEY, {"key": idempotency_key}).scalar()
    return None if found is None else session.get(Response, found)


# The survey form (WTForms fills in length and max) and the services say it alike.
TEXT_TOO_LONG = N_("Ý kiến dài %(length)s ký tự; tối đa %(max)s ký tự.")


def refuse_long_text(text: str, max_length: int, field: str) -> None:
    """Refuse a comment or text answer over the limit, telling the citizen its length."""
    if len(text) > max_length:
        raise InvalidInput(TEXT_TOO_LONG, field=field, length=len(text), max=max_length)


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
            refuse_long_text(value, text_max_length, code)
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or (value not in item.allowed_values())
        ):
            raise InvalidInput(N_("Lựa chọn không hợp lệ."), field=code)


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
    case_triage: triage.TriageRule = triage.TriageRule()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Rules:
        """The rules as configured (SURVEYAPP_* settings; see surveyapp.config)."""
        return cls(
            timezone=config["TIMEZONE"],
            comment_max_length=config["COMMENT_MAX_LENGTH"],
            revision_window=timedelta(hours=config["DOSSIER_REVISION_HOURS"]),
            anomaly=AnomalyRule(
                window=timedelta(minutes=config["ANOMALY_WINDOW_MINUTES"]),
                rate_min=config["ANOMALY_RATE_MIN"],
                rate_factor=config["ANOMALY_RATE_FACTOR"],
                low_sets=config["ANOMALY_LOW_SETS"],
            ),
            low_rating_max=config["CASE_LOW_RATING_MAX"],
            case_due_working_days=config["CASE_DUE_WORKING_DAYS"],
            holidays=tuple(date.fromisoformat(d) for d in config["CASE_HOLIDAYS"]),
            case_triage=triage.TriageRule(
                open_compliments=config["CASE_OPEN_COMPLIMENTS"],
                open_anonymous_low=config["CASE_OPEN_ANONYMOUS_LOW"],
            ),
        )

    def case_policy(self) -> CasePolicy:
        return CasePolicy(
            self.timezone, self.case_due_working_days, self.low_rating_max, self.holidays
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
        raise Gone(target.closed)  # the counter's message, or the dossier link's
    instrument = target.instrument
    check_answers(instrument, submission.answers, rules.comment_max_length)
    comment = (submission.comment or "").strip()
    refuse_long_text(comment, rules.comment_max_length, "comment")
    contact = (submission.contact or "").strip()
    if len(contact) > 200:
        raise InvalidInput(N_("Thông tin liên hệ dài quá 200 ký tự."), field="contact")
    dossier = target.dossier
    if dossier is not None:
        previous = find_rating(session, dossier, lock=True)
        if previous is not None:
            if previous.submitted_at + rules.revision_window < now:
                raise Gone(N_("Hồ sơ này đã được đánh giá và đã hết thời hạn sửa đánh giá."))
            outcome = triage_submission(instrument, submission, comment, contact, True, rules)
            revised = revise_response(
                session, previous, instrument, submission, comment, contact, now
            )
            outcome.apply(revised)
            open_case_if_needed(
                session, revised, outcome.reason, outcome.low, now, rules.case_policy()
            )
            return revised, False
    elif submission.dossier_code:
        dossier = find_dossier_for_rating(session, target.unit.id, submission.dossier_code.strip())

    flag = None
    if target.counter is not None and channel in WATCHED_CHANNELS:
        low = is_low_set(instrument, submission.answers, rules.low_rating_max)
        flag = note_submission(session, target.counter.id, low, now, rules.anomaly)
    outcome = triage_submission(
        instrument, submission, comment, contact, dossier is not None, rules
    )
    response = Response(
        **new_response_values(
            idempotency_key=submission.idempotency_key,
            instrument_id=instrument.id,
            campaign_id=campaign.id,
            unit_id=target.unit.id,
            counter_id=target.counter.id if target.counter else None,
            dossier_id=dossier.id if dossier else None,
            channel=channel,
            stream=campaign.stream,
            submitted_at=now,
            timezone=rules.timezone,
            locale=submission.locale,
        ),
        is_flagged=flag is not None,
        flag_reason=flag,
    )
    rows = answer_rows(response, instrument, submission.answers)
    if comment:
        response.comment = Comment(body=comment, contact=contact or None, created_at=now)
    outcome.apply(response)
    session.add(response)
    session.flush()
    # Answers go in one bulk statement (the hot path); ``response.answers`` loads on access.
    if rows:
        session.connection().execute(
            table_of(Answer).insert(), [{"response_id": response.id, **row} for row in rows]
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
        session, response, outcome.reason, outcome.low, now, rules.case_policy(), new_response=True
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


@dataclass(frozen=True)
class Triage:
    """What a submission is for the inbox (services.feedback.triage): its low elements, the
    comment's kind and the reason of the case it opens (None: none)."""

    low: list[str]
    comment_kind: str
    reason: str | None

    def apply(self, response: Response) -> None:
        response.low_rating = bool(self.low)
        if response.comment is not None:
            response.comment.kind = self.comment_kind


def triage_submission(
    instrument: InstrumentView,
    submission: Submission,
    comment: str,
    contact: str,
    of_dossier: bool,
    rules: Rules,
) -> Triage:
    low = low_elements(instrument, submission.answers, rules)
    kind = triage.EMPTY
    if comment:
        kind = triage.comment_kind(comment, not low and ratings_all_top(instrument, submission))
    reason = triage.opens_case(
        comment, kind, bool(low), bool(contact) or of_dossier, rules.case_triage
    )
    return Triage(low, kind, reason)


def ratings_all_top(instrument: InstrumentView, submission: Submission) -> bool:
    """Every rating given is at the top of the scale (the top two of a scale of five or more)."""
    low, high = int(instrument.scale["min"]), int(instrument.scale["max"])
    top = high - 1 if high - low >= 4 else high
    values = [
        submission.answers.get(item.code)
        for item in instrument.items
        if item.kind is ItemKind.RATING
    ]
    given = [v for v in values if isinstance(v, int) and low <= v <= high]
    return bool(given) and all(v >= top for v in given)


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


def answer_rows(
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
    for row in answer_rows(response, instrument, submission.answers):
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

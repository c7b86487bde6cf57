"""A respondent's single-use link (/p/<token>): the group's questionnaire for one rated unit,
sent by e-mail, SMS or Zalo through the invitation channels, reminded, answered once. The
response keeps the group, never the link or the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from surveyapp.db import table_of
from surveyapp.models import (
    Answer,
    Channel,
    Comment,
    InvitationChannel,
    InvitationStatus,
    RaterLink,
    RespondentGroup,
    Response,
    Stream,
    localized,
)
from surveyapp.services.collection.submissions import (
    Rules,
    Submission,
    answer_rows,
    check_answers,
    find_response_by_key,
    new_response_values,
    refuse_long_text,
)
from surveyapp.services.collection.targets import Place
from surveyapp.services.errors import N_, Conflict, Gone, NotFound
from surveyapp.services.instruments.snapshots import InstrumentView, instrument_view
from surveyapp.services.invitations import channels, delivery
from surveyapp.services.invitations.settings import InviteSettings
from surveyapp.services.periods import local_date

LINK_INVALID = N_("Liên kết khảo sát không hợp lệ.")
ANSWERED = N_("Phiếu khảo sát này đã được gửi. Cảm ơn Quý vị đã tham gia.")
NOT_OPEN = N_("Đợt khảo sát này chưa bắt đầu hoặc đã kết thúc.")


@dataclass(frozen=True)
class RaterTarget:
    """What the survey page of a link shows and stores against: the rated unit, the group (its
    name per language) and its questionnaire. No counter, no dossier."""

    link_id: int
    unit: Place
    group_id: int
    group_name: dict[str, str]
    round_name: str
    instrument: InstrumentView
    counter: None = None
    dossier: None = None

    def group_label(self, locale: str) -> str:
        return localized(self.group_name, locale)


def link_of(session: Session, token: str) -> RaterLink:
    link = session.scalar(
        select(RaterLink)
        .options(
            joinedload(RaterLink.group).joinedload(RespondentGroup.round),
            joinedload(RaterLink.unit),
        )
        .where(RaterLink.token == token)
    )
    if link is None:
        raise NotFound(LINK_INVALID)
    return link


def target_of(session: Session, token: str, today: date) -> RaterTarget:
    """The survey of an unused link in an open round; NotFound, or Gone once answered, before
    the round starts or after it ends."""
    link = link_of(session, token)
    survey = link.group.round
    if link.used:
        raise Gone(ANSWERED)
    if survey.is_closed or not survey.starts_on <= today <= survey.ends_on:
        raise Gone(NOT_OPEN)
    instrument = link.group.instrument
    return RaterTarget(
        link_id=link.id,
        unit=Place(link.unit.id, link.unit.name),
        group_id=link.group_id,
        group_name=dict(link.group.name),
        round_name=survey.name,
        instrument=instrument_view(session, instrument.id, instrument.source_hash),
    )


def accept(
    session: Session, target: RaterTarget, submission: Submission, now: datetime, rules: Rules
) -> Response:
    """Store a respondent's answers and spend the link, in the caller's transaction (a repeated
    form key returns the first answer; a link spent in between is Gone). Nothing of the link or
    the person is stored with the answers; a comment is kept without any contact."""
    existing = find_response_by_key(session, submission.idempotency_key)
    if existing is not None:
        if existing.group_id != target.group_id or existing.unit_id != target.unit.id:
            raise Conflict(N_("Phiếu này đã được gửi từ một trang khác."), field="idempotency_key")
        return existing
    instrument = target.instrument
    check_answers(instrument, submission.answers, rules.comment_max_length)
    comment = (submission.comment or "").strip()
    refuse_long_text(comment, rules.comment_max_length, "comment")
    spent = session.execute(
        update(RaterLink)
        .where(RaterLink.id == target.link_id, RaterLink.used.is_(False))
        .values(used=True, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    if not getattr(spent, "rowcount", 0):
        raise Gone(ANSWERED)
    response = Response(
        **new_response_values(
            idempotency_key=submission.idempotency_key,
            instrument_id=instrument.id,
            campaign_id=None,
            unit_id=target.unit.id,
            counter_id=None,
            dossier_id=None,
            channel=Channel.LINK,
            stream=Stream.GENERAL,
            submitted_at=now,
            timezone=rules.timezone,
            locale=submission.locale,
        ),
        group_id=target.group_id,
    )
    rows = answer_rows(response, instrument, submission.answers)
    if comment:
        response.comment = Comment(body=comment, contact=None, created_at=now)
    session.add(response)
    session.flush()
    if rows:
        session.execute(
            table_of(Answer).insert(), [{"response_id": response.id, **row} for row in rows]
        )
    return response


def stop(session: Session, token: str, now: datetime) -> int:
    """The respondent asks for no more messages of this round: their links that are not
    answered are no longer sent or reminded; how many."""
    link = link_of(session, token)
    if link.respondent_id is None:
        return 0
    done = session.execute(
        update(RaterLink)
        .where(RaterLink.respondent_id == link.respondent_id, RaterLink.used.is_(False))
        .values(status=InvitationStatus.OPTED_OUT, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(done, "rowcount", 0) or 0)


# --- Sending ---------------------------------------------------------------------------------


def claim_due(
    session: Session, now: datetime, settings: InviteSettings, limit: int = 50
) -> list[RaterLink]:
    """Take up to ``limit`` due links for one attempt each (as dossier invitations are)."""
    taken = delivery.claim_ids(session, RaterLink, now, now + settings.lease, limit)
    if not taken:
        return []
    rows = sorted(
        session.scalars(
            select(RaterLink)
            .options(
                joinedload(RaterLink.respondent),
                joinedload(RaterLink.unit),
                joinedload(RaterLink.group).joinedload(RespondentGroup.round),
            )
            .where(RaterLink.id.in_(taken))
        ),
        key=lambda link: link.id,
    )
    for row in rows:
        session.refresh(row, ["attempts", "due_at", "updated_at"])
    return rows


def message_of(link: RaterLink, settings: InviteSettings) -> channels.Message:
    """The invitation (or reminder) of a link, in Vietnamese then English."""
    survey, unit, token = link.group.round, link.unit, link.token or ""
    url = f"{settings.base_url}/p/{token}"
    stop_url = f"{settings.base_url}/p/{token}/stop"
    again = "Nhắc lại: " if link.reminders else ""
    group = localized(link.group.name, "vi")
    name = link.respondent.name if link.respondent and link.respondent.name else "Quý vị"
    body = (
        f"Kính gửi {name},\n\n"
        f"{again}{settings.sender_name or 'Sở Nội vụ'} trân trọng mời Quý vị (nhóm {group}) "
        f"tham gia {survey.name}, đánh giá {unit.name}. Phiếu ẩn danh: câu trả lời không gắn với "
        f"tên hay liên hệ của Quý vị. Hạn trả lời: {survey.ends_on:%d/%m/%Y}.\n\n{url}\n\n"
        f"Liên kết dùng một lần. Không muốn nhận thư nhắc: {stop_url}\n\n"
        f"---\n{again and 'Reminder: '}You are invited to rate {unit.name_en or unit.name} "
        f"in {survey.name} (anonymous; one-time link, by {survey.ends_on:%Y-%m-%d}): {url}\n"
    )
    return channels.Message(
        dossier_code=survey.code,
        link=url,
        opt_out=stop_url,
        sender_name=settings.sender_name,
        tracking_id=f"p{link.id}",
        subject=f"{again}{survey.name}: đánh giá {unit.name}",
        body=body,
        sms=f"{again}Moi danh gia {unit.code} ({survey.code}): {{link}}",
    )


def deliver(
    session: Session,
    link: RaterLink,
    settings: InviteSettings,
    now: datetime,
    outbox: channels.Outbox,
) -> delivery.Sent:
    """Send a claimed link on the respondent's channel (network calls); record the outcome."""
    person = link.respondent
    survey = link.group.round
    if person is None or link.token is None or link.used or survey.is_closed:
        reason = "đã trả lời hoặc đợt đã kết thúc"
        return delivery.record(link, InvitationStatus.FAILED, link.channel, reason, now)
    if local_date(now, settings.timezone) > survey.ends_on:
        return delivery.record(link, InvitationStatus.FAILED, link.channel, "quá hạn đợt", now)
    email = person.contact if person.channel is InvitationChannel.EMAIL else None
    phone = None if email else person.contact
    if not settings.configured(person.channel):
        reason = f"kênh {person.channel.value} chưa được cấu hình"
        return delivery.record(link, InvitationStatus.FAILED, link.channel, reason, now)
    return delivery.attempt(
        outbox, settings, link, [person.channel], phone, email, message_of(link, settings), now
    )

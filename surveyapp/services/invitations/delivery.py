"""An invitation's life: offered once per returned dossier, held back by quiet hours, claimed by
one worker for a lease, sent on the first channel that works, retried with backoff on transient
failures, stopped by an opt-out; the dossier's contacts erased when its rating window closes.

Delivery is at least once: a worker that dies between the gateway's answer and the database
write leaves the invitation to be sent again after its lease (a second message is better than
none, and the rating itself is once per dossier)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session, joinedload

from surveyapp.models import (
    Dossier,
    DossierStatus,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    OptOut,
    RaterLink,
)
from surveyapp.services.invitations import channels
from surveyapp.services.invitations.settings import InviteSettings, QuietHours
from surveyapp.services.org import links

SIGNATURE_LENGTH = 8  # characters of base64url HMAC in a short link (48 bits)


def next_allowed(moment: datetime, quiet: QuietHours | None, timezone: str) -> datetime:
    """``moment``, or the end of the quiet hours it falls in (the next morning, local time)."""
    if quiet is None:
        return moment
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    if not quiet.covers(local.time().replace(tzinfo=None)):
        return moment
    end = local.replace(hour=quiet.end.hour, minute=quiet.end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(moment.tzinfo)


def offer(
    session: Session, dossiers: Sequence[Dossier], now: datetime, settings: InviteSettings
) -> int:
    """Queue one invitation for each dossier returned within ``settings.within`` with a contact
    that has none yet (ever:
    the dossier id is unique among invitations, so a concurrent offer fails the flush and the
    caller's retry finds it). Returns how many were queued."""
    recent = now - settings.within
    wanted = {
        d.id: d
        for d in dossiers
        if d.status is DossierStatus.RETURNED
        and d.has_contact
        and d.contact_erased_at is None
        and d.returned_at is not None
        and d.returned_at >= recent  # a file of last year's dossiers invites nobody
    }
    if not wanted:
        return 0
    have = set(
        session.scalars(select(Invitation.dossier_id).where(Invitation.dossier_id.in_(wanted)))
    )
    due = next_allowed(now, settings.quiet, settings.timezone)
    rows = [
        {
            "dossier_id": i,
            "status": InvitationStatus.QUEUED,
            "attempts": 0,
            "due_at": due,
            "contact_digests": [
                contact_digest(settings.contact_key, c) for c in (d.phone, d.email) if c
            ],
            "created_at": now,
            "updated_at": now,
        }
        for i, d in wanted.items()
        if i not in have
    ]
    if rows:
        session.execute(insert(Invitation), rows)  # one executemany for the batch
    return len(rows)


def claim_due(
    session: Session, now: datetime, settings: InviteSettings, limit: int = 50
) -> list[Invitation]:
    """Take up to ``limit`` due invitations for one attempt each, in one conditional UPDATE (a
    row another worker took in between is not updated, so each goes to one worker; PostgreSQL
    skips rows another worker is claiming). Each is due again after the lease should this worker
    die before recording the outcome."""
    taken = claim_ids(session, Invitation, now, now + settings.lease, limit)
    if not taken:
        return []
    found = session.scalars(
        select(Invitation).options(joinedload(Invitation.dossier)).where(Invitation.id.in_(taken))
    )
    rows = sorted(found, key=lambda i: i.id)
    for row in rows:
        session.refresh(row, ["attempts", "due_at", "updated_at"])
    return rows


def claim_ids(
    session: Session,
    model: type[Invitation] | type[RaterLink],
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[int]:
    """Ids of up to ``limit`` due queued rows of ``model`` (invitations or respondent links),
    each taken for one attempt by one conditional UPDATE (PostgreSQL skips rows another worker
    is claiming), due again at ``lease_until`` should this worker die before the outcome."""
    due = (
        select(model.id)
        .where(model.status == InvitationStatus.QUEUED, model.due_at <= now)
        .order_by(model.due_at, model.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(session.scalars(due))
    if not ids:
        return []
    return list(
        session.scalars(
            update(model)
            .where(model.id.in_(ids), model.status == InvitationStatus.QUEUED, model.due_at <= now)
            .values(attempts=model.attempts + 1, due_at=lease_until, updated_at=now)
            .returning(model.id),
            execution_options={"synchronize_session": False},
        )
    )


def contact_digest(secret: str, contact: str) -> str:
    """A keyed hash of a phone number (E.164) or an e-mail address, for the opt-out list."""
    return hmac.new(secret.encode(), f"optout:{contact}".encode(), hashlib.sha256).hexdigest()


def short_code(secret: str, invitation_id: int) -> str:
    """A short, unguessable code naming an invitation, so that an SMS fits one segment."""
    return f"{invitation_id:x}{_signature(secret, invitation_id)}"


def invitation_of(session: Session, secret: str, code: str) -> Invitation | None:
    head, signature = code[:-SIGNATURE_LENGTH], code[-SIGNATURE_LENGTH:]
    if not 1 <= len(head) <= 16 or any(c not in "0123456789abcdef" for c in head):
        return None
    invitation_id = int(head, 16)
    if not hmac.compare_digest(signature, _signature(secret, invitation_id)):
        return None
    return session.get(Invitation, invitation_id)


def _signature(secret: str, invitation_id: int) -> str:
    mac = hmac.new(secret.encode(), f"invitation:{invitation_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode()[:SIGNATURE_LENGTH]


@dataclass(frozen=True)
class Sent:
    status: InvitationStatus
    channel: InvitationChannel | None
    error: str | None


def deliver(
    session: Session,
    invitation: Invitation,
    settings: InviteSettings,
    now: datetime,
    outbox: channels.Outbox,
) -> Sent:
    """Send a claimed invitation (network calls) and record the outcome; flushes."""
    dossier = invitation.dossier
    phone, email = dossier.phone, dossier.email
    opted = set(
        session.scalars(select(OptOut.digest).where(OptOut.digest.in_(invitation.contact_digests)))
    )
    if phone and contact_digest(settings.contact_key, phone) in opted:
        phone = None
    if email and contact_digest(settings.contact_key, email) in opted:
        email = None
    usable = [
        c
        for c in settings.channels
        if settings.configured(c) and (email if c is InvitationChannel.EMAIL else phone)
    ]
    if not (phone or email) and (dossier.phone or dossier.email):
        return record(invitation, InvitationStatus.OPTED_OUT, None, None, now)
    if not usable:
        reason = "không có kênh gửi phù hợp (chưa cấu hình, hoặc thiếu liên hệ)"
        return record(invitation, InvitationStatus.FAILED, None, reason, now)
    code = short_code(settings.secret_key, invitation.id)
    message = channels.Message(
        dossier_code=dossier.code,
        link=f"{settings.base_url}/r/{code}",
        opt_out=f"{settings.base_url}/o/{code}",
        sender_name=settings.sender_name,
        tracking_id=str(invitation.id),
    )
    return attempt(outbox, settings, invitation, usable, phone, email, message, now)


def attempt(
    outbox: channels.Outbox,
    settings: InviteSettings,
    row: Invitation | RaterLink,
    usable: list[InvitationChannel],
    phone: str | None,
    email: str | None,
    message: channels.Message,
    now: datetime,
) -> Sent:
    """Send ``message`` on the first usable channel that works and record the outcome on the
    claimed ``row``. A permanent failure moves on to the next channel at once; after a transient
    one the retry (with backoff, up to the attempts allowed) starts from the channel that
    failed."""
    if row.channel in usable:
        usable = usable[usable.index(row.channel) :]
    last_error = "không gửi được"
    for channel in usable:
        try:
            channels.send(outbox, settings, channel, phone, email, message)
        except channels.Permanent as error:
            row.channel, last_error = channel, error.reason
            continue
        except channels.Transient as error:
            if row.attempts >= settings.max_attempts:
                return record(row, InvitationStatus.FAILED, channel, error.reason, now)
            wait = settings.retry * (2 ** (row.attempts - 1))
            row.due_at = next_allowed(now + wait, settings.quiet, settings.timezone)
            return record(row, InvitationStatus.QUEUED, channel, error.reason, now)
        row.sent_at = now
        return record(row, InvitationStatus.SENT, channel, None, now)
    return record(row, InvitationStatus.FAILED, row.channel, last_error, now)


def record(
    invitation: Invitation | RaterLink,
    status: InvitationStatus,
    channel: InvitationChannel | None,
    error: str | None,
    now: datetime,
) -> Sent:
    invitation.status, invitation.channel, invitation.error = status, channel, error
    invitation.updated_at = now
    return Sent(status, channel, error)


def rating_link(invitation: Invitation, secret_key: str, base_url: str) -> str:
    """Where a short link leads: the dossier's signed rating link (signed now, so that its
    validity counts from the citizen's first visit)."""
    return links.rating_url(base_url, links.dossier_token(secret_key, invitation.dossier))


def opt_out(session: Session, invitation: Invitation, now: datetime) -> int:
    """No more invitations to the phone and e-mail this invitation was for (even once the
    dossier's contacts are erased); how many were added to the list."""
    digests = list(invitation.contact_digests)
    known = set(session.scalars(select(OptOut.digest).where(OptOut.digest.in_(digests))))
    session.add_all(OptOut(digest=d, created_at=now) for d in digests if d not in known)
    if invitation.status is InvitationStatus.QUEUED:
        record(invitation, InvitationStatus.OPTED_OUT, invitation.channel, None, now)
    session.flush()
    return len([d for d in digests if d not in known])


def erase_contacts(session: Session, now: datetime, keep: timedelta) -> int:
    """Erase phone and e-mail of dossiers whose rating window has closed (returned longer than
    ``keep`` ago, or cancelled, or received that long ago and never returned), and of any whose
    invitation is settled; returns how many (Nghị định 13/2023/NĐ-CP: only as long as needed)."""
    limit = now - keep
    settled = select(Invitation.dossier_id).where(
        Invitation.status.in_(
            [InvitationStatus.SENT, InvitationStatus.FAILED, InvitationStatus.OPTED_OUT]
        )
    )
    done = session.execute(
        update(Dossier)
        .where(
            or_(Dossier.phone.isnot(None), Dossier.email.isnot(None)),
            or_(
                Dossier.returned_at < limit,
                Dossier.status == DossierStatus.CANCELLED,
                Dossier.received_at < limit - keep,
                Dossier.id.in_(settled),
            ),
        )
        .values(phone=None, email=None, contact_erased_at=now),
        execution_options={"synchronize_session": False},
    )
    return int(getattr(done, "rowcount", 0) or 0)

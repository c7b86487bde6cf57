"""Alert e-mails and digests, sent by the queue.

Alerts are debounced: an official gets at most one alert e-mail per ``debounce`` (the first
comes as soon as something happens); each lists up to ``cap`` notifications and counts the rest
by kind. A batch is claimed for a lease before it is sent and marked sent after, so two workers
never send the same notification, and a worker that died mid-send leaves its batch to be sent
again after the lease (at least once, never twice while workers live).

Digests go out once per subscription and period (the last complete ISO week on Mondays, the last
complete month from the first of the month): their rows in ``digests_sent`` make a second send
impossible. Every message carries its stop links (RFC 8058 one-click in the header).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import (
    AlertKind,
    DigestFrequency,
    DigestSent,
    Notification,
    Subscription,
    User,
)
from surveyapp.services.alerts import subscriptions
from surveyapp.services.alerts.events import Watch, watches
from surveyapp.services.errors import NotFound
from surveyapp.services.feedback import cases
from surveyapp.services.invitations import channels
from surveyapp.services.invitations.settings import MailSettings
from surveyapp.services.periods import Period
from surveyapp.services.reporting import dashboards, qd766

KIND_WORDS = {
    AlertKind.COMMENT: "Ý kiến mới",
    AlertKind.LOW_BURST: "Nhiều đánh giá thấp",
    AlertKind.DUE_SOON: "Sắp đến hạn xử lý",
    AlertKind.OVERDUE: "Quá hạn xử lý",
    AlertKind.DROP: "Chỉ số giảm",
}


@dataclass(frozen=True)
class MailRules:
    base_url: str
    secret_key: str
    debounce: timedelta = timedelta(minutes=5)
    cap: int = 20
    lease: timedelta = timedelta(minutes=10)
    sender_name: str = ""


@dataclass(frozen=True)
class Batch:
    user: User
    notifications: list[Notification]


def claim_alerts(session: Session, now: datetime, rules: MailRules) -> list[Batch]:
    """The officials due an alert e-mail now (nothing mailed to them within ``debounce``), with
    their unsent notifications, claimed for this worker."""
    free = or_(
        Notification.mail_claimed_at.is_(None), Notification.mail_claimed_at < now - rules.lease
    )
    waiting = list(
        session.scalars(
            select(Notification.user_id)
            .where(Notification.emailed_at.is_(None), free)
            .group_by(Notification.user_id)
        )
    )
    batches = []
    for user_id in waiting:
        last = session.scalar(
            select(func.max(Notification.emailed_at)).where(Notification.user_id == user_id)
        )
        if last is not None and now - last < rules.debounce:
            continue
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            continue
        claimed = (
            session.execute(
                update(Notification)
                .where(Notification.user_id == user_id, Notification.emailed_at.is_(None), free)
                .values(mail_claimed_at=now)
                .returning(Notification.id)
            )
            .scalars()
            .all()
        )
        if claimed:
            rows = list(
                session.scalars(
                    select(Notification)
                    .where(Notification.id.in_(claimed))
                    .options(selectinload(Notification.unit))
                    .order_by(Notification.created_at, Notification.id)
                )
            )
            batches.append(Batch(user, rows))
    return batches


def stop_url(rules: MailRules, user_id: int, subscription_id: int | None = None) -> str:
    token = subscriptions.stop_token(rules.secret_key, user_id, subscription_id)
    return f"{rules.base_url}/thong-bao/ngung/{token}"


def _stop_links(session: Session, rules: MailRules, user: User) -> tuple[str, list[str]]:
    """The link that ends all of the official's alerts, and a line per subscription."""
    lines = [
        f"Ngừng nhận thông báo về {sub.unit.name}: {stop_url(rules, user.id, sub.id)}"
        for sub in session.scalars(
            select(Subscription)
            .where(Subscription.user_id == user.id)
            .options(selectinload(Subscription.unit))
            .order_by(Subscription.id)
        )
    ]
    return stop_url(rules, user.id), lines


def _line(rules: MailRules, n: Notification) -> str:
    facts = n.facts
    unit = facts.get("unit") or n.unit.name
    link = f"{rules.base_url}/dashboard/cases/{facts['case_id']}" if "case_id" in facts else ""
    if n.kind is AlertKind.COMMENT:
        return f"- {unit}: “{facts.get('excerpt', '')}” {link}"
    if n.kind in (AlertKind.DUE_SOON, AlertKind.OVERDUE):
        return f"- {KIND_WORDS[n.kind]} ({unit}): phản ánh #{facts.get('case_id')} {link}"
    if n.kind is AlertKind.LOW_BURST:
        return (
            f"- {unit}: {facts.get('count')} phiếu đánh giá thấp trong {facts.get('minutes')} "
            f"phút. {rules.base_url}/dashboard/units/{n.unit.code}"
        )
    return (
        f"- {unit}: SIPAS tháng {facts.get('month')} giảm từ {facts.get('before')}% xuống "
        f"{facts.get('now')}% (p = {facts.get('p')}). "
        f"{rules.base_url}/dashboard/units/{n.unit.code}"
    )


def alert_message(session: Session, batch: Batch, rules: MailRules) -> channels.Message:
    counts = Counter(n.kind for n in batch.notifications)
    total = len(batch.notifications)
    summary = ", ".join(f"{KIND_WORDS[k]}: {counts[k]}" for k in AlertKind if counts[k])
    shown = batch.notifications[: rules.cap]
    rest = total - len(shown)
    everything, stops = _stop_links(session, rules, batch.user)
    body = [
        f"Kính gửi {batch.user.full_name or batch.user.email},",
        "",
        f"Có {total} thông báo mới ({summary}):",
        "",
        *(_line(rules, n) for n in shown),
    ]
    if rest:
        body.append(f"… và {rest} thông báo khác: {rules.base_url}/dashboard/notifications")
    body += ["", *stops, f"Ngừng nhận mọi thông báo: {everything}", ""]
    return _mail(
        rules,
        f"[Thông báo] {total} thông báo mới: {summary}",
        body,
        everything,
        f"alerts-{batch.user.id}-{batch.notifications[0].id}",
    )


def _mail(
    rules: MailRules, subject: str, lines: list[str], stop: str, tracking_id: str
) -> channels.Message:
    """An official's e-mail in the invitations' message shape: its own subject and body, and
    ``stop`` as the one-click List-Unsubscribe link."""
    return channels.Message(
        dossier_code="",
        link="",
        opt_out=stop,
        sender_name=rules.sender_name,
        tracking_id=tracking_id,
        subject=subject,
        body="\n".join(lines),
    )


def deliver_alerts(
    session: Session,
    batch: Batch,
    settings: MailSettings,
    rules: MailRules,
    now: datetime,
    outbox: channels.Outbox,
) -> None:
    """Send one official's batch; mark it sent, or release it for the next run on a
    transient failure (a permanent one is marked sent, and logged by the caller)."""
    ids = [n.id for n in batch.notifications]
    try:
        channels.send_email(
            outbox, settings, batch.user.email, alert_message(session, batch, rules)
        )
    except channels.Transient:
        session.execute(
            update(Notification).where(Notification.id.in_(ids)).values(mail_claimed_at=None)
        )
        raise
    mark_sent(session, batch, now)


def mark_sent(session: Session, batch: Batch, now: datetime) -> None:
    ids = [n.id for n in batch.notifications]
    session.execute(update(Notification).where(Notification.id.in_(ids)).values(emailed_at=now))


def digest_period(frequency: DigestFrequency, today: date) -> Period | None:
    """The last complete week (on Mondays and after) or month a digest covers."""
    if frequency is DigestFrequency.WEEKLY:
        monday = today - timedelta(days=today.weekday())
        start = monday - timedelta(days=7)
        end = monday - timedelta(days=1)
        year, week, _ = start.isocalendar()
        return Period(f"{year}-W{week:02d}", start, end)
    if frequency is DigestFrequency.MONTHLY:
        end = today.replace(day=1) - timedelta(days=1)
        return Period(f"{end.year}-{end.month:02d}", end.replace(day=1), end)
    return None


def due_digests(session: Session, now: datetime, timezone: str) -> list[tuple[Watch, Period]]:
    """The digests due now and not sent yet: each subscription's last complete week or month."""
    today = now.astimezone(ZoneInfo(timezone)).date()
    due = []
    for watch in watches(session):
        period = digest_period(watch.subscription.digest, today)
        if period is not None and not session.scalar(
            select(DigestSent.id).where(
                DigestSent.subscription_id == watch.subscription.id,
                DigestSent.period == period.label,
            )
        ):
            due.append((watch, period))
    return due


def send_digest(
    session: Session,
    watch: Watch,
    period: Period,
    now: datetime,
    timezone: str,
    settings: MailSettings,
    rules: MailRules,
    outbox: channels.Outbox,
) -> None:
    """Record the digest as sent (a concurrent worker's record stops this one at the flush),
    then send it; the caller commits, or rolls back when the sending failed."""
    sub = watch.subscription
    message = digest_message(session, watch, period, now, timezone, rules)
    session.add(DigestSent(subscription_id=sub.id, period=period.label, sent_at=now))
    session.flush()
    channels.send_email(outbox, settings, sub.user.email, message)


def digest_message(
    session: Session,
    watch: Watch,
    period: Period,
    now: datetime,
    timezone: str,
    rules: MailRules,
) -> channels.Message:
    """A unit's week or month: SIPAS with n, the low-rating signal, cases, and (monthly) the
    QĐ 766 satisfaction figures."""
    sub, scope = watch.subscription, watch.scope
    unit = sub.unit
    which = "tuần" if sub.digest is DigestFrequency.WEEKLY else "tháng"
    lines = [f"Bản tin {which} {period.label} — {unit.name}", ""]
    try:
        view = dashboards.unit_dashboard(
            session, unit, dashboards.Query(period), scope=scope, timezone=timezone
        )
    except NotFound:  # no published instrument yet
        view = None
    if view is not None:
        sipas = view.sipas
        value = f"{sipas.index.percent()}%" if sipas.shown else "chưa đủ phiếu để công bố"
        lines.append(f"Chỉ số hài lòng (SIPAS): {value}, n = {sipas.n}.")
        lines.append(f"Đánh giá thấp ẩn danh, không kèm ý kiến: {view.low_signal}.")
    received = cases.count_cases(
        session, scope, cases.CaseFilters(unit_ids=watch.unit_ids, period=period), now, timezone
    )
    overdue = cases.count_cases(
        session, scope, cases.CaseFilters(unit_ids=watch.unit_ids, overdue=True), now, timezone
    )
    lines.append(f"Phản ánh nhận trong kỳ: {received}. Đang quá hạn: {overdue}.")
    if sub.digest is DigestFrequency.MONTHLY:
        for m in qd766.unit_months(session, scope, unit, period, timezone=timezone, now=now):
            lines.append(
                f"QĐ 766 ({m.period}): xử lý phản ánh đúng hạn {_pct(m.on_time_rate)}, "
                f"hài lòng với xử lý phản ánh {_pct(m.feedback_satisfaction)}, "
                f"hài lòng với giải quyết hồ sơ {_pct(m.dossier_satisfaction)}."
            )
    span = f"{period.start.isoformat()}..{period.end.isoformat()}"
    lines.append(f"Xem chi tiết: {rules.base_url}/dashboard/units/{unit.code}?period={span}")
    stop = stop_url(rules, sub.user_id, sub.id)
    everything = stop_url(rules, sub.user_id)
    lines += ["", f"Ngừng nhận bản tin này: {stop}", f"Ngừng nhận mọi thông báo: {everything}", ""]
    return _mail(
        rules,
        f"[Bản tin] {unit.name} — {period.label}",
        lines,
        stop,
        f"digest-{sub.id}-{period.label}",
    )


def _pct(value: object) -> str:
    return "—" if value is None else f"{value}%"

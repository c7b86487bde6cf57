"""Officials' alerts: found by the scan, told once, mailed debounced through a real local SMTP
server, digests once per period, stopped from the message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import AlertKind, Case, Notification, Subscription
from surveyapp.queue import run_alerts, run_digests
from surveyapp.services.access import scope_for
from surveyapp.services.alerts import events, subscriptions
from surveyapp.services.errors import InvalidInput, NotFound
from tests.conftest import NOW, close_app, make_app, signed_in
from tests.factories import build_world, full_answers, submit_response
from tests.intake.servers import Mailbox, smtp_server


@pytest.fixture
def box() -> Iterator[Mailbox]:
    with smtp_server() as mailbox:
        yield mailbox


@pytest.fixture
def mail_app(database_url: str, box: Mailbox) -> Iterator[Flask]:
    app = make_app(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=box.port,
        MAIL_DEFAULT_SENDER="Tỉnh P <khaosat@p.gov.vn>",
        INVITE_CHANNELS="email",
        ALERT_MAIL_CAP=3,
    )
    yield app
    close_app(app)


@pytest.fixture
def db(mail_app: Flask) -> Iterator[Session]:
    with mail_app.extensions["surveyapp.sessionmaker"]() as session:
        yield session


def _subscribe(session: Session, world: dict, who: str, unit: str, kinds: list[str], digest="none"):
    scope = scope_for(session, world["users"][who])
    found = subscriptions.save_subscription(session, scope, unit, kinds, digest, NOW)
    session.commit()
    return found


def subject(mail: Message) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _run(app: Flask, at: datetime) -> tuple[int, int]:
    app.config["CLOCK"] = lambda: at
    return run_alerts(app, app.extensions["surveyapp.queue"].invite_settings)


def test_subscriptions_are_checked(db: Session) -> None:
    world = build_world(db)
    manager = scope_for(db, world["users"]["manager"])
    with pytest.raises(InvalidInput):
        subscriptions.save_subscription(db, manager, "P.D1", [], "none", NOW)
    with pytest.raises(InvalidInput):
        subscriptions.save_subscription(db, manager, "P.D1", ["bogus"], "none", NOW)
    with pytest.raises(NotFound):  # another district: outside the manager's scope
        subscriptions.save_subscription(db, manager, "P.D2", ["comment"], "none", NOW)
    first = subscriptions.save_subscription(db, manager, "P.D1", ["comment"], "weekly", NOW)
    again = subscriptions.save_subscription(
        db, manager, "P.D1", ["overdue", "comment"], "none", NOW
    )
    assert again.id == first.id
    assert again.kinds == ["comment", "overdue"]


def test_the_scan_tells_each_official_once_and_only_of_their_units(db: Session) -> None:
    world = build_world(db)
    _subscribe(db, world, "manager", "P.D1", ["comment", "due_soon", "overdue", "low_burst"])
    _subscribe(db, world, "par", "P", ["comment"])
    submit_response(db, world["counters"]["P.D1.X"], comment="Máy lấy số hỏng")  # below D1
    submit_response(db, world["counters"]["P.D2"], comment="Thiếu ghế")  # not D1's
    rules = events.AlertRules()
    assert events.scan(db, NOW, rules) == 3  # the manager's one, the PAR office's two
    db.commit()
    assert events.scan(db, NOW + timedelta(minutes=1), rules) == 0  # nothing twice
    manager = world["users"]["manager"].id
    told = db.scalars(select(Notification).where(Notification.user_id == manager)).all()
    assert [(n.kind, n.facts["excerpt"]) for n in told] == [(AlertKind.COMMENT, "Máy lấy số hỏng")]
    # A day before the due date (29 June, end of day) the case is due soon; after it, overdue.
    due = db.scalar(select(Case.due_at).where(Case.unit_id == world["units"]["x"].id))
    events.scan(db, due - timedelta(hours=3), rules)
    events.scan(db, due + timedelta(hours=1), rules)
    db.commit()
    kinds = sorted(
        n.kind.value
        for n in db.scalars(select(Notification).where(Notification.user_id == manager))
    )
    assert kinds == ["comment", "due_soon", "overdue"]
    # Five anonymous low ratings within the hour are a burst; four are not.
    low = full_answers(4) | {"S15": 1}
    for i in range(5):
        submit_response(db, world["counters"]["P.D1"], low, now=NOW + timedelta(minutes=i))
    assert events.scan(db, NOW + timedelta(minutes=4, seconds=30), rules) == 1
    db.commit()
    burst = db.scalars(select(Notification).where(Notification.kind == AlertKind.LOW_BURST)).one()
    assert burst.facts["count"] == 5
    # An official who loses the unit from their scope is told nothing more of it.
    world["users"]["manager"].unit_id = world["units"]["d2"].id
    db.commit()
    submit_response(db, world["counters"]["P.D1"], comment="Sau khi chuyển công tác")
    assert events.scan(db, NOW + timedelta(hours=2), rules) == 1  # the PAR office's only


def test_alerts_are_mailed_debounced_with_a_cap_and_a_stop_link(
    mail_app: Flask, db: Session, box: Mailbox
) -> None:
    world = build_world(db)
    sub_id = _subscribe(db, world, "manager", "P.D1", ["comment"]).id
    for i in range(5):
        submit_response(db, world["counters"]["P.D1"], comment=f"Góp ý số {i}")
    assert _run(mail_app, NOW) == (5, 1)
    (mail,) = box.messages
    assert mail["To"] == "manager@x.vn"
    assert subject(mail) == "[Thông báo] 5 thông báo mới: Ý kiến mới: 5"
    body = mail.get_payload(decode=True).decode()
    assert "Góp ý số 0" in body
    assert "Góp ý số 2" in body
    assert "Góp ý số 3" not in body  # the cap is 3
    assert "… và 2 thông báo khác" in body
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/thong-bao/ngung/")
    # Within the debounce a new comment waits; after it, one more e-mail with just that one.
    submit_response(db, world["counters"]["P.D1"], comment="Góp ý thứ sáu", now=NOW)
    assert _run(mail_app, NOW + timedelta(minutes=2)) == (1, 0)
    assert _run(mail_app, NOW + timedelta(minutes=2)) == (0, 0)
    assert _run(mail_app, NOW + timedelta(minutes=6)) == (0, 1)
    assert len(box.messages) == 2
    assert "Góp ý thứ sáu" in box.messages[1].get_payload(decode=True).decode()
    assert _run(mail_app, NOW + timedelta(minutes=20)) == (0, 0)  # nothing sent twice
    # In the app: the list, then all read.
    auth = signed_in(mail_app, "manager@x.vn")
    page = auth.client.get("/dashboard/notifications").get_data(as_text=True)
    assert "“Góp ý thứ sáu”" in page
    assert 'class="badge">6</span>' in auth.client.get("/dashboard/").get_data(as_text=True)
    token = auth.csrf("/dashboard/notifications")
    assert (
        auth.client.post("/dashboard/notifications", data={"csrf_token": token}).status_code == 303
    )
    assert 'class="badge">6</span>' not in auth.client.get("/dashboard/").get_data(as_text=True)
    # The stop link, without signing in: asks first, then ends the subscription.
    link = re.search(r"Ngừng nhận thông báo về [^:]+: http://127\.0\.0\.1:5000(\S+)", body)
    assert link
    client = mail_app.test_client()
    assert "Ngừng nhận" in client.get(link.group(1)).get_data(as_text=True)
    assert client.post(link.group(1)).status_code == 200
    db.expire_all()
    assert db.get(Subscription, sub_id) is None
    assert client.get("/thong-bao/ngung/forged.token").status_code == 404


def test_a_failed_send_is_retried_and_sent_once(mail_app: Flask, db: Session, box: Mailbox) -> None:
    world = build_world(db)
    _subscribe(db, world, "manager", "P.D1", ["comment"])
    submit_response(db, world["counters"]["P.D1"], comment="Chờ lâu")
    box.replies.append("451 try again later")
    assert _run(mail_app, NOW) == (1, 0)
    assert box.messages == []
    assert _run(mail_app, NOW + timedelta(minutes=1)) == (0, 1)
    assert len(box.messages) == 1
    unsent = db.scalar(
        select(func.count()).select_from(Notification).where(Notification.emailed_at.is_(None))
    )
    assert unsent == 0


def test_weekly_and_monthly_digests_once_per_period(
    mail_app: Flask, db: Session, box: Mailbox
) -> None:
    world = build_world(db)
    _subscribe(db, world, "manager", "P.D1", [], "weekly")
    _subscribe(db, world, "par", "P", [], "monthly")
    for i in range(3):
        submit_response(db, world["counters"]["P.D1"], comment=f"c{i}", now=NOW + timedelta(days=i))
    settings = mail_app.extensions["surveyapp.queue"].invite_settings
    monday = datetime(2026, 6, 22, 1, tzinfo=UTC)  # 08:00 Monday in Việt Nam
    mail_app.config["CLOCK"] = lambda: monday
    assert run_digests(mail_app, settings) == 2  # last week's, and May's
    assert run_digests(mail_app, settings) == 0
    weekly = next(m for m in box.messages if m["To"] == "manager@x.vn")
    assert subject(weekly) == "[Bản tin] Đơn vị P.D1 — 2026-W25"
    text = weekly.get_payload(decode=True).decode()
    assert "Phản ánh nhận trong kỳ: 3." in text  # 15–17 June
    assert "Ngừng nhận bản tin này: http://127.0.0.1:5000/thong-bao/ngung/" in text
    monthly = next(m for m in box.messages if m["To"] == "par@x.vn")
    assert "QĐ 766 (2026-05)" in monthly.get_payload(decode=True).decode()
    mail_app.config["CLOCK"] = lambda: monday + timedelta(days=7)
    assert run_digests(mail_app, settings) == 1  # the next week; May's is done
    assert len(box.messages) == 3


def test_the_subscription_page(mail_app: Flask, db: Session) -> None:
    world = build_world(db)
    assert world
    auth = signed_in(mail_app, "manager@x.vn")
    token = auth.csrf("/dashboard/alerts")
    empty = auth.client.post(
        "/dashboard/alerts", data={"csrf_token": token, "unit": "P.D1", "digest": "none"}
    )
    assert empty.status_code == 422
    assert "Hãy chọn ít nhất một loại thông báo" in empty.get_data(as_text=True)
    outside = auth.client.post(
        "/dashboard/alerts",
        data={"csrf_token": token, "unit": "P.D2", "kinds": "comment", "digest": "none"},
    )
    assert outside.status_code == 422  # not among the manager's units
    saved = auth.client.post(
        "/dashboard/alerts",
        data={
            "csrf_token": token,
            "unit": "P.D1",
            "kinds": ["comment", "overdue"],
            "digest": "weekly",
        },
    )
    assert saved.status_code == 303
    page = auth.client.get("/dashboard/alerts").get_data(as_text=True)
    assert "phản ánh quá hạn xử lý" in page
    assert "Hằng tuần" in page
    sub_id = db.scalar(select(Subscription.id))
    other = signed_in(mail_app, "staff@x.vn")
    refused = other.client.post(
        f"/dashboard/alerts/{sub_id}/delete", data={"csrf_token": other.csrf("/dashboard/alerts")}
    )
    assert refused.status_code == 404  # someone else's
    gone = auth.client.post(f"/dashboard/alerts/{sub_id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303
    assert db.scalar(select(func.count()).select_from(Subscription)) == 0


def test_a_significant_drop_of_the_index_is_told_once(db: Session) -> None:
    world = build_world(db)
    _subscribe(db, world, "manager", "P.D1", ["drop"])
    _subscribe(db, world, "par", "P.D2", ["drop"])
    may, june = NOW - timedelta(days=30), NOW
    for i in range(12):
        for counter, before, after in (("P.D1", 5, 2), ("P.D2", 4, 4)):
            at = timedelta(minutes=i)
            submit_response(db, world["counters"][counter], full_answers(before), now=may + at)
            submit_response(db, world["counters"][counter], full_answers(after), now=june + at)
    rules = events.AlertRules()
    second_of_july = datetime(2026, 7, 2, 1, tzinfo=UTC)
    assert events.scan_drops(db, second_of_july, rules, "Asia/Ho_Chi_Minh") == 1  # D1 only
    db.commit()
    drop = db.scalars(select(Notification)).one()
    assert drop.kind is AlertKind.DROP
    assert (drop.facts["month"], drop.facts["before"], drop.facts["now"]) == ("2026-06", 100.0, 0.0)
    assert drop.facts["p"] < 0.05
    assert events.scan_drops(db, second_of_july, rules, "Asia/Ho_Chi_Minh") == 0

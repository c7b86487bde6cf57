"""Invitations out: a returned dossier's citizen is invited once, by e-mail, SMS or Zalo, through
real local servers, on the job queue; retries, failures, quiet hours and opt-outs."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from surveyapp.models import Dossier, Invitation, InvitationChannel, InvitationStatus, Stream, User
from surveyapp.queue import run_invitations
from surveyapp.services.access import scope_for
from surveyapp.services.accounts import api_tokens
from surveyapp.services.invitations import delivery
from tests.conftest import NOW, close_app, make_app
from tests.factories import build_world, make_campaign
from tests.intake.servers import Gateway, Mailbox, http_gateway, smtp_server

URL = "/api/v1/dossiers"


def record(code: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "MaHoSo": code,
        "DonViXuLy": "P.D1",
        "NgayTiepNhan": "20260601080000",
        "NgayTra": "20260614160000",
        "Email": "cong.dan@example.vn",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


class Province:
    """An app with its channels configured, a world, an official campaign and an intake token."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.app = make_app(database_url, **{"INVITE_QUIET_HOURS": "", **settings})
        self.factory = self.app.extensions["surveyapp.sessionmaker"]
        with self.factory() as session:
            world = build_world(session)
            make_campaign(session, [world["units"]["p"]], code="OFF", stream=Stream.OFFICIAL)
            user = session.scalar(select(User).where(User.email == "par@x.vn"))
            _, self.token = api_tokens.create_intake_token(
                session,
                scope_for(session, user),
                name="Một cửa",
                unit=world["units"]["p"],
                days=30,
                now=NOW,
            )
            session.commit()

    def push(self, *records: dict[str, Any]) -> Any:
        answer = self.app.test_client().post(
            URL, json=list(records), headers={"Authorization": f"Bearer {self.token}"}
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    def invitations(self) -> list[Invitation]:
        with self.factory() as session:
            rows = list(session.scalars(select(Invitation).order_by(Invitation.id)))
            session.expunge_all()
            return rows

    def wait(self, done: Any, seconds: float = 20) -> list[Invitation]:
        """Until the queue's workers have settled what ``done`` waits for."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = self.invitations()
            if rows and done(rows):
                return rows
            time.sleep(0.05)
        raise AssertionError(f"invitations not settled: {self.invitations()}")

    def run(self) -> int:
        settings = self.app.extensions["surveyapp.queue"].invite_settings
        return run_invitations(self.app, settings)


@pytest.fixture
def province_of(database_url: str) -> Iterator[Any]:
    made: list[Province] = []

    def make(**settings: Any) -> Province:
        made.append(Province(database_url, **settings))
        return made[-1]

    yield make
    for province in made:
        close_app(province.app)


def mail_settings(box: Mailbox) -> dict[str, Any]:
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": box.port,
        "MAIL_DEFAULT_SENDER": "Tỉnh P <khaosat@p.gov.vn>",
        "INVITE_CHANNELS": "email",
        "INVITE_SENDER_NAME": "UBND tỉnh P",
    }


def sms_settings(gateway: Gateway, **extra: Any) -> dict[str, Any]:
    return {
        "SMS_URL": gateway.url,
        "SMS_AUTH_HEADER": "Authorization: Basic dGVzdDp0ZXN0",
        "SMS_BODY_TEMPLATE": '{"to": "{phone}", "text": "{text}", "brandname": "TINH-P"}',
        "INVITE_CHANNELS": "sms",
        "INVITE_SENDER_NAME": "UBND tỉnh P",
        "INVITE_RETRY_SECONDS": 0,
        **extra,
    }


def test_a_returned_dossier_gets_one_e_mail_invitation_whose_link_opens_the_survey(
    province_of: Any,
) -> None:
    with smtp_server() as box:
        province = province_of(**mail_settings(box))
        province.push(
            record("HS-1"),
            record("HS-OPEN", NgayTra=None),  # not returned yet
            record("HS-OLD", NgayTiepNhan="20260501080000", NgayTra="20260507160000"),  # a backfill
        )
        (sent,) = province.wait(lambda rows: rows[0].status is not InvitationStatus.QUEUED)
        assert sent.status is InvitationStatus.SENT
        assert sent.channel is InvitationChannel.EMAIL
        # Re-sent or updated, the dossier is never invited again.
        province.push(record("HS-1"), record("HS-1", NgayTra="20260614170000"))
        province.run()
        assert len(province.invitations()) == 1
        (mail,) = box.messages
    assert mail["To"] == "cong.dan@example.vn"
    assert "HS-1" in mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    link = re.search(r"http://127\.0\.0\.1:5000(/r/\w+)", body)
    assert link
    assert "UBND tỉnh P" in body
    assert mail["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/o/")
    # The short link leads to the dossier's signed rating page, which serves the survey.
    client = province.app.test_client()
    hop = client.get(link.group(1))
    assert hop.status_code == 303
    assert "/d/" in hop.headers["Location"]
    page = client.get(hop.headers["Location"].removeprefix("http://127.0.0.1:5000"))
    assert page.status_code == 200
    assert "HS-1" in page.get_data(as_text=True)
    assert client.get("/r/1AAAAAAAA").status_code == 404  # a forged code
    # Sent: the contact is erased; the opt-out link still works from the hashes.
    with province.factory() as session:
        assert (
            delivery.erase_contacts(
                session,
                NOW,
                province.app.extensions["surveyapp.queue"].invite_settings.keep_contacts,
            )
            == 1
        )
        session.commit()
        dossier = session.scalar(select(Dossier).where(Dossier.code == "HS-1"))
        assert dossier.email is None
        assert dossier.contact_erased_at == NOW
    province.push(record("HS-1", NgayTra="20260614180000"))  # a re-send does not restore it
    with province.factory() as session:
        assert session.scalar(select(Dossier.email).where(Dossier.code == "HS-1")) is None


def test_sms_is_retried_after_a_gateway_error_and_fits_one_segment(province_of: Any) -> None:
    with http_gateway((503, {"error": "busy"}), (200, {"status": "ok"})) as gateway:
        province = province_of(**sms_settings(gateway))
        province.push(record("HS-2", Email=None, SoDienThoai="0912345678"))
        (sent,) = province.wait(lambda rows: rows[0].status is InvitationStatus.SENT)
    assert sent.attempts == 2
    assert sent.error is None
    assert len(gateway.requests) == 2
    request = gateway.requests[-1]
    assert request["headers"]["Authorization"] == "Basic dGVzdDp0ZXN0"
    body = request["body"]
    assert body["to"] == "84912345678"
    assert body["brandname"] == "TINH-P"
    text = body["text"]
    assert text.isascii()
    assert len(text) <= 160
    assert text.startswith("UBND tinh P: moi danh gia giai quyet ho so HS-2: http://")
    assert "/o/" in text  # the opt-out link


def test_a_permanent_refusal_falls_back_then_fails_without_retrying(province_of: Any) -> None:
    with (
        http_gateway((200, {"error": -118, "message": "Zalo account not existed"})) as zalo,
        http_gateway((400, {"error": "invalid number"})) as sms,
    ):
        province = province_of(
            **sms_settings(sms, INVITE_CHANNELS="zalo,sms"),
            ZALO_URL=zalo.url,
            ZALO_ACCESS_TOKEN="oa-token",
            ZALO_TEMPLATE_ID="301234",
        )
        province.push(record("HS-3", Email=None, SoDienThoai="+84 912 345 678"))
        (failed,) = province.wait(lambda rows: rows[0].status is InvitationStatus.FAILED)
        province.run()
    assert failed.channel is InvitationChannel.SMS
    assert "400" in failed.error
    assert len(zalo.requests) == 1
    assert len(sms.requests) == 1
    zns = zalo.requests[0]
    assert zns["headers"]["access_token"] == "oa-token"
    assert zns["body"]["phone"] == "84912345678"
    assert zns["body"]["template_id"] == "301234"
    assert zns["body"]["template_data"]["ma_ho_so"] == "HS-3"
    assert zns["body"]["tracking_id"] == str(failed.id)


def test_quiet_hours_hold_an_invitation_until_the_morning(province_of: Any) -> None:
    with http_gateway((200, {})) as gateway:
        # NOW is 10:00 in Hà Nội: inside quiet hours of 09:00-11:00.
        province = province_of(**sms_settings(gateway), INVITE_QUIET_HOURS="09:00-11:00")
        province.push(record("HS-4", Email=None, SoDienThoai="0912345678"))
        assert province.run() == 0
        (held,) = province.invitations()
    assert held.status is InvitationStatus.QUEUED
    assert held.due_at == datetime(2026, 6, 15, 4, 0, tzinfo=UTC)  # 11:00 local
    assert gateway.requests == []


def test_an_opt_out_is_honoured_for_that_phone(province_of: Any) -> None:
    with http_gateway((200, {})) as gateway:
        province = province_of(**sms_settings(gateway))
        province.push(record("HS-5", Email=None, SoDienThoai="0912345678"))
        (first,) = province.wait(lambda rows: rows[0].status is InvitationStatus.SENT)
        code = re.search(r"/o/(\w+)", gateway.requests[0]["body"]["text"]).group(1)
        client = province.app.test_client()
        confirm = client.get(f"/o/{code}")
        assert confirm.status_code == 200
        assert "<form" in confirm.get_data(as_text=True)
        assert client.post(f"/o/{code}").status_code == 200
        # A later dossier of the same number is not sent.
        province.push(record("HS-6", Email=None, SoDienThoai="+84912345678"))
        rows = province.wait(
            lambda rows: len(rows) == 2 and rows[1].status is not InvitationStatus.QUEUED
        )
    assert rows[1].status is InvitationStatus.OPTED_OUT
    assert len(gateway.requests) == 1


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_several_workers_send_each_invitation_once(province_of: Any) -> None:
    import threading

    with http_gateway((200, {})) as gateway:
        province = province_of(**sms_settings(gateway), QUEUE_WORKERS=1)
        province.app.extensions["surveyapp.queue"].stop()
        province.push(
            *[record(f"HS-W{i}", Email=None, SoDienThoai="0912345678") for i in range(60)]
        )
        workers = [threading.Thread(target=province.run) for _ in range(3)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        rows = province.wait(lambda rows: all(r.status is InvitationStatus.SENT for r in rows))
    assert len(rows) == 60
    assert len(gateway.requests) == 60
    tracked = [r["body"]["text"] for r in gateway.requests]
    assert len(set(tracked)) == 60  # each its own link, once

"""The three ways an invitation leaves: e-mail over SMTP, SMS through the province's HTTP gateway
(the way Vietnamese brand-name SMS gateways are called), and Zalo ZNS template messages. Each
sender raises Transient (try again later: a timeout, a 5xx, a busy mail server) or Permanent
(this channel will not work for this contact: a 4xx, a refused recipient)."""

from __future__ import annotations

import contextlib
import email.policy
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import urlencode

import httpx
from unidecode import unidecode

from surveyapp.models import InvitationChannel
from surveyapp.services.invitations.settings import (
    InviteSettings,
    MailSettings,
    SmsSettings,
    ZaloSettings,
)

GSM_SEGMENT = 160  # characters of one SMS without diacritics (GSM 7-bit)
UCS2_SEGMENT = 70  # with Vietnamese diacritics


class SendError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


class Transient(SendError):
    pass


class Permanent(SendError):
    pass


@dataclass(frozen=True)
class Message:
    """What one invitation says, whatever the channel."""

    dossier_code: str
    link: str
    opt_out: str
    sender_name: str
    tracking_id: str  # the invitation's id, for the gateways' delivery reports
    # Another kind of invitation (a PAR-survey respondent's) says its own words: the e-mail's
    # subject and body and the SMS template; empty: a dossier's rating invitation.
    subject: str = ""
    body: str = ""
    sms: str = ""

    def values(self, phone: str = "") -> dict[str, str]:
        return {
            "code": self.dossier_code,
            "link": self.link,
            "optout": self.opt_out,
            "sender": self.sender_name,
            "phone": phone,
            "tracking_id": self.tracking_id,
        }


def phone_as(e164: str, style: str) -> str:
    """+84912345678 as the gateway wants it: 84912345678, +84912345678 or 0912345678."""
    national = e164.removeprefix("+84")
    return {"84": "84" + national, "+84": e164, "0": "0" + national}[style]


def _fill(template: Any, values: dict[str, str]) -> Any:
    """Placeholders ({code}, {link}, …) filled in every string of a JSON template."""
    if isinstance(template, str):
        out = template
        for key, value in values.items():
            out = out.replace("{" + key + "}", value)
        return out
    if isinstance(template, dict):
        return {k: _fill(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, values) for v in template]
    return template


def sms_text(settings: SmsSettings, message: Message) -> str:
    """The SMS in one segment: the configured text, else a shorter one without the sender's
    name; Permanent if even that does not fit."""
    limit = GSM_SEGMENT if settings.ascii_only else UCS2_SEGMENT
    shorter = "{code}: {link} Tu choi: {optout}" if settings.ascii_only else "{code}: {link}"
    for template in (message.sms or settings.text, shorter):
        text = str(_fill(template, message.values()))
        if settings.ascii_only:
            text = unidecode(text)
        if len(text) <= limit:
            return text
    raise Permanent(f"tin nhắn dài quá {limit} ký tự của một tin SMS")


def _http(outbox: Outbox, method: str, url: str, timeout: float, **kwargs: Any) -> httpx.Response:
    try:
        response = outbox.http.request(method, url, timeout=timeout, **kwargs)
    except httpx.TimeoutException as exc:
        raise Transient(f"hết thời gian chờ cổng gửi ({exc.__class__.__name__})") from exc
    except httpx.TransportError as exc:
        raise Transient(f"không kết nối được cổng gửi ({exc.__class__.__name__})") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise Transient(f"cổng gửi trả lời HTTP {response.status_code}")
    if response.status_code >= 400:
        raise Permanent(f"cổng gửi từ chối: HTTP {response.status_code} {response.text[:150]}")
    return response


def send_sms(outbox: Outbox, settings: SmsSettings, phone: str, message: Message) -> None:
    values = message.values(phone_as(phone, settings.phone_format))
    values["text"] = sms_text(settings, message)
    headers = dict(settings.headers)
    if "json" in settings.content_type:
        body = _fill(settings.body_template, values)
        _http(outbox, settings.method, settings.url, settings.timeout, json=body, headers=headers)
        return
    # A form body: "to={phone}&text={text}" with every value URL-encoded.
    pairs = [pair.split("=", 1) for pair in str(settings.body_template).split("&") if pair]
    form = urlencode([(k, _fill(v, values)) for k, v in pairs])
    headers["Content-Type"] = settings.content_type
    _http(outbox, settings.method, settings.url, settings.timeout, content=form, headers=headers)


def send_zalo(outbox: Outbox, settings: ZaloSettings, phone: str, message: Message) -> None:
    """A ZNS template message: {phone, template_id, template_data, tracking_id}, authorised by
    the OA's access token; Zalo answers 200 with ``error`` 0 on success."""
    values = message.values(phone_as(phone, settings.phone_format))
    body = {
        "phone": values["phone"],
        "template_id": settings.template_id,
        "template_data": _fill(settings.template_data, values),
        "tracking_id": message.tracking_id,
    }
    response = _http(
        outbox,
        "POST",
        settings.url,
        settings.timeout,
        json=body,
        headers={"access_token": settings.access_token},
    )
    try:
        answer = response.json()
    except ValueError as exc:
        raise Transient("Zalo trả lời không phải JSON") from exc
    error = answer.get("error") if isinstance(answer, dict) else None
    if error not in (0, "0"):
        detail = answer.get("message", "") if isinstance(answer, dict) else ""
        raise Permanent(f"Zalo từ chối: mã {error} {str(detail)[:150]}")


# Headers are folded at the SMTP limit (998), not at 78: a long link in List-Unsubscribe would
# otherwise be folded as RFC 2047 encoded words, which mail clients do not read as a URL.
MAIL_POLICY = email.policy.default.clone(max_line_length=998)


def send_email(outbox: Outbox, settings: MailSettings, address: str, message: Message) -> None:
    mail = EmailMessage(policy=MAIL_POLICY)
    mail["From"] = settings.sender
    mail["To"] = address
    mail["Subject"] = message.subject or f"Mời đánh giá sự hài lòng: hồ sơ {message.dossier_code}"
    mail["Message-ID"] = make_msgid(domain="surveyapp")
    mail["List-Unsubscribe"] = f"<{message.opt_out}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    sender = f"{message.sender_name} " if message.sender_name else ""
    mail.set_content(
        message.body
        or f"Kính gửi Quý ông/bà,\n\n"
        f"Hồ sơ {message.dossier_code} của Quý ông/bà đã có kết quả. {sender}mong nhận được "
        f"đánh giá của Quý ông/bà về việc giải quyết hồ sơ (khoảng một phút, không cần đăng "
        f"nhập):\n\n{message.link}\n\n"
        f"Không muốn nhận lời mời đánh giá nữa: {message.opt_out}\n\n"
        f"---\nYour dossier {message.dossier_code} has been completed. Please rate the "
        f"service: {message.link}\nNo more invitations: {message.opt_out}\n"
    )
    try:
        outbox.smtp(settings).send_message(mail)
    except smtplib.SMTPRecipientsRefused as exc:
        raise Permanent("máy chủ thư từ chối địa chỉ người nhận") from exc
    except smtplib.SMTPResponseException as exc:
        outbox.drop_smtp()
        text = f"máy chủ thư trả lời {exc.smtp_code}"
        raise (Transient(text) if 400 <= exc.smtp_code < 500 else Permanent(text)) from exc
    except (OSError, smtplib.SMTPException) as exc:
        outbox.drop_smtp()
        raise Transient(f"không gửi được thư ({exc.__class__.__name__})") from exc


class Outbox:
    """The connections of one sending run, reused from message to message: one SMTP session
    (opened on the first e-mail, opened again after an error) and one HTTP client."""

    def __init__(self) -> None:
        self.http = httpx.Client()
        self._smtp: smtplib.SMTP | None = None

    def smtp(self, settings: MailSettings) -> smtplib.SMTP:
        if self._smtp is None:
            if settings.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    settings.server, settings.port, timeout=settings.timeout
                )
            else:
                client = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
            if settings.use_tls and not settings.use_ssl:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password or "")
            self._smtp = client
        return self._smtp

    def drop_smtp(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None
        self.http.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def send(
    outbox: Outbox,
    settings: InviteSettings,
    channel: InvitationChannel,
    phone: str | None,
    email: str | None,
    message: Message,
) -> None:
    if channel is InvitationChannel.EMAIL and settings.mail and email:
        send_email(outbox, settings.mail, email, message)
    elif channel is InvitationChannel.SMS and settings.sms and phone:
        send_sms(outbox, settings.sms, phone, message)
    elif channel is InvitationChannel.ZALO and settings.zalo and phone:
        send_zalo(outbox, settings.zalo, phone, message)
    else:
        raise Permanent(f"kênh {channel.value} chưa được cấu hình hoặc thiếu liên hệ")

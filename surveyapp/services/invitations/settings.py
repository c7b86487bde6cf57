"""How a province sends invitations, read once from the configuration (SURVEYAPP_…)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from surveyapp.models import InvitationChannel


class SettingsError(ValueError):
    """A setting that cannot work; the message names it."""


@dataclass(frozen=True)
class QuietHours:
    start: time
    end: time

    def covers(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # across midnight: 21:00-07:00


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool  # STARTTLS
    use_ssl: bool  # SMTPS
    sender: str
    timeout: float


@dataclass(frozen=True)
class SmsSettings:
    url: str
    method: str
    headers: dict[str, str]
    body_template: Any  # parsed JSON with {placeholders}, or a form string
    content_type: str
    ascii_only: bool
    phone_format: str  # "84", "+84" or "0"
    text: str
    timeout: float


@dataclass(frozen=True)
class ZaloSettings:
    url: str
    access_token: str
    template_id: str
    template_data: dict[str, Any]
    phone_format: str
    timeout: float


@dataclass(frozen=True)
class InviteSettings:
    channels: tuple[InvitationChannel, ...]  # the order to try, of those configured
    quiet: QuietHours | None
    timezone: str
    base_url: str
    sender_name: str
    max_attempts: int
    retry: timedelta
    lease: timedelta  # a claimed invitation whose worker died is tried again after this
    keep_contacts: timedelta
    within: timedelta  # only dossiers returned this recently are invited (not a backfill)
    mail: MailSettings | None
    sms: SmsSettings | None
    zalo: ZaloSettings | None
    secret_key: str  # signs the short links
    contact_key: str  # keys the opt-out hashes (keep it when SECRET_KEY rotates)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> InviteSettings:
        return read_settings(config)

    def configured(self, channel: InvitationChannel) -> bool:
        return {
            InvitationChannel.EMAIL: self.mail,
            InvitationChannel.SMS: self.sms,
            InvitationChannel.ZALO: self.zalo,
        }[channel] is not None


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """ "21:00-07:00" (local time) or empty (no quiet hours)."""
    if not text or not str(text).strip():
        return None
    try:
        start, end = (time.fromisoformat(part.strip()) for part in str(text).split("-"))
    except ValueError as exc:
        raise SettingsError(f"INVITE_QUIET_HOURS must look like 21:00-07:00, not {text!r}") from exc
    return None if start == end else QuietHours(start, end)


def _header(text: str | None, name: str) -> dict[str, str]:
    if not text:
        return {}
    key, sep, value = str(text).partition(":")
    if not sep or not key.strip() or not value.strip():
        raise SettingsError(f"{name} must be 'Header-Name: value'")
    return {key.strip(): value.strip()}


def _json(text: Any, name: str) -> Any:
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise SettingsError(f"{name} is not valid JSON: {exc}") from exc


def read_settings(config: Mapping[str, Any]) -> InviteSettings:
    timeout = float(config["INVITE_HTTP_TIMEOUT"])
    mail = None
    if config.get("MAIL_SERVER"):
        if not config.get("MAIL_DEFAULT_SENDER"):
            raise SettingsError("MAIL_DEFAULT_SENDER is needed with MAIL_SERVER")
        mail = MailSettings(
            server=str(config["MAIL_SERVER"]),
            port=int(config["MAIL_PORT"]),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            use_tls=_flag(config["MAIL_USE_TLS"]),
            use_ssl=_flag(config["MAIL_USE_SSL"]),
            sender=str(config["MAIL_DEFAULT_SENDER"]),
            timeout=timeout,
        )
    sms = None
    if config.get("SMS_URL"):
        content_type = str(config["SMS_CONTENT_TYPE"])
        template = config["SMS_BODY_TEMPLATE"]
        sms = SmsSettings(
            url=str(config["SMS_URL"]),
            method=str(config["SMS_METHOD"]).upper(),
            headers=_header(config.get("SMS_AUTH_HEADER"), "SMS_AUTH_HEADER"),
            body_template=_json(template, "SMS_BODY_TEMPLATE")
            if "json" in content_type
            else str(template),
            content_type=content_type,
            ascii_only=_flag(config["SMS_ASCII"]),
            phone_format=_phone_format(config["SMS_PHONE_FORMAT"], "SMS_PHONE_FORMAT"),
            text=str(config["SMS_TEXT"]),
            timeout=timeout,
        )
    zalo = None
    if config.get("ZALO_ACCESS_TOKEN") and config.get("ZALO_TEMPLATE_ID"):
        zalo = ZaloSettings(
            url=str(config["ZALO_URL"]),
            access_token=str(config["ZALO_ACCESS_TOKEN"]),
            template_id=str(config["ZALO_TEMPLATE_ID"]),
            template_data=_json(config["ZALO_TEMPLATE_DATA"], "ZALO_TEMPLATE_DATA"),
            phone_format="84",
            timeout=timeout,
        )
    order = []
    for name in str(config["INVITE_CHANNELS"]).split(","):
        if name.strip():
            try:
                order.append(InvitationChannel(name.strip()))
            except ValueError as exc:
                raise SettingsError(f"INVITE_CHANNELS: unknown channel {name.strip()!r}") from exc
    keep = config.get("CONTACT_KEEP_DAYS") or config["DOSSIER_LINK_MAX_AGE_DAYS"]
    return InviteSettings(
        channels=tuple(order),
        quiet=parse_quiet_hours(config["INVITE_QUIET_HOURS"]),
        timezone=str(config["TIMEZONE"]),
        base_url=str(config["BASE_URL"]),
        sender_name=str(config["INVITE_SENDER_NAME"]),
        max_attempts=int(config["INVITE_MAX_ATTEMPTS"]),
        retry=timedelta(seconds=float(config["INVITE_RETRY_SECONDS"])),
        lease=timedelta(seconds=float(config["INVITE_LEASE_SECONDS"])),
        keep_contacts=timedelta(days=float(keep)),
        within=timedelta(days=float(config["INVITE_WITHIN_DAYS"])),
        mail=mail,
        sms=sms,
        zalo=zalo,
        secret_key=str(config["SECRET_KEY"]),
        contact_key=str(config.get("CONTACT_HASH_KEY") or config["SECRET_KEY"]),
    )


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _phone_format(value: Any, name: str) -> str:
    text = str(value)
    if text not in ("84", "+84", "0"):
        raise SettingsError(f"{name} must be 84, +84 or 0")
    return text

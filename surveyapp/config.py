"""Configuration: defaults < instance/config.py < SURVEYAPP_* env < test mapping."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Flask

from surveyapp.services.intake.records import status_map

DEV_SECRET_KEY = "dev-only-insecure-key"  # noqa: S105 - refused outside development and tests


class ConfigError(RuntimeError):
    """The configuration cannot run the app safely."""


DEFAULTS: dict[str, Any] = {
    "ENV_NAME": "production",  # "development" relaxes the secret-key check
    "SECRET_KEY": DEV_SECRET_KEY,
    # None: a SQLite file under instance/ (filled in by load_config).
    "DATABASE_URL": None,
    "SQLALCHEMY_ECHO": False,
    "BASE_URL": None,  # public base of survey links printed on QR codes; default http://127.0.0.1:PORT
    "TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": ("vi", "en"),
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "COMMENT_MAX_LENGTH": 2000,
    "MAX_CONTENT_LENGTH": 64 * 1024,  # citizens' forms
    "UPLOAD_MAX_BYTES": 25 * 1024 * 1024,  # officials' uploads (imports, instruments)
    # An uploaded XLSX is refused before it is expanded beyond this (all zip members, unpacked),
    # and any uploaded table with more cells than UPLOAD_MAX_CELLS.
    "UPLOAD_MAX_EXPANDED_BYTES": 200 * 1024 * 1024,
    "UPLOAD_MAX_CELLS": 5_000_000,
    "MAX_FORM_PARTS": 300,
    "WTF_CSRF_TIME_LIMIT": 6 * 3600,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "LOG_LEVEL": "INFO",
    # Submissions allowed per browser, per network address (an office NAT), per counter.
    "SUBMIT_LIMIT_CLIENT": "10 per minute",
    "SUBMIT_LIMIT_IP": "300 per minute",
    "SUBMIT_LIMIT_COUNTER": "120 per minute",
    "REDIS_URL": None,  # rate-limit storage shared by all workers; in-memory when unset
    "RATELIMIT_HEADERS_ENABLED": True,
    # Redis unreachable: the same limits are kept per process in memory (a warning is logged)
    # and Redis is tried again now and then; a citizen's submission or a sign-in never fails.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    "PROXY_FIX_X_FOR": 0,  # number of trusted reverse proxies in front of the app
    "DOSSIER_LINK_MAX_AGE_DAYS": 60,
    "DOSSIER_REVISION_HOURS": 72,
    # Unusual activity at a counter flags responses for review (never drops them): more than
    # RATE_FACTOR × the counter's usual submissions (and more than RATE_MIN) within the window,
    # or LOW_SETS answer sets that are mostly low ratings within it.
    "ANOMALY_WINDOW_MINUTES": 10,
    "ANOMALY_RATE_MIN": 20,
    "ANOMALY_RATE_FACTOR": 4.0,
    "ANOMALY_LOW_SETS": 5,
    # The kiosk's thank-you page returns to a blank form after KIOSK_RESET_SECONDS, or after
    # KIOSK_RECEIPT_SECONDS while it shows a receipt code (time to note it), or when "Xong" is
    # tapped. A phone's receipt stays readable on its thank-you and look-up pages for
    # RECEIPT_KEEP_MINUTES (a language switch or a reload does not lose it).
    "KIOSK_RESET_SECONDS": 8,
    "KIOSK_RECEIPT_SECONDS": 45,
    "RECEIPT_KEEP_MINUTES": 240,
    # Responses are compressed by the app (surveyapp.assets); False leaves it to a reverse proxy.
    "COMPRESS_REGISTER": True,
    "KIOSK_IDLE_SECONDS": 90,
    # A counter's QR resolves to its unit and open campaign once per this many seconds per
    # worker; a change made in another worker (token retired, campaign closed) shows within it.
    "SURVEY_TARGET_CACHE_SECONDS": 5,
    # Feedback inbox: a comment, or an element item answered 1..CASE_LOW_RATING_MAX, opens a case.
    "CASE_LOW_RATING_MAX": 2,
    "CASE_DUE_WORKING_DAYS": 10,
    # A plain compliment, and an anonymous low rating without text (no contact, no dossier),
    # are kept and counted but open no case unless these say so (services.feedback.triage).
    "CASE_OPEN_COMPLIMENTS": False,
    "CASE_OPEN_ANONYMOUS_LOW": False,
    "CASE_HOLIDAYS": (),
    # Officials' alerts (services.alerts): a burst is ALERT_LOW_BURST_COUNT low ratings within
    # ALERT_LOW_BURST_MINUTES; "due soon" is within ALERT_DUE_SOON_HOURS; a drop is significant
    # at ALERT_DROP_P. At most one alert e-mail per ALERT_DEBOUNCE_MINUTES per official, listing
    # up to ALERT_MAIL_CAP notifications (the rest are counted).
    "ALERT_LOW_BURST_COUNT": 5,
    "ALERT_LOW_BURST_MINUTES": 60,
    "ALERT_DUE_SOON_HOURS": 24,
    "ALERT_DROP_P": 0.05,
    "ALERT_DEBOUNCE_MINUTES": 5,
    "ALERT_MAIL_CAP": 20,  # public holidays (ISO dates) skipped when counting working days
    # Officials' sign-in.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_MINUTES": 15,
    "SESSION_IDLE_MINUTES": 30,
    "LOGIN_LIMIT": "20 per minute",
    # Reports: Thông tư 01 scores are shown only on at least this many rated dossiers.
    "TT01_MIN_RATINGS": 10,
    # Background jobs: the queue's broker (None: an SQLite queue under instance/ and worker
    # threads in the web process), its name (a namespace in Redis) and the worker threads.
    "QUEUE_URL": None,
    "QUEUE_NAME": "surveyapp",
    "QUEUE_WORKERS": 2,
    # Dashboard exports: kept this long (jobs and files, in the database); a running export beats
    # a heartbeat every HEARTBEAT seconds, and one silent for STALE seconds is taken over by a new
    # attempt, up to MAX_ATTEMPTS. An export that fails on an unexpected error (the database went
    # away) is retried twice, RETRY seconds later and then twice that.
    "EXPORT_KEEP_HOURS": 24,
    "EXPORT_HEARTBEAT_SECONDS": 20,
    "EXPORT_STALE_SECONDS": 120,
    "EXPORT_MAX_ATTEMPTS": 3,
    "EXPORT_RETRY_SECONDS": 5,
    # API tokens for GET /api/v1/... (created by officials in the dashboard).
    "API_TOKEN_DAYS": 365,
    # Dossier intake (POST /api/v1/dossiers, import-dossiers): the one-stop system's status codes
    # meaning returned or cancelled, "10=returned,11=returned,3=cancelled" (our own words,
    # received/returned/cancelled, are always understood); the largest request body.
    "DOSSIER_STATUS_MAP": None,
    "INTAKE_MAX_BYTES": 4 * 1024 * 1024,
    # Rating invitations for returned dossiers: the channels to try in order (those configured
    # below), quiet hours in local time (empty: none), the name that signs them, retries with
    # backoff (RETRY, then twice that, …) on timeouts and 5xx up to MAX_ATTEMPTS, and the lease
    # after which an invitation claimed by a worker that died is tried again.
    "INVITE_CHANNELS": "zalo,sms,email",
    "INVITE_QUIET_HOURS": "21:00-07:00",
    "INVITE_SENDER_NAME": "",
    "INVITE_MAX_ATTEMPTS": 5,
    "INVITE_RETRY_SECONDS": 60,
    "INVITE_LEASE_SECONDS": 600,
    "INVITE_HTTP_TIMEOUT": 10,
    "INVITE_WITHIN_DAYS": 7,  # only dossiers returned this recently are invited
    # A dossier's phone and e-mail are erased once its invitation is settled, and at the latest
    # this many days after its return (default: DOSSIER_LINK_MAX_AGE_DAYS). Opt-outs are kept as
    # hashes keyed by CONTACT_HASH_KEY (default SECRET_KEY: set it to keep them across rotations).
    "CONTACT_KEEP_DAYS": None,
    "CONTACT_HASH_KEY": None,
    "MAIL_SERVER": None,
    "MAIL_PORT": 25,
    "MAIL_USERNAME": None,
    "MAIL_PASSWORD": None,
    "MAIL_USE_TLS": False,  # STARTTLS
    "MAIL_USE_SSL": False,  # SMTPS (port 465)
    "MAIL_DEFAULT_SENDER": None,
    # SMS through the province's HTTP gateway: placeholders {phone} {text} {code} {link}
    # {optout} {sender} {tracking_id} in the body (JSON, or a form "to={phone}&text={text}" with
    # SMS_CONTENT_TYPE application/x-www-form-urlencoded) and in the text, which must fit one
    # segment (160 characters without diacritics when SMS_ASCII, else 70).
    "SMS_URL": None,
    "SMS_METHOD": "POST",
    "SMS_AUTH_HEADER": None,  # "Authorization: Basic …"
    "SMS_BODY_TEMPLATE": '{"to": "{phone}", "text": "{text}"}',
    "SMS_CONTENT_TYPE": "application/json",
    "SMS_ASCII": True,
    "SMS_PHONE_FORMAT": "84",  # 84912345678; "+84" or "0" (0912345678)
    "SMS_TEXT": "{sender}: moi danh gia giai quyet ho so {code}: {link} Tu choi: {optout}",
    # Zalo ZNS template messages of the province's Official Account.
    "ZALO_URL": "https://business.openapi.zalo.me/message/template",
    "ZALO_ACCESS_TOKEN": None,
    "ZALO_TEMPLATE_ID": None,
    "ZALO_TEMPLATE_DATA": '{"ma_ho_so": "{code}", "link": "{link}"}',
}


def load_config(app: Flask, test_config: Mapping[str, Any] | None = None) -> None:
    """Fill ``app.config`` in layers and check it."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SURVEYAPP")
    # Twelve-factor names that hosting platforms set.
    for key in ("DATABASE_URL", "SECRET_KEY", "REDIS_URL"):
        if key in os.environ and f"SURVEYAPP_{key}" not in os.environ:
            app.config[key] = os.environ[key]
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path, "surveyapp.db")
    app.config["DATABASE_URL"] = normalize_database_url(app.config["DATABASE_URL"])
    if not app.config["BASE_URL"]:
        app.config["BASE_URL"] = f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
    app.config["BASE_URL"] = str(app.config["BASE_URL"]).rstrip("/")
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    holidays = app.config["CASE_HOLIDAYS"]
    if isinstance(holidays, str):  # SURVEYAPP_CASE_HOLIDAYS="2026-09-02,2026-09-03"
        holidays = [d.strip() for d in holidays.split(",") if d.strip()]
    try:
        app.config["CASE_HOLIDAYS"] = tuple(
            date.fromisoformat(str(d)).isoformat() for d in holidays
        )
    except ValueError as exc:
        raise ConfigError(f"CASE_HOLIDAYS must be ISO dates (YYYY-MM-DD): {exc}") from exc
    try:
        app.config["DOSSIER_STATUS_MAP"] = status_map(app.config["DOSSIER_STATUS_MAP"])
    except ValueError as exc:
        raise ConfigError(f"DOSSIER_STATUS_MAP: {exc}") from exc
    validate(app.config)


def normalize_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual ``postgres://`` forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def validate(config: Mapping[str, Any]) -> None:
    """Refuse to start outside development and tests without a real secret key."""
    if config.get("TESTING") or config["ENV_NAME"] == "development":
        return
    key = config.get("SECRET_KEY")
    if not key or key == DEV_SECRET_KEY or len(str(key)) < 16:
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least 16 characters "
            "(SURVEYAPP_SECRET_KEY) when SURVEYAPP_ENV_NAME is not 'development'."
        )

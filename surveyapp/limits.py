"""Keys for rate limits and sign-in throttling: keyed hashes, never a raw address.

Rate-limit storage (memory or Redis) and the login_failures table only ever hold a SHA-256 of the
address keyed with SECRET_KEY, so neither ever keeps an IP address.
"""

from __future__ import annotations

import hashlib

from flask import current_app, request, session


def salted(*parts: str) -> str:
    """A keyed hash of ``parts`` (24 hex characters)."""
    secret = str(current_app.config["SECRET_KEY"])
    return hashlib.sha256("\x1f".join((secret, *parts)).encode()).hexdigest()[:24]


def ip_key() -> str:
    """The network address (an office NAT holds many people; limits on it are generous)."""
    return "ip:" + salted(request.remote_addr or "")


def client_key() -> str:
    """One browser: its address and its session's CSRF secret."""
    return "client:" + salted(request.remote_addr or "", str(session.get("csrf_token", "")))


def counter_key() -> str:
    """One counter, by the token in the URL."""
    return "counter:" + str((request.view_args or {}).get("token", ""))


def address_hash() -> str:
    """The address the request comes from, as sign-in throttling stores it."""
    return salted("login", request.remote_addr or "")

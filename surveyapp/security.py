"""What protects every request and response: request hygiene, security headers, safe redirects.

- A NUL (``\\x00``) in a path, a query parameter or a form field is refused with a 400 that says
  why: PostgreSQL cannot store one and refuses any query that carries it.
- A file part (``multipart/form-data`` with a filename) is accepted only under the names a view
  declares with ``accepts_files``; elsewhere it is a 400, before a form reads it as text.
- Every response carries a Content-Security-Policy without inline script or style, denies
  framing, turns off MIME sniffing, sends the referrer to this site only, and (behind HTTPS, when
  SESSION_COOKIE_SECURE is on) asks browsers to keep to HTTPS.
- ``local_target`` keeps redirects (``next``, ``back``) on this site.
- ``<id:name>`` in a URL is a database id that cannot overflow a driver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from surveyapp.services.errors import N_

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

View = TypeVar("View", bound=Callable[..., Any])
UPLOAD_FIELDS = "surveyapp_upload_fields"
NUL_REFUSED = N_("Yêu cầu chứa ký tự NUL (\\x00), là ký tự không hợp lệ; hãy bỏ nó và gửi lại.")
FILE_REFUSED = N_("Trường %(name)s không nhận tệp đính kèm; hãy nhập nội dung dạng chữ.")


def accepts_files(*names: str) -> Callable[[View], View]:
    """Let the view receive uploaded files in the form fields ``names`` (and nowhere else)."""

    def mark(view: View) -> View:
        setattr(view, UPLOAD_FIELDS, frozenset(names))
        return view

    return mark


def _has_nul(pairs: Any) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in pairs)


def refuse_bad_request() -> ResponseReturnValue | None:
    """The 400 for a NUL or a stray file part; None lets the request through."""
    from surveyapp.errors import render_error

    if "\x00" in request.path or _has_nul(request.args.items(multi=True)):
        return render_error(400, gettext(NUL_REFUSED))
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if _has_nul(request.form.items(multi=True)):
        return render_error(400, gettext(NUL_REFUSED))
    if request.files:
        view = current_app.view_functions.get(request.endpoint or "")
        allowed: frozenset[str] = getattr(view, UPLOAD_FIELDS, frozenset())
        for name, upload in request.files.items(multi=True):
            if name not in allowed:
                return render_error(400, gettext(FILE_REFUSED, name=name[:40]))
            if "\x00" in (upload.filename or ""):
                return render_error(400, gettext(NUL_REFUSED))
    return None


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    app.before_request(refuse_bad_request)
    app.after_request(add_security_headers)


MAX_ID = 2**31 - 1  # the largest INTEGER id on PostgreSQL


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id in a URL, 1 … 2³¹ − 1 (the ids are INTEGER columns on
    PostgreSQL; anything larger is a 404, never an overflow in the database)."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, min=1, max=MAX_ID)


MAX_TARGET = 2000


def local_target(target: str | None, default: str) -> str:
    """``target`` if it is a same-site relative path, else ``default``.

    Refused: absolute and scheme-relative URLs (``https://…``, ``//…``), backslashes (browsers
    read ``/\\evil.example`` as ``//evil.example``), control characters such as CR/LF (they would
    split the Location header) and anything longer than MAX_TARGET.
    """
    if (
        not target
        or len(target) > MAX_TARGET
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 or ord(c) == 127 for c in target)
    ):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target

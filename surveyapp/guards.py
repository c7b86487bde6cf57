"""Request hygiene before any view runs: no NUL character anywhere, no file where none is asked.

PostgreSQL cannot store a NUL (``\\x00``) in text and refuses any query that carries one, so a NUL
in a path, a query parameter or a form field is refused here, once, with a 400 that says why. A
file part (``multipart/form-data`` with a filename) is accepted only under the names a view
declares with ``accepts_files``; elsewhere it is a 400, before a form reads it as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from werkzeug.routing import IntegerConverter

from surveyapp.services.errors import N_

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


def init_app(app: Flask) -> None:
    app.before_request(refuse_bad_request)


class IdConverter(IntegerConverter):
    """``<id:name>``: a database id in a URL, 1 … 2⁶³ − 1 (anything larger is a 404, never an
    overflow in the database driver)."""

    def __init__(self, map: Any) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, min=1, max=2**63 - 1)

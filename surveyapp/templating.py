"""Template filters and globals."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import format_date, format_datetime, get_locale

from surveyapp.formatting import number_text
from surveyapp.models import localized


def current_locale() -> str:
    return str(get_locale() or "vi")


def register_template_helpers(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.template_filter("loc")
    def loc(texts: dict[str, str] | None) -> str:
        return localized(texts, current_locale())

    @app.template_filter("localdate")
    def localdate(moment: datetime | None) -> str:
        return format_date(moment, "short") if moment is not None else ""

    @app.template_filter("localdatetime")
    def localdatetime(moment: datetime | None) -> str:
        return format_datetime(moment, "short") if moment is not None else ""

    app.add_template_filter(format_number, "num")

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"current_locale": current_locale(), "lang_url": lang_url}


def format_number(value: Any, places: int = 2) -> str:
    """A figure in the reader's locale, rounded half up; an em dash when absent."""
    return number_text(value, places, current_locale())


def lang_url(code: str) -> str:
    """This page in another language (GET pages only; a POSTed form stays put)."""
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(args)}"

"""The current time for the web and CLI layers; tests set config CLOCK to a fixed instant."""

from __future__ import annotations

from datetime import datetime

from surveyapp.db import utcnow


def now() -> datetime:
    from flask import current_app

    clock = current_app.config.get("CLOCK") or utcnow
    moment: datetime = clock()
    return moment

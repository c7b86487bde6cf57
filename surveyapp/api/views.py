"""API endpoints."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from sqlalchemy import text

from surveyapp.api import bp
from surveyapp.db import get_session


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for load balancers and monitoring."""
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")

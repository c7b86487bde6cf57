"""JSON API (blueprint "api", /api/v1)."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from surveyapp.api import intake_views, views  # noqa: E402, F401

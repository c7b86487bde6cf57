"""Officials' workspace (blueprint "dashboard", /dashboard)."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from surveyapp.dashboard import export_views, report_views, setup_views, views  # noqa: E402, F401

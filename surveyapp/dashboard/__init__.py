"""Officials' workspace (blueprint "dashboard", /dashboard)."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

from surveyapp.dashboard import (  # noqa: E402, F401  (the views register on bp)
    admin_views,
    alert_views,
    common,
    export_views,
    inbox_views,
    intake_views,
    par_views,
    report_views,
    round_views,
    setup_views,
)

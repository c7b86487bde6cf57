"""Officials' sign-in (blueprint "auth")."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from surveyapp.auth import views  # noqa: E402, F401

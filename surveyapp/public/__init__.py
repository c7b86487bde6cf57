"""Citizen-facing survey pages (no login)."""

from flask import Blueprint

bp = Blueprint("public", __name__)

from surveyapp.public import views  # noqa: E402, F401

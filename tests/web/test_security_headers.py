"""Security headers on every kind of response, HSTS only behind HTTPS."""

from __future__ import annotations

import pytest
from flask import Flask

from tests.conftest import make_app, signed_in


def survey_path(world: dict) -> str:
    return f"/s/{world['counters']['P.D1'].active_token.token}"


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "{survey}",
        "/static/css/app.css",
        "/static/js/survey.js",
        "/api/v1/health",
        "/api/v1/units",
        "/no-such-page",
        "/dashboard/",
        "/dashboard/units/P?period=2026",
        "/dashboard/counters/P.D1-Q1/qr.png",
        "/auth/login",
    ],
)
def test_every_response_carries_the_security_headers(app: Flask, world: dict, path: str) -> None:
    auth = signed_in(app)
    with auth.client.get(path.format(survey=survey_path(world))) as result:
        headers = result.headers
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers


def test_hsts_behind_https(database_url: str, world: dict) -> None:
    app = make_app(database_url, SESSION_COOKIE_SECURE=True)
    try:
        result = app.test_client().get(survey_path(world))
    finally:
        app.extensions["surveyapp.engine"].dispose()
    assert result.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"

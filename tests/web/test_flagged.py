"""Flagged responses in the dashboard: counted on the unit page, listed for review, kept or
marked spam, each step audited; the inbox filters cases of flagged responses."""

from __future__ import annotations

import random
from datetime import timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AuditEntry, Response, ResponseStatus
from tests.conftest import NOW, SurveyPage, signed_in
from tests.factories import RATING_CODES

START = NOW.replace(minute=0, second=0)


def stuff(app: Flask, world: dict, count: int = 8) -> None:
    """Varied all-low answer sets from new browsers in quick succession at one counter."""
    url = f"/s/{world['counters']['P.D1'].active_token.token}"
    rng = random.Random(9)
    for i in range(count):
        app.config["CLOCK"] = lambda i=i: START + timedelta(seconds=3 * i)
        answers = {code: rng.choice((1, 2)) for code in [*RATING_CODES, "OVR"]}
        comment = {"comment": "Rất tệ, không ai làm việc"} if i == 0 else {}
        assert SurveyPage(app.test_client(), url).post(answers, **comment).status_code == 302
    app.config["CLOCK"] = lambda: NOW


def test_stuffed_responses_are_counted_listed_and_reviewed(
    app: Flask, world: dict, session: Session
) -> None:
    stuff(app, world)
    session.expire_all()
    ids = list(session.scalars(select(Response.id).order_by(Response.id)))
    assert all(session.scalars(select(Response.is_flagged)))
    par = signed_in(app)
    dashboard = par.client.get("/dashboard/units/P.D1?period=2026").get_data(as_text=True)
    assert "8 phiếu trong kỳ bị gắn cờ" in dashboard
    listing = par.client.get("/dashboard/flagged?unit=P.D1&period=2026").get_data(as_text=True)
    assert listing.count("<td>nhiều phiếu đánh giá thấp liên tiếp") == 8
    # Inbox: the low ratings opened cases; "only flagged" keeps them all here.
    inbox = par.client.get("/dashboard/inbox?flagged=1").get_data(as_text=True)
    assert "Rất tệ, không ai làm việc" in inbox
    token = par.csrf()
    kept = par.client.post(
        f"/dashboard/responses/{ids[0]}/flag",
        data={"csrf_token": token, "flagged": "0", "back": "/dashboard/flagged"},
    )
    assert kept.status_code == 303
    assert kept.headers["Location"] == "/dashboard/flagged"
    spam = par.client.post(
        f"/dashboard/responses/{ids[1]}/status",
        data={"csrf_token": token, "status": "spam", "back": "/dashboard/flagged"},
    )
    assert spam.status_code == 303
    session.expire_all()
    first, second = session.get(Response, ids[0]), session.get(Response, ids[1])
    assert (first.is_flagged, first.flag_reason) == (False, None)
    assert second.status is ResponseStatus.SPAM
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"response.flag", "response.status"} <= actions
    again = par.client.get("/dashboard/flagged?unit=P.D1").get_data(as_text=True)
    assert again.count("<td>nhiều phiếu đánh giá thấp liên tiếp") == 7  # the kept one left the list
    # The flag can be raised again by hand, for review.
    par.client.post(
        f"/dashboard/responses/{ids[0]}/flag", data={"csrf_token": token, "flagged": "1"}
    )
    session.expire_all()
    assert session.get(Response, ids[0]).flag_reason == "official"


def test_counter_staff_see_flags_but_do_not_clear_them(
    app: Flask, world: dict, session: Session
) -> None:
    stuff(app, world, 6)
    response_id = session.scalars(select(Response.id)).first()
    staff = signed_in(app, "staff@x.vn")
    assert staff.client.get("/dashboard/flagged").status_code == 200
    refused = staff.client.post(
        f"/dashboard/responses/{response_id}/flag",
        data={"csrf_token": staff.csrf(), "flagged": "0"},
    )
    assert refused.status_code == 403
    other = signed_in(app, "manager@x.vn")
    bad = other.client.post(
        f"/dashboard/responses/{response_id}/flag",
        data={"csrf_token": other.csrf(), "flagged": "maybe"},
    )
    assert bad.status_code in (400, 403)


def test_a_value_outside_the_choices_is_refused_by_name(
    app: Flask, world: dict, session: Session
) -> None:
    """A forged status, flag or role is a 400 naming the field; nothing changes."""
    stuff(app, world, count=1)
    response_id = session.scalar(select(Response.id))
    par = signed_in(app)
    token = par.csrf()
    for path, data in (
        (f"/dashboard/responses/{response_id}/status", {"status": "erased"}),
        (f"/dashboard/responses/{response_id}/flag", {"flagged": "yes"}),
        (f"/dashboard/users/{world['users']['staff'].id}", {"role": "root", "unit": "P.D1"}),
    ):
        refused = par.client.post(path, data={"csrf_token": token, **data})
        assert refused.status_code == 400, path
        field = next(iter(data))
        assert f"Giá trị của trường “{field}” không hợp lệ." in refused.get_data(as_text=True)
    session.expire_all()
    assert session.get_one(Response, response_id).status is ResponseStatus.REPORTABLE
    entries = session.scalars(select(AuditEntry.action)).all()
    assert not {"response.status", "response.flag", "user.update"} & set(entries)

"""Results in public: /cong-khai, its unit pages, the open-data feed and the QR poster's score."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import Session

from surveyapp.models import UnitLevel
from surveyapp.services.access import scope_for
from surveyapp.services.par import publication
from surveyapp.services.periods import parse_period
from tests.conftest import NOW, signed_in
from tests.factories import build_world, full_answers, submit_response

TZ = "Asia/Ho_Chi_Minh"


@pytest.fixture
def world(session: Session) -> dict:
    """Twelve respondents at D1 (8 satisfied with everything: 66.67 %), five at D2 (hidden)."""
    world = build_world(session)
    for i in range(12):
        submit_response(
            session,
            world["counters"]["P.D1"],
            full_answers(4 if i < 8 else 2),
            comment="Gọi tôi 0912345678" if i == 0 else None,
            contact="an@example.vn" if i == 0 else None,
        )
    for _ in range(5):
        submit_response(session, world["counters"]["P.D2"], full_answers(5))
    return world


def test_the_board_shows_each_unit_under_the_publication_rules(
    client: FlaskClient, world: dict
) -> None:
    page = client.get("/cong-khai?period=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    d1 = html[html.index("Đơn vị P.D1</a>") :]
    assert "66,67%" in d1[:600]
    d2 = html[html.index("Đơn vị P.D2</a>") :]
    assert "Chưa đủ 10 phiếu để công bố" in d2[:400]
    for private in ("0912345678", "•••", "an@example.vn", "Gọi tôi"):
        assert private not in html  # nothing a citizen wrote or left
    found = client.get("/cong-khai?period=2026&q=p.d2").get_data(as_text=True)
    assert "Đơn vị P.D2" in found
    assert "Đơn vị P.D1</a>" not in found
    english = client.get("/cong-khai?period=2026&lang=en").get_data(as_text=True)
    assert "Not enough responses (10) to publish" in english
    bad = client.get("/cong-khai?period=2026-13")
    assert bad.status_code == 422
    assert "Đơn vị P.D1" in bad.get_data(as_text=True)  # the page, with the message in it


def test_a_unit_page_has_elements_and_trend_and_no_comments(
    client: FlaskClient, world: dict
) -> None:
    page = client.get("/cong-khai/P.D1?period=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "66,67%" in html
    assert "Tiếp cận dịch vụ" in html  # the element bars, by name
    assert "06/2026" in html  # the trend
    assert "0912345678" not in html
    assert "Gọi tôi" not in html
    hidden = client.get("/cong-khai/P.D2?period=2026").get_data(as_text=True)
    assert "Chưa đủ 10 phiếu để công bố chỉ số" in hidden
    assert client.get("/cong-khai/NOPE").status_code == 404


def test_the_open_data_feed(client: FlaskClient, world: dict) -> None:
    feed = client.get("/cong-khai/du-lieu.json?period=2026")
    assert feed.status_code == 200
    assert feed.headers["Cache-Control"] == "public, max-age=300"
    payload = feed.get_json()
    rows = {u["unit_code"]: u for u in payload["units"]}
    assert rows["P.D1"]["sipas"] == 66.67
    assert rows["P.D1"]["n"] == 12
    assert rows["P.D1"]["ci_low"] < 66.67 < rows["P.D1"]["ci_high"]
    # Below the minimum n nothing is published, not even n.
    assert (rows["P.D2"]["n"], rows["P.D2"]["sipas"], rows["P.D2"]["reliable"]) == (
        None,
        None,
        None,
    )
    assert payload["hide_below_n"] == 10
    text = feed.get_data(as_text=True)
    for private in ("0912345678", "an@example.vn", "receipt", "comment"):
        assert private not in text
    again = client.get(
        "/cong-khai/du-lieu.json?period=2026", headers={"If-None-Match": feed.headers["ETag"]}
    )
    assert again.status_code == 304
    csv = client.get("/cong-khai/du-lieu.csv?period=2026")
    lines = csv.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "unit_code,unit_name,level,parent_code,period,n,sipas,ci_low,ci_high,reliable,"
        "published_version"
    )
    assert any(line.startswith("P.D2,Đơn vị P.D2,district,P,2026,,,,,,") for line in lines)
    assert client.get("/cong-khai/du-lieu.csv?period=garbage").status_code == 422


def test_published_figures_stay_as_published(
    client: FlaskClient, session: Session, world: dict
) -> None:
    publication.publish(
        session,
        scope_for(session, world["users"]["par"]),
        province_code="P",
        level=UnitLevel.DISTRICT,
        period=parse_period("2026"),
        stream=None,
        reason="",
        timezone=TZ,
        now=NOW,
    )
    session.commit()
    for i in range(12):  # later ratings change the live figure, not the published one
        submit_response(
            session, world["counters"]["P.D1"], full_answers(5), now=NOW + timedelta(hours=i)
        )
    rows = {
        u["unit_code"]: u
        for u in client.get("/cong-khai/du-lieu.json?period=2026").get_json()["units"]
    }
    assert (rows["P.D1"]["sipas"], rows["P.D1"]["n"]) == (66.67, 12)
    assert rows["P.D1"]["published_version"] == 1
    assert rows["P"]["published_version"] is None  # the province was not published: live
    assert rows["P"]["n"] == 29
    html = client.get("/cong-khai?period=2026").get_data(as_text=True)
    assert "(đã công bố)" in html


def test_the_qr_poster_can_carry_the_units_score(app: Flask, world: dict) -> None:
    auth = signed_in(app, "manager@x.vn")
    plain = auth.client.get("/dashboard/counters/P.D1-Q1/qr.pdf")
    scored = auth.client.get("/dashboard/counters/P.D1-Q1/qr.pdf?score=1")
    assert scored.status_code == 200
    text = PdfReader(io.BytesIO(scored.data)).pages[0].extract_text()
    assert "Chỉ số hài lòng 2026: 66,67% (n = 12)" in text
    assert "Chỉ số hài lòng 2026" not in PdfReader(io.BytesIO(plain.data)).pages[0].extract_text()
    assert "/tra-cuu" in text  # where to read the reply to a comment

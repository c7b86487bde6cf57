"""The PAR office runs a survey round on the dashboard: the round typed from the editor's
example, an invitation list uploaded (a bad one refused with its lines, nothing stored),
progress per unit and group, reminders, the close; other officials kept out."""

from __future__ import annotations

import html
import io
import re
from pathlib import Path

import pytest
import yaml
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import RaterLink, Respondent, Response, UnitLevel
from surveyapp.services.access import SYSTEM
from surveyapp.services.errors import InvalidInput
from surveyapp.services.instruments import definitions, publishing
from surveyapp.services.par import rounds
from tests.conftest import NOW, SurveyPage, signed_in
from tests.factories import make_unit

EXAMPLE = Path(__file__).parents[2] / "surveyapp" / "instruments" / "examples" / "par_unit.yaml"


def test_the_par_office_runs_a_round_on_the_dashboard(
    app: Flask, session: Session, world: dict
) -> None:
    publishing.publish_instrument(session, definitions.read_definition(EXAMPLE), NOW)
    make_unit(session, "P.S1", level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
    session.commit()
    par = signed_in(app, "par@x.vn")
    page = par.client.get("/dashboard/rounds").get_data(as_text=True)
    assert "Chưa có đợt điều tra nào" in page
    text = html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S).group(1))
    example = yaml.safe_load(text)  # the editor starts from a sound example of three groups
    assert [g["code"] for g in example["groups"]] == ["CC", "LD", "DN"]
    example |= {"code": "R26", "starts_on": "2026-06-01", "ends_on": "2026-07-31"}
    saved = par.client.post(
        "/dashboard/rounds",
        data={"csrf_token": par.csrf("/dashboard/rounds"), "text": yaml.safe_dump(example)},
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:800]
    bad = par.client.post(
        "/dashboard/rounds",
        data={"csrf_token": par.csrf("/dashboard/rounds"), "text": "code: [unclosed"},
    )
    assert bad.status_code == 422
    assert "không đọc được như YAML/JSON" in bad.get_data(as_text=True)

    def upload(content: str) -> object:
        return par.client.post(
            "/dashboard/rounds/R26/list",
            data={
                "list-csrf_token": par.csrf("/dashboard/rounds/R26"),
                "list-file": (io.BytesIO(content.encode()), "moi.csv"),
            },
        )

    refused = upload("group,contact,units\nCC,an@so.vn,P.S1\nLD,0912 34,P.S1\n")
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "dòng 3" in body
    assert "0912 34" in body
    assert session.scalar(select(func.count()).select_from(RaterLink)) == 0
    done = upload("group,contact,units,channel\nCC,an@so.vn,P.S1,\nLD,0912345678,P.S1,zalo\n")
    assert done.status_code == 303
    progress = par.client.get("/dashboard/rounds/R26").get_data(as_text=True)
    row = re.search(r"P\.S1</small></th><td>Công chức</td>(.*?)</tr>", progress, re.S)
    assert row, progress[progress.find("Tiến độ") :][:1500]
    cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
    assert cells == ["15", "1", "0", "0", "0 %"]  # quota 15, invited 1, none sent or answered

    assert (
        par.client.post(
            "/dashboard/rounds/R26/remind", data={"csrf_token": par.csrf("/dashboard/rounds/R26")}
        ).status_code
        == 303
    )
    closed = par.client.post(
        "/dashboard/rounds/R26/close", data={"csrf_token": par.csrf("/dashboard/rounds/R26")}
    )
    assert closed.status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Respondent)) == 0
    again = upload("group,contact,units\nCC,binh@so.vn,P.S1\n")
    assert again.status_code == 409  # a closed round takes no list

    manager = signed_in(app, "manager@x.vn")
    assert manager.client.get("/dashboard/rounds").status_code == 403
    assert par.client.get("/dashboard/rounds/NOPE").status_code == 404


def test_a_respondent_link_refuses_bad_input_and_can_stop_the_messages(
    app: Flask, session: Session, world: dict
) -> None:
    publishing.publish_instrument(session, definitions.read_definition(EXAMPLE), NOW)
    make_unit(session, "P.S1", level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
    make_unit(session, "P.S2", level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
    session.commit()
    group = {"code": "CC", "name": {"vi": "Công chức"}, "instrument": "PAR-UNIT"}
    survey = {
        "code": "R26",
        "name": "Đợt 2026",
        "province": "P",
        "year": 2026,
        "starts_on": "2026-06-01",
        "ends_on": "2026-07-31",
        "groups": [group | {"rates": ["department"], "quota": 3}],
    }
    rounds.save_round(session, SYSTEM, survey, NOW)
    rounds.import_list(
        session,
        SYSTEM,
        "R26",
        "l.csv",
        io.BytesIO(b"group,contact,units\nCC,an@so.vn,P.S1;P.S2\n"),
        NOW,
        timezone="Asia/Ho_Chi_Minh",
    )
    session.commit()
    tokens = session.scalars(select(RaterLink.token).order_by(RaterLink.unit_id)).all()
    client = app.test_client()
    assert client.get("/p/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404
    assert client.get("/p/bad token!").status_code == 404
    page = SurveyPage(client, f"/p/{tokens[0]}")
    off_scale = page.post({"P01": 9, "P02": 3, "P03": 3, "P04": 3, "P05": 3, "P06": 3})
    assert off_scale.status_code == 422
    missing = page.post({"P01": 3})
    assert missing.status_code == 422
    assert "Vui lòng" in missing.get_data(as_text=True)
    assert session.scalar(select(func.count()).where(Response.group_id.is_not(None))) == 0
    assert not session.scalars(select(RaterLink.used)).all()[0]  # still usable
    # The message's stop link: a page asking to confirm, then no more messages to An.
    assert "Ngừng nhận lời mời" in client.get(f"/p/{tokens[1]}/stop").get_data(as_text=True)
    assert client.post(f"/p/{tokens[1]}/stop").status_code == 200
    session.expire_all()
    statuses = session.scalars(select(RaterLink.status)).all()
    assert {s.value for s in statuses} == {"opted_out"}
    assert client.post("/p/AAAAAAAAAAAAAAAAAAAAAA/stop").status_code == 404
    # A round file that is not a mapping, or a date that is none, is refused with the reason.
    for bad in ([1, 2], survey | {"starts_on": "2026-02-30"}, survey | {"groups": []}):
        with pytest.raises(InvalidInput, match="Đợt điều tra không hợp lệ"):
            rounds.save_round(session, SYSTEM, bad, NOW)

"""A province from a fresh install to official figures: catalogue and staff loaded from files, an
intake token from the command line, dossiers pushed by its one-stop system, the citizens invited
by e-mail (a real local SMTP server), their ratings through the invitation link, and the
official-stream SIPAS and Thông tư 01 figures those ratings produce."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select

from surveyapp.models import Instrument, Stream
from tests.conftest import SurveyPage, make_app, signed_in
from tests.factories import build_world, full_answers, make_campaign
from tests.intake.servers import Mailbox, smtp_server

CATALOGUE = "MaLinhVuc,TenLinhVuc,MaTTHC,TenTTHC\nHT,Hộ tịch,1.001193,Đăng ký khai sinh\n"
STAFF = "staff_code,name,unit_code\nCB01,Trần Bình,P.D1\nCB02,Lê Chi,P.D2\n"


def record(code: str, unit: str, staff: str, email: str) -> dict[str, Any]:
    return {
        "MaHoSo": code,
        "DonViXuLy": unit,
        "MaTTHC": "1.001193",
        "MaCanBoTiepNhan": staff,
        "NgayTiepNhan": "20260610080000",
        "NgayHenTra": "20260615170000",
        "NgayTra": "20260614160000",
        "Email": email,
    }


def rate_from_mail(app: Flask, box: Mailbox, to: str, answers: dict[str, int]) -> None:
    """Open the link in the citizen's e-mail and submit the survey it shows."""
    (mail,) = [m for m in box.messages if m["To"] == to]
    body = mail.get_payload(decode=True).decode()
    short = re.search(r"http://127\.0\.0\.1:5000(/r/\w+)", body).group(1)
    client = app.test_client()
    hop = client.get(short)
    assert hop.status_code == 303
    page = SurveyPage(client, hop.headers["Location"].removeprefix("http://127.0.0.1:5000"))
    assert page.response.status_code == 200
    done = page.post(answers)
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert done.headers["Location"].endswith("/thanks")


def test_from_a_fresh_install_to_official_figures(database_url: str, tmp_path: Path) -> None:
    with smtp_server() as box:
        app = make_app(
            database_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=box.port,
            MAIL_DEFAULT_SENDER="Tỉnh P <khaosat@p.gov.vn>",
            INVITE_CHANNELS="email",
            INVITE_QUIET_HOURS="",
            TT01_MIN_RATINGS=1,
        )
        with app.extensions["surveyapp.sessionmaker"]() as session:
            world = build_world(session)
            # The province's official stream: the SIPAS questionnaire at D1, Thông tư 01 at D2.
            make_campaign(
                session, [world["units"]["d1"]], code="SIPAS-2026", stream=Stream.OFFICIAL
            )
            form = session.scalar(select(Instrument).where(Instrument.code == "TT01"))
            make_campaign(
                session,
                [world["units"]["d2"]],
                code="TT01-2026",
                instrument=form,
                stream=Stream.OFFICIAL,
            )
            session.commit()
        runner = app.test_cli_runner()
        for command, text in (("import-catalogue", CATALOGUE), ("import-staff", STAFF)):
            path = tmp_path / f"{command}.csv"
            path.write_text(text, encoding="utf-8")
            loaded = runner.invoke(args=[command, str(path)])
            assert loaded.exit_code == 0, loaded.output
        made = runner.invoke(
            args=["create-intake-token", "--unit", "P", "--name", "Một cửa", "--owner", "par@x.vn"]
        )
        assert made.exit_code == 0, made.output
        token = re.search(r"sat_\S+", made.output).group(0)

        pushed = app.test_client().post(
            "/api/v1/dossiers",
            json=[
                record("HS-SIPAS", "P.D1", "CB01", "an@example.vn"),
                record("HS-TT01", "P.D2", "CB02", "binh@example.vn"),
            ],
            headers={"Authorization": f"Bearer {token}"},
        )
        assert pushed.get_json()["counts"]["created"] == 2
        deadline = time.monotonic() + 20
        while len(box.messages) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(m["To"] for m in box.messages) == ["an@example.vn", "binh@example.vn"]

        rate_from_mail(app, box, "an@example.vn", full_answers(5))
        points = {"T1": 2, "T2": 2, "T3": 2, "T4": 1, "T5": 2, "T6": 2, "T7": 2, "T8": 2, "T9": 2}
        rate_from_mail(app, box, "binh@example.vn", {**points, "HL3": 2})

    par = signed_in(app, "par@x.vn")
    # The official SIPAS stream at D1 holds the rating, with the dossier's procedure field.
    dashboard = par.client.get("/dashboard/units/P.D1?period=2026&stream=official&field=HT")
    assert dashboard.status_code == 200
    assert "n = 1" in dashboard.get_data(as_text=True)
    # Thông tư 01 scores per receiving official from the staff register, without an account.
    tt01 = par.client.get("/dashboard/units/P/tt01?period=2026").get_data(as_text=True)
    row = re.search(r"<th scope=\"row\">Lê Chi</th><td>1</td>(.*?)</tr>", tt01, re.S)
    assert row, tt01[tt01.find("Theo cán bộ") :][:1500]
    assert "<b>9,0</b>" in row.group(1)  # T1 + T2 + T3 + T4 + T7 = 2 + 2 + 2 + 1 + 2

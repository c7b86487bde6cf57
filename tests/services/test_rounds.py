"""The PAR sociological survey as a province runs it: its own questionnaire and round (groups,
who rates whom, quotas) from files, a named invitation list, single-use links sent by e-mail (a
real local SMTP server), reminders, answers, progress, PAR points from the groups' answers by the
province's weights and answer-to-points rule (hand-computed), the close that erases the list, a
merge of two departments, the published period and the PAR council's file."""

from __future__ import annotations

import csv
import io
import re
import time
from decimal import Decimal
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml
from flask import Flask
from sqlalchemy import func, select

from surveyapp.models import RaterLink, Respondent, Response, UnitLevel
from surveyapp.queue import run_invitations
from surveyapp.services.access import SYSTEM
from surveyapp.services.errors import InvalidInput
from surveyapp.services.instruments import definitions, publishing
from surveyapp.services.par import publication, rounds
from surveyapp.services.par import settings as par_settings
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import par
from tests.conftest import NOW, SurveyPage, make_app
from tests.factories import build_world, make_unit
from tests.intake.servers import Mailbox, http_gateway, smtp_server

EXAMPLE = Path(__file__).parents[2] / "surveyapp" / "instruments" / "examples" / "par_unit.yaml"
ITEMS = ("P01", "P02", "P03", "P04", "P05", "P06")

ROUND: dict[str, Any] = {
    "code": "DTXHH-2026",
    "name": "Điều tra xã hội học CCHC năm 2026",
    "province": "P",
    "year": 2026,
    "starts_on": "2026-06-01",
    "ends_on": "2026-07-31",
    "groups": [
        {
            "code": "CC",
            "name": {"vi": "Công chức", "en": "Civil servants"},
            "instrument": "PAR-UNIT",
            "rates": ["department"],
            "quota": 2,
        },
        {
            "code": "DN",
            "name": {"vi": "Doanh nghiệp", "en": "Businesses"},
            "instrument": "PAR-UNIT",
            "rates": ["department"],
            "quota": 1,
        },
    ],
}

SCHEME: dict[str, Any] = {
    "province": "P",
    "level": "department",
    "year": 2026,
    "instrument": "PAR-UNIT",
    "appraisal_max": 80,
    "decision": "QĐ thử nghiệm/QĐ-UBND",
    "criteria": [
        {
            "code": "C1",
            "source": "SIPAS",
            "max_points": 10,
            "groups": {"CC": 0.6, "DN": 0.4},
            "answer_points": {4: 1, 3: 0.75, 2: 0.5, 1: 0},
        },
        {"code": "C2", "source": "TTHC", "max_points": 10, "groups": {"CC": 1}},
    ],
}

LIST = (
    "group,contact,units,name\n"
    "CC,an@so.vn,P.S1;P.S2,Nguyễn An\n"
    "CC,binh@so.vn,P.S1,Trần Bình\n"
    "DN,chi@dn.vn,P.S1,Lê Chi\n"
)


def wait_for(box: Mailbox, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(box.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(box.messages) >= count, [m["Subject"] for m in box.messages]


def link_in(box: Mailbox, to: str, unit_name: str, reminder: bool = False) -> str:
    (mail,) = [
        m
        for m in box.messages
        if m["To"] == to
        and unit_name in subject(m)
        and subject(m).startswith("Nhắc lại") == reminder
    ]
    body = mail.get_payload(decode=True).decode()
    return re.search(r"http://127\.0\.0\.1:5000(/p/[\w-]+)", body).group(1)


def subject(mail: Any) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def answer(app: Flask, path: str, answers: dict[str, int]) -> Any:
    page = SurveyPage(app.test_client(), path)
    assert page.response.status_code == 200, page.html[:400]
    return page.post(answers)


def same(value: int) -> dict[str, int]:
    return dict.fromkeys(ITEMS, value)


def test_a_round_from_files_to_par_points(database_url: str, tmp_path: Path) -> None:
    with smtp_server() as box:
        app = make_app(
            database_url,
            MAIL_SERVER="127.0.0.1",
            MAIL_PORT=box.port,
            MAIL_DEFAULT_SENDER="Sở Nội vụ P <cchc@p.gov.vn>",
            INVITE_CHANNELS="email",
            INVITE_QUIET_HOURS="",
        )
        with app.extensions["surveyapp.sessionmaker"]() as session:
            world = build_world(session)
            for code in ("P.S1", "P.S2"):
                make_unit(session, code, level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
            session.commit()
        runner = app.test_cli_runner()
        files = {"round.yaml": yaml.safe_dump(ROUND, allow_unicode=True), "list.csv": LIST}
        for name, text in files.items():
            (tmp_path / name).write_text(text, encoding="utf-8")
        (tmp_path / "cchc.yaml").write_text(yaml.safe_dump(SCHEME, allow_unicode=True), "utf-8")
        for args in (
            ["load-instrument", str(EXAMPLE)],
            ["round", "load", str(tmp_path / "round.yaml")],
            ["load-par-scheme", str(tmp_path / "cchc.yaml")],  # after the round: its groups
        ):
            done = runner.invoke(args=args)
            assert done.exit_code == 0, done.output
        invited = runner.invoke(args=["round", "invite", "DTXHH-2026", str(tmp_path / "list.csv")])
        assert invited.exit_code == 0, invited.output
        assert "3 người, 4 liên kết" in invited.output
        app.extensions["surveyapp.queue"].wake()  # the web process's workers send them
        wait_for(box, 4)  # one message per person and rated unit
        assert sorted(m["To"] for m in box.messages) == [
            "an@so.vn",
            "an@so.vn",
            "binh@so.vn",
            "chi@dn.vn",
        ]

        # An: everything "Rất tốt" for S1; Bình: Tốt, but procedures 2 and 1 and one "don't
        # know"; Chi (a business): everything "Trung bình".
        first = link_in(box, "an@so.vn", "Đơn vị P.S1")
        page = SurveyPage(app.test_client(), first)
        assert "Công chức" in page.html
        assert 'name="contact"' not in page.html  # anonymous: no contact asked
        assert page.post(same(4)).status_code == 302
        bình = {**same(3), "P03": 2, "P04": 1, "P06": 0}
        assert answer(app, link_in(box, "binh@so.vn", "Đơn vị P.S1"), bình).status_code == 302
        assert answer(app, link_in(box, "chi@dn.vn", "Đơn vị P.S1"), same(2)).status_code == 302
        again = app.test_client().get(first)
        assert again.status_code == 410  # single use
        assert "đã được gửi" in again.get_data(as_text=True)

        # A reminder goes to An for S2 only (the one link sent and not answered).
        reminded = runner.invoke(args=["round", "remind", "DTXHH-2026"])
        assert "1 thư nhắc" in reminded.output, reminded.output
        wait_for(box, 5)
        late = link_in(box, "an@so.vn", "Đơn vị P.S2", reminder=True)
        assert late == link_in(box, "an@so.vn", "Đơn vị P.S2")  # the same link
        assert answer(app, late, same(4)).status_code == 302

    progress = runner.invoke(args=["round", "progress", "DTXHH-2026"])
    assert progress.output.splitlines()[1:] == [
        "P.S1\tCC\t2\t2\t2\t2",
        "P.S1\tDN\t1\t1\t1\t1",
        "P.S2\tCC\t2\t1\t1\t1",
        "P.S2\tDN\t1\t0\t0\t0",
    ]

    with app.extensions["surveyapp.sessionmaker"]() as session:
        scheme = par_settings.find_scheme(
            session, world["units"]["p"].id, UnitLevel.DEPARTMENT, 2026
        )
        rows = {
            r.unit.code: r
            for r in par.par_table(
                session, scheme, parse_period("2026"), stream=None, timezone="Asia/Ho_Chi_Minh"
            )
        }
        # C1 at S1, by answer points: civil servants (6 + 0.75·3 + 0.5 + 0) / 11 answers (the
        # "don't know" left out) = 79.5454…%, businesses 50 %; 0.6·79.5454… + 0.4·50 = 67.7272…%
        # of 10 points = 6.77. C2 (procedures, civil servants, % good or very good): P03 and P04
        # 1 of 2 each → 50 % → 5.00.
        s1, s2 = rows["P.S1"], rows["P.S2"]
        assert s1.points == {"C1": Decimal("6.77"), "C2": Decimal("5.00")}
        assert s1.survey_points == Decimal("11.77")
        assert s1.group_n == {"CC": 2, "DN": 1}
        # S2: only civil servants answered: their weight alone counts, 100 % → 10 + 10.
        assert s2.points == {"C1": Decimal("10.00"), "C2": Decimal("10.00")}
        assert (s2.rank, s1.rank) == (1, 2)
        # The groups' answers are no SIPAS answers: nothing in the citizens' figures.
        assert s1.respondents == 0

    closed = runner.invoke(args=["round", "close", "DTXHH-2026"])
    assert "3 người" in closed.output, closed.output
    with app.extensions["surveyapp.sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(Respondent)) == 0
        assert session.scalars(select(RaterLink.token).distinct()).all() == [None]
        assert session.scalars(select(RaterLink.respondent_id).distinct()).all() == [None]
        assert session.scalar(select(func.count()).where(Response.group_id.is_not(None))) == 4
    assert app.test_client().get(late).status_code == 404
    after = runner.invoke(args=["round", "progress", "DTXHH-2026"])
    assert after.output == progress.output  # the counts outlive the list

    # S2 merged into S1 on 1 June: June's figures of S1 pool both departments' answers. C1:
    # civil servants (6 + 2.75 + 6) / 17 = 86.7647…%, businesses 50 %, 0.6·86.7647… + 0.4·50 =
    # 72.0588…% → 7.21; C2: P03 and P04 2 of 3 good each → 66.67 % → 6.67; together 13.88.
    (tmp_path / "lineage.csv").write_text(
        "old_code,new_code,effective_date,kind\nP.S2,P.S1,2026-06-01,merge\n", encoding="utf-8"
    )
    merged = runner.invoke(args=["load-lineage", str(tmp_path / "lineage.csv")])
    assert merged.exit_code == 0, merged.output
    with app.extensions["surveyapp.sessionmaker"]() as session:
        published = publication.publish(
            session,
            SYSTEM,
            province_code="P",
            level=UnitLevel.DEPARTMENT,
            period=parse_period("2026-06"),
            stream=None,
            reason="",
            timezone="Asia/Ho_Chi_Minh",
            now=NOW,
        )
        session.commit()
        assert published.version == 1
    out = tmp_path / "diem-cchc.csv"
    exported = runner.invoke(
        args=[
            "export-scores",
            *("--period", "2026-06", "--level", "department", "--format", "csv"),
            *("--out", str(out), "--stream", "all"),
        ]
    )
    assert exported.exit_code == 0, exported.output
    (row,) = csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines())
    assert (row["unit_code"], row["former_codes"]) == ("P.S1", "P.S2")
    assert (row["n_CC"], row["n_DN"]) == ("3", "1")
    assert (row["points_C1"], row["points_C2"], row["survey_points"]) == ("7.21", "6.67", "13.88")
    assert row["rank"] == "1"


def test_an_invitation_list_with_bad_rows_stores_nothing(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url)
    with app.extensions["surveyapp.sessionmaker"]() as session:
        world = build_world(session)
        make_unit(session, "P.S1", level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
        session.commit()
    runner = app.test_cli_runner()
    (tmp_path / "round.yaml").write_text(yaml.safe_dump(ROUND), encoding="utf-8")
    for args in (
        ["load-instrument", str(EXAMPLE)],
        ["round", "load", str(tmp_path / "round.yaml")],
    ):
        assert runner.invoke(args=args).exit_code == 0
    bad = (
        "nhom,lien_he,don_vi\n"
        "CC,an@so.vn,P.S1\n"
        "XX,0912 345 678,P.S1\n"  # no such group
        "CC,not-a-contact,P.D1\n"  # neither phone nor e-mail; a district is not rated by CC
        "DN,binh@so.vn,P.NOPE\n"
    )
    (tmp_path / "list.csv").write_text(bad, encoding="utf-8")
    done = runner.invoke(args=["round", "invite", "DTXHH-2026", str(tmp_path / "list.csv")])
    assert done.exit_code != 0
    assert "3 dòng không nhận được" in done.output
    assert "dòng 3: nhóm 'XX' không có trong đợt" in done.output
    assert "'not-a-contact' không phải số điện thoại hay e-mail" in done.output
    assert "không đánh giá đơn vị cấp district (P.D1)" in done.output
    assert "dòng 5: không có đơn vị P.NOPE" in done.output
    with app.extensions["surveyapp.sessionmaker"]() as session:
        assert session.scalar(select(func.count()).select_from(Respondent)) == 0
        assert session.scalar(select(func.count()).select_from(RaterLink)) == 0


def test_round_and_group_settings_are_checked(database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url)
    with app.extensions["surveyapp.sessionmaker"]() as session:
        build_world(session)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["load-instrument", str(EXAMPLE)]).exit_code == 0
        with pytest.raises(InvalidInput, match="ngày kết thúc"):
            rounds.save_round(session, SYSTEM, ROUND | {"ends_on": "2026-01-01"}, NOW)
        with pytest.raises(InvalidInput, match="mã nhóm lặp lại"):
            rounds.save_round(session, SYSTEM, ROUND | {"groups": ROUND["groups"] * 2}, NOW)
        rounds.save_round(session, SYSTEM, ROUND, NOW)
        # With a round that year, a criterion's groups must be the round's.
        wrong = SCHEME | {"criteria": [SCHEME["criteria"][0] | {"groups": {"HDND": 1}}]}
        with pytest.raises(InvalidInput, match="không có nhóm HDND"):
            par_settings.save_scheme(session, SYSTEM, wrong | {"appraisal_max": 90}, NOW)
        off_scale = SCHEME["criteria"][0] | {"answer_points": {5: 1}}
        with pytest.raises(InvalidInput, match="mức 5 không có trên thang đo"):
            par_settings.save_scheme(
                session, SYSTEM, SCHEME | {"criteria": [off_scale], "appraisal_max": 90}, NOW
            )
        citizens = {"code": "C9", "max_points": 10, "answer_points": {4: 1}}
        with pytest.raises(InvalidInput, match="chỉ dùng cho tiêu chí có groups"):
            par_settings.save_scheme(
                session, SYSTEM, SCHEME | {"criteria": [citizens], "appraisal_max": 90}, NOW
            )
        scheme, _ = par_settings.save_scheme(session, SYSTEM, SCHEME, NOW)
        assert par_settings.as_mapping(scheme)["criteria"][0]["groups"] == {"CC": 0.6, "DN": 0.4}
        # A closed round is final.
        rounds.close_round(session, SYSTEM, "DTXHH-2026", NOW)
        with pytest.raises(InvalidInput, match="đã kết thúc"):
            rounds.save_round(session, SYSTEM, ROUND, NOW)


def readme_examples() -> list[Any]:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The PAR survey's respondent groups") :]
    section = section[: section.index("\n## ", 5)]
    return [yaml.safe_load(block.split("```")[0]) for block in section.split("```yaml")[1:]]


def test_the_readme_examples_are_a_sound_round_and_criteria() -> None:
    survey, criteria = readme_examples()
    assert [g.code for g in rounds.read_round(survey).groups] == ["CC", "LD", "DN"]
    scheme = par_settings.read_scheme(SCHEME | criteria | {"appraisal_max": 70})
    assert scheme.criteria[1].groups == {
        "CC": Decimal("0.5"),
        "LD": Decimal("0.2"),
        "DN": Decimal("0.3"),
    }


def test_an_xlsx_list_and_a_link_sent_by_sms(database_url: str) -> None:
    with http_gateway((200, {"status": "ok"})) as gateway:
        app = make_app(
            database_url,
            SMS_URL=gateway.url,
            SMS_BODY_TEMPLATE='{"to": "{phone}", "text": "{text}"}',
            INVITE_CHANNELS="sms",
            INVITE_QUIET_HOURS="",
        )
        with app.extensions["surveyapp.sessionmaker"]() as session:
            world = build_world(session)
            make_unit(session, "P.S1", level=UnitLevel.DEPARTMENT, parent=world["units"]["p"])
            publishing.publish_instrument(session, definitions.read_definition(EXAMPLE), NOW)
            rounds.save_round(session, SYSTEM, ROUND, NOW)
            book = openpyxl.Workbook()
            book.active.append(["Nhóm", "Liên hệ", "Đơn vị", "Họ tên"])
            book.active.append(["DN", "0912 345 678", "P.S1", "Lê Chi"])
            data = io.BytesIO()
            book.save(data)
            data.seek(0)
            done = rounds.import_list(
                session, SYSTEM, "DTXHH-2026", "moi.xlsx", data, NOW, timezone="Asia/Ho_Chi_Minh"
            )
            session.commit()
        assert (done.respondents, done.links) == (1, 1)
        assert run_invitations(app, app.extensions["surveyapp.queue"].invite_settings) == 1
    (request,) = gateway.requests
    assert request["body"]["to"] == "84912345678"
    text = request["body"]["text"]
    assert text.startswith("Moi danh gia P.S1 (DTXHH-2026): http://127.0.0.1:5000/p/")
    page = app.test_client().get(re.search(r"(/p/[\w-]+)", text).group(1))
    assert page.status_code == 200
    assert "Doanh nghiệp" in page.get_data(as_text=True)

"""Command-line interface through the app's CLI runner."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    AnswerCount,
    Counter,
    Dossier,
    Instrument,
    Response,
    Unit,
    UnitLineage,
)
from tests.conftest import SurveyPage, make_app
from tests.factories import full_answers


def test_seed_demo_is_idempotent_and_counted(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo", "--responses", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert "thêm 300 phiếu" in result.output
    again = runner.invoke(args=["seed-demo", "--responses", "300", "--seed", "7"])
    assert "thêm 0 phiếu" in again.output

    def total(model) -> int:
        return session.scalar(select(func.count()).select_from(model))

    rated = int(re.search(r", (\d+) đánh giá hồ sơ", result.output).group(1))
    assert rated > 0  # Thông tư 01 ratings of the districts' dossiers
    assert ", 0 đánh giá" in again.output
    # The PAR survey's groups rated the departments through their links; once.
    par = int(re.search(r"và (\d+) phiếu điều tra xã hội học", result.output).group(1))
    assert 0 < par <= 30 * 4
    assert "và 0 phiếu điều tra" in again.output
    assert total(Response) == 300 + rated + par
    assert session.scalar(select(func.count()).where(Response.group_id.is_not(None))) == par
    counter_survey = select(func.count()).select_from(Response).join(Response.instrument)
    assert session.scalar(counter_survey.where(Instrument.code == "COUNTER")) == 300
    # 2026: province, 4 departments, the service centre, 4 new communes and wards; history: 4
    # districts and their 12 communes, merged on 1 July 2025 (their counters moved on).
    assert total(Unit) == 26
    assert total(Counter) == 26
    assert total(Dossier) >= 40
    names = set(session.scalars(select(Unit.name)))
    assert {"Tỉnh An Lạc", "Sở Tư pháp", "Huyện Đông Hòa", "Xã Phước Lộc"} <= names
    # The districts and their communes merged into the new communes on 1 July 2025, their
    # answers of 2025 kept where they were given; nothing reaches them after.
    assert len(session.scalars(select(UnitLineage)).all()) == 16
    inactive = set(session.scalars(select(Unit.code).where(Unit.is_active.is_(False))))
    assert {"AL.DH", "AL.DH.X01"} <= inactive
    assert "AL.XDH" not in inactive
    at_old = select(func.count()).select_from(Response).join(Unit).where(Unit.code.like("AL.DH%"))
    assert session.scalar(at_old.where(Response.period < 202507)) > 0
    assert session.scalar(at_old.where(Response.period >= 202507)) == 0
    # The rollup agrees with the raw answers.
    raw = session.execute(
        select(func.count())
        .select_from(Response)
        .join(Response.answers)
        .where(Response.group_id.is_(None))  # the groups' answers are no SIPAS answers
    ).scalar_one()
    assert session.scalar(select(func.sum(AnswerCount.count))) == raw

    stats = runner.invoke(args=["stats"]).output.strip().splitlines()
    assert sum(int(line.split("\t")[1]) for line in stats) == 300 + rated + par
    assert all(len(line.split("\t")) == 2 for line in stats)


def test_counters_prints_code_unit_and_working_url(app: Flask, session: Session) -> None:
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo", "--responses", "0"])
    lines = runner.invoke(args=["counters"]).output.strip().splitlines()
    assert len(lines) == 26
    code, unit_code, url = lines[0].split("\t")
    assert code == f"{unit_code}-Q1"
    assert url.startswith("http://127.0.0.1:5000/s/")
    # The printed URL serves the survey, and a response there shows up in `stats`.
    client: FlaskClient = app.test_client()
    path = url.removeprefix("http://127.0.0.1:5000")
    page = SurveyPage(client, path)
    assert page.response.status_code == 200
    assert page.post(full_answers()).status_code == 302
    stats = dict(line.split("\t") for line in runner.invoke(args=["stats"]).output.splitlines())
    assert stats == {unit_code: "1"}


def test_base_url_comes_from_config(database_url: str) -> None:
    app = make_app(database_url, BASE_URL="https://khaosat.example.gov.vn/")
    try:
        runner = app.test_cli_runner()
        runner.invoke(args=["seed-demo", "--responses", "0"])
        first = runner.invoke(args=["counters"]).output.splitlines()[0]
        assert first.split("\t")[2].startswith("https://khaosat.example.gov.vn/s/")
    finally:
        app.extensions["surveyapp.engine"].dispose()


def test_stats_is_empty_without_responses(runner) -> None:
    result = runner.invoke(args=["stats"])
    assert result.exit_code == 0
    assert result.output == ""

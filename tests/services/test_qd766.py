"""QĐ 766/QĐ-TTg satisfaction figures of a unit, from its cases and dossiers, by hand."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Case, Channel, Dossier, DossierStatus, Stream, Verdict
from surveyapp.services.access import scope_for
from surveyapp.services.collection.submissions import Rules, Submission, accept_submission
from surveyapp.services.collection.targets import dossier_target
from surveyapp.services.feedback import cases
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import qd766
from tests.conftest import NOW
from tests.factories import build_world, full_answers, make_campaign, make_dossier, submit_response

TZ = "Asia/Ho_Chi_Minh"
RULES = Rules(timezone=TZ)
POLICY = cases.CasePolicy(TZ)


def _rate(session: Session, dossier: Dossier, answers: dict, comment: str | None = None) -> None:
    target = dossier_target(session, dossier, NOW, TZ)
    submission = Submission(f"key-{secrets.token_hex(8)}", answers, comment=comment)
    accept_submission(
        session, target=target, channel=Channel.LINK, submission=submission, now=NOW, rules=RULES
    )
    session.commit()


def test_the_three_rates_of_a_month(session: Session) -> None:
    world = build_world(session)
    d1, d2 = world["units"]["d1"], world["units"]["d2"]
    make_campaign(session, [world["units"]["p"]], code="OFF", stream=Stream.OFFICIAL)
    manager = scope_for(session, world["users"]["manager"])
    counter = world["counters"]["P.D1"]

    def comment(text: str, when=NOW):
        response = submit_response(session, counter, comment=text, now=when)
        return response, session.scalars(select(Case).where(Case.response_id == response.id)).one()

    r1, c1 = comment("Một")  # replied the next day: on time; the citizen is satisfied
    cases.reply(session, manager, c1, "Đã xử lý.", NOW + timedelta(days=1))
    r2, c2 = comment("Hai")  # replied after its due date (29 June): late, and the citizen says so
    cases.reply(session, manager, c2, "Đã xử lý.", NOW + timedelta(days=17))
    comment("Ba")  # never handled: overdue by 10 July
    comment("Bốn", NOW + timedelta(days=15))  # 30 June, due mid-July: pending on 10 July
    _, c5 = comment("Năm")  # a duplicate of c1: not counted
    cases.merge(session, manager, c5, c1.id, NOW)
    _, c6 = comment("Sáu")  # another agency's matter: counted at D2
    cases.transfer(session, manager, c6, "P.D2", "Thuộc D2", NOW)
    session.commit()
    cases.give_verdict(session, r1.receipt_code, Verdict.SATISFIED, False, NOW, POLICY)
    cases.give_verdict(
        session, r2.receipt_code, Verdict.UNSATISFIED, True, NOW + timedelta(days=18), POLICY
    )
    session.commit()

    returned = NOW - timedelta(hours=1)
    ok = make_dossier(session, d1, "HS-1", returned_at=returned)
    low = make_dossier(session, d1, "HS-2", returned_at=returned)
    complaint = make_dossier(session, d1, "HS-3", returned_at=returned)
    make_dossier(session, d1, "HS-4", returned_at=returned)  # not rated: not unsatisfied
    make_dossier(session, d1, "HS-5", returned_at=returned, status=DossierStatus.CANCELLED)
    may = NOW - timedelta(days=30)
    make_dossier(session, d1, "HS-6", received_at=may - timedelta(days=2), returned_at=may)
    session.commit()
    _rate(session, ok, full_answers(4))
    _rate(session, low, full_answers(4) | {"S15": 1})  # opens a case (the dossier is a way back)
    _rate(session, complaint, full_answers(5), comment="Cán bộ hẹn ba lần mới trả")  # a case

    tenth_of_july = NOW + timedelta(days=25)
    june = qd766.unit_months(
        session, manager, d1, parse_period("2026-06"), timezone=TZ, now=tenth_of_july
    )
    assert len(june) == 1
    row = june[0]
    assert row.period == "2026-06"
    # Feedback: Một, Hai, Ba, Bốn and the two dossiers' cases; Bốn is pending.
    assert (row.feedback, row.pending, row.on_time, row.handled) == (6, 1, 1, 2)
    assert row.on_time_rate == Decimal("20.00")  # 1 of 5 decided
    assert (row.unsatisfied, row.late_complaints) == (1, 1)
    assert row.feedback_satisfaction == Decimal("50.00")  # (2 − 1) / 2
    assert (row.dossiers, row.dossiers_unsatisfied) == (4, 2)
    assert row.dossier_satisfaction == Decimal("50.00")  # (4 − 2) / 4

    other = qd766.unit_months(
        session,
        scope_for(session, world["users"]["par"]),
        d2,
        parse_period("2026-06"),
        timezone=TZ,
        now=tenth_of_july,
    )[0]
    assert (other.feedback, other.pending, other.on_time) == (1, 0, 0)  # the transferred case
    year = qd766.unit_months(
        session, manager, d1, parse_period("2026"), timezone=TZ, now=tenth_of_july
    )
    assert [r.month for r in year] == [202600 + m for m in range(1, 13)]
    may = year[4]
    assert (may.feedback, may.dossiers) == (0, 1)
    assert may.on_time_rate is None  # nothing to rate: no rate, not 0 or 100
    assert may.feedback_satisfaction is None
    assert may.dossier_satisfaction == Decimal("100.00")


def test_the_figures_on_the_dashboard_the_api_and_the_export(app, session: Session) -> None:
    from tests.conftest import signed_in
    from tests.web.test_reports import create_token, validate

    world = build_world(session)
    response = submit_response(session, world["counters"]["P.D1.X"], comment="Chờ lâu")
    case = session.scalars(select(Case)).one()
    cases.reply(session, scope_for(session, world["users"]["manager"]), case, "Đã xử lý.", NOW)
    session.commit()
    cases.give_verdict(session, response.receipt_code, Verdict.UNSATISFIED, True, NOW, POLICY)
    session.commit()
    auth = signed_in(app, "manager@x.vn")
    page = auth.client.get("/dashboard/units/P.D1?period=2026-06").get_data(as_text=True)
    section = page[page.index("Quyết định 766/QĐ-TTg") :]
    assert '<th scope="row">2026-06</th>' in section
    assert "100,00%" in section  # handled on time: 1 of 1
    assert "0,00%" in section  # the one handled case's citizen is not satisfied
    csv = auth.client.get("/dashboard/units/P.D1/qd766.csv?period=2026-06")
    assert csv.status_code == 200
    lines = csv.get_data().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("unit_code,unit_name,period,feedback,pending,on_time,on_time_rate")
    assert lines[1].startswith("P.D1,")
    assert ",2026-06,1,0,1,100.0,1,1,1,0.0,0,0," in lines[1]
    assert lines[2].startswith("P.D1.X,")  # the unit below, on its own
    headers = {"Authorization": f"Bearer {create_token(auth)}"}
    api = app.test_client()
    result = api.get("/api/v1/units/P.D1/qd766?period=2026-Q2", headers=headers)
    assert result.status_code == 200
    payload = result.get_json()
    validate(payload, "/units/{code}/qd766")
    june = payload["months"][2]
    assert (june["period"], june["on_time_rate"], june["feedback_satisfaction"]) == (
        "2026-06",
        100.0,
        0.0,
    )
    assert payload["months"][0]["on_time_rate"] is None  # April: nothing, null (never NaN)
    assert api.get("/api/v1/units/P.D1/qd766", headers=headers).status_code == 422
    assert api.get("/api/v1/units/P.D2/qd766?period=2026", headers=headers).status_code == 404
    assert api.get("/api/v1/units/P.D1/qd766?period=2026-13", headers=headers).status_code == 422

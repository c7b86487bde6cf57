"""The officials' pages: handling a case, counters and QR posters, accounts, receipt look-up."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AuditEntry, Case, CaseStatus, Counter, CounterToken, User
from tests.conftest import NOW, AuthActions
from tests.factories import build_world, full_answers, submit_response


@pytest.fixture
def world(session: Session) -> dict:
    return build_world(session)


def signed_in(app: Flask, email: str) -> AuthActions:
    auth = AuthActions(app.test_client())
    assert auth.login(email).status_code == 302
    return auth


def test_manager_handles_a_case_end_to_end(app: Flask, world: dict, session: Session) -> None:
    response = submit_response(
        session, world["counters"]["P.D1"], comment="Gọi tôi 0912345678, chờ 2 tiếng"
    )
    case_id = session.scalar(select(Case.id))
    auth = signed_in(app, "manager@x.vn")
    inbox = auth.client.get("/dashboard/inbox").get_data(as_text=True)
    assert "•••••••678, chờ 2 tiếng" in inbox
    assert "1 phản ánh khớp bộ lọc" in inbox
    english = auth.client.get("/dashboard/inbox?lang=en").get_data(as_text=True)
    assert "1 case matches the filters" in english
    auth.client.get("/dashboard/inbox?lang=vi")  # back to Vietnamese for the rest
    assert "0912345678" not in inbox
    url = f"/dashboard/cases/{case_id}"
    token = auth.csrf(url)
    manager_id = world["users"]["manager"].id

    def post(action: str, **fields: str):
        data = {"action": action, f"{action}-csrf_token": token}
        data |= {f"{action}-{k}": v for k, v in fields.items()}
        return auth.client.post(url, data=data)

    assert post("assign", assignee=str(manager_id)).status_code == 303
    empty = post("reply", reply="   ")
    assert empty.status_code == 422
    assert "Nội dung trả lời không được để trống" in empty.get_data(as_text=True)
    assert post("note", note="Đã gọi lại cho người dân").status_code == 303
    assert post("reply", reply="Chúng tôi đã bố trí thêm cán bộ.").status_code == 303
    assert post("status", status="closed").status_code == 303
    assert post("status", status="bogus").status_code == 422
    page = auth.client.get(url).get_data(as_text=True)
    assert "Đã gọi lại cho người dân" in page
    # The history reads as sentences with names and the statuses' words, not ids and codes.
    assert "manager@x.vn giao xử lý cho manager@x.vn." in page
    assert "manager@x.vn trả lời người dân: “Chúng tôi đã bố trí thêm cán bộ.”" in page
    assert "chuyển trạng thái từ “Đã trả lời” sang “Đã đóng”." in page
    for raw in ("case.reply", "assignee_id", "\\u"):
        assert raw not in page
    english = auth.client.get(f"{url}?lang=en").get_data(as_text=True)
    assert "changed the status from “Answered” to “Closed”." in english
    session.expire_all()
    case = session.get(Case, case_id)
    assert case.status is CaseStatus.CLOSED
    assert case.assignee_id == manager_id
    # The citizen sees the reply with the receipt code, and nothing internal.
    status = app.test_client().get(f"/tra-cuu?code={response.receipt_code}")
    text = status.get_data(as_text=True)
    assert "Chúng tôi đã bố trí thêm cán bộ." in text
    assert "Đã gọi lại" not in text


def test_transfer_merge_and_the_inbox_columns(app: Flask, world: dict, session: Session) -> None:
    """The inbox names the low element, the counter and the channel; a case is passed on to
    another agency (it leaves the sender's inbox) and a duplicate is merged; the home page
    breaks overdue cases down by unit."""
    counter = world["counters"]["P.D1"]
    low = full_answers(4) | {"S15": 1}
    submit_response(session, counter, low, comment="Đường vào bị ngập")
    submit_response(session, counter, comment="Máy lấy số hỏng")
    submit_response(session, counter, comment="Máy lấy số không chạy")
    first, second, third = session.scalars(select(Case.id).order_by(Case.id)).all()
    auth = signed_in(app, "manager@x.vn")
    inbox = auth.client.get("/dashboard/inbox").get_data(as_text=True)
    assert "Thấp nhất: Tiếp cận dịch vụ" in inbox  # the element's name, not "TC"
    assert "Mã QR tại quầy" in inbox
    assert counter.name in inbox
    url = f"/dashboard/cases/{first}"
    token = auth.csrf(url)
    page = auth.client.get(url).get_data(as_text=True)
    assert 'value="P.D2"' in page
    assert 'value="P.D1"' not in page
    refused = auth.client.post(
        url,
        data={"action": "transfer", "transfer-csrf_token": token, "transfer-unit": "P.D2"},
    )
    assert refused.status_code == 422
    assert "Vui lòng nhập thông tin này." in refused.get_data(as_text=True)
    moved = auth.client.post(
        url,
        data={
            "action": "transfer",
            "transfer-csrf_token": token,
            "transfer-unit": "P.D2",
            "transfer-reason": "Đường thuộc huyện D2 quản lý",
        },
    )
    assert moved.status_code == 303
    assert moved.headers["Location"].endswith("/dashboard/inbox")
    assert auth.client.get(url).status_code == 404  # no longer the manager's
    par = signed_in(app, "par@x.vn")
    history = par.client.get(url).get_data(as_text=True)
    assert "chuyển phản ánh từ" in history
    assert "Đường thuộc huyện D2 quản lý" in history
    merge_url = f"/dashboard/cases/{third}"
    token = auth.csrf(merge_url)
    bad = auth.client.post(
        merge_url, data={"action": "merge", "merge-csrf_token": token, "merge-into": "abc"}
    )
    assert bad.status_code == 422
    merged = auth.client.post(
        merge_url,
        data={"action": "merge", "merge-csrf_token": token, "merge-into": str(second)},
    )
    assert merged.status_code == 303
    page = auth.client.get(merge_url).get_data(as_text=True)
    assert f"gộp phản ánh này vào phản ánh #{second}" in page
    session.expire_all()
    assert session.get(Case, third).status is CaseStatus.CLOSED
    assert "Quá hạn theo đơn vị" not in par.client.get("/dashboard/").get_data(as_text=True)
    app.config["CLOCK"] = lambda: NOW + timedelta(days=30)
    par = signed_in(app, "par@x.vn")  # a month later, in a new session
    home = par.client.get("/dashboard/").get_data(as_text=True)
    overdue = home[home.index("Quá hạn theo đơn vị") :]
    # P.D2 has the transferred case, P.D1 the one left open (the merged duplicate is closed).
    assert "inbox?unit=P.D1&amp;status=overdue" in overdue
    assert "inbox?unit=P.D2&amp;status=overdue" in overdue


def test_the_citizens_verdict_without_javascript(
    app: Flask, client: FlaskClient, world: dict, session: Session
) -> None:
    response = submit_response(session, world["counters"]["P.D1"], comment="Thiếu chỗ gửi xe")
    case = session.scalars(select(Case)).one()
    code = response.receipt_code
    page = client.get(f"/tra-cuu?code={code}").get_data(as_text=True)
    assert "Gửi ý kiến" not in page  # no reply yet, nothing to judge
    manager = signed_in(app, "manager@x.vn")
    url = f"/dashboard/cases/{case.id}"
    token = manager.csrf(url)
    manager.client.post(
        url, data={"action": "reply", "reply-csrf_token": token, "reply-reply": "Đã mở bãi xe."}
    )
    page = client.get(f"/tra-cuu?code={code}").get_data(as_text=True)
    assert "Đã mở bãi xe." in page
    assert "Gửi ý kiến" in page
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert csrf is not None
    form = {"csrf_token": csrf.group(1), "code": code}
    assert client.post("/tra-cuu", data=form | {"verdict": "maybe"}).status_code == 422
    assert client.post("/tra-cuu", data={"code": code, "verdict": "satisfied"}).status_code == 400
    unknown = client.post("/tra-cuu", data=form | {"code": "ZZZZZZZZZZ", "verdict": "satisfied"})
    assert unknown.status_code == 404
    done = client.post("/tra-cuu", data=form | {"verdict": "satisfied"})
    assert done.status_code == 303
    thanked = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Cảm ơn bạn đã cho biết ý kiến về kết quả xử lý." in thanked
    assert "Hài lòng với kết quả xử lý</strong>" in thanked
    again = client.post("/tra-cuu", data=form | {"verdict": "unsatisfied"})
    assert again.status_code == 409
    assert "Bạn đã gửi ý kiến về trả lời này." in again.get_data(as_text=True)
    session.expire_all()
    assert session.get(Case, case.id).status is CaseStatus.RESOLVED
    english = client.get(f"/tra-cuu?code={code}&lang=en").get_data(as_text=True)
    assert "Satisfied with how it was handled" in english


def test_receipt_lookup_page(client: FlaskClient, world: dict, session: Session) -> None:
    response = submit_response(session, world["counters"]["P.D1"], comment="Thiếu chỗ gửi xe")
    found = client.get(f"/tra-cuu?code={response.receipt_code}")
    assert found.status_code == 200
    assert "đang được xử lý" in found.get_data(as_text=True)
    missing = client.get("/tra-cuu?code=ZZZZZZZZZZ")
    assert missing.status_code == 404
    assert "Không tìm thấy mã tiếp nhận này." in missing.get_data(as_text=True)
    assert client.get("/tra-cuu").status_code == 200


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=bogus", "Trạng thái không hợp lệ."),
        ("sort=sideways", "Cách sắp xếp không hợp lệ."),
        ("period=2026-13", "không hợp lệ; dùng YYYY, YYYY-Qn, YYYY-MM"),
        ("assignee=x1", "Người được giao không hợp lệ."),
        ("after=notacursor", "Trang không hợp lệ."),
        ("q=" + "x" * 201, "Từ khóa tìm kiếm dài tối đa 200 ký tự."),
    ],
)
def test_bad_inbox_filters_are_explained(app: Flask, world: dict, query: str, message: str) -> None:
    result = signed_in(app, "par@x.vn").client.get(f"/dashboard/inbox?{query}")
    assert result.status_code == 400
    assert message in result.get_data(as_text=True)


def test_counter_qr_rotation_and_retirement(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app, "manager@x.vn")
    old = world["counters"]["P.D1"].active_token.token
    for ext, kind in (("png", "image/png"), ("svg", "image/svg+xml"), ("pdf", "application/pdf")):
        download = auth.client.get(f"/dashboard/counters/P.D1-Q1/qr.{ext}")
        assert download.status_code == 200
        assert download.mimetype == kind
        assert download.headers["Content-Disposition"] == f"attachment; filename=qr-P.D1-Q1.{ext}"
    assert auth.client.get("/dashboard/counters/P.D1-Q1/qr.gif").status_code == 404
    token = auth.csrf("/dashboard/counters")
    assert (
        auth.client.post(
            "/dashboard/counters/P.D1-Q1/rotate", data={"csrf_token": token}
        ).status_code
        == 303
    )
    session.expire_all()
    fresh = session.scalars(
        select(CounterToken)
        .where(CounterToken.retired_at.is_(None), CounterToken.token != old)
        .join(Counter)
        .where(Counter.code == "P.D1-Q1")
    ).one()
    citizen = app.test_client()
    assert citizen.get(f"/s/{old}").status_code == 404
    assert "đã ngừng sử dụng" in citizen.get(f"/s/{old}").get_data(as_text=True)
    assert citizen.get(f"/s/{fresh.token}").status_code == 200
    assert (
        auth.client.post(
            "/dashboard/counters/P.D1-Q1/retire", data={"csrf_token": token}
        ).status_code
        == 303
    )
    assert citizen.get(f"/s/{fresh.token}").status_code == 404
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"counter.rotate", "counter.retire"} <= actions


def test_create_counter_form(app: Flask, world: dict, session: Session) -> None:
    auth = signed_in(app, "manager@x.vn")
    token = auth.csrf("/dashboard/counters")
    created = auth.client.post(
        "/dashboard/counters",
        data={"csrf_token": token, "unit": "P.D1.X", "code": "P.D1.X-Q2", "name": "Quầy 2"},
    )
    assert created.status_code == 303
    dup = auth.client.post(
        "/dashboard/counters",
        data={"csrf_token": token, "unit": "P.D1.X", "code": "P.D1.X-Q2", "name": "Quầy 2"},
    )
    assert dup.status_code == 422
    assert "Mã quầy này đã tồn tại." in dup.get_data(as_text=True)
    other_unit = auth.client.post(
        "/dashboard/counters",
        data={"csrf_token": token, "unit": "P.D2", "code": "P.D2-Q9", "name": "Quầy 9"},
    )
    assert other_unit.status_code == 422  # not a choice for this official
    assert session.scalar(select(Counter.id).where(Counter.code == "P.D2-Q9")) is None


def test_managers_create_accounts_below_them_only(
    app: Flask, world: dict, session: Session
) -> None:
    auth = signed_in(app, "manager@x.vn")
    token = auth.csrf("/dashboard/users")
    base = {"csrf_token": token, "full_name": "Nguyễn Văn A", "password": "mat-khau-ban-dau-1"}
    ok = auth.client.post(
        "/dashboard/users",
        data=base | {"email": "motcua.x@x.vn", "role": "counter_staff", "unit": "P.D1.X"},
    )
    assert ok.status_code == 303
    for data in (
        base | {"email": "a@x.vn", "role": "admin", "unit": "P.D1"},
        base | {"email": "b@x.vn", "role": "par_office", "unit": "P.D1"},
        base | {"email": "c@x.vn", "role": "counter_staff", "unit": "P.D2"},
        base | {"email": "not-an-email", "role": "counter_staff", "unit": "P.D1"},
        base | {"email": "motcua.x@x.vn", "role": "counter_staff", "unit": "P.D1"},
        base | {"email": "d@x.vn", "role": "counter_staff", "unit": "P.D1", "password": "ngan"},
    ):
        assert auth.client.post("/dashboard/users", data=data).status_code == 422, data
    emails = set(session.scalars(select(User.email)))
    assert "motcua.x@x.vn" in emails
    assert not {"a@x.vn", "b@x.vn", "c@x.vn", "d@x.vn"} & emails


def test_dashboard_in_english(app: Flask, world: dict) -> None:
    auth = signed_in(app, "par@x.vn")
    page = auth.client.get("/dashboard/inbox?lang=en").get_data(as_text=True)
    assert "Feedback inbox" in page
    assert "Sign out" in page


def test_deactivating_an_account_signs_it_out(app: Flask, world: dict, session: Session) -> None:
    staff = signed_in(app, "staff@x.vn")
    par = signed_in(app, "par@x.vn")
    staff_id = world["users"]["staff"].id
    token = par.csrf("/dashboard/users")
    off = par.client.post(
        f"/dashboard/users/{staff_id}",
        data={"csrf_token": token, "role": "counter_staff", "unit": "P.D1"},
    )
    assert off.status_code == 303
    assert staff.client.get("/dashboard/").status_code == 302
    assert AuthActions(app.test_client()).login("staff@x.vn").status_code == 401
    promote = par.client.post(
        f"/dashboard/users/{staff_id}",
        data={"csrf_token": token, "role": "admin", "unit": "P.D1", "active": "1"},
    )
    assert promote.status_code == 303
    page = par.client.get("/dashboard/users").get_data(as_text=True)
    assert "Bạn không thể cấp vai trò này." in page
    session.expire_all()
    user = session.get(User, staff_id)
    assert user.role.value == "counter_staff"
    assert user.is_active is False
    manager = signed_in(app, "manager@x.vn")
    other = manager.client.post(
        f"/dashboard/users/{world['users']['par'].id}",
        data={
            "csrf_token": manager.csrf("/dashboard/users"),
            "role": "counter_staff",
            "unit": "P.D1",
        },
    )
    assert other.status_code == 404


def test_holidays_move_the_due_date(database_url: str, world: dict, session: Session) -> None:
    from tests.conftest import SurveyPage, make_app
    from tests.factories import full_answers

    app = make_app(database_url, CASE_HOLIDAYS="2026-06-16, 2026-06-17")
    url = f"/s/{world['counters']['P.D1'].active_token.token}"
    assert SurveyPage(app.test_client(), url).post(full_answers(), comment="x").status_code == 302
    app.extensions["surveyapp.engine"].dispose()
    due = session.scalars(select(Case.due_at)).one()
    # Monday 15 June + 10 working days, two of them holidays: Wednesday 1 July.
    assert due.isoformat() == "2026-07-01T16:59:00+00:00"  # 23:59 in Hà Nội

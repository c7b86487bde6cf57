"""POST /api/v1/dossiers: a one-stop system pushes batches with an intake token."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from openapi_schema_validator import OAS31Validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.api.spec import document
from surveyapp.models import Dossier, DossierStatus, IntakeBatch, RespondentType, Unit, User
from surveyapp.services.access import scope_for
from surveyapp.services.accounts import api_tokens
from surveyapp.services.collection.tables import open_table
from surveyapp.services.org import catalogue
from surveyapp.services.org.staff import save_staff
from tests.conftest import NOW, close_app, make_app

URL = "/api/v1/dossiers"


def national(code: str = "H12.1-260601-0001", **overrides: Any) -> dict[str, Any]:
    """A record as the one-stop system sends it (DongBoHoSoMC names, local compact dates)."""
    record: dict[str, Any] = {
        "MaHoSo": code,
        "MaTTHC": "1.004227.000.00.00.H12",
        "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HOTICH",
        "LoaiDoiTuong": 1,
        "SoDienThoai": "0912 345 678",
        "Email": "Cong.Dan@Example.VN",
        "NgayTiepNhan": "20260601083000",
        "NgayHenTra": "20260605170000",
        "NgayTra": "20260604100000",
        "TrangThaiHoSo": "10",
        "DonViXuLy": "P.D1",
        "MaCanBoTiepNhan": "CB01",
    }
    record.update(overrides)
    return {k: v for k, v in record.items() if v is not None}


def intake_token(session: Session, unit_code: str = "P", email: str = "par@x.vn") -> str:
    user = session.scalar(select(User).where(User.email == email))
    unit = session.scalar(select(Unit).where(Unit.code == unit_code))
    assert user is not None
    assert unit is not None
    _, raw = api_tokens.create_intake_token(
        session, scope_for(session, user), name="Một cửa điện tử", unit=unit, days=30, now=NOW
    )
    session.commit()
    return raw


def post(app: Flask, token: str, body: Any) -> Any:
    return app.test_client().post(URL, json=body, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def intake_app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url, DOSSIER_STATUS_MAP="10=returned,3=cancelled")
    yield app
    close_app(app)


@pytest.fixture
def isession(intake_app: Flask):
    with intake_app.extensions["surveyapp.sessionmaker"]() as db:
        yield db


@pytest.fixture
def iworld(isession: Session) -> dict:
    from tests.factories import build_world

    return build_world(isession)


def dossier(session: Session, code: str) -> Dossier | None:
    session.expire_all()
    return session.scalar(select(Dossier).where(Dossier.code == code))


def test_a_batch_in_national_names_is_upserted_and_answered_per_record(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    save_staff(
        isession,
        scope_for(isession, iworld["users"]["par"]),
        code="CB01",
        name="Nguyễn Văn An",
        unit=iworld["units"]["d1"],
        now=NOW,
    )
    isession.commit()
    first = post(intake_app, token, {"dossiers": [national(), national("H12.1-260601-0002")]})
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "refused": 0}
    assert [r["result"] for r in body["results"]] == ["created", "created"]
    stored = dossier(isession, "H12.1-260601-0001")
    assert stored is not None
    # Local compact dates (Asia/Ho_Chi_Minh) are stored as the same moments in UTC.
    assert stored.received_at == datetime(2026, 6, 1, 1, 30, tzinfo=UTC)
    assert stored.returned_at == datetime(2026, 6, 4, 3, 0, tzinfo=UTC)
    assert stored.status is DossierStatus.RETURNED
    assert stored.status_code == "10"
    assert stored.respondent_type is RespondentType.INDIVIDUAL
    assert (stored.phone, stored.email) == ("+84912345678", "cong.dan@example.vn")
    assert stored.unit.code == "P.D1"
    assert stored.staff is not None
    assert stored.staff.name == "Nguyễn Văn An"
    # Sending the same batch again changes nothing; a changed record is an update.
    again = post(intake_app, token, [national(), national("H12.1-260601-0002")])
    assert again.get_json()["counts"]["unchanged"] == 2
    changed = post(intake_app, token, [national(NgayTra="20260605090000")])
    assert changed.get_json()["results"][0]["result"] == "updated"
    assert dossier(isession, "H12.1-260601-0001").returned_at == datetime(
        2026, 6, 5, 2, 0, tzinfo=UTC
    )
    assert isession.scalar(select(func.count()).select_from(Dossier)) == 2
    # The intake log keeps counts only.
    batches = list(isession.scalars(select(IntakeBatch).order_by(IntakeBatch.id)))
    assert [(b.received, b.created, b.unchanged, b.updated) for b in batches] == [
        (2, 2, 0, 0),
        (2, 0, 2, 0),
        (1, 0, 0, 1),
    ]
    assert all(b.source == "api" and b.token_id is not None for b in batches)


def test_bad_records_are_refused_with_reasons_and_never_block_the_others(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession, "P.D1", "par@x.vn")
    records = [
        national("GOOD-1"),
        national("BAD-DATE", NgayTiepNhan="2026-13-45"),
        national("BAD-ORDER", NgayTra="20260501000000"),  # returned before received
        national("OUTSIDE", DonViXuLy="P.D2"),  # the token writes P.D1's subtree only
        national("NO-UNIT", DonViXuLy="P.NOPE"),
        national("bad code with spaces"),
        national(
            "FUTURE",
            NgayTiepNhan="20270101000000",
            NgayTra=None,
            NgayHenTra=None,
            TrangThaiHoSo=None,
        ),
        national("RETURNED-NO-DATE", NgayTra=None),  # status 10 (returned) needs NgayTra
        "not an object",
        national("GOOD-1", NgayTra="20260604110000"),  # the same code twice in one batch
        national("GOOD-2", DonViXuLy="P.D1.X", SoDienThoai="12", Email="not-an-address"),
    ]
    answer = post(intake_app, token, records)
    assert answer.status_code == 200
    results = answer.get_json()["results"]
    outcome = {r["index"]: r for r in results}
    assert [outcome[i]["result"] for i in range(len(records))] == (
        ["created"] + ["refused"] * 9 + ["created"]
    )

    def reason(i: int) -> tuple[str | None, str]:
        problem = outcome[i]["problems"][0]
        return problem["field"], problem["message"]

    assert reason(1)[0] == "received_at"
    assert "2026-13-45" in reason(1)[1]
    assert reason(2) == ("returned_at", "returned_at sớm hơn ngày tiếp nhận")
    assert reason(3)[0] == "unit_code"
    assert "phạm vi" in reason(3)[1]
    assert reason(4) == ("unit_code", "không có đơn vị 'P.NOPE'")
    assert reason(5)[0] == "code"
    assert reason(6) == ("received_at", "received_at ở thời điểm trong tương lai")
    assert reason(7)[0] == "returned_at"
    assert reason(8) == (None, "bản ghi phải là một đối tượng JSON")
    assert "lặp lại" in reason(9)[1]
    # Stored without the unusable contacts, and said so.
    assert {w["field"] for w in outcome[10]["warnings"]} == {"phone", "email"}
    kept = dossier(isession, "GOOD-2")
    assert kept is not None
    assert kept.phone is None
    assert kept.email is None
    codes = set(isession.scalars(select(Dossier.code)))
    assert codes == {"GOOD-1", "GOOD-2"}  # nothing of a refused record was stored


def test_a_record_of_another_subtree_cannot_be_overwritten(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    province = intake_token(isession, "P")
    district = intake_token(isession, "P.D1")
    assert post(intake_app, province, [national("SHARED", DonViXuLy="P.D2")]).status_code == 200
    taken = post(intake_app, district, [national("SHARED", DonViXuLy="P.D1")])
    assert taken.status_code == 422  # every record refused
    assert taken.get_json()["results"][0]["problems"][0]["field"] == "code"
    assert dossier(isession, "SHARED").unit.code == "P.D2"


def test_status_codes_follow_the_configured_map(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    answer = post(
        intake_app,
        token,
        [
            national("CANCELLED", TrangThaiHoSo="3", NgayTra=None),
            national("OWN-WORDS", TrangThaiHoSo="returned"),
            national("UNMAPPED", TrangThaiHoSo="7", NgayTra=None),
        ],
    ).get_json()
    assert dossier(isession, "CANCELLED").status is DossierStatus.CANCELLED
    assert dossier(isession, "OWN-WORDS").status is DossierStatus.RETURNED
    assert dossier(isession, "UNMAPPED").status is DossierStatus.RECEIVED
    warning = answer["results"][2]["warnings"][0]
    assert warning["field"] == "status"
    assert "'7'" in warning["message"]


def test_only_a_valid_intake_token_may_write(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    client = intake_app.test_client()
    assert client.post(URL, json=[national()]).status_code == 401
    # A read token of the same official is not an intake token.
    _, read = api_tokens.create_token(
        isession, scope_for(isession, iworld["users"]["par"]), name="đọc", days=5, now=NOW
    )
    isession.commit()
    assert post(intake_app, read, [national()]).status_code == 401
    # ... and an intake token reads nothing.
    reads = intake_app.test_client().get(
        "/api/v1/units", headers={"Authorization": f"Bearer {token}"}
    )
    assert reads.status_code == 401
    # Expired and revoked tokens stop at once.
    stale = make_app(intake_app.config["DATABASE_URL"], CLOCK=lambda: NOW + timedelta(days=31))
    try:
        assert post(stale, token, [national()]).status_code == 401
    finally:
        close_app(stale)
    row = api_tokens.intake_tokens(isession, scope_for(isession, iworld["users"]["par"]))[0]
    api_tokens.revoke_token(isession, scope_for(isession, iworld["users"]["par"]), row.id, NOW)
    isession.commit()
    assert post(intake_app, token, [national()]).status_code == 401
    assert isession.scalar(select(func.count()).select_from(Dossier)) == 0
    # A unit manager may not create one.
    from surveyapp.services.access import Forbidden

    with pytest.raises(Forbidden):
        api_tokens.create_intake_token(
            isession,
            scope_for(isession, iworld["users"]["manager"]),
            name="x",
            unit=iworld["units"]["d1"],
            days=5,
            now=NOW,
        )


def test_bodies_that_are_not_a_batch_get_a_clear_4xx(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    client = intake_app.test_client()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    not_json = client.post(URL, data=b"{nope", headers=headers)
    assert not_json.status_code == 400
    assert "JSON" in not_json.get_json()["error"]["message"]
    assert client.post(URL, json={"records": []}, headers=headers).status_code == 400
    empty = client.post(URL, json=[], headers=headers)
    assert empty.status_code == 422
    assert "500" in empty.get_json()["error"]["message"]
    too_many = client.post(URL, json=[national(f"C-{i}") for i in range(501)], headers=headers)
    assert too_many.status_code == 422
    huge = client.post(URL, data=b"[" + b" " * (5 * 1024 * 1024) + b"]", headers=headers)
    assert huge.status_code == 413
    assert isession.scalar(select(func.count()).select_from(Dossier)) == 0


def test_unknown_catalogue_codes_are_kept_listed_and_linked_once_known(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    post(intake_app, token, [national("A"), national("B")])
    scope = scope_for(isession, iworld["users"]["par"])
    unknown = catalogue.unknown_codes(isession, scope)
    assert [(u.kind, u.code, u.dossiers) for u in unknown] == [
        ("field", "HOTICH", 2),
        ("procedure", "1.004227.000.00.00.H12", 2),
    ]
    assert unknown[1].name == "Đăng ký khai sinh"
    csv = (
        "MaLinhVuc,TenLinhVuc,MaTTHC,TenTTHC\n"
        "HOTICH,Hộ tịch,1.004227.000.00.00.H12,Đăng ký khai sinh\n"
    )
    result = catalogue.load_catalogue(
        isession, open_table("c.csv", io.BytesIO(csv.encode())), scope, NOW
    )
    assert result.ok
    assert result.added == 2
    isession.commit()
    linked = dossier(isession, "A")
    assert linked.procedure is not None
    assert linked.procedure.name == {"vi": "Đăng ký khai sinh"}
    assert linked.service_field is not None
    assert linked.service_field.code == "HOTICH"
    assert catalogue.unknown_codes(isession, scope) == []
    assert [p.code for p in catalogue.search_procedures(isession, "khai sinh")] == [
        "1.004227.000.00.00.H12"
    ]
    assert catalogue.search_procedures(isession, "KHAI SINH")  # case and diacritics ignored


def test_the_openapi_document_describes_the_intake_from_the_same_models(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    from openapi_spec_validator import validate as validate_spec

    spec = json.loads(document())
    validate_spec(spec)
    record = spec["components"]["schemas"]["DossierRecord"]
    assert "MaHoSo" in record["properties"]["code"]["x-national-names"]
    assert set(record["required"]) == {"code", "unit_code", "received_at"}
    served = intake_app.test_client().get("/api/v1/openapi.json").get_json()
    assert served["paths"]["/dossiers"]["post"]["security"] == [{"intakeToken": []}]
    # A real answer validates against the declared one.
    token = intake_token(isession)
    answer = post(intake_app, token, [national(), national("X", DonViXuLy="NOPE")]).get_json()
    declared = spec["paths"]["/dossiers"]["post"]["responses"]["200"]["content"]
    schema = declared["application/json"]["schema"]
    OAS31Validator({**schema, "components": spec["components"]}).validate(answer)


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_concurrent_batches_with_the_same_dossiers_store_each_once(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    """Two one-stop servers push overlapping batches at the same moment: every dossier is
    stored once, and both calls answer 200 (the loser of the race sends its batch again)."""
    import threading

    token = intake_token(isession)
    batches = [
        [national(f"RACE-{i}") for i in range(0, 300)],
        [national(f"RACE-{i}", NgayTra="20260604120000") for i in range(150, 450)],
    ]
    answers: list[int] = []
    start = threading.Barrier(2)

    def push(batch: list[dict[str, Any]]) -> None:
        start.wait()
        answers.append(post(intake_app, token, batch).status_code)

    threads = [threading.Thread(target=push, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200, 200]
    codes = list(isession.scalars(select(Dossier.code)))
    assert len(codes) == len(set(codes)) == 450


def test_hostile_values_in_any_field_are_refused_by_name_never_a_5xx(
    intake_app: Flask, isession: Session, iworld: dict
) -> None:
    token = intake_token(isession)
    fields = [
        "MaHoSo",
        "DonViXuLy",
        "NgayTiepNhan",
        "NgayTra",
        "NgayHenTra",
        "MaTTHC",
        "TenTTHC",
        "MaLinhVuc",
        "LoaiDoiTuong",
        "SoDienThoai",
        "Email",
        "TrangThaiHoSo",
        "MaCanBoTiepNhan",
        "receiving_unit_code",
        "counter_code",
    ]
    values: list[Any] = [None, True, [], {"a": 1}, 1e308, -1, "x" * 5000, "a\x00b", "\u202e", ""]
    records = [
        national(f"H-{i}-{j}", **{name: value})
        for i, name in enumerate(fields)
        for j, value in enumerate(values)
    ]
    for start in range(0, len(records), 100):
        answer = post(intake_app, token, records[start : start + 100])
        assert answer.status_code in (200, 422)
        for result in answer.get_json()["results"]:
            assert result["result"] in {"created", "refused", "updated"}
            for problem in result.get("problems", []):
                assert problem["message"]
                assert "Traceback" not in problem["message"]
    # Dates given as numbers (some systems do) are read as yyyyMMddHHmmss.
    numeric = post(intake_app, token, [national("NUM", NgayTiepNhan=20260601080000)])
    assert numeric.get_json()["results"][0]["result"] == "created"

"""The PAR office's settings page: a scheme typed, listed, edited, copied to the next year,
downloaded and uploaded; bad settings explained; published years read-only; others kept out."""

from __future__ import annotations

import html
import io
import re

import pytest
import yaml
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import ParScheme
from tests.conftest import NOW, signed_in
from tests.factories import PAR_SCHEME, full_answers, make_par_scheme, submit_response


def editor_text(page: str) -> str:
    found = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)
    assert found, page[:500]
    return html.unescape(found.group(1))


def test_the_par_office_keeps_its_settings_on_the_dashboard(
    app: Flask, session: Session, world: dict
) -> None:
    par = signed_in(app, "par@x.vn")
    page = par.client.get("/dashboard/par").get_data(as_text=True)
    assert "Chưa có cấu hình nào" in page
    template = yaml.safe_load(editor_text(page))  # the editor starts from a sound example
    assert template["province"] == "P"

    def save(text: str) -> object:
        return par.client.post(
            "/dashboard/par", data={"csrf_token": par.csrf("/dashboard/par"), "text": text}
        )

    assert save(yaml.safe_dump(template, allow_unicode=True)).status_code == 303
    bad = save(yaml.safe_dump(PAR_SCHEME | {"appraisal_max": 70}, allow_unicode=True))
    assert bad.status_code == 422
    assert "phải cộng lại bằng 100" in bad.get_data(as_text=True)
    assert "appraisal_max: 70" in editor_text(bad.get_data(as_text=True))  # kept for mending
    broken = save("province: [P")
    assert broken.status_code == 422
    assert "không đọc được như YAML/JSON" in broken.get_data(as_text=True)
    assert save(yaml.safe_dump(PAR_SCHEME, allow_unicode=True)).status_code == 303
    listed = par.client.get("/dashboard/par").get_data(as_text=True)
    assert "QĐ thử nghiệm" in listed
    scheme = session.scalar(select(ParScheme).where(ParScheme.year == 2026))
    edit = par.client.get(f"/dashboard/par?edit={scheme.id}").get_data(as_text=True)
    assert yaml.safe_load(editor_text(edit))["criteria"][0]["max_points"] == 35
    assert par.client.get("/dashboard/par?edit=x").status_code == 404
    download = par.client.get(f"/dashboard/par/{scheme.id}.yaml")
    assert "cau-hinh-cchc-P-district-2026.yaml" in download.headers["Content-Disposition"]
    assert yaml.safe_load(download.data)["decision"] == "QĐ thử nghiệm"

    copied = par.client.post(
        f"/dashboard/par/{scheme.id}/copy", data={"csrf_token": par.csrf("/dashboard/par")}
    )
    assert copied.status_code == 303
    again = par.client.post(
        f"/dashboard/par/{scheme.id}/copy", data={"csrf_token": par.csrf("/dashboard/par")}
    )
    assert again.status_code == 409
    assert "Năm 2027 đã có cấu hình" in again.get_data(as_text=True)

    commune = yaml.safe_dump(
        PAR_SCHEME
        | {"level": "commune", "appraisal_max": 70, "criteria": [{"code": "S", "max_points": 30}]},
        allow_unicode=True,
    )
    uploaded = par.client.post(
        "/dashboard/par/upload",
        data={
            "file-csrf_token": par.csrf("/dashboard/par"),
            "file-file": (io.BytesIO(commune.encode()), "cchc.yaml"),
        },
    )
    assert uploaded.status_code == 303
    assert session.scalar(select(func.count()).select_from(ParScheme)) == 3
    latin = par.client.post(
        "/dashboard/par/upload",
        data={
            "file-csrf_token": par.csrf("/dashboard/par"),
            "file-file": (io.BytesIO("năm".encode("cp1258")), "cchc.yaml"),
        },
    )
    assert latin.status_code == 422

    # A year whose results were published is read-only: no edit link, and saving is refused.
    session.expire_all()
    scheme = session.get(ParScheme, scheme.id)
    scheme.published_at = NOW
    session.commit()
    listed = par.client.get("/dashboard/par").get_data(as_text=True)
    assert f"edit={scheme.id}" not in listed
    locked = save(yaml.safe_dump(PAR_SCHEME | {"decision": "sửa"}, allow_unicode=True))
    assert locked.status_code == 409

    manager = signed_in(app, "manager@x.vn")
    assert manager.client.get("/dashboard/par").status_code == 403


def test_the_par_office_publishes_a_period_and_sees_what_changed_since(
    app: Flask, session: Session, world: dict
) -> None:
    for _ in range(3):
        submit_response(session, world["counters"]["P.D1"], full_answers(5))
    make_par_scheme(session)
    par = signed_in(app, "par@x.vn")
    form = par.client.get("/dashboard/publications").get_data(as_text=True)
    assert "Chưa công bố kết quả nào." in form

    def publish(reason: str = "") -> object:
        return par.client.post(
            "/dashboard/publications",
            data={
                "publish-csrf_token": par.csrf("/dashboard/publications"),
                "publish-unit": "P",
                "publish-level": "district",
                "publish-period": "2026",
                "publish-stream": "all",
                "publish-reason": reason,
            },
        )

    first = publish()
    assert first.status_code == 303
    page = par.client.get(first.headers["Location"]).get_data(as_text=True)
    assert "Không có: số liệu hiện nay trùng với số liệu đã công bố." in page
    assert re.search(r"P\.D1</small></th><td>3</td>", page)
    submit_response(session, world["counters"]["P.D1"], full_answers(5))  # a late rating
    page = par.client.get(first.headers["Location"]).get_data(as_text=True)
    assert re.search(r"<td>P\.D1</td><td>n</td><td>3</td><td>4</td>", page)
    again = publish()
    assert again.status_code == 422
    assert "công bố lại cần ghi lý do" in again.get_data(as_text=True)
    second = publish("Phiếu đến muộn của P.D1")
    assert second.status_code == 303
    listed = par.client.get("/dashboard/publications").get_data(as_text=True)
    assert "Phiếu đến muộn của P.D1" in listed
    assert "đã có phiên bản mới hơn" in par.client.get(first.headers["Location"]).get_data(
        as_text=True
    )
    # The ranking of the province's districts and a district's dashboard say so.
    ranking = par.client.get("/dashboard/units/P/ranking?period=2026").get_data(as_text=True)
    assert "Kết quả kỳ 2026 của cấp Huyện đã được công bố (phiên bản 2" in ranking
    district = par.client.get("/dashboard/units/P.D1?period=2026").get_data(as_text=True)
    assert "đã được công bố (phiên bản 2" in district
    # The published figures stand in the page beside the live ones: a rating after the second
    # publication makes n = 5 now, the published table keeps 4.
    submit_response(session, world["counters"]["P.D1"], full_answers(5))
    ranking = par.client.get("/dashboard/units/P/ranking?period=2026").get_data(as_text=True)
    table = ranking[
        ranking.index('id="published"') : ranking.index("</table>", ranking.index('id="published"'))
    ]
    assert re.search(r'<th scope="row">Đơn vị P\.D1</th><td class="num">4</td>', table), table
    assert re.search(r'<th scope="row">Đơn vị P\.D2</th><td class="num">0</td>', table), table
    own = signed_in(app, "manager@x.vn").client.get("/dashboard/units/P.D1?period=2026")
    mine = own.get_data(as_text=True)
    assert 'Đơn vị P.D1</th><td class="num">4</td>' in mine
    assert "Đơn vị P.D2</th>" not in mine  # another district's published row is not shown
    assert "đã được công bố" not in par.client.get("/dashboard/units/P.D1?period=2025").get_data(
        as_text=True
    )
    # The settings page shows the year as published and offers no edit.
    settings_page = par.client.get("/dashboard/par").get_data(as_text=True)
    assert "Đã công bố" in settings_page
    manager = signed_in(app, "manager@x.vn")
    assert manager.client.get("/dashboard/publications").status_code == 403
    assert manager.client.get(first.headers["Location"]).status_code == 403


@pytest.mark.parametrize(
    "text",
    [
        "appraisal_max: .nan",
        yaml.safe_dump(PAR_SCHEME | {"appraisal_max": "NaN"}),
        yaml.safe_dump(PAR_SCHEME | {"year": 10**30}),
        yaml.safe_dump(PAR_SCHEME | {"criteria": [{"code": "Ω", "max_points": 35}]}),
        yaml.safe_dump(PAR_SCHEME | {"criteria": "SXH"}),
        yaml.safe_dump(PAR_SCHEME | {"ranking_bands": [{"label": "x" * 500, "lower": 0}]}),
        yaml.safe_dump(PAR_SCHEME | {"province": ["P"]}),
        "- 1\n- 2\n",
        "&a [*a]",
        "x" * 49_000,
    ],
)
def test_hostile_settings_get_a_clear_4xx(app: Flask, world: dict, text: str) -> None:
    par = signed_in(app, "par@x.vn")
    result = par.client.post(
        "/dashboard/par", data={"csrf_token": par.csrf("/dashboard/par"), "text": text}
    )
    assert 400 <= result.status_code < 500, result.get_data(as_text=True)[:300]
    assert 'class="error-summary"' in result.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/par?edit=99999999999999999999",
        "/dashboard/par?edit=-1",
        "/dashboard/par/9223372036854775807.yaml",
        "/dashboard/publications/9223372036854775807",
        "/api/v1/units/P/scores?period=2026&level=district&stream=nope",
        "/api/v1/units/P/scores?period=9999-99&level=district",
        "/api/v1/units/P/scores?period=2026&level=" + "x" * 5000,
    ],
)
def test_hostile_parameters_of_the_par_pages_are_a_4xx(app: Flask, world: dict, path: str) -> None:
    result = signed_in(app, "par@x.vn").client.get(path)
    assert 400 <= result.status_code < 500, (path, result.status_code)

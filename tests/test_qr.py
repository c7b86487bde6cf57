"""QR codes: the PNG encodes the URL, SVG and the A4 poster are well formed; CLI commands."""

from __future__ import annotations

import io
from pathlib import Path
from xml.etree import ElementTree

import qrcode
from flask import Flask
from PIL import Image
from sqlalchemy.orm import Session

from surveyapp.services.org.qr import Poster, qr_png, render
from tests.conftest import SurveyPage
from tests.factories import full_answers, make_dossier, setup_counter

URL = "https://khaosat.example.gov.vn/s/AbCdEfGh12345678"


def modules_of(url: str) -> list[list[bool]]:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def test_png_modules_are_the_urls_qr_code() -> None:
    box = 12
    image = Image.open(io.BytesIO(qr_png(URL, box_size=box))).convert("L")
    matrix = modules_of(URL)
    assert image.size == (len(matrix) * box, len(matrix) * box)
    read = [
        [image.getpixel((c * box + box // 2, r * box + box // 2)) < 128 for c in range(len(matrix))]
        for r in range(len(matrix))
    ]
    assert read == matrix
    assert read != modules_of(URL + "x")


def test_svg_and_pdf_are_well_formed() -> None:
    poster = Poster(URL, "Ủy ban nhân dân Phường Hòa Bình", "Quầy số 1")
    svg = ElementTree.fromstring(render("svg", poster))
    assert svg.tag.endswith("svg")
    assert svg.find(".//{http://www.w3.org/2000/svg}path") is not None
    pdf = render("pdf", poster)
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf  # one A4 page
    assert b"DejaVuSans" in pdf  # a font with every Vietnamese letter, embedded


def test_qr_command_writes_each_format(app: Flask, session: Session, tmp_path: Path) -> None:
    _, counter, _ = setup_counter(session)
    runner = app.test_cli_runner()
    for ext in ("png", "svg", "pdf"):
        out = tmp_path / f"quay.{ext}"
        result = runner.invoke(args=["qr", counter.code, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 500
        assert result.output.strip().endswith(f"/s/{counter.active_token.token}")
    kiosk = runner.invoke(args=["qr", counter.code, "--kiosk", "--out", str(tmp_path / "k.png")])
    assert kiosk.output.strip().endswith(f"/k/{counter.active_token.token}")
    bad = runner.invoke(args=["qr", counter.code, "--out", str(tmp_path / "quay.gif")])
    assert bad.exit_code == 1
    assert ".png, .svg hoặc .pdf" in bad.output
    missing = runner.invoke(args=["qr", "NOPE", "--out", str(tmp_path / "x.png")])
    assert missing.exit_code == 1
    assert "không có quầy 'NOPE'" in missing.output


def test_dossier_link_command_prints_a_working_link(
    app: Flask, session: Session, tmp_path: Path
) -> None:
    unit, _, campaign = setup_counter(session)
    campaign.stream = campaign.stream.OFFICIAL
    make_dossier(session, unit, "HS-CLI")
    session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["dossier-link", "HS-CLI", "--out", str(tmp_path / "hs.png")])
    assert result.exit_code == 0, result.output
    url = result.output.strip()
    assert url.startswith("http://127.0.0.1:5000/d/")
    assert (tmp_path / "hs.png").stat().st_size > 500
    page = SurveyPage(app.test_client(), url.removeprefix("http://127.0.0.1:5000"))
    assert page.response.status_code == 200
    assert page.post(full_answers()).status_code == 302
    missing = runner.invoke(args=["dossier-link", "HS-NOPE"])
    assert missing.exit_code == 1
    assert "không có hồ sơ 'HS-NOPE'" in missing.output

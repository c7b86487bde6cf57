"""QR codes for counters and dossier links: PNG, SVG, and a printable A4 PDF poster."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M

from surveyapp.fonts import pdf_fonts
from surveyapp.services.errors import N_, InvalidInput

FORMATS = ("png", "svg", "pdf")


@dataclass(frozen=True)
class Poster:
    """What a counter's poster says besides its QR code."""

    url: str
    unit_name: str
    counter_name: str
    status_url: str = ""  # where the citizen reads the reply to their comment (/tra-cuu)
    score: str = ""  # optionally, the unit's latest public score (a line under the counter)


def _code(url: str) -> qrcode.QRCode:  # type: ignore[type-arg]
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str, box_size: int = 12) -> bytes:
    code = _code(url)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_svg(url: str) -> bytes:
    image = _code(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return bytes(image.to_string(encoding="utf-8"))


@cache
def poster_pdf(poster: Poster) -> bytes:
    """An A4 poster: title, unit and counter, three steps, the QR code and the plain URL."""
    from reportlab.lib.colors import HexColor, black
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    regular, bold = pdf_fonts()
    width, height = A4
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"QR — {poster.unit_name} — {poster.counter_name}")
    red = HexColor("#a31d1d")
    pdf.setFillColor(red)
    pdf.rect(0, height - 38 * mm, width, 38 * mm, stroke=0, fill=1)
    pdf.setFillColorRGB(1, 1, 1)
    pdf.setFont(bold, 24)
    pdf.drawCentredString(width / 2, height - 20 * mm, "ĐÁNH GIÁ SỰ HÀI LÒNG")
    pdf.setFont(regular, 13)
    pdf.drawCentredString(
        width / 2, height - 30 * mm, "về sự phục vụ của cơ quan hành chính nhà nước"
    )
    pdf.setFillColor(black)
    pdf.setFont(bold, 17)
    pdf.drawCentredString(
        width / 2, height - 52 * mm, _fit(poster.unit_name, bold, 17, width - 30 * mm)
    )
    pdf.setFont(regular, 14)
    pdf.drawCentredString(
        width / 2, height - 61 * mm, _fit(poster.counter_name, regular, 14, width - 30 * mm)
    )
    if poster.score:
        pdf.setFont(bold, 12)
        pdf.drawCentredString(
            width / 2, height - 67.5 * mm, _fit(poster.score, bold, 12, width - 30 * mm)
        )
    matrix = _code(poster.url).get_matrix()
    size = 120 * mm
    cell = size / len(matrix)
    left, top = (width - size) / 2, height - 70 * mm
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                pdf.rect(left + c * cell, top - (r + 1) * cell, cell * 1.01, cell * 1.01, 0, 1)
    steps = [
        "1. Mở camera hoặc Zalo trên điện thoại, quét mã QR ở trên.",
        "2. Trả lời các câu hỏi (khoảng 1 phút, không cần đăng nhập, không hỏi tên).",
        "3. Bấm “Gửi đánh giá”. Ý kiến của Ông/Bà giúp cơ quan phục vụ tốt hơn.",
    ]
    pdf.setFont(regular, 12.5)
    y = top - size - 12 * mm
    for step in steps:
        pdf.drawString(20 * mm, y, _fit(step, regular, 12.5, width - 40 * mm))
        y -= 8 * mm
    if poster.status_url:
        pdf.setFont(regular, 11)
        line = (
            "Đã góp ý? Xem trả lời của cơ quan tại "
            f"{poster.status_url} với mã tiếp nhận trên trang cảm ơn."
        )
        pdf.drawString(20 * mm, y - 4 * mm, _fit(line, regular, 11, width - 40 * mm))
    pdf.setFont(regular, 10)
    pdf.drawCentredString(width / 2, 22 * mm, "Hoặc mở địa chỉ:")
    pdf.setFont(bold, 11)
    pdf.drawCentredString(width / 2, 16 * mm, _fit(poster.url, bold, 11, width - 20 * mm))
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _fit(text: str, font: str, size: float, room: float) -> str:
    """``text``, shortened with an ellipsis if it is wider than ``room`` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= room:
        return text
    while text and stringWidth(text + "…", font, size) > room:
        text = text[:-1]
    return text + "…"


def render(kind: str, poster: Poster) -> bytes:
    """PNG, SVG or PDF bytes by ``kind`` (a file extension without the dot)."""
    if kind == "png":
        return qr_png(poster.url)
    if kind == "svg":
        return qr_svg(poster.url)
    if kind == "pdf":
        return poster_pdf(poster)
    raise InvalidInput(N_("Định dạng phải là .png, .svg hoặc .pdf."), field="format")

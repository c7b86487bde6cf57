"""The printable report per unit and period (Báo cáo kết quả khảo sát sự hài lòng), A4, in
Vietnamese: headline figures, charts, the element and item tables, the ranking of the units
below, a summary of comments and cases, the method note and a signature block. Drawing only: the
figures come from services.reporting.dashboards.report_figures; the caller draws it under the
Vietnamese locale, as the official document it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from surveyapp.dashboard.labels import CASE_STATUS_LABELS, CHANNEL_LABELS
from surveyapp.fonts import pdf_fonts
from surveyapp.formatting import number_text as vn  # 85,21
from surveyapp.models import CaseStatus
from surveyapp.services.feedback.cases import mask_personal_data
from surveyapp.services.reporting.dashboards import UnitDashboard
from surveyapp.services.reporting.figures import Figure
from surveyapp.services.reporting.report import ReportFigures


def _figure(f: Figure) -> tuple[str, str]:
    """(value, interval) as printed; dashes where the figure is not shown."""
    _, low, high = f.span
    ci = f"{vn(low)} – {vn(high)}" if low is not None else "—"
    return (vn(f.index.percent()) if f.shown else "—"), ci


def _reliability(f: Figure) -> str:
    if f.verdict.hidden:
        return "Ẩn (quá ít phiếu)"
    if f.verdict.low_reliability:
        return "Độ tin cậy thấp"
    return "Đủ tin cậy"


def report_pdf(data: ReportFigures) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold = pdf_fonts()
    view = data.view
    base = ParagraphStyle("base", fontName=regular, fontSize=10, leading=13)
    small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11)
    centre = ParagraphStyle("centre", parent=base, alignment=TA_CENTER)
    title = ParagraphStyle("title", parent=centre, fontName=bold, fontSize=14, leading=18)
    heading = ParagraphStyle("heading", parent=base, fontName=bold, fontSize=11.5, spaceBefore=8)
    bold_centre = ParagraphStyle("boldc", parent=centre, fontName=bold)

    def p(text: str, style: ParagraphStyle = base) -> Paragraph:
        return Paragraph(_escape(text), style)

    def table(
        rows: Sequence[Sequence[Any]], widths: Sequence[float], grey: AbstractSet[int] = frozenset()
    ) -> Table:
        cells = [[c if isinstance(c, Paragraph) else p(str(c), small) for c in row] for row in rows]
        t = Table(cells, colWidths=widths, repeatRows=1)
        style: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa3ae")),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf1")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        style += [("TEXTCOLOR", (0, r), (-1, r), colors.HexColor("#6b7280")) for r in grey]
        t.setStyle(TableStyle(style))
        return t

    unit = view.unit
    period = view.query.period
    story: list[Any] = [
        Table(
            [
                [
                    p(unit.parent.name.upper() if unit.parent else "", bold_centre),
                    p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold_centre),
                ],
                [p(unit.name.upper(), bold_centre), p("Độc lập - Tự do - Hạnh phúc", bold_centre)],
            ],
            colWidths=[80 * mm, 95 * mm],
        ),
        Spacer(1, 8 * mm),
        p("BÁO CÁO", title),
        p(
            "Kết quả khảo sát sự hài lòng của người dân, tổ chức "
            "đối với sự phục vụ của cơ quan hành chính nhà nước",
            bold_centre,
        ),
        p(
            f"{unit.name} — Kỳ {period.label} ({period.start:%d/%m/%Y} – {period.end:%d/%m/%Y})",
            centre,
        ),
        p(
            f"Phiếu khảo sát: {view.instrument.name.get('vi', view.instrument.code)} "
            f"(phiên bản {view.instrument.version})",
            centre,
        ),
        Spacer(1, 5 * mm),
        p("I. KẾT QUẢ CHUNG", heading),
    ]
    value, ci = _figure(view.sipas)
    headline = [
        ["Chỉ tiêu", "Kết quả"],
        ["Chỉ số hài lòng (SIPAS), %", value],
        ["Khoảng tin cậy 95%", ci],
        ["Số người trả lời (n)", str(view.sipas.n)],
        ["Độ tin cậy", _reliability(view.sipas)],
    ]
    if view.previous is not None:
        headline.append([f"So với kỳ trước ({view.previous_period.label})", _change(view.previous)])
    if view.parent is not None and unit.parent is not None:
        headline.append([f"So với {unit.parent.name}", _change(view.parent)])
    story.append(table(headline, [80 * mm, 95 * mm]))
    story.append(Spacer(1, 4 * mm))
    story.append(_bars_drawing(view, regular))
    story.append(p("Hình 1. Chỉ số hài lòng theo yếu tố (%), vạch đen: khoảng tin cậy 95%.", small))
    story.append(_trend_drawing(view, regular))
    story.append(p("Hình 2. Chỉ số SIPAS theo tháng (%), 12 tháng đến hết kỳ báo cáo.", small))

    story.append(p("II. CHỈ SỐ THEO YẾU TỐ VÀ CÂU HỎI", heading))
    rows: list[list[Any]] = [["Mã", "Yếu tố", "Chỉ số (%)", "KTC 95%", "n", "Độ tin cậy"]]
    grey = set()
    for i, f in enumerate(view.elements, start=1):
        value, ci = _figure(f)
        rows.append(
            [
                f.index.code,
                view.element_names.get(f.index.code, {}).get("vi", ""),
                value,
                ci,
                f.n,
                _reliability(f),
            ]
        )
        if f.verdict.low_reliability:
            grey.add(i)
    story.append(table(rows, [14 * mm, 68 * mm, 20 * mm, 32 * mm, 13 * mm, 28 * mm], grey))
    story.append(Spacer(1, 3 * mm))
    rows = [["Câu", "Nội dung", "Hài lòng / hợp lệ", "Chỉ số (%)", "KTC 95%"]]
    for figures in view.items.values():
        for f in figures:
            value, ci = _figure(f)
            text = view.instrument.item(f.index.code).text.get("vi", "")
            rows.append([f.index.code, text, f"{f.index.satisfied} / {f.index.valid}", value, ci])
    story.append(table(rows, [14 * mm, 85 * mm, 24 * mm, 20 * mm, 32 * mm]))

    if data.ranking is not None and data.ranking.rows:
        story.append(p("III. XẾP HẠNG CÁC ĐƠN VỊ TRỰC THUỘC", heading))
        rows = [["Hạng", "Đơn vị", "SIPAS (%)", "KTC 95%", "n", "Ghi chú"]]
        grey = set()
        for i, row in enumerate(data.ranking.rows, start=1):
            value, ci = _figure(row.figure)
            note = "" if row.rank else "Không xếp hạng (" + _reliability(row.figure).lower() + ")"
            rows.append([row.rank or "—", row.unit.name, value, ci, row.figure.n, note])
            if row.rank is None:
                grey.add(i)
        story.append(table(rows, [14 * mm, 62 * mm, 20 * mm, 32 * mm, 13 * mm, 34 * mm], grey))
        story.append(
            p("Chỉ xếp hạng đơn vị có kết quả đủ tin cậy; đơn vị bằng điểm cùng hạng.", small)
        )

    story.append(p("IV. Ý KIẾN, PHẢN ÁNH CỦA NGƯỜI DÂN", heading))
    channel_text = (
        ", ".join(f"{CHANNEL_LABELS[c]}: {n}" for c, n in view.channels) or "chưa có phiếu"
    )
    story.append(p(f"Phiếu theo kênh: {channel_text}."))
    cases = (
        ", ".join(f"{CASE_STATUS_LABELS[CaseStatus(s)]}: {n}" for s, n in data.cases.items() if n)
        or "không có"
    )
    story.append(
        p(
            f"Số ý kiến bằng văn bản: {data.comment_count}. Phản ánh (ý kiến và đánh giá "
            f"thấp) theo trạng thái xử lý: {cases}. Đánh giá thấp ẩn danh, không kèm ý kiến "
            f"(không mở phản ánh): {view.low_signal}."
        )
    )
    for c in view.comments:
        story.append(
            p(f"– “{mask_personal_data(c.body)}” ({c.unit_name}, {c.submitted_at:%d/%m/%Y})", small)
        )

    story.append(p("V. GHI CHÚ PHƯƠNG PHÁP", heading))
    rules = view.rules
    story.append(
        p(
            "Chỉ số của một câu hỏi là tỷ lệ câu trả lời ở mức hài lòng trên số câu trả lời hợp lệ "
            "(không tính “không biết / không trả lời”); chỉ số yếu tố là trung bình các câu, "
            "chỉ số SIPAS là trung bình các yếu tố (Quyết định 1001/QĐ-BNV; Quyết định "
            "2640/QĐ-BNV đối với "
            "phiếu 2017–2021). Khoảng tin cậy 95% theo phương pháp Wilson. Quy tắc công bố "
            f"{rules.version}: không công bố khi n < {rules.hide_below_n}; độ tin cậy thấp khi "
            f"n < {rules.min_effective_n:g} hoặc khoảng tin cậy rộng hơn "
            f"{rules.max_width * 100:g} điểm; "
            "chỉ xếp hạng khi khoảng tin cậy không rộng hơn "
            f"{rules.max_rank_width * 100:g} điểm. So sánh với kỳ trước và đơn vị cấp trên dùng "
            "khoảng tin cậy Newcombe và kiểm định điểm số cho hiệu hai tỷ lệ.",
            small,
        )
    )
    story.append(Spacer(1, 8 * mm))
    moment = data.generated_at
    signature = Table(
        [
            [
                "",
                p(
                    f"{data.place}, ngày {moment.day} tháng {moment.month} năm {moment.year}",
                    centre,
                ),
            ],
            [p("NGƯỜI LẬP BIỂU", bold_centre), p("THỦ TRƯỞNG ĐƠN VỊ", bold_centre)],
            [p("(Ký, ghi rõ họ tên)", centre), p("(Ký tên, đóng dấu)", centre)],
            ["", ""],
        ],
        colWidths=[85 * mm, 90 * mm],
        rowHeights=[None, None, None, 25 * mm],
    )
    story.append(KeepTogether([signature]))

    buffer = io.BytesIO()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.setFont(regular, 8)
        canvas.drawRightString(
            A4[0] - 15 * mm,
            10 * mm,
            f"{unit.name} — kỳ {period.label} — lập lúc {moment:%d/%m/%Y %H:%M} — trang {doc.page}",
        )

    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=17 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"Báo cáo kết quả khảo sát sự hài lòng — {unit.name} — {view.query.period.label}",
        author="surveyapp",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _change(comparison: Any) -> str:
    if comparison.change is None:
        return "Chưa đủ số liệu để so sánh"
    d = 100 * comparison.change.difference
    interval = comparison.change.interval
    ci = f"; KTC 95%: {vn(100 * interval.low)} đến {vn(100 * interval.high)}" if interval else ""
    meaning = (
        "có ý nghĩa thống kê" if comparison.change.p_value < 0.05 else "chưa có ý nghĩa thống kê"
    )
    return f"{'+' if d >= 0 else '−'}{vn(abs(d))} điểm ({meaning}{ci})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _bars_drawing(view: UnitDashboard, font: str) -> Any:
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    width, row = 175 * mm, 6.5 * mm
    label_w, plot_w = 62 * mm, 90 * mm
    height = row * len(view.elements) + 8 * mm
    d = Drawing(width, height)
    top = height - 6 * mm
    for tick in (0, 25, 50, 75, 100):
        x = label_w + plot_w * tick / 100
        d.add(Line(x, 0, x, top + 2 * mm, strokeColor=colors.HexColor("#d5dae1")))
        d.add(String(x, top + 3 * mm, str(tick), fontName=font, fontSize=7, textAnchor="middle"))
    for i, f in enumerate(view.elements):
        y = top - (i + 1) * row + 1.5 * mm
        name = view.element_names.get(f.index.code, {}).get("vi", "")
        label = f"{f.index.code} — {name}"
        d.add(
            String(
                label_w - 2 * mm,
                y + 1 * mm,
                label[:44],
                fontName=font,
                fontSize=7.5,
                textAnchor="end",
            )
        )
        if not f.shown:
            d.add(String(label_w + 1 * mm, y + 1 * mm, "—", fontName=font, fontSize=7.5))
            continue
        value = float(f.index.value or 0)
        fill = (
            colors.HexColor("#9aa3ae") if f.verdict.low_reliability else colors.HexColor("#0b57a4")
        )
        bar: dict[str, Any] = {"fillColor": fill, "strokeColor": None}
        d.add(Rect(label_w, y, plot_w * value / 100, 3.6 * mm, **bar))
        if f.interval:
            lo, hi = label_w + plot_w * f.interval.low, label_w + plot_w * f.interval.high
            mid = y + 1.8 * mm
            for shape in (
                Line(lo, mid, hi, mid),
                Line(lo, mid - 1.3 * mm, lo, mid + 1.3 * mm),
                Line(hi, mid - 1.3 * mm, hi, mid + 1.3 * mm),
            ):
                shape.strokeColor = colors.black
                shape.strokeWidth = 0.8
                d.add(shape)
        d.add(
            String(
                label_w + plot_w + 3 * mm,
                y + 1 * mm,
                f"{vn(f.index.percent())} (n={f.n})",
                fontName=font,
                fontSize=7.5,
            )
        )
    return d


def _trend_drawing(view: UnitDashboard, font: str) -> Any:
    from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    width, height = 175 * mm, 45 * mm
    left, bottom, plot_w, plot_h = 12 * mm, 8 * mm, 155 * mm, 33 * mm
    d = Drawing(width, height)
    shown = [(i, p) for i, p in enumerate(view.trend) if p.figure.shown]
    floor = 0.0
    if shown:
        floor = max(0.0, (min(float(p.figure.index.value or 0) for _, p in shown) // 10) * 10 - 10)
    step = plot_w / max(len(view.trend) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, bottom + plot_h * (v - floor) / (100 - floor or 1)

    for tick in range(int(floor), 101, 10):
        _, y = xy(0, tick)
        d.add(Line(left, y, left + plot_w, y, strokeColor=colors.HexColor("#d5dae1")))
        d.add(
            String(
                left - 2 * mm, y - 1 * mm, str(tick), fontName=font, fontSize=7, textAnchor="end"
            )
        )
    for i, point in enumerate(view.trend):
        x, _ = xy(i, floor)
        d.add(String(x, 2 * mm, point.label[:2], fontName=font, fontSize=7, textAnchor="middle"))
    blue = colors.HexColor("#0b57a4")
    if len(shown) > 1:
        points = [c for i, p in shown for c in xy(i, float(p.figure.index.value or 0))]
        d.add(PolyLine(points, strokeColor=blue, strokeWidth=1.5))
    for i, p in shown:
        x, y = xy(i, float(p.figure.index.value or 0))
        d.add(Circle(x, y, 1.3 * mm, fillColor=blue, strokeColor=None))
    return d

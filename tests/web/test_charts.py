"""Server-drawn SVG charts: accessible, escaped, and drawing what they are given."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from surveyapp.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # noqa: S314 - our own output, checked to be well-formed


def test_bar_chart_is_labelled_escaped_and_proportional() -> None:
    svg = charts.bar_chart(
        [
            charts.Bar("TC <script>alert(1)</script> & co", 80.0, 70.0, 88.0, note="n=40"),
            charts.Bar("TT", 40.0, muted=True),
            charts.Bar("KQ", None),
        ],
        "Chỉ số theo yếu tố",
        "Mô tả",
    )
    root = parse(svg)  # well-formed: the label's markup was escaped
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").text == "Mô tả"
    assert "<script>" not in str(svg)
    rects = root.findall(f"{SVG}rect")
    assert len(rects) == 2  # no bar for the missing value
    assert float(rects[0].get("width")) == 2 * float(rects[1].get("width"))
    assert rects[1].get("fill") == charts.GREY
    assert "80,00 (n=40)" in str(svg)
    assert len(root.findall(f"{SVG}path")) == 1  # one whisker, for the bar with an interval


def test_line_chart_breaks_at_missing_months_and_marks_a_lone_month() -> None:
    points = [
        charts.Point("01", 60.0, 55.0, 65.0),
        charts.Point("02", 62.0, 57.0, 67.0),
        charts.Point("03", None),
        charts.Point("04", 70.0, 61.0, 78.0),
    ]
    root = parse(charts.line_chart(points, "Theo tháng", "Mô tả"))
    assert len(root.findall(f"{SVG}polyline")) == 2
    assert len(root.findall(f"{SVG}polygon")) == 1  # the band of the two-month run
    assert len(root.findall(f"{SVG}circle")) == 3
    assert len(root.findall(f"{SVG}path")) == 1  # the lone month's interval


def test_funnel_chart_draws_limits_and_colours_outliers() -> None:
    dots = [
        charts.Dot("A", 400, 90.0, "above"),
        charts.Dot("B", 100, 62.0, "within"),
    ]
    root = parse(charts.funnel_chart(dots, 0.6, "Phễu", "Mô tả"))
    circles = root.findall(f"{SVG}circle")
    assert [c.get("fill") for c in circles] == [charts.ACCENT, charts.BAR]
    assert len(root.findall(f"{SVG}polyline")) == 4  # 95% and 99.8%, each side
    assert re.search(r"A: 90,00 \(n=400\)", ET.tostring(root, encoding="unicode"))

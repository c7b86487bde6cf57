"""Charts drawn on the server as inline SVG: horizontal bars with interval whiskers, a line with
its interval band, a funnel plot. No script, no third-party request; each chart has a title and a
description for screen readers, and the page puts the data table next to it.

Values are percentages (0–100); None draws nothing for that bar or month.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from markupsafe import Markup

from analysis.compare import Z95, Z998, funnel_limits
from surveyapp.formatting import number_text

INK = "#1b1f24"
MUTED = "#4a5563"
GRID = "#d5dae1"
BAR = "#0b57a4"
GREY = "#6f7a86"  # 4:1 on white: still visible as a shape (WCAG 1.4.11)
ACCENT = "#a31d1d"


@dataclass(frozen=True)
class Point:
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Bar(Point):
    muted: bool = False  # low reliability: drawn grey
    note: str = ""  # shown after the value, e.g. "n=42"


@dataclass(frozen=True)
class Dot:
    label: str
    n: float
    value: float  # percent
    position: str  # from analysis.funnel


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _frame(width: int, height: int, title: str, description: str, body: list[str]) -> Markup:
    # Ids from the chart's own content: unique on a page, the same on every render.
    uid = hashlib.sha256("\x1f".join([title, description, *body]).encode()).hexdigest()[:10]
    return Markup(  # noqa: S704 - every interpolated text is escaped above
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="c{uid}t c{uid}d" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="system-ui, sans-serif" font-size="12">'
        f'<title id="c{uid}t">{escape(title)}</title>'
        f'<desc id="c{uid}d">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def bar_chart(
    bars: Sequence[Bar],
    title: str,
    description: str,
    *,
    reference: float | None = None,
    reference_label: str = "",
    label_width: int = 250,
    width: int = 720,
    number: Callable[[float], str] = number_text,
) -> Markup:
    """Horizontal bars on a 0–100 axis with whiskers from ``low`` to ``high``; a narrower
    ``width`` suits a half-page column."""
    row, top = 26, 24
    plot = width - label_width - 130
    height = top + row * len(bars) + 8

    def x(value: float) -> float:
        return label_width + plot * max(0.0, min(value, 100.0)) / 100

    body = []
    for tick in (0, 25, 50, 75, 100):
        body.append(
            f'<line x1="{x(tick):.1f}" y1="{top - 6}" x2="{x(tick):.1f}" y2="{height - 6}" '
            f'stroke="{GRID}"/><text x="{x(tick):.1f}" y="{top - 10}" text-anchor="middle" '
            f'fill="{MUTED}">{tick}</text>'
        )
    for i, bar in enumerate(bars):
        y = top + i * row
        colour = GREY if bar.muted else BAR
        body.append(
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end" fill="{INK}">'
            f"<title>{escape(bar.label)}</title>{escape(_short(bar.label, 38))}</text>"
        )
        if bar.value is None:
            body.append(f'<text x="{x(0) + 4}" y="{y + 16}" fill="{MUTED}">—</text>')
            continue
        body.append(
            f'<rect x="{x(0):.1f}" y="{y + 5}" width="{x(bar.value) - x(0):.1f}" height="14" '
            f'fill="{colour}" rx="2"/>'
        )
        if bar.low is not None and bar.high is not None:
            lo, hi, mid = x(bar.low), x(bar.high), y + 12
            body.append(
                f'<path d="M{lo:.1f} {mid}H{hi:.1f}M{lo:.1f} {mid - 5}V{mid + 5}'
                f'M{hi:.1f} {mid - 5}V{mid + 5}" stroke="{INK}" stroke-width="1.5" fill="none"/>'
            )
        text = number(bar.value) + (f" ({bar.note})" if bar.note else "")
        body.append(f'<text x="{width - 124}" y="{y + 16}" fill="{INK}">{escape(text)}</text>')
    if reference is not None:
        body.append(
            f'<line x1="{x(reference):.1f}" y1="{top - 4}" x2="{x(reference):.1f}" '
            f'y2="{height - 6}" stroke="{ACCENT}" stroke-width="2" stroke-dasharray="5 3">'
            f"<title>{escape(reference_label)}</title></line>"
        )
    return _frame(width, height, title, description, body)


def line_chart(
    points: Sequence[Point],
    title: str,
    description: str,
    number: Callable[[float], str] = number_text,
) -> Markup:
    """A monthly line with its interval band; months without a figure break the line."""
    width, height, left, right, top, bottom = 720, 240, 44, 16, 16, 34
    floor = _floor([v for p in points for v in (p.low, p.value) if v is not None])
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h * (100 - value) / (100 - floor or 1)

    body = _percent_grid(floor, lambda tick: xy(0, tick)[1], left, width - right)
    for i, point in enumerate(points):
        x, _ = xy(i, 0)
        body.append(
            f'<text x="{x:.1f}" y="{height - 12}" text-anchor="middle" fill="{MUTED}">'
            f"{escape(point.label[:2])}</text>"
        )
    for run in _runs(points):
        band = [(i, p.high) for i, p in run if p.high is not None]
        band += [(i, p.low) for i, p in reversed(run) if p.low is not None]
        if len(run) > 1 and len(band) > 2:
            coords = " ".join("{:.1f},{:.1f}".format(*xy(i, v)) for i, v in band)
            body.append(f'<polygon points="{coords}" fill="{BAR}" fill-opacity="0.15"/>')
        for i, p in run if len(run) == 1 else ():  # a lone month: its interval as a whisker
            if p.low is not None and p.high is not None:
                x, y_low = xy(i, p.low)
                _, y_high = xy(i, p.high)
                body.append(
                    f'<path d="M{x - 5:.1f} {y_low:.1f}H{x + 5:.1f}M{x:.1f} {y_low:.1f}'
                    f'V{y_high:.1f}M{x - 5:.1f} {y_high:.1f}H{x + 5:.1f}" stroke="{BAR}" '
                    f'stroke-width="1.5" fill="none"/>'
                )
        line = " ".join("{:.1f},{:.1f}".format(*xy(i, p.value)) for i, p in run)  # type: ignore[arg-type]
        body.append(f'<polyline points="{line}" fill="none" stroke="{BAR}" stroke-width="2.5"/>')
        for i, p in run:
            cx, cy = xy(i, p.value)  # type: ignore[arg-type]
            text = f"{p.label}: {number(p.value)}"  # type: ignore[arg-type]
            body.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{BAR}">'
                f"<title>{escape(text)}</title></circle>"
            )
    return _frame(width, height, title, description, body)


def _floor(values: Sequence[float]) -> float:
    """The bottom of a percent axis: the lowest value rounded down to ten (0 when none)."""
    return max(0.0, math.floor((min(values) if values else 0.0) / 10) * 10)


def _percent_grid(
    floor: float, y_of: Callable[[float], float], left: float, right: float
) -> list[str]:
    """Horizontal grid lines with their labels from ``floor`` to 100 (every 10, or 20 when the
    axis is tall)."""
    out = []
    for tick in range(int(floor), 101, 10 if 100 - floor <= 50 else 20):
        y = y_of(tick)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{tick}</text>'
        )
    return out


def _runs(points: Sequence[Point]) -> list[list[tuple[int, Point]]]:
    runs: list[list[tuple[int, Point]]] = [[]]
    for i, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append((i, point))
    return [run for run in runs if run]


def funnel_chart(
    dots: Sequence[Dot],
    centre: float,
    title: str,
    description: str,
    number: Callable[[float], str] = number_text,
) -> Markup:
    """Units as dots (x: respondents, y: percent) with the 95% and 99.8% control limits."""
    width, height, left, right, top, bottom = 720, 300, 48, 16, 14, 40
    top_n = max((d.n for d in dots), default=10) * 1.08
    floor = _floor(
        [d.value for d in dots] + [100 * funnel_limits(centre, max(top_n / 12, 1), Z998)[0]]
    )
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(n: float, value: float) -> tuple[float, float]:
        return left + plot_w * n / top_n, top + plot_h * (100 - value) / (100 - floor or 1)

    body = _percent_grid(floor, lambda tick: xy(0, tick)[1], left, width - right)
    for tick in _nice_ticks(top_n):
        x, _ = xy(tick, floor)
        body.append(
            f'<text x="{x:.1f}" y="{height - 22}" text-anchor="middle" fill="{MUTED}">{tick}</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle" '
        f'fill="{MUTED}">n</text>'
    )
    grid = [top_n * k / 60 for k in range(1, 61)]
    for z, dash in ((Z95, "5 3"), (Z998, "")):
        for side in (0, 1):
            coords = []
            for n in grid:
                x, y = xy(n, 100 * funnel_limits(centre, n, z)[side])
                coords.append(f"{x:.1f},{min(max(y, top), top + plot_h):.1f}")
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            body.append(
                f'<polyline points="{" ".join(coords)}" fill="none" stroke="{MUTED}"{dashes}/>'
            )
    _, cy = xy(0, 100 * centre)
    body.append(
        f'<line x1="{left}" y1="{cy:.1f}" x2="{width - right}" y2="{cy:.1f}" stroke="{ACCENT}"/>'
    )
    for dot in dots:
        x, y = xy(dot.n, dot.value)
        outside = dot.position in ("above", "below")
        fill = ACCENT if outside else (BAR if dot.position == "within" else "#c25100")
        text = f"{dot.label}: {number(dot.value)} (n={dot.n:g})"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5" fill="{fill}" stroke="#fff">'
            f"<title>{escape(text)}</title></circle>"
        )
    return _frame(width, height, title, description, body)


def _nice_ticks(top: float) -> list[int]:
    raw = top / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [int(step * k) for k in range(0, int(top // step) + 1)]

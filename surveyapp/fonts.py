"""Fonts for the PDFs the product draws (QR posters, unit reports): DejaVu Sans, which covers
Vietnamese, registered with reportlab once per process."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def pdf_fonts() -> tuple[str, str]:
    """Register DejaVu Sans (full Vietnamese coverage), shipped inside matplotlib's package data."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a dependency
        raise RuntimeError("matplotlib (for the DejaVu fonts) is not installed")
    folder = Path(spec.submodule_search_locations[0]) / "mpl-data" / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(folder / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    return "DejaVuSans", "DejaVuSans-Bold"

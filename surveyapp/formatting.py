"""Figures as text for readers: rounded half up (analysis.rounding), written in the reader's
locale (85,21 in Vietnamese, 85.21 in English). Used by templates, charts and the PDF report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from analysis import round_half_up


def number_text(value: Any, places: int = 2, locale: str = "vi") -> str:
    """``value`` with ``places`` decimals; an em dash when absent."""
    if value is None:
        return "—"
    rounded = round_half_up(Decimal(str(value)), places)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return format_decimal(rounded, format=pattern, locale=locale)

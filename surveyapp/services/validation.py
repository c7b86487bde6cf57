"""Shapes every stored identifier and text must have, checked in one place.

Codes (units, counters, campaigns, service fields, instruments, domains, elements, items) are
identifiers: ASCII letters, digits, ``_``, ``-`` and ``.``, starting with a letter or a digit. They
reach URLs, file names, HTTP headers and spreadsheet headers, so nothing else is allowed in them.
Stored text never holds control characters other than tab and newline (PostgreSQL refuses NUL,
and so does every XLSX export).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session
from unidecode import unidecode

from surveyapp.services.errors import N_, Conflict, InvalidInput

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$"
CODE_RE = re.compile(CODE_PATTERN)
# Row errors of uploads and instrument problems are Vietnamese only; the UI message is translated.
CODE_RULE = "tối đa 40 ký tự: chữ cái không dấu, chữ số, _, - hoặc ., bắt đầu bằng chữ hoặc số"
BAD_CODE = N_(
    "Mã không hợp lệ: tối đa 40 ký tự gồm chữ cái không dấu, chữ số, _, - hoặc ., "
    "bắt đầu bằng chữ hoặc số."
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
# Whole-number text in a file or a parameter: optional sign, ASCII digits, a sane length (int()
# refuses more than 4,300 digits with a ValueError, and superscripts such as "²" pass isdigit()).
INTEGER_RE = re.compile(r"^[+-]?[0-9]{1,18}$")


class StrictModel(BaseModel):
    """A typed or loaded setting: unknown keys refused, immutable once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def is_code(value: object) -> bool:
    return isinstance(value, str) and CODE_RE.match(value) is not None


def check_code(value: str, field: str = "code") -> str:
    """The stripped code, or InvalidInput saying what a code may hold."""
    code = value.strip()
    if not is_code(code):
        raise InvalidInput(BAD_CODE, field=field)
    return code


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds NUL or another control character (tab and newline excepted)."""
    return _CONTROL_RE.search(text) is not None


def check_text(value: str, field: str, max_length: int) -> str:
    """Stripped one-line or multi-line text without control characters, at most ``max_length``."""
    text = value.strip()
    if has_control_characters(text):
        raise InvalidInput(N_("Nội dung chứa ký tự điều khiển không hợp lệ."), field=field)
    if len(text) > max_length:
        raise InvalidInput(N_("Nội dung dài quá %(n)s ký tự."), field=field, n=max_length)
    return text


def parse_int(text: str) -> int | None:
    """A whole number written with ASCII digits (at most 18), or None."""
    text = text.strip()
    return int(text) if INTEGER_RE.match(text) else None


def folded(text: str) -> str:
    """Lower-case ASCII of ``text`` ("Hộ tịch" → "ho tich"): searches that ignore diacritics,
    and SMS texts that must fit one 7-bit segment."""
    return unidecode(text).lower()


def parse_id(text: str | None) -> int | None:
    """A database id (1 … 2³¹ − 1, the INTEGER ids of PostgreSQL) written with ASCII digits, or
    None."""
    if not text or not text.isascii() or not text.isdigit() or len(text) > 18:
        return None
    value = int(text)
    return value if 0 < value <= 2**31 - 1 else None


def new_code(session: Session, column: InstrumentedAttribute[str], code: str) -> str:
    """A stripped code that is well formed and not used yet in ``column``."""
    code = check_code(code)
    if session.scalar(select(column).where(column == code)):
        raise Conflict(N_("Mã này đã tồn tại."), field="code")
    return code


# What a pydantic check that failed means, in words; ``%(field)s`` names the field.
SCHEMA_MESSAGES = {
    "missing": "thiếu trường %(field)s",
    "extra_forbidden": "không có trường %(field)s",
    "string_pattern_mismatch": "%(field)s có ký tự không hợp lệ hoặc dài quá",
    "string_too_long": "%(field)s dài quá %(max_length)s ký tự",
    "string_too_short": "%(field)s không được để trống",
    "string_type": "%(field)s phải là chuỗi ký tự",
    "too_short": "%(field)s cần ít nhất %(min_length)s mục",
    "too_long": "%(field)s có quá %(max_length)s mục",
    "list_type": "%(field)s phải là một danh sách",
    "model_type": "%(field)s phải là một bảng khóa–giá trị",
    "dict_type": "%(field)s phải là một bảng khóa–giá trị",
    "decimal_parsing": "%(field)s phải là một số",
    "decimal_type": "%(field)s phải là một số",
    "decimal_max_digits": "%(field)s có quá nhiều chữ số",
    "decimal_max_places": "%(field)s có quá %(decimal_places)s chữ số thập phân",
    "finite_number": "%(field)s phải là một số",
    "int_parsing": "%(field)s phải là số nguyên",
    "int_type": "%(field)s phải là số nguyên",
    "int_from_float": "%(field)s phải là số nguyên",
    "greater_than": "%(field)s phải lớn hơn %(gt)s",
    "greater_than_equal": "%(field)s phải từ %(ge)s trở lên",
    "less_than": "%(field)s phải nhỏ hơn %(lt)s",
    "less_than_equal": "%(field)s tối đa %(le)s",
    "literal_error": "%(field)s phải là một trong %(expected)s",
    "enum": "%(field)s phải là một trong %(expected)s",
}


def error_template(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(message with ``%(field)s``, its parameters) for one error of a pydantic ValidationError."""
    kind = str(error.get("type", ""))
    context = {k: str(v) for k, v in (error.get("ctx") or {}).items()}
    if kind == "value_error":
        return "%(field)s: %(reason)s", {"reason": context.get("error", "")}
    return SCHEMA_MESSAGES.get(kind, "%(field)s không hợp lệ"), context


def describe_errors(error: Any, limit: int = 20) -> str:
    """Every problem of a pydantic ValidationError, each naming its place (``criteria[2].max``)."""
    out = []
    for item in error.errors()[:limit]:
        place = "".join(
            f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in item.get("loc", ())
        ).lstrip(".")
        template, params = error_template(item)
        out.append(template % {"field": place or "(gốc)", **params})
    return "; ".join(out)

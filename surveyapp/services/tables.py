"""Reading uploaded tables (CSV or XLSX) row by row, with the line number of each row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from surveyapp.services.errors import N_, InvalidInput

MAX_CELL = 10_000


@dataclass(frozen=True)
class Table:
    """A header and an iterator of (line number, {column: text}) rows."""

    header: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    total: int | None  # rows in the file when known cheaply, for progress bars


def open_table(path: str | Path, stream: IO[bytes] | None = None) -> Table:
    """Open a .csv (UTF-8, comma or semicolon) or .xlsx file; the first row is the header."""
    name = str(path).lower()
    if not name.endswith((".csv", ".xlsx")):
        raise InvalidInput(N_("Chỉ nhận tệp .csv hoặc .xlsx."), field="file")
    raw = stream.read() if stream is not None else Path(path).read_bytes()
    if name.endswith(".xlsx"):
        return _xlsx(io.BytesIO(raw))
    return _csv(raw)


def _csv(raw: bytes) -> Table:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            N_("Tệp CSV phải được lưu với mã hóa UTF-8 (byte %(pos)s không hợp lệ)."),
            field="file",
            pos=exc.start,
        ) from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    total = max(text.count("\n") - 1, 0) + (0 if text.endswith("\n") else 1)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, _row(header, values)

    return Table(header, rows(), total)


def _xlsx(handle: IO[bytes]) -> Table:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, KeyError, OSError, ValueError) as exc:
        raise InvalidInput(N_("Không đọc được tệp Excel (.xlsx)."), field="file") from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    header = [_cell(v).strip() for v in next(iterator, ())]
    total = max((sheet.max_row or 1) - 1, 0)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for number, values in enumerate(iterator, start=2):
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            yield number, _row(header, cells)
        workbook.close()

    return Table(header, rows(), total)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _row(header: list[str], values: list[str]) -> dict[str, str]:
    row = {
        name: (values[i].strip()[:MAX_CELL] if i < len(values) else "")
        for i, name in enumerate(header)
    }
    if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
        row["__extra__"] = "1"
    return row

"""Writing a header and rows to CSV (UTF-8 with BOM) or XLSX, streamed, with every cell and header
that a spreadsheet would read as a formula (starting with =, +, -, @, tab or carriage return)
neutralised with a leading apostrophe."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell value that no spreadsheet will run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _reported(
    rows: Iterator[list[Any]], progress: Callable[[int], None] | None, written: list[int]
) -> Iterator[list[Any]]:
    """Pass rows through, counting them in ``written[0]`` and reporting every thousand."""
    for row in rows:
        yield row
        written[0] += 1
        if progress and written[0] % 1000 == 0:
            progress(1000)
    if progress:
        progress(written[0] % 1000)


def write_rows_csv(
    header: list[str],
    rows: Iterator[list[Any]],
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream rows to a UTF-8 (BOM) CSV file; returns the number of rows written."""
    written = [0]
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        _write_csv(handle, header, _reported(rows, progress, written))
    return written[0]


def rows_csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """A small table as CSV bytes (UTF-8 with BOM), for a download answered at once."""
    buffer = io.StringIO()
    _write_csv(buffer, header, rows)
    return buffer.getvalue().encode("utf-8-sig")


def _write_csv(handle: TextIO, header: list[str], rows: Iterable[list[Any]]) -> None:
    writer = csv.writer(handle)
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])


def write_rows_xlsx(
    header: list[str],
    rows: Iterator[list[Any]],
    path: str | Path,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Stream rows to an XLSX file (openpyxl write-only mode keeps memory flat)."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Phiếu trả lời")
    sheet.append([safe_cell(h) for h in header])
    written = [0]
    for row in _reported(rows, progress, written):
        sheet.append([safe_cell(v) for v in row])
    book.save(path)
    return written[0]

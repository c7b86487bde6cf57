"""Reading uploaded tables (CSV or XLSX) row by row, with the line number of each row.

An upload is untrusted: an XLSX is a zip whose members may expand to thousands of times its size,
and either kind may carry more columns or cells than any questionnaire has. ``TableLimits`` bounds
all of it, and every way a file can be broken is an InvalidInput naming the problem (and the line,
when there is one), never an exception from the parser.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from surveyapp.services.errors import N_, InvalidInput

MAX_CELL = 10_000  # characters kept of one cell (codes, dates and numbers are far shorter)


@dataclass(frozen=True)
class TableLimits:
    """What one uploaded table may hold (configurable: UPLOAD_MAX_EXPANDED_BYTES, …_CELLS)."""

    expanded_bytes: int = 200 * 1024 * 1024  # an XLSX's zip members, uncompressed, in all
    cells: int = 5_000_000
    columns: int = 1_000
    zip_members: int = 1_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TableLimits:
        return cls(
            expanded_bytes=int(config["UPLOAD_MAX_EXPANDED_BYTES"]),
            cells=int(config["UPLOAD_MAX_CELLS"]),
        )


@dataclass(frozen=True)
class Table:
    """A header and an iterator of (line number, {column: text}) rows."""

    header: list[str]
    rows: Iterator[tuple[int, dict[str, str]]]
    total: int | None  # rows in the file when known cheaply, for progress bars


def open_table(
    path: str | Path, stream: IO[bytes] | None = None, limits: TableLimits | None = None
) -> Table:
    """Open a .csv (UTF-8, comma or semicolon) or .xlsx file; the first row is the header."""
    limits = limits or TableLimits()
    name = str(path).lower()
    if not name.endswith((".csv", ".xlsx")):
        raise InvalidInput(N_("Chỉ nhận tệp .csv hoặc .xlsx."), field="file")
    raw = stream.read() if stream is not None else Path(path).read_bytes()
    if name.endswith(".xlsx"):
        return _xlsx(raw, limits)
    return _csv(raw, limits)


TOO_LARGE = {
    "columns": N_("Tệp có hơn %(limit)s cột."),
    "cells": N_("Tệp có hơn %(limit)s ô dữ liệu."),
    "members": N_("Tệp Excel có hơn %(limit)s phần nén."),
    "expanded": N_("Tệp Excel khi giải nén lớn hơn %(limit)s byte."),
}


def _too_large(what: str, limit: int) -> InvalidInput:
    return InvalidInput(TOO_LARGE[what], field="file", limit=limit)


def _check_header(header: list[str], limits: TableLimits) -> list[str]:
    if len(header) > limits.columns:
        raise _too_large("columns", limits.columns)
    if any("\x00" in h for h in header):
        raise InvalidInput(N_("Dòng tiêu đề chứa ký tự NUL (\\x00)."), field="file")
    return header


def _csv(raw: bytes, limits: TableLimits) -> Table:
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

    def read() -> list[str] | None:
        try:
            return next(reader, None)
        except csv.Error as exc:  # a field over csv.field_size_limit(), a stray quote, …
            raise InvalidInput(
                N_("Dòng %(line)s của tệp CSV không đọc được: %(reason)s."),
                field="file",
                line=reader.line_num,
                reason=str(exc)[:200],
            ) from exc

    header = _check_header([h.strip() for h in read() or []], limits)
    total = max(text.count("\n") - 1, 0) + (0 if text.endswith("\n") else 1)

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        cells = len(header)
        while (values := read()) is not None:
            cells += len(values)
            if cells > limits.cells:
                raise _too_large("cells", limits.cells)
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, _row(header, values, reader.line_num)

    return Table(header, rows(), total)


def _xlsx(raw: bytes, limits: TableLimits) -> Table:
    from openpyxl import load_workbook

    unreadable = InvalidInput(N_("Không đọc được tệp Excel (.xlsx)."), field="file")
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise unreadable from exc
    # zipfile stops at each member's declared size (a member that lies fails its CRC check), so
    # the declared sizes bound what openpyxl can be made to expand.
    if len(members) > limits.zip_members:
        raise _too_large("members", limits.zip_members)
    if sum(m.file_size for m in members) > limits.expanded_bytes:
        raise _too_large("expanded", limits.expanded_bytes)
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        first = sheet.iter_rows(max_row=1, values_only=True, max_col=limits.columns + 1)
        header = [_cell(v).strip() for v in next(first, ())]
        while header and not header[-1]:  # read-only rows are padded to max_col
            header.pop()
        _check_header(header, limits)
        # One column past the header, to notice cells beyond it.
        iterator = sheet.iter_rows(min_row=2, values_only=True, max_col=len(header) + 1)
        total = max((sheet.max_row or 1) - 1, 0)
    except InvalidInput:
        raise
    except Exception as exc:  # openpyxl and its XML parser raise many kinds on a broken file
        raise unreadable from exc

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        number, cells = 1, len(header)
        try:
            for number, values in enumerate(iterator, start=2):  # noqa: B007 - read on error
                cells += len(values)
                if cells > limits.cells:
                    raise _too_large("cells", limits.cells)
                texts = [_cell(v) for v in values]
                if not any(c.strip() for c in texts):
                    continue
                yield number, _row(header, texts, number)
        except InvalidInput:
            raise
        except Exception as exc:  # malformed XML inside the sheet, found while reading it
            raise InvalidInput(
                N_("Không đọc được tệp Excel (.xlsx) sau dòng %(line)s."), field="file", line=number
            ) from exc
        finally:
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


def _row(header: list[str], values: list[str], line: int) -> dict[str, str]:
    if any("\x00" in v for v in values):
        raise InvalidInput(
            N_("Dòng %(line)s chứa ký tự NUL (\\x00), không lưu được."), field="file", line=line
        )
    row = {
        name: (values[i].strip()[:MAX_CELL] if i < len(values) else "")
        for i, name in enumerate(header)
    }
    if len(values) > len(header) and any(v.strip() for v in values[len(header) :]):
        row["__extra__"] = "1"
    return row

"""Rows of an uploaded file: the result of loading them (every bad row with its line and reason)
and the columns a file may name in our words or in the national system's."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"dòng {self.line}: {self.message}"


class BadRow(Exception):
    """Why one row cannot be loaded (Vietnamese, as row errors are)."""


@dataclass
class ImportResult:
    added: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def columns_of(header: list[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """For each of our column names, the header column that carries it (ours, else the first
    alias present; letter case ignored)."""
    present = {h.strip().lower(): h for h in header}
    out = {}
    for ours, names in aliases.items():
        for name in names:
            if name.lower() in present:
                out[ours] = present[name.lower()]
                break
    return out


def first_of(row: Mapping[str, str], columns: Mapping[str, str], ours: str) -> str:
    """The stripped cell of ``ours`` in ``row`` ("" when the file lacks the column)."""
    column = columns.get(ours)
    return (row.get(column) or "").strip() if column else ""

"""Dossiers from a file (CSV/XLSX) for one-stop systems that only export: the same records and
rules as the API, one row each, with our column names or the national ones. Every bad row is
reported with its line; the caller keeps nothing if any row is refused (the default)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from surveyapp.services.access import Scope
from surveyapp.services.collection.tables import Table
from surveyapp.services.intake.dossiers import (
    IntakeOptions,
    Invite,
    Outcome,
    Result,
    receive,
)
from surveyapp.services.intake.records import MAX_BATCH, DossierRecord
from surveyapp.services.rows import RowError

Progress = Callable[[int], None]


@dataclass
class FileResult:
    counts: dict[str, int] = field(default_factory=lambda: {r.value: 0 for r in Result})
    refused: list[Outcome] = field(default_factory=list)
    warned: list[Outcome] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # the file itself, and refused rows
    invited: int = 0  # returned dossiers handed to the invitations

    @property
    def ok(self) -> bool:
        return not self.errors


def dossier_columns(header: list[str]) -> dict[str, str]:
    """The header's columns that name a dossier field (ours or the national name, any case),
    each with the record's name for it."""
    known = {
        name.lower(): name
        for info_name, info in DossierRecord.model_fields.items()
        for name in (info_name, *getattr(info.validation_alias, "choices", ()))
        if isinstance(name, str)
    }
    return {h: known[h.strip().lower()] for h in header if h.strip().lower() in known}


def import_dossiers(
    session: Session,
    scope: Scope,
    table: Table,
    options: IntakeOptions,
    now: datetime,
    progress: Progress | None = None,
    invite: Invite | None = None,
) -> FileResult:
    """Load every row through the intake, MAX_BATCH rows at a time; flushes. Column names are
    matched ignoring case ("mahoso" is MaHoSo); other columns are ignored."""
    result = FileResult()
    columns = dossier_columns(table.header)
    if not columns:
        result.errors.append(RowError(1, "không có cột nào của hồ sơ (code hoặc MaHoSo, …)"))
        return result
    done = 0
    batch: list[object] = []
    lines: list[int] = []

    def flush() -> None:
        nonlocal done
        answer = receive(session, scope, batch, options, now, lines=lines, invite=invite)
        result.invited += len(answer.returned)
        for outcome in answer.outcomes:
            result.counts[outcome.result.value] += 1
            if outcome.result is Result.REFUSED:
                result.refused.append(outcome)
                reasons = "; ".join(p.message % p.params for p in outcome.problems)
                result.errors.append(RowError(outcome.index, reasons))
            elif outcome.warnings:
                result.warned.append(outcome)
        done += len(batch)
        batch.clear()
        lines.clear()
        if progress is not None:
            progress(done)

    for line, row in table.rows:
        batch.append({columns[k]: v for k, v in row.items() if k in columns})
        lines.append(line)
        if len(batch) == MAX_BATCH:
            flush()
    if batch:
        flush()
    return result

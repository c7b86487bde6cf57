"""A dossier file uploaded in the dashboard, imported in the background with its progress shown:
the request checks that the file is a readable table with dossier columns and queues it (the file
is kept with the job, as an export's is, and dropped when the job ends); a queue worker then
checks every row and, when none is refused (or the official chose to keep the good rows), stores
them MAX_BATCH rows per transaction, so that the progress is visible meanwhile. Storing is an
upsert by dossier code: a run interrupted half-way and run again stores the same result."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from surveyapp.models import ExportJob, User
from surveyapp.services.access import Permission, Scope, scope_for
from surveyapp.services.collection.tables import TableLimits, open_table
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.exports import jobs
from surveyapp.services.intake import files
from surveyapp.services.intake.dossiers import IntakeOptions, Invite

KIND = "dossiers"
NO_COLUMNS = N_("Tệp không có cột nào của hồ sơ (code hoặc MaHoSo, …).")


def queue_upload(
    session: Session,
    scope: Scope,
    filename: str,
    data: bytes,
    keep_good_rows: bool,
    limits: TableLimits,
    now: datetime,
) -> ExportJob:
    """Check the file and keep it with a new job for the queue; InvalidInput if it is not a
    table of dossiers."""
    scope.require(Permission.WRITE_DOSSIERS)
    table = open_table(filename, io.BytesIO(data), limits)
    if not files.dossier_columns(table.header):
        raise InvalidInput(NO_COLUMNS, field="file")
    job = ExportJob(
        user_id=scope.user_id,
        kind=KIND,
        params={"filename": filename[-200:], "keep_good_rows": keep_good_rows},
        total=table.total or 0,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    jobs.store_file(session, job.id, io.BytesIO(data))
    return job


def run_upload(
    session: Session,
    job: ExportJob,
    *,
    options: IntakeOptions,
    limits: TableLimits,
    clock: Callable[[], datetime],
    record: Callable[..., None],
    commit: Callable[[], None],
    invite: Invite | None,
) -> tuple[files.FileResult, bool]:
    """Import the job's file for its owner's scope as it is now; (the result, whether the rows
    were stored). ``record(total=…, done=…)`` reports progress; ``commit`` ends each stored
    batch's transaction (the worker's session)."""
    scope = scope_for(session, session.get_one(User, job.user_id))
    raw = b"".join(jobs.file_parts(session, job))
    name = str(job.params["filename"])
    keep = bool(job.params.get("keep_good_rows"))
    first = open_table(name, io.BytesIO(raw), limits)
    rows = first.total if first.total is not None else sum(1 for _ in first.rows)
    session.rollback()  # nothing written: end the read, so that progress can be recorded
    record(total=rows if keep else 2 * rows, done=0)
    offset = 0
    if not keep:

        def checked(done: int) -> None:
            session.rollback()  # a dry run, one batch at a time
            record(done=done)

        check = files.import_dossiers(
            session, scope, open_table(name, io.BytesIO(raw), limits), options, clock(), checked
        )
        session.rollback()
        if check.errors:
            return check, False
        offset = rows

    def stored(done: int) -> None:
        commit()
        record(done=offset + done)

    table = open_table(name, io.BytesIO(raw), limits)
    result = files.import_dossiers(session, scope, table, options, clock(), stored, invite)
    commit()
    return result, True


def summary(result: files.FileResult, stored: bool) -> dict[str, Any]:
    """What the status page shows (counts, and the first refused rows and warnings)."""
    return {
        "stored": stored,
        "counts": result.counts,
        "invited": result.invited,
        "error_count": len(result.errors),
        "errors": [str(e) for e in result.errors[:200]],
        "warnings": [
            f"dòng {outcome.index}: {warning.message % warning.params}"
            for outcome in result.warned[:50]
            for warning in outcome.warnings
        ],
    }

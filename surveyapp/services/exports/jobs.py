"""Dashboard exports run in the background: the request validates and queues a job, a queue
worker (surveyapp.queue) writes the file, records progress in the database (so any web server can
show it) and stores the file there, in parts (so any web server can serve it).

Each run of a job is an attempt: a worker claims the job for its attempt and beats a heartbeat
while it writes. A job whose heartbeat stopped (its worker was killed) is taken over by a new
attempt, up to a maximum, and the old run, should it wake up, finds itself superseded and stops.
Jobs and their files older than the keep time are removed when new jobs are created.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from surveyapp.models import ExportFile, ExportJob, JobStatus, Stream, Unit, UnitLevel, User
from surveyapp.services.access import Scope, get_visible_unit, scope_for
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.exports import responses, scores
from surveyapp.services.par import publication
from surveyapp.services.periods import parse_period

LOST_FACTOR = 10
FORMATS = ("csv", "xlsx")
KINDS = ("scores", "responses")


def create_export(
    session: Session,
    scope: Scope,
    *,
    kind: str,
    params: Mapping[str, Any],
    appraisal: Mapping[str, Decimal] | None,
    now: datetime,
) -> ExportJob:
    """Validate an export request and queue it; nothing is queued when a parameter is bad."""
    if kind not in KINDS:
        raise InvalidInput(N_("Loại tệp xuất không hợp lệ."), field="kind")
    fmt = str(params.get("format") or "xlsx")
    if fmt not in FORMATS:
        raise InvalidInput(N_("Định dạng phải là csv hoặc xlsx."), field="format")
    period_text = str(params.get("period") or "").strip()
    clean: dict[str, Any] = {"format": fmt}
    if kind == "scores" or period_text:
        if not period_text:
            raise InvalidInput(N_("Cần chọn kỳ báo cáo."), field="period")
        clean["period"] = parse_period(period_text[:40]).label
    unit_code = str(params.get("unit") or "").strip()
    if unit_code:
        clean["unit"] = get_visible_unit(session, scope, unit_code[:40]).code
    elif scope.unit_ids is not None or kind == "scores":
        raise InvalidInput(N_("Cần chọn đơn vị."), field="unit")
    if kind == "scores":
        try:
            clean["level"] = UnitLevel(str(params.get("level") or "")).value
        except ValueError:
            raise InvalidInput(N_("Cấp đơn vị không hợp lệ."), field="level") from None
        stream = str(params.get("stream") or "official")
        if stream not in {s.value for s in Stream} | {"all"}:
            raise InvalidInput(N_("Luồng phiếu không hợp lệ."), field="stream")
        clean["stream"] = stream
        if appraisal is not None:
            clean["appraisal"] = {code: str(points) for code, points in appraisal.items()}
        scores.check_request(
            session,
            get_visible_unit(session, scope, clean["unit"]),
            UnitLevel(clean["level"]),
            parse_period(clean["period"]),
            None if stream == "all" else Stream(stream),
            appraisal is not None,
        )
    job = ExportJob(user_id=scope.user_id, kind=kind, params=clean, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    return job


def get_job(
    session: Session, scope: Scope, job_id: int, kinds: tuple[str, ...] = KINDS
) -> ExportJob:
    """The official's own job of one of ``kinds`` (exports by default); anyone else's is not
    found."""
    job = session.get(ExportJob, job_id)
    if job is None or job.user_id != scope.user_id or job.kind not in kinds:
        raise NotFound(N_("Không tìm thấy tệp xuất."))
    return job


def recent_jobs(session: Session, scope: Scope, limit: int = 20) -> list[ExportJob]:
    return list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.user_id == scope.user_id, ExportJob.kind.in_(KINDS))
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    percent: int


def state_of(job: ExportJob) -> JobState:
    """What the official sees. A job whose worker was killed shows as running until ``recover``
    hands it to another worker (within a couple of minutes), never for ever."""
    if job.status is JobStatus.DONE:
        return JobState(job.status, 100)
    percent = int(100 * job.done / job.total) if job.total else 0
    return JobState(job.status, min(percent, 99))


def download_name(job: ExportJob) -> str:
    p = job.params
    period = str(p.get("period", "tat-ca")).replace("..", "_")
    if job.kind == "scores":
        return f"diem-dieu-tra-xhh-{p['unit']}-{p['level']}-{period}.{p['format']}"
    return f"phieu-khao-sat-{p.get('unit', 'tat-ca')}-{period}.{p['format']}"


class Superseded(Exception):
    """The job was taken over by a newer attempt (or is finished): this run must stop."""


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


def _update(
    session: Session,
    job_id: int,
    attempt: int,
    statuses: tuple[JobStatus, ...] = ACTIVE,
    **values: Any,
) -> bool:
    """Update the job if ``attempt`` is still its attempt and its status one of ``statuses``;
    whether it was."""
    result = session.execute(
        update(ExportJob)
        .where(ExportJob.id == job_id, ExportJob.attempt == attempt, ExportJob.status.in_(statuses))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def claim(session: Session, job_id: int, attempt: int, now: datetime) -> ExportJob | None:
    """The job, marked running for ``attempt``; None when it is running elsewhere, finished or
    superseded (one run at a time claims an attempt)."""
    if not _update(
        session, job_id, attempt, (JobStatus.QUEUED,), status=JobStatus.RUNNING, updated_at=now
    ):
        return None
    job = session.get_one(ExportJob, job_id)
    session.refresh(job)
    return job


def release(session: Session, job_id: int, attempt: int, now: datetime) -> None:
    """Put a running attempt back in the queued state, for the queue's retry to claim it."""
    _update(session, job_id, attempt, (JobStatus.RUNNING,), status=JobStatus.QUEUED, updated_at=now)


def beat(session: Session, job_id: int, attempt: int, now: datetime, **progress: Any) -> None:
    """The heartbeat of a running attempt, with its progress (total=…, done=…)."""
    if not _update(session, job_id, attempt, updated_at=now, **progress):
        raise Superseded(job_id)


def finish(
    session: Session, job_id: int, attempt: int, path: Path, rows: int, now: datetime
) -> None:
    """Store the written file in parts and mark the attempt done (Superseded if it was not the
    job's attempt any more)."""
    beat(session, job_id, attempt, now)
    with open(path, "rb") as handle:
        size = store_file(session, job_id, handle)
    _end(session, job_id, attempt, rows, now, status=JobStatus.DONE, size=size)


def _end(
    session: Session, job_id: int, attempt: int, rows: int, now: datetime, **values: Any
) -> None:
    """Mark the attempt ended with ``rows`` done of ``rows``; Superseded if no longer its own."""
    if not _update(
        session,
        job_id,
        attempt,
        done=rows,
        total=rows,
        finished_at=now,
        updated_at=now,
        **values,
    ):
        raise Superseded(job_id)


def store_file(session: Session, job_id: int, handle: IO[bytes]) -> int:
    """Keep the job's file (replacing any) in parts, one part in memory at a time; its size."""
    session.execute(delete(ExportFile).where(ExportFile.job_id == job_id))
    size = 0
    for part in itertools.count():
        data = handle.read(ExportFile.PART_BYTES)
        if not data:
            break
        session.add(ExportFile(job_id=job_id, part=part, data=data))
        session.flush()
        size += len(data)
    return size


def conclude(
    session: Session,
    job_id: int,
    attempt: int,
    result: dict[str, Any],
    rows: int,
    now: datetime,
    error: str | None = None,
) -> None:
    """End a job that produces a result rather than a file: done (or failed with ``error``), its
    file dropped (an upload holds personal data); Superseded if no longer its attempt."""
    beat(session, job_id, attempt, now)
    session.execute(delete(ExportFile).where(ExportFile.job_id == job_id))
    status = JobStatus.FAILED if error else JobStatus.DONE
    _end(session, job_id, attempt, rows, now, status=status, result=result, error=error)


def fail(session: Session, job_id: int, attempt: int, message: str, now: datetime) -> None:
    """Mark the attempt failed; an upload's file goes with it (an export has none yet)."""
    if _update(
        session,
        job_id,
        attempt,
        status=JobStatus.FAILED,
        error=message[:500],
        finished_at=now,
        updated_at=now,
    ):
        session.execute(delete(ExportFile).where(ExportFile.job_id == job_id))


def file_parts(session: Session, job: ExportJob) -> Iterator[bytes]:
    """The finished file, part by part (one part in memory at a time)."""
    part = 0
    while True:
        data = session.scalar(
            select(ExportFile.data).where(ExportFile.job_id == job.id, ExportFile.part == part)
        )
        if data is None:
            return
        yield data
        part += 1


INTERRUPTED = N_("Việc tạo tệp bị gián đoạn nhiều lần; vui lòng yêu cầu lại.")


class Requeue(NamedTuple):
    """A job to put on the queue again: a new attempt taken over from a stopped worker, or
    (``lost``) the same attempt, whose message has waited far too long."""

    job_id: int
    attempt: int
    lost: bool


def recover(session: Session, now: datetime, stale: timedelta, max_attempts: int) -> list[Requeue]:
    """The jobs to queue again. A running job whose heartbeat stopped for ``stale`` (its worker
    was killed) gets a new attempt, or fails after ``max_attempts``. A job still queued after
    ``LOST_FACTOR`` × ``stale`` (its message was lost with a worker that had just taken it) is
    queued again as it is: only one run can claim an attempt, so a duplicate message is harmless.
    Several workers may run this at once: each job is taken over by one of them."""
    cutoff, lost_cutoff = now - stale, now - stale * LOST_FACTOR
    again = []
    candidates = session.execute(
        select(ExportJob.id, ExportJob.attempt, ExportJob.status).where(
            ExportJob.status.in_(ACTIVE),
            ExportJob.updated_at < cutoff,
        )
    ).all()
    for job_id, attempt, status in candidates:
        values: dict[str, Any]
        if status is JobStatus.QUEUED:
            condition, values = ExportJob.updated_at < lost_cutoff, {"updated_at": now}
        elif attempt + 1 >= max_attempts:
            fail(session, job_id, attempt, INTERRUPTED, now)
            continue
        else:
            condition = ExportJob.updated_at < cutoff
            values = {"attempt": attempt + 1, "status": JobStatus.QUEUED, "updated_at": now}
        taken = session.execute(
            update(ExportJob)
            .where(
                ExportJob.id == job_id,
                ExportJob.attempt == attempt,
                ExportJob.status == status,
                condition,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0):
            lost = status is JobStatus.QUEUED
            again.append(Requeue(job_id, attempt if lost else attempt + 1, lost))
    return again


def prune(session: Session, now: datetime, keep_hours: int) -> int:
    """Delete jobs (and their files) created more than ``keep_hours`` ago."""
    cutoff = now - timedelta(hours=keep_hours)
    old = list(session.scalars(select(ExportJob.id).where(ExportJob.created_at < cutoff)))
    if old:
        session.execute(delete(ExportFile).where(ExportFile.job_id.in_(old)))
        session.execute(delete(ExportJob).where(ExportJob.id.in_(old)))
    return len(old)


def write_export(
    session: Session,
    job: ExportJob,
    path: Path,
    timezone: str,
    clock: Callable[[], datetime],
    record: Callable[..., None],
) -> int:
    """Write the job's file to ``path`` (a local file of the worker); ``record(total=…)`` and
    ``record(done=…)`` report progress. Returns the rows written."""
    p = job.params
    # The official's scope as it is now: a job never shows more than its owner may open today.
    scope = scope_for(session, session.get_one(User, job.user_id))
    period = parse_period(p["period"]) if p.get("period") else None
    unit = session.scalar(select(Unit).where(Unit.code == p["unit"])) if p.get("unit") else None
    if job.kind == "scores":
        if period is None or unit is None:
            raise InvalidInput(N_("Cần chọn kỳ báo cáo và đơn vị."), field="period")
        appraisal = p.get("appraisal")
        export = publication.scores_file(
            session,
            timezone=timezone,
            scope=scope,
            parent=unit,
            level=UnitLevel(p["level"]),
            period=period,
            appraisal={k: Decimal(v) for k, v in appraisal.items()} if appraisal else None,
            generated_at=clock(),
            stream=None if p["stream"] == "all" else Stream(p["stream"]),
        )
        scores.write_scores(export, path, p["format"])
        return len(export.scores.rows)
    rows = responses.responses_export(
        session, scope=scope, period=period, unit=unit, timezone=timezone
    )
    record(total=rows.total)
    done = [0]

    def progress(step: int) -> None:
        done[0] += step
        record(done=done[0])

    return responses.write_responses(rows, path, p["format"], progress)

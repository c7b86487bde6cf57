"""Dashboard exports run in the background: the request validates and queues a job, a worker
thread of the same process (surveyapp.tasks) writes the file and records progress in the database
(so any worker can show it), and the official downloads the file when it is done.

Jobs left queued or running by a process that stopped are reported as interrupted once they
have not moved for ``STALE_AFTER``; files and jobs older than the keep time are removed when new
jobs are created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from surveyapp.models import ExportJob, JobStatus, Stream, Unit, UnitLevel, User
from surveyapp.services.access import Scope, get_visible_unit, scope_for
from surveyapp.services.errors import N_, InvalidInput, NotFound
from surveyapp.services.exports import responses, scores
from surveyapp.services.periods import parse_period

STALE_AFTER = timedelta(minutes=10)
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
    job = ExportJob(user_id=scope.user_id, kind=kind, params=clean, created_at=now, updated_at=now)
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, scope: Scope, job_id: int) -> ExportJob:
    """The official's own job; anyone else's is not found."""
    job = session.get(ExportJob, job_id)
    if job is None or job.user_id != scope.user_id:
        raise NotFound(N_("Không tìm thấy tệp xuất."))
    return job


def recent_jobs(session: Session, scope: Scope, limit: int = 20) -> list[ExportJob]:
    return list(
        session.scalars(
            select(ExportJob)
            .where(ExportJob.user_id == scope.user_id)
            .order_by(ExportJob.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class JobState:
    status: JobStatus
    percent: int
    interrupted: bool


def state_of(job: ExportJob, now: datetime) -> JobState:
    active = job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    if active and now - job.updated_at > STALE_AFTER:
        return JobState(JobStatus.FAILED, 0, True)
    if job.status is JobStatus.DONE:
        return JobState(job.status, 100, False)
    percent = int(100 * job.done / job.total) if job.total else 0
    return JobState(job.status, min(percent, 99), False)


def download_name(job: ExportJob) -> str:
    p = job.params
    period = str(p.get("period", "tat-ca")).replace("..", "_")
    if job.kind == "scores":
        return f"diem-dieu-tra-xhh-{p['unit']}-{p['level']}-{period}.{p['format']}"
    return f"phieu-khao-sat-{p.get('unit', 'tat-ca')}-{period}.{p['format']}"


def file_path(directory: Path, job: ExportJob) -> Path | None:
    return directory / job.file_name if job.file_name else None


def prune(session: Session, directory: Path, now: datetime, keep_hours: int) -> int:
    """Delete jobs (and their files) created more than ``keep_hours`` ago."""
    cutoff = now - timedelta(hours=keep_hours)
    old = list(session.scalars(select(ExportJob).where(ExportJob.created_at < cutoff)))
    for job in old:
        path = file_path(directory, job)
        if path is not None:
            path.unlink(missing_ok=True)
    session.execute(delete(ExportJob).where(ExportJob.id.in_([j.id for j in old])))
    return len(old)


def write_export(
    session: Session,
    job: ExportJob,
    path: Path,
    timezone: str,
    clock: Callable[[], datetime],
    record: Callable[..., None],
) -> int:
    """Write the job's file to ``path``; ``record(total=…)`` and ``record(done=…)`` report
    progress. Returns the rows written."""
    p = job.params
    # The official's scope as it is now: a job never shows more than its owner may open today.
    scope = scope_for(session, session.get_one(User, job.user_id))
    period = parse_period(p["period"]) if p.get("period") else None
    unit = session.scalar(select(Unit).where(Unit.code == p["unit"])) if p.get("unit") else None
    if job.kind == "scores":
        if period is None or unit is None:
            raise InvalidInput(N_("Cần chọn kỳ báo cáo và đơn vị."), field="period")
        appraisal = p.get("appraisal")
        export = scores.scores_export(
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

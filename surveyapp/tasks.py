"""Background work of the web process: dashboard exports on a small thread pool.

The request commits the queued job and calls ``submit``; the thread writes the file through
services.jobs and records progress in its own short transactions, so a page served by any worker
shows it.
"""

from __future__ import annotations

import logging
import secrets
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from surveyapp.clock import now
from surveyapp.models import ExportJob, JobStatus
from surveyapp.services.exports import jobs

logger = logging.getLogger(__name__)


def export_directory(app: Flask) -> Path:
    return Path(app.instance_path) / "exports"


def run_export(app: Flask, job_id: int) -> None:
    factory = app.extensions["surveyapp.sessionmaker"]
    directory = export_directory(app)
    directory.mkdir(parents=True, exist_ok=True)

    def record(**values: Any) -> None:
        with factory() as session:
            session.execute(
                update(ExportJob).where(ExportJob.id == job_id).values(updated_at=now(), **values)
            )
            session.commit()

    with factory() as session:
        job = session.get_one(ExportJob, job_id)
        name = f"{job.id}-{secrets.token_hex(8)}.{job.params['format']}"
        record(status=JobStatus.RUNNING)
        try:
            written = jobs.write_export(
                session, job, directory / name, app.config["TIMEZONE"], now, record
            )
        except Exception as error:  # the job reports the failure; the thread lives on
            logger.exception("export job %s failed", job_id)
            (directory / name).unlink(missing_ok=True)
            message = getattr(error, "message", None) or "Không tạo được tệp xuất."
            record(status=JobStatus.FAILED, error=str(message)[:500], finished_at=now())
            return
    record(status=JobStatus.DONE, done=written, total=written, file_name=name, finished_at=now())


def submit(app: Flask, job_id: int) -> Future[None]:
    """Run a committed job on this process's export threads."""
    pool = app.extensions.get("surveyapp.export_pool")
    if pool is None:
        pool = ThreadPoolExecutor(app.config["EXPORT_WORKERS"], thread_name_prefix="export")
        app.extensions["surveyapp.export_pool"] = pool

    def work() -> None:
        with app.app_context():
            run_export(app, job_id)

    return pool.submit(work)

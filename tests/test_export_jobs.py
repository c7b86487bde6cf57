"""The rules of an export job's attempts: one run claims an attempt, a killed run is taken over
by a new attempt, a lost message is queued again, and a run past its attempt stops."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import ExportFile, ExportJob, JobStatus
from surveyapp.services.access import scope_for
from surveyapp.services.exports import jobs
from tests.conftest import NOW, make_app
from tests.factories import build_world

STALE = timedelta(seconds=120)


def new_job(session: Session, world: dict[str, Any]) -> int:
    scope = scope_for(session, world["users"]["manager"])
    job = jobs.create_export(
        session,
        scope,
        kind="responses",
        params={"unit": "P.D1", "format": "csv"},
        appraisal=None,
        now=NOW,
    )
    session.commit()
    return job.id


def status(session: Session, job_id: int) -> tuple[JobStatus, int]:
    session.expire_all()
    job = session.get_one(ExportJob, job_id)
    return job.status, job.attempt


def test_one_run_claims_an_attempt(session: Session, world: dict[str, Any]) -> None:
    job_id = new_job(session, world)
    assert jobs.claim(session, job_id, 0, NOW) is not None
    assert jobs.claim(session, job_id, 0, NOW) is None  # a duplicate message of the same attempt
    assert jobs.claim(session, job_id, 1, NOW) is None  # an attempt the job never had
    assert status(session, job_id) == (JobStatus.RUNNING, 0)


def test_a_silent_run_is_taken_over_and_the_old_one_stops(
    session: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    job_id = new_job(session, world)
    jobs.claim(session, job_id, 0, NOW)
    jobs.beat(session, job_id, 0, NOW + timedelta(seconds=30), done=5)
    session.commit()
    # Heartbeat 30 s ago at NOW + 100 s: alive, nothing to do.
    assert jobs.recover(session, NOW + timedelta(seconds=100), STALE, 3) == []
    later = NOW + timedelta(seconds=151)
    assert jobs.recover(session, later, STALE, 3) == [jobs.Requeue(job_id, 1, lost=False)]
    # A second worker recovering at the same moment finds nothing left to take.
    assert jobs.recover(session, later, STALE, 3) == []
    session.commit()
    assert status(session, job_id) == (JobStatus.QUEUED, 1)
    # The old run wakes up: its heartbeat and its file are refused, nothing is stored.
    with pytest.raises(jobs.Superseded):
        jobs.beat(session, job_id, 0, later)
    path = tmp_path / "old.csv"
    path.write_bytes(b"stale rows")
    with pytest.raises(jobs.Superseded):
        jobs.finish(session, job_id, 0, path, 1, later)
    session.rollback()
    assert session.scalars(select(ExportFile)).all() == []
    # The new attempt claims it and finishes.
    assert jobs.claim(session, job_id, 1, later) is not None
    path.write_bytes(b"x" * (ExportFile.PART_BYTES + 10))
    jobs.finish(session, job_id, 1, path, 7, later)
    session.commit()
    assert status(session, job_id) == (JobStatus.DONE, 1)
    job = session.get_one(ExportJob, job_id)
    assert (job.size, job.total) == (ExportFile.PART_BYTES + 10, 7)
    assert [len(part) for part in jobs.file_parts(session, job)] == [ExportFile.PART_BYTES, 10]


def test_a_job_killed_too_often_fails_with_a_message(
    session: Session, world: dict[str, Any]
) -> None:
    job_id = new_job(session, world)
    moment = NOW
    for attempt in range(3):
        assert jobs.claim(session, job_id, attempt, moment) is not None
        moment += STALE + timedelta(seconds=1)
        again = jobs.recover(session, moment, STALE, max_attempts=3)
        session.commit()
        assert again == ([jobs.Requeue(job_id, attempt + 1, lost=False)] if attempt < 2 else [])
    job = session.get_one(ExportJob, job_id)
    session.refresh(job)
    assert (job.status, job.attempt) == (JobStatus.FAILED, 2)
    assert job.error == jobs.INTERRUPTED


def test_a_queued_job_waits_its_turn_and_a_lost_message_is_queued_again(
    session: Session, world: dict[str, Any]
) -> None:
    """A long queue is no failure: a job waiting in the queue is left alone for ten times the
    stale time, then queued again with the same attempt (no attempt is used up)."""
    job_id = new_job(session, world)
    assert jobs.recover(session, NOW + STALE * 9, STALE, 3) == []
    assert jobs.recover(session, NOW + STALE * 10 + timedelta(seconds=1), STALE, 3) == [
        jobs.Requeue(job_id, 0, lost=True)
    ]
    session.commit()
    assert status(session, job_id) == (JobStatus.QUEUED, 0)


def test_a_failed_run_is_released_for_the_retry(session: Session, world: dict[str, Any]) -> None:
    job_id = new_job(session, world)
    jobs.claim(session, job_id, 0, NOW)
    jobs.release(session, job_id, 0, NOW)
    assert status(session, job_id) == (JobStatus.QUEUED, 0)
    assert jobs.claim(session, job_id, 0, NOW) is not None


def test_an_unexpected_error_is_retried_by_the_queue(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first run raises (say, the database went away mid-way); the queue retries it after
    its delay and the job is done, with no attempt used up."""
    calls: list[int] = []
    write = jobs.write_export

    def flaky(*args: Any, **kwargs: Any) -> int:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database went away")
        return write(*args, **kwargs)

    monkeypatch.setattr(jobs, "write_export", flaky)
    app = make_app(database_url, EXPORT_RETRY_SECONDS=0.1)
    queue = app.extensions["surveyapp.queue"]
    try:
        with app.extensions["surveyapp.sessionmaker"]() as session:
            job_id = new_job(session, build_world(session))
            queue.enqueue_export(job_id)
            deadline = time.monotonic() + 20
            while status(session, job_id)[0] is not JobStatus.DONE and time.monotonic() < deadline:
                session.commit()
                time.sleep(0.05)
            assert status(session, job_id) == (JobStatus.DONE, 0)
        assert len(calls) == 2
    finally:
        queue.stop()
        app.extensions["surveyapp.engine"].dispose()

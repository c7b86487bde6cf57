"""Background jobs on the real queue: Redis (production) and the SQLite queue, with worker
processes started as an operator would (``flask --app wsgi worker``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy.orm import Session

from surveyapp.models import ExportFile, ExportJob, JobStatus
from tests.conftest import SECRET, AuthActions, make_app, redis_url
from tests.factories import build_world, submit_response

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["redis", "sqlite-queue"])
def queue_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "redis":
        return redis_url()
    return f"sqlite:///{tmp_path / 'shared-queue.sqlite3'}"


class Worker:
    """A ``flask --app wsgi worker`` process with the web app's database and queue."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log = open(self.folder / "worker.log", "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--workers", "1"],
            cwd=ROOT,
            env=self.env | {"SURVEYAPP_INSTANCE_PATH": str(self.folder)},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # graceful: running jobs finish
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process is not None:
            self.log.close()

    def output(self) -> str:
        return (self.folder / "worker.log").read_text(errors="replace")


@pytest.fixture
def setup(database_url: str, queue_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    name = f"test-{uuid.uuid4().hex[:12]}"  # a queue of this test's own
    settings = {
        "QUEUE_URL": queue_url,
        "QUEUE_NAME": name,
        "CLOCK": None,  # the worker processes run on the real clock too
        "EXPORT_STALE_SECONDS": 2,
        "EXPORT_HEARTBEAT_SECONDS": 0.5,
    }
    web = make_app(database_url, **settings)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SURVEYAPP_DATABASE_URL": database_url,
        "SURVEYAPP_SECRET_KEY": SECRET,
        "SURVEYAPP_QUEUE_URL": queue_url,
        "SURVEYAPP_QUEUE_NAME": name,
        "SURVEYAPP_EXPORT_STALE_SECONDS": "2",
        "SURVEYAPP_EXPORT_HEARTBEAT_SECONDS": "0.5",
        "SURVEYAPP_LOG_LEVEL": "INFO",
    }
    workers: list[Worker] = []

    def worker(label: str) -> Worker:
        started = Worker(env, tmp_path / label)
        workers.append(started)
        started.start()
        return started

    with web.extensions["surveyapp.sessionmaker"]() as session:
        world = build_world(session)
        for _ in range(3):
            submit_response(session, world["counters"]["P.D1"])
    try:
        yield {"web": web, "worker": worker, "settings": settings, "url": database_url}
    finally:
        for started in workers:
            started.stop()
        if queue_url.startswith("redis"):
            import redis

            store = redis.Redis.from_url(queue_url)
            for key in store.scan_iter(f"*{name}*"):
                store.delete(key)
        web.extensions["surveyapp.engine"].dispose()


def request_export(app: Flask) -> int:
    auth = AuthActions(app.test_client())
    assert auth.login("manager@x.vn").status_code == 302
    queued = auth.client.post(
        "/dashboard/exports",
        data={
            "kind": "responses",
            "responses-csrf_token": auth.csrf("/dashboard/exports"),
            "responses-unit": "P.D1",
            "responses-period": "",
            "responses-format": "csv",
        },
    )
    assert queued.status_code == 303
    return int(queued.headers["Location"].rsplit("/", 1)[1])


def job_of(app: Flask, job_id: int) -> ExportJob:
    with app.extensions["surveyapp.sessionmaker"]() as session:
        job = session.get_one(ExportJob, job_id)
        session.expunge(job)
        return job


def wait_for(app: Flask, job_id: int, statuses: set[JobStatus], worker: Any, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = job_of(app, job_id)
        if job.status in statuses:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {job.status}; worker said:\n{worker.output()}")


def download(app: Flask, job_id: int) -> list[str]:
    auth = AuthActions(app.test_client())
    assert auth.login("manager@x.vn").status_code == 302
    with auth.client.get(f"/dashboard/exports/{job_id}/download") as result:
        assert result.status_code == 200, result.get_data(as_text=True)[:300]
        return result.data.decode("utf-8-sig").strip().splitlines()


def test_a_web_server_only_queues_and_another_serves_the_file(
    setup: dict[str, Any], tmp_path: Path
) -> None:
    """The web process queues the export and runs nothing itself; a worker process writes it;
    a second web server, with an instance folder of its own, serves the file."""
    web = setup["web"]
    job_id = request_export(web)
    time.sleep(0.5)
    assert job_of(web, job_id).status is JobStatus.QUEUED  # no worker yet: nothing ran
    worker = setup["worker"]("worker-1")
    done = wait_for(web, job_id, {JobStatus.DONE, JobStatus.FAILED}, worker)
    assert done.status is JobStatus.DONE, done.error
    os.environ["SURVEYAPP_INSTANCE_PATH"] = str(tmp_path / "second-web-server")
    other = make_app(setup["url"], **setup["settings"])
    try:
        assert other.instance_path != web.instance_path
        lines = download(other, job_id)
    finally:
        other.extensions["surveyapp.engine"].dispose()
    assert len(lines) == 1 + 3
    assert lines[0].startswith("submitted_at,period,unit_code")


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_worker_killed_mid_job_is_taken_over_by_the_next(
    setup: dict[str, Any], session: Session
) -> None:
    """kill -9 while the export is half done (here: waiting on a lock the test holds on the
    answers): its heartbeat stops, and a worker started afterwards takes the job over as a new
    attempt and finishes it; the dead attempt wrote nothing."""
    web = setup["web"]  # PostgreSQL only: the lock that holds the export mid-way is its own
    engine = sa.create_engine(setup["url"])
    blocker = engine.connect()
    transaction = blocker.begin()
    blocker.execute(sa.text("LOCK TABLE answers IN ACCESS EXCLUSIVE MODE"))
    try:
        job_id = request_export(web)
        first = setup["worker"]("worker-1")
        running = wait_for(web, job_id, {JobStatus.RUNNING}, first)
        assert running.attempt == 0
        time.sleep(1.0)  # the worker is inside the export, blocked on the answers
        first.kill()
    finally:
        transaction.rollback()
        blocker.close()
        engine.dispose()
    time.sleep(2.5)  # the heartbeat has stopped for longer than EXPORT_STALE_SECONDS
    assert job_of(web, job_id).status is JobStatus.RUNNING  # left running by the dead worker
    second = setup["worker"]("worker-2")
    done = wait_for(web, job_id, {JobStatus.DONE, JobStatus.FAILED}, second)
    assert done.status is JobStatus.DONE, done.error
    assert done.attempt == 1
    assert "taken over by attempt 1" in second.output()
    assert len(download(web, job_id)) == 1 + 3
    with web.extensions["surveyapp.sessionmaker"]() as check:
        parts = check.scalar(sa.select(sa.func.count()).select_from(ExportFile))
    assert parts == 1


def test_the_embedded_default_runs_jobs_inside_the_web_process(
    database_url: str, tmp_path: Path
) -> None:
    """No broker configured (the Quick start): an SQLite queue under the instance folder, and
    worker threads of the web process run the job."""
    app = make_app(database_url, CLOCK=None)
    try:
        queue = app.extensions["surveyapp.queue"]
        assert queue.embedded
        with app.extensions["surveyapp.sessionmaker"]() as session:
            world = build_world(session)
            submit_response(session, world["counters"]["P.D1"])
        job_id = request_export(app)
        deadline = time.monotonic() + 30
        while job_of(app, job_id).status is not JobStatus.DONE and time.monotonic() < deadline:
            time.sleep(0.1)
        assert job_of(app, job_id).status is JobStatus.DONE
        assert (Path(app.instance_path) / "queue.sqlite3").exists()
        assert len(download(app, job_id)) == 2
    finally:
        app.extensions["surveyapp.queue"].stop()
        app.extensions["surveyapp.engine"].dispose()


def test_an_unknown_broker_is_refused_at_start(tmp_path: Path) -> None:
    from surveyapp.config import ConfigError

    with pytest.raises(ConfigError, match="QUEUE_URL"):
        make_app(f"sqlite:///{tmp_path / 'x.db'}", QUEUE_URL="amqp://127.0.0.1")

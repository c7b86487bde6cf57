"""Background work on a real job queue (Huey): dashboard exports and dossier file uploads, and
rating invitations.

``SURVEYAPP_QUEUE_URL`` picks the broker:

- ``redis://host:6379/0`` (production): web processes only enqueue; ``flask --app wsgi worker``
  processes, on any number of machines, run the jobs.
- unset (the Quick start): an SQLite-backed queue under the instance folder, and a few worker
  threads started inside the web process on its first job, so ``scripts/serve`` stays one
  command. ``flask --app wsgi worker`` works on it too.
- ``sqlite:///path``: the same SQLite queue at a path of your choice.

Jobs are durable in the broker; an export's or upload's own state (attempt, heartbeat, progress,
file, an upload's result) is in the database, so a job left by a killed worker is taken over by
the next (services.exports.jobs ``recover``: at every worker's start and once a minute), and a
web server serves the file whichever worker wrote it. Huey itself retries a run that failed on an
unexpected error, with exponential backoff.

Invitations live in the database too (services.invitations.delivery): a push of dossiers queues
``send-invitations`` at once, and it runs every minute as well (quiet hours, retries); each
invitation is claimed by one worker for a lease. ``erase-contacts`` runs every hour.
"""

from __future__ import annotations

import atexit
import logging
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from surveyapp.clock import now
from surveyapp.config import ConfigError
from surveyapp.models import Dossier, ExportJob
from surveyapp.services.alerts import events, mailing
from surveyapp.services.collection.tables import TableLimits
from surveyapp.services.errors import N_, ServiceError
from surveyapp.services.exports import jobs
from surveyapp.services.intake import uploads
from surveyapp.services.intake.dossiers import IntakeOptions
from surveyapp.services.invitations import channels, delivery
from surveyapp.services.invitations.settings import InviteSettings, SettingsError
from surveyapp.services.par import rater_links

logger = logging.getLogger(__name__)
FAILED = N_("Không tạo được tệp xuất.")
UPLOAD_FAILED = N_("Không nạp được tệp; vui lòng nạp lại.")


class _ThreadConsumer(Consumer):
    """Huey's consumer run inside another program (the web process): no signal handlers, which
    only the main thread may install."""

    def _set_signal_handlers(self) -> None:
        pass


@dataclass(eq=False)  # compared and hashed by identity (kept in a WeakSet)
class Queue:
    """The app's queue: the Huey instance and its tasks."""

    huey: Huey
    embedded: bool  # no broker configured: worker threads run inside the web process
    workers: int
    invite_settings: InviteSettings
    engine: Engine | None = None  # the app's, closed by stop_embedded
    export: TaskWrapper = field(init=False)
    recover_exports: TaskWrapper = field(init=False)
    send_invitations: TaskWrapper = field(init=False)
    _consumer: Consumer | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def enqueue_export(self, job_id: int, attempt: int = 0) -> None:
        self.export(job_id, attempt)
        self.wake()

    def invite_soon(self) -> None:
        """Send the invitations that are due now (after a commit that offered some)."""
        self.send_invitations()
        self.wake()

    def offer(self, session: Session, dossiers: Sequence[Dossier], now: datetime) -> None:
        """The intake's invitation hook: queue one invitation per returned dossier."""
        delivery.offer(session, dossiers, now, self.invite_settings)

    def wake(self) -> None:
        """With the embedded default, make sure this process's worker threads run: they start
        on the first export and on a visit to the export pages (after a restart, so that jobs
        left queued or interrupted are run or taken over). With a broker: nothing."""
        if self.embedded:
            self.start_embedded()

    def start_embedded(self) -> None:
        """Start the in-process worker threads (once)."""
        with self._lock:
            if self._consumer is None:
                self._consumer = _ThreadConsumer(
                    self.huey,
                    workers=self.workers,
                    worker_type="thread",
                    initial_delay=0.05,
                    max_delay=1.0,  # an idle web process still picks a new job up within 1 s
                )
                self._consumer.start()
                _EMBEDDED.add(self)

    def stop(self) -> None:
        """Stop in-process workers, letting the jobs they run finish."""
        with self._lock:
            if self._consumer is not None:
                self._consumer.stop(graceful=True)
                self._consumer = None
            _EMBEDDED.discard(self)


_EMBEDDED: weakref.WeakSet[Queue] = weakref.WeakSet()


def stop_embedded() -> None:
    """Stop the worker threads of every embedded queue of this process (at exit, so running jobs
    finish; and between tests, so that no app's threads outlive it), and close the connections
    those threads opened."""
    for queue in list(_EMBEDDED):
        queue.stop()
        if queue.engine is not None:
            queue.engine.dispose()


atexit.register(stop_embedded)


def make_huey(config: Any, instance_path: str) -> tuple[Huey, bool]:
    url = config["QUEUE_URL"]
    name = config["QUEUE_NAME"]
    if not url:
        Path(instance_path).mkdir(parents=True, exist_ok=True)
        return SqliteHuey(
            name, filename=str(Path(instance_path) / "queue.sqlite3"), results=False
        ), True
    if url.startswith("redis://") or url.startswith("rediss://"):
        return RedisHuey(name, url=url, results=False), False
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), results=False), False
    raise ConfigError(f"QUEUE_URL must be redis://… or sqlite:///…, not {url!r}")


def init_app(app: Flask) -> Queue:
    huey, embedded = make_huey(app.config, app.instance_path)
    try:
        settings = InviteSettings.from_config(app.config)
    except SettingsError as exc:
        raise ConfigError(str(exc)) from exc
    queue = Queue(
        huey,
        embedded,
        int(app.config["QUEUE_WORKERS"]),
        settings,
        app.extensions.get("surveyapp.engine"),
    )
    stale = timedelta(seconds=float(app.config["EXPORT_STALE_SECONDS"]))
    heartbeat = float(app.config["EXPORT_HEARTBEAT_SECONDS"])
    retry = float(app.config["EXPORT_RETRY_SECONDS"])

    @huey.task(name="export", retries=2, retry_delay=retry, retry_backoff=2, context=True)
    def export(job_id: int, attempt: int, task: Any = None) -> None:
        with app.app_context():
            run_export(app, job_id, attempt, heartbeat, final=task is None or not task.retries)

    @huey.periodic_task(crontab(minute="*"), name="recover-exports")
    def recover_exports() -> None:
        recover(app, queue, stale)

    @huey.task(name="send-invitations")
    def send_invitations() -> None:
        run_invitations(app, settings)

    @huey.periodic_task(crontab(minute="*"), name="send-due-invitations")
    def send_due_invitations() -> None:
        run_invitations(app, settings)

    @huey.periodic_task(crontab(minute="7"), name="erase-contacts")
    def erase_contacts() -> None:
        with app.app_context(), app.extensions["surveyapp.sessionmaker"]() as session:
            erased = delivery.erase_contacts(session, now(), settings.keep_contacts)
            session.commit()
        if erased:
            logger.info("erased the contacts of %s dossiers", erased)

    @huey.periodic_task(crontab(minute="*"), name="send-alerts")
    def send_alerts() -> None:
        run_alerts(app, settings)

    @huey.periodic_task(crontab(hour="0", minute="15"), name="scan-drops")  # 07:15 in Việt Nam
    def scan_drops() -> None:
        with app.app_context(), app.extensions["surveyapp.sessionmaker"]() as session:
            events.scan_drops(session, now(), alert_rules(app.config), settings.timezone)
            session.commit()

    @huey.periodic_task(crontab(minute="20"), name="send-digests")
    def send_digests() -> None:
        run_digests(app, settings)

    queue.export, queue.recover_exports = export, recover_exports
    queue.send_invitations = send_invitations
    app.extensions["surveyapp.queue"] = queue
    return queue


def run_invitations(app: Flask, settings: InviteSettings, limit: int = 50) -> int:
    """Send every invitation due now, the dossiers' and then the PAR-survey respondents' links:
    claimed ``limit`` at a time (another worker may share the work), each outcome committed on
    its own; one SMTP session and HTTP client for the run. Returns how many this worker tried."""
    factory = app.extensions["surveyapp.sessionmaker"]
    tried = 0
    kinds: tuple[tuple[Any, Any], ...] = (
        (delivery.claim_due, delivery.deliver),
        (rater_links.claim_due, rater_links.deliver),
    )
    with app.app_context(), factory() as session, channels.Outbox() as outbox:
        for claim, deliver in kinds:
            while True:
                claimed = claim(session, now(), settings, limit)
                session.commit()
                if not claimed:
                    break
                for row in claimed:
                    tried += 1
                    try:
                        deliver(session, row, settings, now(), outbox)
                        session.commit()
                    except Exception:  # noqa: BLE001 - left for its lease to run out, then retried
                        session.rollback()
                        logger.exception("%s %s could not be recorded", type(row).__name__, row.id)
    return tried


def alert_rules(config: Any) -> events.AlertRules:
    return events.AlertRules(
        low_burst_count=int(config["ALERT_LOW_BURST_COUNT"]),
        low_burst_minutes=int(config["ALERT_LOW_BURST_MINUTES"]),
        due_soon_hours=int(config["ALERT_DUE_SOON_HOURS"]),
        drop_p=float(config["ALERT_DROP_P"]),
    )


def mail_rules(config: Any, settings: InviteSettings) -> mailing.MailRules:
    return mailing.MailRules(
        base_url=settings.base_url,
        secret_key=settings.secret_key,
        debounce=timedelta(minutes=float(config["ALERT_DEBOUNCE_MINUTES"])),
        cap=int(config["ALERT_MAIL_CAP"]),
        lease=settings.lease,
        sender_name=settings.sender_name,
    )


def run_alerts(app: Flask, settings: InviteSettings) -> tuple[int, int]:
    """Record what happened (services.alerts.events) and mail the officials whose debounce has
    passed; returns (new notifications, e-mails sent). Without a mail server, notifications
    stay in the app."""
    factory = app.extensions["surveyapp.sessionmaker"]
    rules = mail_rules(app.config, settings)
    sent = 0
    with app.app_context(), factory() as session, channels.Outbox() as outbox:
        found = events.scan(session, now(), alert_rules(app.config))
        session.commit()
        if settings.mail is None:
            return found, 0
        batches = mailing.claim_alerts(session, now(), rules)
        session.commit()
        for batch in batches:
            try:
                mailing.deliver_alerts(session, batch, settings.mail, rules, now(), outbox)
                sent += 1
            except channels.Transient as error:
                logger.warning("alert mail to user %s: %s", batch.user.id, error.reason)
            except channels.Permanent as error:
                logger.error("alert mail to user %s refused: %s", batch.user.id, error.reason)
                mailing.mark_sent(session, batch, now())
            session.commit()
    return found, sent


def run_digests(app: Flask, settings: InviteSettings) -> int:
    """Mail the weekly and monthly digests that are due; each is committed with its record."""
    if settings.mail is None:
        return 0
    factory = app.extensions["surveyapp.sessionmaker"]
    rules = mail_rules(app.config, settings)
    sent = 0
    with app.app_context(), factory() as session, channels.Outbox() as outbox:
        for watch, period in mailing.due_digests(session, now(), settings.timezone):
            try:
                mailing.send_digest(
                    session, watch, period, now(), settings.timezone, settings.mail, rules, outbox
                )
                session.commit()
                sent += 1
            except Exception:  # noqa: BLE001 - a duplicate or a failed send: tried next hour
                session.rollback()
                logger.exception("digest %s %s not sent", watch.subscription.id, period.label)
    return sent


def recover(app: Flask, queue: Queue, stale: timedelta | None = None) -> list[jobs.Requeue]:
    """Queue again the exports whose worker stopped (see services.exports.jobs.recover)."""
    stale = stale or timedelta(seconds=float(app.config["EXPORT_STALE_SECONDS"]))
    with app.app_context(), app.extensions["surveyapp.sessionmaker"]() as session:
        again = jobs.recover(session, now(), stale, int(app.config["EXPORT_MAX_ATTEMPTS"]))
        session.commit()
    for job in again:
        if job.lost:
            logger.warning("export job %s still queued: queued again", job.job_id)
        else:
            logger.warning("export job %s taken over by attempt %s", job.job_id, job.attempt)
        queue.export(job.job_id, job.attempt)
    return again


def _run_upload(
    app: Flask, session: Session, job: ExportJob, attempt: int, record: Callable[..., None]
) -> None:
    """Import an uploaded dossier file (services.intake.uploads) and keep what it did."""
    queue: Queue = app.extensions["surveyapp.queue"]
    result, stored = uploads.run_upload(
        session,
        job,
        options=IntakeOptions.from_config(app.config, "file"),
        limits=TableLimits.from_config(app.config),
        clock=now,
        record=record,
        commit=session.commit,
        invite=queue.offer,
    )
    error = None if stored else "Không nhập dòng nào"
    rows = sum(result.counts.values())
    jobs.conclude(session, job.id, attempt, uploads.summary(result, stored), rows, now(), error)
    session.commit()
    if result.invited:
        queue.invite_soon()


def run_export(app: Flask, job_id: int, attempt: int, heartbeat: float, final: bool) -> None:
    """Run one background job for its attempt (write an export and store the file in the
    database, or import an uploaded dossier file), beating its heartbeat. A superseded attempt
    stops quietly; a bad request fails the job at once; an unexpected error is raised for the
    queue to retry (and fails the job on the last try)."""
    factory = app.extensions["surveyapp.sessionmaker"]

    def record(**values: Any) -> None:
        with factory() as session:
            jobs.beat(session, job_id, attempt, now(), **values)
            session.commit()

    with factory() as session:
        job = jobs.claim(session, job_id, attempt, now())
        session.commit()
        if job is None:
            return  # finished, or taken over by a newer attempt
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(heartbeat):
                try:
                    record()
                except jobs.Superseded:
                    return
                except Exception:  # noqa: BLE001 - a missed beat is retried on the next
                    logger.warning("heartbeat of export job %s failed", job_id, exc_info=True)

        beating = threading.Thread(target=beat, name=f"export-{job_id}-beat", daemon=True)
        beating.start()
        try:
            if job.kind == uploads.KIND:
                _run_upload(app, session, job, attempt, record)
            else:
                with tempfile.TemporaryDirectory(prefix="surveyapp-export-") as folder:
                    path = Path(folder) / f"export.{job.params['format']}"
                    rows = jobs.write_export(
                        session, job, path, app.config["TIMEZONE"], now, record
                    )
                    jobs.finish(session, job_id, attempt, path, rows, now())
                    session.commit()
        except jobs.Superseded:
            session.rollback()
            logger.info("export job %s attempt %s was superseded", job_id, attempt)
        except ServiceError as error:
            session.rollback()
            jobs.fail(session, job_id, attempt, error.render(), now())
            session.commit()
        except Exception:
            session.rollback()
            logger.exception("export job %s failed", job_id)
            if final:
                message = UPLOAD_FAILED if job.kind == uploads.KIND else FAILED
                jobs.fail(session, job_id, attempt, message, now())
            else:  # the queue tries again after a delay
                jobs.release(session, job_id, attempt, now())
            session.commit()
            raise
        finally:
            stop.set()
            beating.join(timeout=5)

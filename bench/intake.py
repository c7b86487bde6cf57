"""Dossier intake and invitations: 100,000 dossiers pushed through POST /api/v1/dossiers in
batches of 500 (gunicorn, 2 workers, PostgreSQL, a Redis job queue), then the invitations of the
returned ones sent by `flask worker` processes to a local SMTP sink. Prints dossiers per second,
invitations per second and the peak memory of the server and worker processes.

    .venv/bin/python bench/intake.py [--dossiers 100000] [--clients 2] [--workers 2]
"""

import sys
from pathlib import Path

# Run as a script: the repository root first, so that `analysis` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import http.client
import json
import os
import resource
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from aiosmtpd.controller import Controller

from bench._common import ADMIN_URL, ROOT, flask, free_port, fresh_database, wait_for_port

BATCH = 500


class Sink:
    """An SMTP server that counts what it receives."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        with self.lock:
            self.count += 1
        return "250 OK"


def records(start: int, count: int, units: list[str]) -> list[dict]:
    """Dossiers in the national naming, received a week ago; four in five returned yesterday
    (recent enough to be invited), each with an e-mail."""
    local = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    received = (local - timedelta(days=7)).strftime("%Y%m%d%H%M%S")
    due = (local + timedelta(days=3)).strftime("%Y%m%d%H%M%S")
    returned_at = (local - timedelta(days=1)).strftime("%Y%m%d%H%M%S")
    out = []
    for i in range(start, start + count):
        returned = i % 5 != 0
        out.append(
            {
                "MaHoSo": f"B-{i:07d}",
                "DonViXuLy": units[i % len(units)],
                "MaTTHC": f"1.00{i % 400:04d}.000.00.00.H12",
                "MaLinhVuc": f"LV{i % 40:02d}",
                "LoaiDoiTuong": 1 + (i % 9 == 0),
                "Email": f"cd{i}@example.vn",
                "NgayTiepNhan": received,
                "NgayHenTra": due,
                "NgayTra": returned_at if returned else None,
                "TrangThaiHoSo": "10" if returned else "2",
            }
        )
    return out


def push(port: int, token: str, batches: list[list[dict]], results: list) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for batch in batches:
        body = json.dumps(batch).encode()
        conn.request(
            "POST",
            "/api/v1/dossiers",
            body=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        response = conn.getresponse()
        payload = json.loads(response.read())
        results.append((response.status, payload.get("counts", {})))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--queue-workers", type=int, default=1, help="`flask worker` processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per queue worker")
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()

    url = fresh_database(args.admin_url, "surveyapp_bench_intake")
    port = free_port()
    sink = Sink()
    smtp_port = free_port()
    smtp = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SURVEYAPP_BASE_URL": f"http://127.0.0.1:{port}",
        "SURVEYAPP_LOG_LEVEL": "WARNING",
        "SURVEYAPP_QUEUE_URL": "redis://127.0.0.1:6379/0",
        "SURVEYAPP_QUEUE_NAME": f"bench-{uuid.uuid4().hex[:8]}",
        "SURVEYAPP_DOSSIER_STATUS_MAP": "10=returned",
        "SURVEYAPP_INVITE_QUIET_HOURS": "",
        "SURVEYAPP_INVITE_CHANNELS": "email",
        "SURVEYAPP_MAIL_SERVER": "127.0.0.1",
        "SURVEYAPP_MAIL_PORT": str(smtp_port),
        "SURVEYAPP_MAIL_DEFAULT_SENDER": "khaosat@example.vn",
    }
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--responses", "0")
    token = flask(
        env,
        "create-intake-token",
        "--unit",
        "AL",
        "--name",
        "bench",
        "--owner",
        "cchc@anlac.demo",
    ).strip()
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        units = list(
            connection.execute(
                sa.text("SELECT code FROM units WHERE parent_id IS NOT NULL AND is_active")
            ).scalars()
        )
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--timeout",
            "120",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    workers: list[subprocess.Popen] = []
    try:
        wait_for_port(port)
        batches = [
            records(start, min(BATCH, args.dossiers - start), units)
            for start in range(0, args.dossiers, BATCH)
        ]
        results: list = []
        started = time.perf_counter()
        threads = [
            threading.Thread(target=push, args=(port, token, batches[i :: args.clients], results))
            for i in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        intake_seconds = time.perf_counter() - started
        created = sum(c.get("created", 0) for _, c in results)
        refused = sum(c.get("refused", 0) for _, c in results)
        statuses = {s for s, _ in results}
        with engine.connect() as connection:
            stored = connection.execute(
                sa.text("SELECT count(*) FROM dossiers WHERE code LIKE 'B-%'")
            ).scalar_one()
            invitations = connection.execute(
                sa.text("SELECT count(*) FROM invitations")
            ).scalar_one()
        # The invitations: queue workers started now, so that the two phases are timed apart.
        started = time.perf_counter()
        for _ in range(args.queue_workers):
            workers.append(
                subprocess.Popen(
                    [
                        str(ROOT / ".venv/bin/flask"),
                        "--app",
                        "wsgi",
                        "worker",
                        "--workers",
                        str(args.threads),
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        sent = 0
        while time.perf_counter() - started < 900:
            with engine.connect() as connection:
                sent = connection.execute(
                    sa.text("SELECT count(*) FROM invitations WHERE status <> 'queued'")
                ).scalar_one()
            if sent >= invitations:
                break
            time.sleep(0.5)
        invite_seconds = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        smtp.stop()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"dossiers pushed     {args.dossiers} in {len(batches)} batches, {args.clients} clients")
    rate = args.dossiers / intake_seconds
    print(f"intake              {intake_seconds:.1f} s, {rate:,.0f} dossiers/s")
    print(f"answers             HTTP {sorted(statuses)}, created {created}, refused {refused}")
    print(f"stored              {stored} dossiers")
    print(f"invitations         {invitations} queued, {sent} settled, {sink.count} mails received")
    print(f"sending             {invite_seconds:.1f} s, {sent / invite_seconds:,.0f} invitations/s")
    print(f"peak memory         {peak:.0f} MB (largest server or worker process)")


if __name__ == "__main__":
    main()

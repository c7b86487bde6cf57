"""Submission throughput: gunicorn (2 workers) on PostgreSQL, 32 concurrent clients on loopback.

Each client acts as a new citizen per iteration: it fetches a counter's form (new session
cookie), then posts a full answer set. Prints complete submissions per second, p50/p99 latency,
errors, and checks that the database holds exactly the acknowledged responses.

    .venv/bin/python bench/submit.py [--seconds 30] [--clients 32] [--workers 2] [--floor]
"""

import sys
from pathlib import Path

# Run as a script: the repository root first, so that `analysis` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import http.client
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from urllib.parse import urlencode

import sqlalchemy as sa

from bench._common import ADMIN_URL, ROOT, flask, free_port, fresh_database, wait_for_port

CSRF_RE = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
KEY_RE = re.compile(rb'name="idempotency_key" type="hidden" value="([^"]+)"')
ITEMS = [f"S{i}" for i in range(15, 34)] + ["OVR"]


def client_loop(port: int, paths: list[str], deadline: float, seed: int, out: list) -> None:
    """One client: fetch form, post answers, until the deadline; append (ok, latency, error)."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < deadline:
        path = rng.choice(paths)
        started = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            cookie = (response.getheader("Set-Cookie") or "").split(";", 1)[0]
            csrf, key = CSRF_RE.search(body), KEY_RE.search(body)
            if response.status != 200 or not csrf or not key:
                out.append((False, time.perf_counter() - started, f"GET {response.status}"))
                continue
            form = {"csrf_token": csrf.group(1).decode(), "idempotency_key": key.group(1).decode()}
            form |= {f"q_{code}": str(rng.randint(1, 5)) for code in ITEMS}
            conn.request(
                "POST",
                path,
                body=urlencode(form),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            response = conn.getresponse()
            response.read()
            ok = response.status == 302 and "/thanks" in (response.getheader("Location") or "")
            out.append((ok, time.perf_counter() - started, "" if ok else f"POST {response.status}"))
        except (OSError, http.client.HTTPException) as exc:
            out.append((False, time.perf_counter() - started, type(exc).__name__))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def floor_loop(port: int, paths: list[str], deadline: float, seed: int, out: list) -> None:
    """The framework's floor: two trivial requests (health, one SELECT 1) per iteration."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        try:
            statuses = []
            for _ in range(2):
                conn.request("GET", "/api/v1/health")
                response = conn.getresponse()
                response.read()
                statuses.append(response.status)
            ok = statuses == [200, 200]
            out.append((ok, time.perf_counter() - started, "" if ok else f"GET {statuses}"))
        except (OSError, http.client.HTTPException) as exc:
            out.append((False, time.perf_counter() - started, type(exc).__name__))
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)


def process_main(
    port: int, paths: list[str], deadline: float, threads: int, seed: int, queue, floor: bool
) -> None:
    results: list = []
    loop = floor_loop if floor else client_loop
    workers = [
        threading.Thread(target=loop, args=(port, paths, deadline, seed * 100 + i, results))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put(results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument(
        "--floor",
        action="store_true",
        help="measure the same setup on two trivial requests (GET /api/v1/health) instead",
    )
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args()

    url = fresh_database(args.admin_url, "surveyapp_bench")
    port = free_port()
    env = {
        **os.environ,
        "SURVEYAPP_DATABASE_URL": url,
        "SURVEYAPP_SECRET_KEY": "bench-secret-key-0123456789abcdef",
        "SURVEYAPP_BASE_URL": f"http://127.0.0.1:{port}",
        "SURVEYAPP_LOG_LEVEL": "WARNING",
        # One loopback address stands for thousands of phones: lift the abuse limits.
        "SURVEYAPP_SUBMIT_LIMIT_CLIENT": "1000000 per minute",
        "SURVEYAPP_SUBMIT_LIMIT_IP": "1000000 per minute",
        "SURVEYAPP_SUBMIT_LIMIT_COUNTER": "1000000 per minute",
    }
    flask(env, "db", "upgrade")
    flask(env, "seed-demo", "--responses", "0")
    paths = [
        line.split("\t")[2].removeprefix(f"http://127.0.0.1:{port}")
        for line in flask(env, "counters").splitlines()
    ]
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "-w",
            str(args.workers),
            "-k",
            args.worker_class,
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for_port(port)
        # Warm up each worker (instrument snapshot, compiled statements, cached question block).
        warm: list = []
        client_loop(port, paths, time.perf_counter() + 2, 0, warm)
        engine = sa.create_engine(url)
        with engine.connect() as connection:
            before = connection.execute(sa.text("SELECT count(*) FROM responses")).scalar_one()
        deadline = time.perf_counter() + args.seconds
        queue: multiprocessing.Queue = multiprocessing.Queue()
        per_process = max(args.clients // args.client_processes, 1)
        processes = [
            multiprocessing.Process(
                target=process_main,
                args=(port, paths, deadline, per_process, p + 1, queue, args.floor),
            )
            for p in range(args.client_processes)
        ]
        started = time.perf_counter()
        for process in processes:
            process.start()
        results = [r for _ in processes for r in queue.get()]
        for process in processes:
            process.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=10)
    ok = [latency for good, latency, _ in results if good]
    errors = [error for good, _, error in results if not good]
    quantiles = statistics.quantiles(ok, n=100) if len(ok) > 1 else [0.0] * 99
    if args.floor:
        print(
            f"floor: pairs of GET /api/v1/health, gunicorn {args.workers} workers, {elapsed:.1f} s"
        )
        print(f"pairs/s            {len(ok) / elapsed:.1f}")
        print(f"latency p50 / p99  {quantiles[49] * 1000:.1f} / {quantiles[98] * 1000:.1f} ms")
        print(f"errors             {len(errors)}")
        sys.exit(1 if errors else 0)
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT count(*) FROM responses")).scalar_one() - before
        keys = (
            connection.execute(
                sa.text("SELECT count(DISTINCT idempotency_key) FROM responses")
            ).scalar_one()
            - before
        )
        rollup = connection.execute(
            sa.text("SELECT coalesce(sum(count), 0) FROM answer_counts")
        ).scalar_one()
        answers = connection.execute(sa.text("SELECT count(*) FROM answers")).scalar_one()
    engine.dispose()
    print(
        f"backend            PostgreSQL, gunicorn {args.workers} {args.worker_class} workers, "
        f"{args.clients} clients, {elapsed:.1f} s"
    )
    print(f"submissions/s      {len(ok) / elapsed:.1f}  (GET form + POST answers, complete)")
    print(f"latency p50        {quantiles[49] * 1000:.1f} ms")
    print(f"latency p99        {quantiles[98] * 1000:.1f} ms")
    print(
        f"errors             {len(errors)}"
        + (f"  e.g. {sorted(set(errors))[:5]}" if errors else "")
    )
    print(f"acknowledged       {len(ok)}")
    print(f"stored             {stored}  (distinct keys {keys})")
    print(f"lost / duplicated  {max(len(ok) - stored, 0)} / {max(stored - len(ok), 0)}")
    print(f"rollup = answers   {rollup == answers}  ({rollup} / {answers})")
    sys.exit(0 if not errors and stored == len(ok) and rollup == answers else 1)


if __name__ == "__main__":
    main()

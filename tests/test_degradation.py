"""Degrade, don't fail: Redis unreachable, PostgreSQL restarted, officials moderating at once."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import AuthActions, make_app
from tests.factories import build_world, full_answers, submit_response

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import json, sys
from tests.conftest import AuthActions, SurveyPage, make_app
from tests.factories import full_answers
url, survey = sys.argv[1], sys.argv[2]
app = make_app(url, REDIS_URL="redis://127.0.0.1:1/0", SUBMIT_LIMIT_CLIENT="2 per minute")
citizen = app.test_client()
codes = [SurveyPage(citizen, survey).post(full_answers(level)).status_code for level in (3, 4, 5)]
login = AuthActions(app.test_client()).login("par@x.vn").status_code
app.extensions["surveyapp.engine"].dispose()
print(json.dumps({"survey": codes, "login": login}))
"""


def test_with_redis_unreachable_citizens_and_officials_go_on(
    database_url: str, session: Session, tmp_path: Path
) -> None:
    """A worker whose Redis is down (nothing listens on port 1): submissions and sign-ins
    succeed, the limits are kept in that process's memory, and a warning says so. It runs in a
    process of its own, as a worker would, so the limiter's state stays there."""
    world = build_world(session)
    survey = f"/s/{world['counters']['P.D1'].active_token.token}"
    result = subprocess.run(
        [sys.executable, "-c", WORKER, database_url, survey],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SURVEYAPP_INSTANCE_PATH": str(tmp_path / "instance")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome == {"survey": [302, 302, 429], "login": 302}
    assert "falling back to in-memory storage" in result.stderr


@pytest.mark.postgres
def test_the_first_request_after_a_postgresql_restart_succeeds() -> None:
    """Every pooled connection dies (as in a restart: the server ends their backends); the next
    requests are served, each stale connection being found out and replaced on checkout."""
    from tests.conftest import pg_engine, pg_url, truncate_all

    engine = pg_engine()
    tag = "surveyapp-restart-test"
    app = make_app(f"{pg_url()}&application_name={tag}")
    try:
        with app.extensions["surveyapp.sessionmaker"]() as db:
            build_world(db)
        clients = [AuthActions(app.test_client()) for _ in range(3)]
        for auth in clients:
            assert auth.login("par@x.vn").status_code == 302
        # Hold three connections at once so the pool keeps three.
        held = [app.extensions["surveyapp.engine"].connect() for _ in range(3)]
        for connection in held:
            connection.close()
        with engine.begin() as admin:
            killed = admin.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :tag"
                ),
                {"tag": tag},
            ).scalar()
        assert killed >= 3
        for auth in clients:
            assert auth.client.get("/dashboard/units/P?period=2026").status_code == 200
            assert auth.client.get("/api/v1/health").status_code == 200
    finally:
        app.extensions["surveyapp.engine"].dispose()
        truncate_all(engine)


@pytest.mark.postgres
def test_concurrent_moderation_keeps_the_rollup_exact() -> None:
    """Officials mark the same responses spam and back at the same moment, in real concurrent
    PostgreSQL transactions: every transition reaches the rollup exactly once."""
    from surveyapp.models import AnswerCount, ResponseStatus, User
    from surveyapp.services.access import scope_for
    from surveyapp.services.collection import moderation, rollup
    from tests.conftest import NOW, pg_engine, pg_url, truncate_all

    engine = pg_engine()
    app = make_app(pg_url())
    factory = app.extensions["surveyapp.sessionmaker"]
    try:
        with factory() as setup:
            world = build_world(setup)
            ids = [
                submit_response(setup, world["counters"]["P.D1"], full_answers(level)).id
                for level in (2, 3, 4, 5)
            ]
            officials = [world["users"][role].id for role in ("admin", "par")]
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def moderate(official: int, rounds: int, seed: int) -> None:
            try:
                start.wait()
                for step in range(rounds):
                    with factory() as db:
                        scope = scope_for(db, db.get_one(User, official))
                        target = ids[(seed + step) % len(ids)]
                        status = ResponseStatus.SPAM if step % 2 == 0 else ResponseStatus.REPORTABLE
                        moderation.set_response_status(db, scope, target, status, NOW)
                        db.commit()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)

        threads = [
            threading.Thread(target=moderate, args=(officials[i % 2], 40, i % 4)) for i in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with factory() as db:
            before = {
                (c.unit_id, c.period, c.stream, c.item_id, c.level): c.count
                for c in db.scalars(select(AnswerCount))
            }
            repair = rollup.rebuild_rollups(db)
            db.rollback()
        assert (repair.added, repair.changed, repair.removed) == (0, 0, 0), before
    finally:
        app.extensions["surveyapp.engine"].dispose()
        truncate_all(engine)

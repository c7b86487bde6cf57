"""Feedback inbox at scale: 1,000,000 cases in PostgreSQL, page times with keyset pagination.

Prints the time to show the first page and a page deep in the list for a province's PAR office
(every unit) and for one commune's manager, with and without filters.

    .venv/bin/python bench/inbox.py [--cases 1000000]
"""

import sys
from pathlib import Path

# Run as a script: the repository root first, so that `analysis` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import statistics
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bench._common import ADMIN_URL, fresh_database
from surveyapp.db import Base
from surveyapp.models import CaseStatus, Role, UnitLevel, User
from surveyapp.services.access import SYSTEM, scope_for
from surveyapp.services.feedback import cases
from surveyapp.services.instruments.publishing import load_builtin_instruments
from surveyapp.services.org.units import save_unit

NOW = datetime(2026, 11, 1, tzinfo=UTC)
TZ = "Asia/Ho_Chi_Minh"


def load(engine: sa.Engine, count: int) -> None:
    import surveyapp.models  # noqa: F401

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        instrument = next(i for i in load_builtin_instruments(session, NOW) if i.code == "COUNTER")
        province = save_unit(session, SYSTEM, "P", "Tỉnh", UnitLevel.PROVINCE)
        communes = []
        for d in range(10):
            district = save_unit(
                session, SYSTEM, f"D{d}", f"Huyện {d}", UnitLevel.DISTRICT, province
            )
            communes += [
                save_unit(session, SYSTEM, f"D{d}.X{x}", f"Xã {d}.{x}", UnitLevel.COMMUNE, district)
                for x in range(10)
            ]
        session.add_all(
            [
                User(email="par@x.vn", password_hash="x", role=Role.PAR_OFFICE, unit=province),
                User(email="m@x.vn", password_hash="x", role=Role.UNIT_MANAGER, unit=communes[7]),
            ]
        )
        session.commit()
        first, last = communes[0].id, communes[-1].id
        instrument_id = instrument.id
    statuses = [s.value for s in CaseStatus]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                """
                INSERT INTO responses (id, receipt_code, idempotency_key, instrument_id, unit_id,
                    channel, stream, status, submitted_at, period, locale, is_flagged)
                SELECT g, 'R' || g, 'k' || g, :instrument, :first + (g % (:last - :first + 1)),
                    'qr', 'general', 'reportable',
                    timestamptz '2025-11-01' + (g * interval '30 second'),
                    202511, 'vi', false
                FROM generate_series(1, :n) AS g
                """
            ),
            {"instrument": instrument_id, "first": first, "last": last, "n": count},
        )
        connection.execute(
            sa.text(
                """
                INSERT INTO comments (id, response_id, body, created_at)
                SELECT g, g, 'Góp ý số ' || g || ' về thời gian chờ', timestamptz '2025-11-01'
                    + (g * interval '30 second')
                FROM generate_series(1, :n, 3) AS g
                """
            ),
            {"n": count},
        )
        connection.execute(
            sa.text(
                """
                INSERT INTO cases (id, response_id, unit_id, status, reason, due_at, created_at)
                SELECT r.id, r.id, r.unit_id, (CAST(:statuses AS varchar[]))[1 + (r.id % 5)],
                    'comment', r.submitted_at + interval '14 day', r.submitted_at
                FROM responses r
                """
            ),
            {"statuses": statuses},
        )
        connection.execute(sa.text("ANALYZE"))


def timed(session: Session, scope, filters, cursor=None, repeat: int = 5):  # type: ignore[no-untyped-def]
    runs, page = [], None
    for _ in range(repeat):
        session.expunge_all()
        started = time.perf_counter()
        page = cases.list_cases(session, scope, filters, NOW, TZ, cursor=cursor)
        runs.append(time.perf_counter() - started)
    return statistics.median(runs) * 1000, page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
    )
    args = parser.parse_args()
    engine = sa.create_engine(fresh_database(args.admin_url, "surveyapp_bench_inbox"))
    started = time.perf_counter()
    load(engine, args.cases)
    print(f"load              {args.cases:,} cases in {time.perf_counter() - started:.1f} s")
    with Session(engine) as session:
        par = scope_for(
            session, session.scalars(sa.select(User).where(User.email == "par@x.vn")).one()
        )
        manager = scope_for(
            session, session.scalars(sa.select(User).where(User.email == "m@x.vn")).one()
        )
        for label, scope in (("province PAR office", par), ("one commune manager", manager)):
            for name, filters in (
                ("newest", cases.CaseFilters()),
                ("status=new", cases.CaseFilters(status=CaseStatus.NEW)),
                ("overdue", cases.CaseFilters(overdue=True)),
                ("due soonest", cases.CaseFilters(sort="due")),
                ("text search", cases.CaseFilters(text="số 4242")),
            ):
                first_ms, page = timed(session, scope, filters)
                cursor = page.next_cursor
                for _ in range(20):  # walk 20 pages deep
                    if cursor is None:
                        break
                    page = cases.list_cases(session, scope, filters, NOW, TZ, cursor=cursor)
                    cursor = page.next_cursor
                deep_ms = timed(session, scope, filters, cursor=cursor)[0] if cursor else 0.0
                print(
                    f"{label:20s} {name:12s} first page {first_ms:7.1f} ms"
                    f"   page 21 {deep_ms:7.1f} ms"
                )
    engine.dispose()


if __name__ == "__main__":
    main()

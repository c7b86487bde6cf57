"""Analysis at scale: 1,000,000 counter-survey responses (19 items each) in SQLite and PostgreSQL.

Per backend it prints the load time (responses, answers and the rollup, generated in SQL), the time
to compute every unit's full index table for a year with intervals, the time for one unit's
dashboard figures, and the peak memory of this process.

    .venv/bin/python bench/analysis.py [--responses 1000000] [--backend sqlite|postgresql|both]
"""

import sys
from pathlib import Path

# Run as a script: the repository root first, so that `analysis` is the package, not this file.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from analysis import wilson
from bench._common import ADMIN_URL, fresh_database
from surveyapp.db import Base, make_engine
from surveyapp.models import Instrument, Unit, UnitLevel
from surveyapp.services.access import SYSTEM
from surveyapp.services.collection import rollup
from surveyapp.services.instruments.publishing import load_builtin_instruments
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.org.units import save_unit
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import counts, dashboards, ranking

TZ = "Asia/Ho_Chi_Minh"

NOW = datetime(2026, 12, 31, tzinfo=UTC)

RESPONSES_SQL = {
    "postgresql": """
        INSERT INTO responses (id, receipt_code, idempotency_key, instrument_id, unit_id, channel,
            stream, status, submitted_at, period, locale, is_flagged)
        SELECT g, 'R' || g, 'k' || g, :instrument, :first + (g % :units), 'qr', 'general',
            'reportable', timestamptz '2026-01-01' + (g % 365) * interval '1 day',
            202600 + 1 + ((g % 365) / 31), 'vi', false
        FROM generate_series(1, :n) AS g
    """,
    "sqlite": """
        WITH RECURSIVE seq(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM seq WHERE g < :n)
        INSERT INTO responses (id, receipt_code, idempotency_key, instrument_id, unit_id, channel,
            stream, status, submitted_at, period, locale, is_flagged)
        SELECT g, 'R' || g, 'k' || g, :instrument, :first + (g % :units), 'qr', 'general',
            'reportable', datetime('2026-01-01', '+' || (g % 365) || ' days'),
            202600 + 1 + ((g % 365) / 31), 'vi', 0
        FROM seq
    """,
}
ANSWERS_SQL = {
    # Satisfaction differs by unit and item, so the indices differ.
    "postgresql": """
        INSERT INTO answers (response_id, item_id, value)
        SELECT r.id, i.id, LEAST(5, GREATEST(1, 1 + floor(random() * 4.6
            + ((r.unit_id * 7 + i.id) % 5) * 0.15)::int))
        FROM responses r CROSS JOIN instrument_items i
        WHERE i.instrument_id = :instrument AND i.element_id IS NOT NULL
    """,
    "sqlite": """
        INSERT INTO answers (response_id, item_id, value)
        SELECT r.id, i.id, MIN(5, MAX(1, 1 + (abs(random()) % 100) * 46 / 1000
            + ((r.unit_id * 7 + i.id) % 5) * 15 / 100))
        FROM responses r CROSS JOIN instrument_items i
        WHERE i.instrument_id = :instrument AND i.element_id IS NOT NULL
    """,
}


def load(engine: sa.Engine, count: int) -> tuple[int, list[Unit]]:
    import surveyapp.models  # noqa: F401

    Base.metadata.create_all(engine)
    with Session(engine) as session:
        instrument = next(i for i in load_builtin_instruments(session, NOW) if i.code == "COUNTER")
        province = save_unit(session, SYSTEM, "P", "Tỉnh", UnitLevel.PROVINCE)
        for d in range(10):
            district = save_unit(
                session, SYSTEM, f"D{d}", f"Huyện {d}", UnitLevel.DISTRICT, province
            )
            for x in range(10):
                save_unit(session, SYSTEM, f"D{d}.X{x}", f"Xã {d}.{x}", UnitLevel.COMMUNE, district)
        session.commit()
        ids = sorted(session.scalars(sa.select(Unit.id)))
        instrument_id = instrument.id
    dialect = engine.dialect.name
    with engine.begin() as connection:
        connection.execute(
            sa.text(RESPONSES_SQL[dialect]),
            {"instrument": instrument_id, "first": ids[0], "units": len(ids), "n": count},
        )
        connection.execute(sa.text(ANSWERS_SQL[dialect]), {"instrument": instrument_id})
    with Session(engine) as session:
        rollup.rebuild_rollups(session)
        session.commit()
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    return instrument_id, []


def timed(function, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def run(url: str, label: str, count: int) -> None:
    engine = make_engine(url)
    started = time.perf_counter()
    load(engine, count)
    load_time = time.perf_counter() - started
    year = parse_period("2026")
    with Session(engine) as session:
        instrument = session.scalars(
            sa.select(Instrument).where(Instrument.code == "COUNTER")
        ).one()
        view = instrument_view(session, instrument.id, instrument.source_hash)
        units = list(session.scalars(sa.select(Unit).order_by(Unit.path)))
        one = session.scalars(sa.select(Unit).where(Unit.code == "D3.X4")).one()

        def province_table() -> None:
            for row in counts.unit_table(session, units, year, view, None, None, TZ):
                if row.index.value is not None:
                    wilson(float(row.index.value) / 100 * row.respondents, row.respondents)
                    for element in row.index.parts:
                        if element.valid:
                            wilson(element.satisfied, element.valid)

        def unit_figures() -> None:
            row = counts.unit_table(session, [one], year, view, None, None, TZ)[0]
            for element in row.index.parts:
                wilson(element.satisfied, element.valid)

        province = units[0]
        query = dashboards.Query(year)

        def dashboard(unit: Unit) -> None:
            dashboards.unit_dashboard(session, unit, query, scope=SYSTEM, timezone=TZ)

        table_time = timed(province_table)
        unit_time = timed(unit_figures, repeat=7)
        unit_page = timed(lambda: dashboard(one), repeat=7)
        province_page = timed(lambda: dashboard(province))
        ranking_time = timed(
            lambda: ranking.ranking(session, province, query, scope=SYSTEM, timezone=TZ)
        )
        rows = session.scalar(sa.select(sa.func.count()).select_from(sa.text("answers")))
    engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:10s} load {count:,} responses ({rows:,} answers) {load_time:7.1f} s")
    print(
        f"{label:10s} every unit's index table, one year, with intervals ({len(units)} units): "
        f"{table_time * 1000:7.1f} ms"
    )
    print(f"{label:10s} one unit's dashboard figures: {unit_time * 1000:7.1f} ms")
    print(
        f"{label:10s} whole dashboard (indices, previous period, parent, 12-month trend, "
        f"channels, progress, comments): one unit {unit_page * 1000:7.1f} ms, "
        f"the province {province_page * 1000:7.1f} ms"
    )
    print(f"{label:10s} ranking of the province's children: {ranking_time * 1000:7.1f} ms")
    print(f"{label:10s} peak memory of this process so far: {peak_mb:7.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            run(f"sqlite:///{Path(folder) / 'bench.db'}", "SQLite", args.responses)
    if args.backend in ("postgresql", "both"):
        run(fresh_database(ADMIN_URL, "surveyapp_bench_analysis"), "PostgreSQL", args.responses)


if __name__ == "__main__":
    main()

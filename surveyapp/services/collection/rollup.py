"""The rollup rule, in one place: reportable answers counted by (unit, month, stream, item, level)
in ``answer_counts``, kept in step by every write path in the same transaction, and rebuilt
from the raw answers on demand."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from surveyapp.db import AnySelect, table_of
from surveyapp.models import (
    Answer,
    AnswerCount,
    Response,
    ResponseStatus,
    Stream,
)

RollupKey = tuple[int, int, str, int, int]  # unit_id, period, stream, item_id, level


ROLLUP_KEY_COLUMNS = ("unit_id", "period", "stream", "item_id", "level")


def rollup_keys(response: Response) -> list[RollupKey]:
    """The rollup cells an ORM response adds to (none unless it is reportable; none for a
    respondent group's answer, which is no SIPAS answer)."""
    if response.status is not ResponseStatus.REPORTABLE or response.group_id is not None:
        return []
    return [
        (response.unit_id, response.period, Stream(response.stream).value, a.item_id, a.value)
        for a in response.answers
        if a.value is not None
    ]


def add_to_rollup(session: Session, keys: Iterable[RollupKey], sign: int = 1) -> None:
    """Add (or with sign=-1 remove) one count per key to ``answer_counts``, in one statement."""
    deltas: dict[RollupKey, int] = {}
    for key in keys:
        deltas[key] = deltas.get(key, 0) + sign
    if not deltas:
        return
    rows = [
        {
            "unit_id": k[0],
            "period": k[1],
            "stream": k[2],
            "item_id": k[3],
            "level": k[4],
            "count": v,
        }
        for k, v in sorted(deltas.items())  # one lock order for every writer: no deadlocks
    ]
    connection = session.connection()
    table = table_of(AnswerCount)
    if sign < 0:
        # Removing counts: a plain UPDATE (an upsert would check the negative row first).
        connection.execute(
            update(table)
            .where(*(table.c[k] == bindparam(f"k_{k}") for k in ROLLUP_KEY_COLUMNS))
            .values(count=table.c.count + bindparam("delta")),
            [
                {"delta": row["count"], **{f"k_{k}": row[k] for k in ROLLUP_KEY_COLUMNS}}
                for row in rows
            ],
        )
        return
    if connection.dialect.name == "postgresql":
        # One statement with array parameters, whatever the number of cells.
        columns = {k: [row[k] for row in rows] for k in (*ROLLUP_KEY_COLUMNS, "count")}
        connection.execute(_PG_ROLLUP_UPSERT, columns)
        return
    stmt = sqlite.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY_COLUMNS),
        set_={"count": table.c.count + stmt.excluded["count"]},
    )
    connection.execute(stmt, rows)


_PG_ROLLUP_UPSERT = text(
    """
    INSERT INTO answer_counts (unit_id, period, stream, item_id, level, count)
    SELECT * FROM unnest(
        CAST(:unit_id AS integer[]), CAST(:period AS integer[]), CAST(:stream AS varchar[]),
        CAST(:item_id AS integer[]), CAST(:level AS smallint[]), CAST(:count AS integer[])
    )
    ON CONFLICT (unit_id, period, stream, item_id, level)
    DO UPDATE SET count = answer_counts.count + excluded.count
    """
)


def _raw_counts_query() -> AnySelect:
    return (
        select(
            Response.unit_id,
            Response.period,
            Response.stream,
            Answer.item_id,
            Answer.value,
            func.count(),
        )
        .join(Answer, Answer.response_id == Response.id)
        .where(
            Response.status == ResponseStatus.REPORTABLE,
            Response.group_id.is_(None),
            Answer.value.is_not(None),
        )
        .group_by(Response.unit_id, Response.period, Response.stream, Answer.item_id, Answer.value)
    )


@dataclass(frozen=True)
class RollupRepair:
    cells: int  # cells in the rebuilt rollup
    added: int  # cells that were missing
    changed: int  # cells whose count was wrong
    removed: int  # cells that should not have been there


def rebuild_rollups(session: Session) -> RollupRepair:
    """Recompute ``answer_counts`` from the raw answers; report what was different."""
    raw = {
        (u, p, Stream(s).value, i, v): int(n)
        for u, p, s, i, v, n in session.execute(_raw_counts_query())
    }
    kept = {
        (u, p, Stream(s).value, i, v): int(n)
        for u, p, s, i, v, n in session.execute(
            select(
                AnswerCount.unit_id,
                AnswerCount.period,
                AnswerCount.stream,
                AnswerCount.item_id,
                AnswerCount.level,
                AnswerCount.count,
            ).where(AnswerCount.count != 0)
        )
    }
    added = sum(1 for key in raw if key not in kept)
    changed = sum(1 for key, n in raw.items() if key in kept and kept[key] != n)
    removed = sum(1 for key in kept if key not in raw)
    session.execute(delete(AnswerCount))
    query = _raw_counts_query()
    session.execute(
        insert(table_of(AnswerCount)).from_select(
            ["unit_id", "period", "stream", "item_id", "level", "count"], query
        )
    )
    return RollupRepair(len(raw), added, changed, removed)

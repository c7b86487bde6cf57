"""The responses file: one row per reportable response, one column per item, no personal data,
streamed in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import (
    Answer,
    Counter,
    Instrument,
    Item,
    Response,
    ResponseStatus,
    Unit,
)
from surveyapp.services.access import Scope
from surveyapp.services.exports.writers import write_rows_csv, write_rows_xlsx
from surveyapp.services.periods import Period


def write_responses(
    export: ResponsesExport,
    path: str | Path,
    fmt: str,
    progress: Callable[[int], None] | None = None,
) -> int:
    """The responses file, streamed as "csv" or "xlsx"; returns the rows written."""
    writer = write_rows_csv if fmt == "csv" else write_rows_xlsx
    return writer(export.header, export.rows, path, progress)


RESPONSE_COLUMNS = [
    "submitted_at",
    "period",
    "unit_code",
    "counter_code",
    "channel",
    "stream",
    "instrument",
    "respondent_type",
    "sex",
    "age_band",
    "has_dossier",
]


@dataclass(frozen=True)
class ResponsesExport:
    """Header and a lazy row iterator: one row per reportable response, one column per item."""

    header: list[str]
    total: int
    rows: Iterator[list[Any]]


def responses_export(
    session: Session,
    *,
    scope: Scope,
    period: Period | None,
    unit: Unit | None,
    timezone: str,
    batch: int = 2000,
) -> ResponsesExport:
    """Responses without personal data (no comment, contact, dossier code or receipt), of the
    units the scope may open, streamed in batches so that millions of rows never sit in memory."""
    conditions = [
        Response.status == ResponseStatus.REPORTABLE,
        Response.group_id.is_(None),  # the SIPAS answers (respondent groups: their round's file)
        scope.where(Response.unit_id),
    ]
    if period is not None:
        conditions.append(Response.period.between(period.first_month, period.last_month))
    if unit is not None:
        ids = select(Unit.id).where(Unit.path.startswith(unit.path))
        conditions.append(Response.unit_id.in_(ids))
    instrument_ids = list(
        session.scalars(select(Response.instrument_id).where(*conditions).distinct())
    )
    items = list(
        session.execute(
            select(Item.id, Item.code, Instrument.code)
            .join(Instrument, Item.instrument_id == Instrument.id)
            .where(Item.instrument_id.in_(instrument_ids))
            .order_by(Instrument.code, Instrument.version, Item.position)
        )
    )
    codes: list[str] = []
    for _id, code, _instrument in items:
        if code not in codes:
            codes.append(code)
    column_of = {item_id: len(RESPONSE_COLUMNS) + codes.index(code) for item_id, code, _ in items}
    total = session.scalar(select(func.count()).select_from(Response).where(*conditions)) or 0
    zone = ZoneInfo(timezone)
    units = dict(session.execute(select(Unit.id, Unit.code)).all())
    counters = dict(session.execute(select(Counter.id, Counter.code)).all())
    instruments_by_id = {
        i.id: f"{i.code}:{i.version}"
        for i in session.scalars(select(Instrument).where(Instrument.id.in_(instrument_ids)))
    }

    def rows() -> Iterator[list[Any]]:
        last_id = 0
        while True:
            chunk = list(
                session.execute(
                    select(
                        Response.id,
                        Response.submitted_at,
                        Response.period,
                        Response.unit_id,
                        Response.counter_id,
                        Response.channel,
                        Response.stream,
                        Response.instrument_id,
                        Response.respondent_type,
                        Response.sex,
                        Response.age_band,
                        Response.dossier_id,
                    )
                    .where(*conditions, Response.id > last_id)
                    .order_by(Response.id)
                    .limit(batch)
                )
            )
            if not chunk:
                return
            last_id = chunk[-1].id
            answers: dict[int, list[tuple[int, int | None]]] = {}
            for response_id, item_id, value in session.execute(
                select(Answer.response_id, Answer.item_id, Answer.value).where(
                    Answer.response_id.in_([r.id for r in chunk])
                )
            ):
                answers.setdefault(response_id, []).append((item_id, value))
            for r in chunk:
                row: list[Any] = [
                    r.submitted_at.astimezone(zone).isoformat(timespec="seconds"),
                    r.period,
                    units.get(r.unit_id),
                    counters.get(r.counter_id) if r.counter_id else None,
                    r.channel.value,
                    r.stream.value,
                    instruments_by_id.get(r.instrument_id),
                    r.respondent_type.value if r.respondent_type else None,
                    r.sex,
                    r.age_band,
                    "yes" if r.dossier_id else "no",
                ] + [None] * len(codes)
                for item_id, value in answers.get(r.id, []):
                    row[column_of[item_id]] = value
                yield row
            session.expunge_all()

    return ResponsesExport(RESPONSE_COLUMNS + codes, int(total), rows())

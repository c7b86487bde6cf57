"""Many responses at once (imports, demo data): bulk statements instead of one ORM object per
answer, the rollup kept in step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from surveyapp.models import (
    Answer,
    Comment,
    Response,
    ResponseStatus,
    Stream,
)
from surveyapp.services.collection.rollup import add_to_rollup


@dataclass
class NewResponse:
    """A response for bulk insertion: column values, (item_id, value, text) answers, comment."""

    values: dict[str, Any]
    answers: list[tuple[int, int | None, str | None]]
    comment: str | None = None


def insert_responses(session: Session, records: Sequence[NewResponse]) -> list[int]:
    """Insert many responses with their answers, comments and rollup counts; return their ids.

    Bulk statements (executemany/insertmanyvalues) instead of one ORM object per answer: the
    path for imports and demo data. ``values`` must hold every NOT NULL column of Response.
    """
    if not records:
        return []
    ids = list(
        session.scalars(
            insert(Response).returning(Response.id, sort_by_parameter_order=True),
            [r.values for r in records],
        )
    )
    answers = [
        {"response_id": rid, "item_id": item_id, "value": value, "text": text}
        for rid, record in zip(ids, records, strict=True)
        for item_id, value, text in record.answers
    ]
    if answers:
        session.execute(insert(Answer), answers)
    comments = [
        {"response_id": rid, "body": r.comment, "created_at": r.values["submitted_at"]}
        for rid, r in zip(ids, records, strict=True)
        if r.comment
    ]
    if comments:
        session.execute(insert(Comment), comments)
    add_to_rollup(
        session,
        (
            (r.values["unit_id"], r.values["period"], Stream(r.values["stream"]).value, i, v)
            for r in records
            if r.values.get("status", ResponseStatus.REPORTABLE) == ResponseStatus.REPORTABLE
            and r.values.get("group_id") is None  # respondent groups: no SIPAS answers
            for i, v, _t in r.answers
            if v is not None
        ),
    )
    return ids

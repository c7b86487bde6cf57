"""Dossier intake: ``POST /api/v1/dossiers`` for the province's one-stop system, authenticated by
an intake token (``Authorization: Bearer sat_…``) that writes the dossiers of one unit subtree."""

from __future__ import annotations

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from sqlalchemy.exc import IntegrityError

from surveyapp.api import bp
from surveyapp.api.views import unauthorized
from surveyapp.clock import now
from surveyapp.db import get_session
from surveyapp.errors import render_error
from surveyapp.extensions import csrf
from surveyapp.services.accounts import api_tokens
from surveyapp.services.intake.dossiers import IntakeOptions, Outcome, Result, receive
from surveyapp.services.intake.records import (
    MAX_BATCH,
    BatchOut,
    OutcomeOut,
    Problem,
    ProblemOut,
)


@bp.post("/dossiers")
@csrf.exempt  # a bearer token, never a cookie: nothing for a cross-site form to borrow
def receive_dossiers() -> ResponseReturnValue:
    """Upsert a batch of dossier records; the answer gives each record's outcome."""
    db = get_session()
    scheme, _, raw = request.headers.get("Authorization", "").partition(" ")
    found = (
        api_tokens.authenticate_intake(db, raw.strip(), now())
        if scheme.lower() == "bearer"
        else None
    )
    if found is None:
        db.commit()
        return unauthorized()
    token, scope = found
    body = request.get_json(silent=True)
    records = body.get("dossiers") if isinstance(body, dict) else body
    if not isinstance(records, list):
        db.commit()
        return render_error(
            400,
            gettext(
                'Thân yêu cầu phải là JSON: một mảng hồ sơ, hoặc {"dossiers": [...]} '
                "(Content-Type: application/json)."
            ),
        )
    if not records or len(records) > MAX_BATCH:
        db.commit()
        return render_error(422, gettext("Mỗi lô gửi từ 1 đến %(n)s hồ sơ.", n=MAX_BATCH))
    options = IntakeOptions.from_config(current_app.config, "api", token.id)
    queue = current_app.extensions["surveyapp.queue"]
    for attempt in range(2):
        try:
            result = receive(db, scope, records, options, now(), invite=queue.offer)
            db.commit()
            break
        except IntegrityError:
            # A concurrent batch stored one of these codes first: again, it now updates it.
            db.rollback()
            if attempt:
                return render_error(
                    409, gettext("Các hồ sơ này đang được ghi bởi một yêu cầu khác; hãy gửi lại.")
                )
    if result.returned:
        queue.invite_soon()
    accepted = len(records) - result.count(Result.REFUSED)
    answer = BatchOut(
        batch=result.batch_id or 0,
        counts=result.counts,
        results=[_outcome(o) for o in result.outcomes],
    )
    return jsonify(answer.model_dump(exclude_unset=True)), (200 if accepted else 422)


def _problems(problems: list[Problem]) -> list[ProblemOut]:
    return [ProblemOut(field=p.field, message=p.message % p.params) for p in problems]


def _outcome(outcome: Outcome) -> OutcomeOut:
    """Problems and warnings appear only when there are some (unset fields are left out)."""
    extra: dict[str, list[ProblemOut]] = {}
    if outcome.problems:
        extra["problems"] = _problems(outcome.problems)
    if outcome.warnings:
        extra["warnings"] = _problems(outcome.warnings)
    return OutcomeOut(index=outcome.index, code=outcome.code, result=outcome.result.value, **extra)

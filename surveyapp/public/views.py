"""Counter survey: /s/<token> (QR at a counter)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from sqlalchemy.exc import IntegrityError

from surveyapp.clock import now as clock_now
from surveyapp.db import get_session
from surveyapp.extensions import csrf
from surveyapp.models import Channel, Counter, Stream
from surveyapp.public import bp
from surveyapp.public.forms import (
    KEY_PATTERN,
    SurveyFormBase,
    answers_from,
    field_name,
    survey_form_class,
)
from surveyapp.services import responses as response_service
from surveyapp.services.errors import N_, Gone, InvalidInput
from surveyapp.services.units import resolve_counter_token

TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _counter_or_404(token: str) -> Counter:
    if not 8 <= len(token) <= 64 or not TOKEN_CHARS.issuperset(token):
        abort(404)
    return resolve_counter_token(get_session(), token)


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so a failure can keep the citizen's answers
def show_survey(token: str) -> ResponseReturnValue:
    return _survey(token, Channel.QR)


def _survey(token: str, channel: Channel) -> ResponseReturnValue:
    db = get_session()
    counter = _counter_or_404(token)
    now = clock_now()
    config = current_app.config
    day = response_service.local_date(now, config["TIMEZONE"])
    campaign = response_service.find_open_campaign(db, counter.unit, day, Stream.GENERAL)
    if campaign is None:
        raise Gone(N_("Đợt khảo sát tại quầy này đã kết thúc hoặc chưa bắt đầu."))
    instrument = campaign.instrument
    form: SurveyFormBase = survey_form_class(instrument, config["COMMENT_MAX_LENGTH"])()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            if form.website.data:
                return redirect(url_for("public.thanks", token=token))  # honeypot: store nothing
            result = _store(counter, channel, form)
            if result is None:
                return redirect(url_for("public.thanks", token=token))
            status = result
        else:
            status = 400 if form.errors.keys() == {"csrf_token"} else 422
        if "csrf_token" in form.errors:
            form.form_errors.append(
                gettext(
                    "Phiên làm việc đã hết hạn. Câu trả lời của bạn vẫn còn, vui lòng bấm Gửi lại."
                )
            )
        if not KEY_PATTERN.match(form.idempotency_key.data or ""):
            form.idempotency_key.data = secrets.token_urlsafe(24)
    else:
        form.idempotency_key.data = secrets.token_urlsafe(24)
    return (
        render_template(
            "public/survey.html",
            form=form,
            counter=counter,
            instrument=instrument,
            field_name=field_name,
            locale=str(get_locale()),
        ),
        status,
    )


def _store(counter: Counter, channel: Channel, form: SurveyFormBase) -> int | None:
    """Accept the submission and commit; on a domain error put it on the form, return a status."""
    db = get_session()
    config = current_app.config
    submission = response_service.Submission(
        idempotency_key=form.idempotency_key.data,
        answers=answers_from(form),
        comment=form.comment.data,
        contact=form.contact.data,
        dossier_code=form.dossier_code.data or None,
        locale=str(get_locale()),
    )
    kwargs: dict[str, Any] = {
        "counter": counter,
        "channel": channel,
        "submission": submission,
        "timezone": config["TIMEZONE"],
        "comment_max_length": config["COMMENT_MAX_LENGTH"],
    }
    for attempt in range(2):
        try:
            response, _created = response_service.accept_submission(db, now=clock_now(), **kwargs)
            receipt = response.receipt_code
            db.commit()
        except IntegrityError:
            # A concurrent twin (same key or same dossier) won the race: the retry sees it.
            db.rollback()
            if attempt:
                raise
            continue
        except InvalidInput as error:
            db.rollback()
            message = error.render(gettext)
            name = error.field and next(
                (n for n in (field_name(error.field), error.field) if n in form), None
            )
            if name:
                form[name].errors = [*form[name].errors, message]
            else:
                form.form_errors.append(message)
            return error.status_code
        session["receipt"] = receipt
        return None
    return 500  # pragma: no cover - the loop returns or raises


@bp.route("/s/<token>/thanks")
def thanks(token: str) -> ResponseReturnValue:
    counter = _counter_or_404(token)
    receipt = session.pop("receipt", None)
    return render_template("public/thanks.html", counter=counter, token=token, receipt=receipt)


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("public/index.html")

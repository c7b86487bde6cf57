"""Citizen survey pages: counter QR (/s), kiosk tablet (/k) and signed dossier link (/d)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import (
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from analysis.publication import PublicationRules
from surveyapp.caching import Caches
from surveyapp.clock import now as clock_now
from surveyapp.db import get_session
from surveyapp.extensions import csrf, limiter
from surveyapp.limits import client_key, counter_key, ip_key
from surveyapp.models import Channel, Verdict
from surveyapp.public import bp
from surveyapp.public.forms import (
    KEY_PATTERN,
    SurveyFormBase,
    VerdictForm,
    field_name,
    posted_answers,
    survey_form_class,
)
from surveyapp.services.alerts import subscriptions
from surveyapp.services.collection import submissions, targets
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound
from surveyapp.services.exports import writers
from surveyapp.services.feedback import cases
from surveyapp.services.instruments.snapshots import InstrumentView
from surveyapp.services.invitations import delivery
from surveyapp.services.org import links
from surveyapp.services.par import rater_links
from surveyapp.services.periods import Period, local_date, parse_period
from surveyapp.services.reporting import public_board

TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
FETCH_HEADER = "X-Survey-Fetch"
RESUBMIT_WINDOW_SECONDS = 15 * 60


def _configured(setting: str) -> Callable[[], str]:
    """The limit as configured when the request comes (tests change it per app)."""
    return lambda: str(current_app.config[setting])


def _limits(view: Callable[..., ResponseReturnValue]) -> Callable[..., ResponseReturnValue]:
    """Per-client, per-address and per-counter limits on submissions (POST only)."""
    for setting, key_func in (
        ("SUBMIT_LIMIT_CLIENT", client_key),
        ("SUBMIT_LIMIT_IP", ip_key),
        ("SUBMIT_LIMIT_COUNTER", counter_key),
    ):
        view = limiter.limit(_configured(setting), key_func=key_func, methods=["POST"])(view)
    return view


def _token_or_404(token: str) -> str:
    if not 8 <= len(token) <= 300 or not TOKEN_CHARS.issuperset(token):
        abort(404)
    return token


def rules() -> submissions.Rules:
    return submissions.Rules.from_config(current_app.config)


def _counter_target(token: str) -> targets.Target:
    return targets.cached_counter_target(
        get_session(), _token_or_404(token), clock_now(), current_app.config["TIMEZONE"]
    )


def _dossier_target(token: str) -> targets.Target:
    db = get_session()
    config = current_app.config
    dossier = links.dossier_from_token(
        db,
        config["SECRET_KEY"],
        _token_or_404(token),
        timedelta(days=config["DOSSIER_LINK_MAX_AGE_DAYS"]),
    )
    return targets.dossier_target(db, dossier, clock_now(), config["TIMEZONE"])


@bp.route("/s/<token>", methods=["GET", "POST"])
@csrf.exempt  # the form checks its own CSRF token, so a failure can keep the citizen's answers
@_limits
def show_survey(token: str) -> ResponseReturnValue:
    return _survey(_counter_target(token), Channel.QR, "public.thanks", token)


@bp.route("/k/<token>", methods=["GET", "POST"])
@csrf.exempt
@_limits
def show_kiosk(token: str) -> ResponseReturnValue:
    return _kiosk(token)


@bp.post("/k/<token>/v/<visit>")
@csrf.exempt
@_limits
def kiosk_visit(token: str, visit: str) -> ResponseReturnValue:
    """A kiosk form posts to a path of its own visit: Chromium keys the form state it restores on
    Back by the action's path, so a later page never matches a previous citizen's form, with or
    without JavaScript."""
    return _kiosk(token)


def _kiosk(token: str) -> ResponseReturnValue:
    return _survey(_counter_target(token), Channel.KIOSK, "public.kiosk_thanks", token, kiosk=True)


@bp.route("/d/<token>", methods=["GET", "POST"])
@csrf.exempt
@_limits
def show_dossier_survey(token: str) -> ResponseReturnValue:
    return _survey(_dossier_target(token), Channel.LINK, "public.dossier_thanks", token)


def _survey(
    target: targets.Target | rater_links.RaterTarget,
    channel: Channel,
    thanks_endpoint: str,
    token: str,
    kiosk: bool = False,
) -> ResponseReturnValue:
    config = current_app.config
    instrument = target.instrument
    previous = None
    if target.dossier is not None:
        previous = submissions.find_rating(get_session(), target.dossier)
    form_class = survey_form_class(instrument, config["COMMENT_MAX_LENGTH"])
    status = 200
    if request.method == "POST":
        # The envelope (CSRF, key, extras) is a small form; the service checks the answers. The
        # whole form is bound only to show a refused submission back with every error marked.
        envelope = SurveyFormBase()
        refusal: InvalidInput | None = None
        if envelope.validate_on_submit():
            thanks = url_for(thanks_endpoint, token=token)
            if envelope.website.data:
                return _done(thanks)  # honeypot filled: a bot; store nothing
            refusal = _store(
                target, channel, envelope, posted_answers(request.form, form_class), not kiosk
            )
            if refusal is None:
                return _done(thanks)
        form: SurveyFormBase = form_class()
        form.validate()
        if refusal is not None:
            status = refusal.status_code
            _show_refusal(form, refusal)
        else:
            status = 400 if form.errors.keys() == {"csrf_token"} else 422
        if "csrf_token" in form.errors:
            form.form_errors.append(
                gettext(
                    "Phiên làm việc đã hết hạn. Câu trả lời của bạn vẫn còn, vui lòng bấm Gửi lại."
                )
            )
        if not KEY_PATTERN.match(form.idempotency_key.data or "") or (
            refusal is not None and refusal.field == "idempotency_key"
        ):
            form.idempotency_key.data = secrets.token_urlsafe(24)
    else:
        if kiosk:  # the next citizen: nothing of the previous one stays reachable
            session.pop("receipt", None)
        # A blank form needs only its hidden fields: the questions come from the cached block.
        form = SurveyFormBase() if previous is None else form_class()
        form.idempotency_key.data = secrets.token_urlsafe(24)
        if previous is not None:
            _prefill(form, instrument, previous)
    locale = str(get_locale())
    pristine = request.method == "GET" and previous is None
    page = render_template(
        "public/survey.html",
        form=form,
        target=target,
        instrument=instrument,
        questions_html=_questions_html(form, instrument, locale, pristine),
        kiosk=kiosk,
        visit=secrets.token_urlsafe(6) if kiosk else None,
        revising=previous is not None,
        group=target.group_label(locale) if isinstance(target, rater_links.RaterTarget) else None,
    )
    # A kiosk never keeps a page to go back to; a phone may (same key: a resubmit is stored once).
    headers = {"Cache-Control": "no-store" if kiosk else "private, no-cache"}
    return page, status, headers


def _questions_html(
    form: SurveyFormBase, instrument: InstrumentView, locale: str, pristine: bool
) -> Markup:
    """The questions' HTML; a blank form's is rendered once per instrument version and language
    (kept in the app's caches)."""

    def render(form: SurveyFormBase) -> Markup:
        # Autoescaped template output: safe to embed as markup.
        return Markup(  # noqa: S704
            render_template(
                "public/_questions.html", form=form, instrument=instrument, locale=locale
            )
        )

    if not pristine:
        return render(form)
    caches: Caches = current_app.extensions["surveyapp.caches"]
    # The blank copy is rendered from a blank form with every question.
    blank = survey_form_class(instrument, current_app.config["COMMENT_MAX_LENGTH"])
    return caches.remember(
        caches.questions, (instrument.source_hash, locale), lambda: render(blank())
    )


def _prefill(form: SurveyFormBase, instrument: InstrumentView, response: Any) -> None:
    """Show a dossier's own earlier rating, to revise it (signed link only)."""
    codes = {item.id: item.code for item in instrument.items}
    for answer in response.answers:
        form.item_field(codes[answer.item_id]).data = (
            answer.value if answer.value is not None else answer.text
        )
    if response.comment is not None:
        form.comment.data = response.comment.body


def _done(thanks_url: str) -> ResponseReturnValue:
    if request.headers.get(FETCH_HEADER):
        return jsonify(redirect=thanks_url)
    return redirect(thanks_url)


def _store(
    target: targets.Target | rater_links.RaterTarget,
    channel: Channel,
    envelope: SurveyFormBase,
    answers: dict[str, int | str],
    same_browser_dedup: bool,
) -> InvalidInput | None:
    """Accept and commit; return None, or why the submission was refused (nothing stored).

    Besides the idempotency key, a personal phone that sends the very same answers again within
    minutes (back, then send on a page the browser fetched anew) is taken as a resubmission.
    """
    db = get_session()
    submission = submissions.Submission(
        idempotency_key=envelope.idempotency_key.data,
        answers=answers,
        comment=envelope.comment.data,
        contact=envelope.contact.data,
        dossier_code=envelope.dossier_code.data or None,
        locale=str(get_locale()),
    )
    fingerprint = submissions.answers_digest(
        {**submission.answers, "_comment": submission.comment or "", "_at": request.path}
    )
    last = session.get("last_submission")
    now = clock_now().timestamp()
    if (
        same_browser_dedup
        and last
        and last.get("digest") == fingerprint
        and now - float(last.get("at", 0)) < RESUBMIT_WINDOW_SECONDS
    ):
        _remember_receipt(str(last.get("receipt")), now, kiosk=False)
        return None
    for attempt in range(2):
        try:
            if isinstance(target, rater_links.RaterTarget):
                response = rater_links.accept(db, target, submission, clock_now(), rules())
            else:
                response, _created = submissions.accept_submission(
                    db,
                    target=target,
                    channel=channel,
                    submission=submission,
                    now=clock_now(),
                    rules=rules(),
                )
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
            return error
        _remember_receipt(receipt, now, kiosk=not same_browser_dedup)
        if same_browser_dedup:
            session["last_submission"] = {"digest": fingerprint, "at": now, "receipt": receipt}
        return None
    raise AssertionError("unreachable")  # pragma: no cover


def _show_refusal(form: SurveyFormBase, refusal: InvalidInput) -> None:
    """Put the service's reason on its field (unless the form marked that field already)."""
    message = refusal.render(gettext)
    name = refusal.field and next(
        (n for n in (field_name(refusal.field), refusal.field) if n in form), None
    )
    if name == "idempotency_key":  # a hidden field: say it above the form
        name = None
    if not name:
        form.form_errors.append(message)
    elif not form[name].errors:
        form[name].errors = [message]


def _remember_receipt(code: str, at: float, kiosk: bool) -> None:
    """The browser's last receipt code, in its signed session cookie (nothing stored server-side).
    A phone keeps it for RECEIPT_KEEP_MINUTES; a kiosk's is dropped when the next citizen's blank
    form is shown."""
    session["receipt"] = {"code": code, "at": at, "kiosk": kiosk}


def recent_receipt(kiosk: bool) -> str | None:
    """The receipt this browser was last given, while it is still kept."""
    kept = session.get("receipt")
    if not isinstance(kept, dict) or bool(kept.get("kiosk")) is not kiosk:
        return None
    config = current_app.config
    keep = config["KIOSK_IDLE_SECONDS"] if kiosk else 60 * config["RECEIPT_KEEP_MINUTES"]
    at = kept.get("at")
    if not isinstance(at, int | float) or not 0 <= clock_now().timestamp() - at <= keep:
        return None
    code = kept.get("code")
    return code if isinstance(code, str) else None


def _thanks(token: str, kiosk: bool = False) -> ResponseReturnValue:
    config = current_app.config
    receipt = recent_receipt(kiosk)
    reset_url = url_for("public.show_kiosk", token=token, lang="vi") if kiosk else None
    page = render_template(
        "public/thanks.html",
        receipt=receipt,
        reset_url=reset_url,
        reset_seconds=config["KIOSK_RECEIPT_SECONDS" if receipt else "KIOSK_RESET_SECONDS"],
    )
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/p/<token>", methods=["GET", "POST"])
@csrf.exempt
@_limits
def show_rater_survey(token: str) -> ResponseReturnValue:
    """A PAR-survey respondent's single-use link: the group's questionnaire for one unit."""
    today = local_date(clock_now(), current_app.config["TIMEZONE"])
    target = rater_links.target_of(get_session(), _token_or_404(token), today)
    return _survey(target, Channel.LINK, "public.rater_thanks", token)


@bp.route("/p/<token>/thanks")
def rater_thanks(token: str) -> ResponseReturnValue:
    _token_or_404(token)
    return _thanks(token)


@bp.route("/p/<token>/stop", methods=["GET", "POST"])
@csrf.exempt  # the token is the capability; mail clients post one-click (RFC 8058)
def rater_stop(token: str) -> ResponseReturnValue:
    """No more messages of this round to this respondent: confirm, then stop."""
    db = get_session()
    done = False
    if request.method == "POST":
        rater_links.stop(db, _token_or_404(token), clock_now())
        db.commit()
        done = True
    else:
        rater_links.link_of(db, _token_or_404(token))  # NotFound for a bad token
    page = render_template("public/opt_out.html", code=token, done=done, rater=True)
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/s/<token>/thanks")
def thanks(token: str) -> ResponseReturnValue:
    _token_or_404(token)
    return _thanks(token)


@bp.route("/k/<token>/thanks")
def kiosk_thanks(token: str) -> ResponseReturnValue:
    _token_or_404(token)
    return _thanks(token, kiosk=True)


@bp.route("/d/<token>/thanks")
def dossier_thanks(token: str) -> ResponseReturnValue:
    _token_or_404(token)
    return _thanks(token)


@bp.route("/tra-cuu", methods=["GET", "POST"])
@limiter.limit(_configured("SUBMIT_LIMIT_CLIENT"), key_func=client_key, methods=["POST"])
@limiter.limit(_configured("SUBMIT_LIMIT_IP"), key_func=ip_key, methods=["POST"])
def status() -> ResponseReturnValue:
    """A citizen looks up the handling of their comment with the receipt code, and once a reply
    is published says whether they are satisfied with it."""
    db = get_session()
    form = VerdictForm()
    code = (request.args.get("code") or form.code.data or "").strip()
    result, error, status_code = None, None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                cases.give_verdict(
                    db,
                    code,
                    Verdict(form.verdict.data),
                    bool(form.late.data),
                    clock_now(),
                    rules().case_policy(),
                )
            except (NotFound, Conflict) as refused:
                db.rollback()
                error, status_code = refused.render(gettext), refused.status_code
            else:
                db.commit()
                flash(gettext("Cảm ơn bạn đã cho biết ý kiến về kết quả xử lý."), "success")
                return redirect(url_for("public.status", code=code), 303)
        else:
            status_code = 400 if "csrf_token" in form.errors or "code" in form.errors else 422
    if code:
        try:
            result = cases.status_for_receipt(db, code)
        except NotFound as missing:
            error, status_code = missing.render(gettext), 404
    form.code.data = code
    return render_template(
        "public/status.html",
        code=code,
        result=result,
        error=error,
        form=form,
        recent=None if code else recent_receipt(kiosk=False),
    ), status_code


@bp.route("/")
def index() -> ResponseReturnValue:
    return render_template("public/index.html")


@bp.route("/thong-bao/ngung/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the capability; mail clients post one-click (RFC 8058)
def stop_alerts(token: str) -> ResponseReturnValue:
    """An official's stop link from an alert e-mail or a digest: asks, then ends them."""
    db = get_session()
    secret = current_app.config["SECRET_KEY"]
    if request.method == "POST":
        removed = subscriptions.stop_by_token(db, secret, token)
        db.commit()
        return render_template("public/stop_alerts.html", done=True, removed=removed)
    subscriptions.check_stop_token(secret, token)
    return render_template("public/stop_alerts.html", done=False, removed=0)


# --- Results in public ------------------------------------------------------------------------


def _this_year() -> Period:
    return parse_period(str(local_date(clock_now(), current_app.config["TIMEZONE"]).year))


def _board_period() -> Period:
    """``period`` from the query string; this year by default."""
    text = (request.args.get("period") or "").strip()[:40]
    return parse_period(text) if text else _this_year()


@bp.get("/cong-khai")
def board() -> ResponseReturnValue:
    """Every unit's published figures, searchable; no sign-in, no JavaScript. A bad period shows
    this year's board with the message (422)."""
    search = (request.args.get("q") or "").strip()[:100]
    error = None
    try:
        period = _board_period()
    except InvalidInput as refused:
        error = refused.render(gettext)
        period = _this_year()
    shown = public_board.board(
        get_session(), period, timezone=current_app.config["TIMEZONE"], search=search
    )
    page = render_template("public/board.html", board=shown, search=search, error=error)
    return (page, 422) if error else _cacheable(page)


@bp.get("/cong-khai/du-lieu.csv")
def board_csv() -> ResponseReturnValue:
    return _board_feed("csv")


@bp.get("/cong-khai/du-lieu.json")
def board_json() -> ResponseReturnValue:
    return _board_feed("json")


def _board_feed(fmt: str) -> ResponseReturnValue:
    """The open-data feed of the board: the same figures, documented columns, no comments and no
    personal data; cacheable (ETag, five minutes)."""
    period = _board_period()
    shown = public_board.board(get_session(), period, timezone=current_app.config["TIMEZONE"])
    rows = [row.cells(period) for row in shown.rows]
    if fmt == "csv":
        body = writers.rows_csv(list(public_board.COLUMNS), rows)
        response = current_app.response_class(body, mimetype="text/csv")
        response.headers.set("Content-Disposition", "inline", filename=f"sipas-{period.label}.csv")
    else:
        response = jsonify(
            period=period.label,
            rules_version=shown.rules.version,
            hide_below_n=shown.rules.hide_below_n,
            columns=list(public_board.COLUMNS),
            units=[dict(zip(public_board.COLUMNS, row, strict=True)) for row in rows],
        )
    return _cacheable(response)


@bp.get("/cong-khai/<code>")
def board_unit(code: str) -> ResponseReturnValue:
    period = _board_period()
    row, view = public_board.unit_page(
        get_session(), code, period, timezone=current_app.config["TIMEZONE"]
    )
    return _cacheable(
        render_template(
            "public/board_unit.html", row=row, view=view, period=period, rules=PublicationRules()
        )
    )


def _cacheable(page: Any) -> Any:
    response = current_app.make_response(page)
    response.cache_control.public = True
    response.cache_control.max_age = 300
    response.add_etag()
    return response.make_conditional(request)


# --- Invitation links (short enough for one SMS) ---------------------------------------------


@bp.get("/r/<code>")
def invitation_link(code: str) -> ResponseReturnValue:
    """An invitation's short link: on to the dossier's signed rating page."""
    invitation = delivery.invitation_of(get_session(), current_app.config["SECRET_KEY"], code)
    if invitation is None:
        raise NotFound(N_("Liên kết đánh giá không hợp lệ."))
    target = delivery.rating_link(
        invitation, current_app.config["SECRET_KEY"], current_app.config["BASE_URL"]
    )
    return redirect(target, 303)


@bp.route("/o/<code>", methods=["GET", "POST"])
@csrf.exempt  # the code itself is the capability; mail clients post one-click (RFC 8058)
def opt_out(code: str) -> ResponseReturnValue:
    """Stop invitations to this contact: a page asking to confirm, then the opt-out."""
    db = get_session()
    invitation = delivery.invitation_of(db, current_app.config["SECRET_KEY"], code)
    if invitation is None:
        raise NotFound(N_("Liên kết không hợp lệ."))
    done = False
    if request.method == "POST":
        delivery.opt_out(db, invitation, clock_now())
        db.commit()
        done = True
    page = render_template("public/opt_out.html", code=code, done=done)
    return page, 200, {"Cache-Control": "no-store"}

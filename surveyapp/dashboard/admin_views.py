"""Administration of an official's units: counters and QR posters, accounts, API tokens."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Response as FlaskResponse,
)
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import (
    choices_of,
    commit_or_form_error,
    posted_choice,
    requires,
    scope,
)
from surveyapp.dashboard.forms import (
    CounterForm,
    TokenForm,
    UserForm,
)
from surveyapp.dashboard.labels import ROLE_LABELS
from surveyapp.db import get_session
from surveyapp.models import Role
from surveyapp.services.access import (
    ASSIGNABLE_ROLES,
    Permission,
    get_visible_unit,
    visible_units,
)
from surveyapp.services.accounts import api_tokens, officials
from surveyapp.services.errors import InvalidInput
from surveyapp.services.org import qr, units
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import public_board


@bp.route("/counters", methods=["GET", "POST"])
@requires(Permission.MANAGE_COUNTERS)
def counters() -> ResponseReturnValue:
    db = get_session()
    seen = visible_units(db, scope())
    form = CounterForm()
    form.unit.choices = [(u.code, f"{u.code} — {u.name}") for u in seen]
    code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            unit = get_visible_unit(db, scope(), form.unit.data)
            if units.find_counter(db, form.code.data) is not None:
                form.code.errors.append(gettext("Mã quầy này đã tồn tại."))
            elif commit_or_form_error(
                form,
                lambda: units.save_counter(
                    db, scope(), unit, form.code.data, form.name.data, now()
                ),
            ):
                flash(gettext("Đã tạo quầy %(code)s.", code=form.code.data), "success")
                return redirect(url_for("dashboard.counters"), 303)
        code = 422
    listed = [c for c in units.list_counters(db, include_retired=True) if scope().covers(c.unit_id)]
    return render_template(
        "dashboard/counters.html",
        counters=listed,
        form=form,
        base_url=current_app.config["BASE_URL"],
    ), code


def _scoped_counter(code: str) -> Any:
    counter = units.get_counter(get_session(), code)
    scope().require_unit(counter.unit_id)
    return counter


@bp.get("/counters/<code>/qr.<ext>")
@requires(Permission.MANAGE_COUNTERS)
def counter_qr(code: str, ext: str) -> ResponseReturnValue:
    counter = _scoped_counter(code)
    token = counter.active_token
    if token is None or ext not in qr.FORMATS:
        abort(404)
    kiosk = request.args.get("kiosk") == "1"
    url = units.survey_url(current_app.config["BASE_URL"], token.token, kiosk=kiosk)
    status = units.status_url(current_app.config["BASE_URL"])
    score = ""
    if request.args.get("score") == "1":  # the unit's public score of this year, if shown
        zone = current_app.config["TIMEZONE"]
        year = parse_period(str(now().astimezone(ZoneInfo(zone)).year))
        score = public_board.score_line(get_session(), counter.unit, year, timezone=zone)
    body = qr.render(ext, qr.Poster(url, counter.unit.name, counter.name, status, score))
    mimetype = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}[ext]
    name = f"qr-{counter.code}{'-kiosk' if kiosk else ''}.{ext}"
    response = FlaskResponse(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


@bp.post("/counters/<code>/rotate")
@requires(Permission.MANAGE_COUNTERS)
def rotate_counter(code: str) -> ResponseReturnValue:
    counter = _scoped_counter(code)
    units.rotate_token(get_session(), counter, now())
    _audit_counter(counter, "counter.rotate")
    get_session().commit()
    flash(
        gettext("Đã đổi mã QR của quầy %(code)s: hãy in và dán áp phích mới.", code=code), "success"
    )
    return redirect(url_for("dashboard.counters"), 303)


@bp.post("/counters/<code>/retire")
@requires(Permission.MANAGE_COUNTERS)
def retire_counter(code: str) -> ResponseReturnValue:
    counter = _scoped_counter(code)
    units.retire_counter(get_session(), counter, now())
    _audit_counter(counter, "counter.retire")
    get_session().commit()
    flash(gettext("Đã ngừng quầy %(code)s.", code=code), "success")
    return redirect(url_for("dashboard.counters"), 303)


def _audit_counter(counter: Any, action: str) -> None:
    from surveyapp.services.audit import record

    record(
        get_session(),
        user_id=scope().user_id,
        action=action,
        entity=("counter", counter.code),
        before=None,
        after={"active": counter.is_active},
        now=now(),
    )


@bp.route("/users", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def users() -> ResponseReturnValue:
    db = get_session()
    form = UserForm()
    form.role.choices = [(r.value, str(ROLE_LABELS[r])) for r in ASSIGNABLE_ROLES[scope().role]]
    form.unit.choices = [(u.code, f"{u.code} — {u.name}") for u in visible_units(db, scope())]
    code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            created = commit_or_form_error(
                form,
                lambda: officials.create_user(
                    db,
                    email=form.email.data,
                    password=form.password.data,
                    role=Role(form.role.data),
                    unit_code=form.unit.data,
                    full_name=form.full_name.data or "",
                    now=now(),
                    by=scope(),
                ),
            )
            if created:
                flash(gettext("Đã tạo tài khoản %(email)s.", email=form.email.data), "success")
                return redirect(url_for("dashboard.users"), 303)
        code = 422
    return render_template(
        "dashboard/users.html",
        users=officials.list_users(db, scope()),
        form=form,
        roles=ASSIGNABLE_ROLES[scope().role],
        units=visible_units(db, scope()),
    ), code


@bp.post("/users/<id:user_id>")
@requires(Permission.MANAGE_USERS)
def update_user(user_id: int) -> ResponseReturnValue:
    db = get_session()
    role: Role = posted_choice("role", choices_of(Role))
    try:
        officials.update_user(
            db,
            scope(),
            user_id,
            role=role,
            unit_code=request.form.get("unit", ""),
            is_active=request.form.get("active") == "1",
            now=now(),
        )
    except InvalidInput as error:
        db.rollback()
        flash(error.render(gettext), "error")
        return redirect(url_for("dashboard.users"), 303)
    db.commit()
    flash(gettext("Đã cập nhật tài khoản."), "success")
    return redirect(url_for("dashboard.users"), 303)


@bp.route("/tokens", methods=["GET", "POST"])
def api_tokens_page() -> ResponseReturnValue:
    db = get_session()
    form = TokenForm()
    created = None
    code = 200
    if form.validate_on_submit():
        days = current_app.config["API_TOKEN_DAYS"]

        def create() -> None:
            nonlocal created
            created = api_tokens.create_token(
                db, scope(), name=form.name.data, days=days, now=now()
            )[1]

        if commit_or_form_error(form, create):
            form.name.data = ""
    elif request.method == "POST":
        code = 422
    return render_template(
        "dashboard/tokens.html",
        form=form,
        created=created,
        tokens=api_tokens.user_tokens(db, scope()),
        moment=now(),
    ), code


@bp.post("/tokens/<id:token_id>/revoke")
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    api_tokens.revoke_token(get_session(), scope(), token_id, now())
    get_session().commit()
    flash(gettext("Đã thu hồi mã truy cập."), "success")
    return redirect(url_for("dashboard.api_tokens_page"), 303)

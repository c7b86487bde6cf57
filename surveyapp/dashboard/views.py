"""Dashboard views: thin, scoped through services.access, one commit per request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import (
    Response as FlaskResponse,
)
from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_required

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.forms import (
    AssignForm,
    CounterForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TokenForm,
    UserForm,
)
from surveyapp.db import get_session
from surveyapp.errors import render_error
from surveyapp.models import CaseStatus, ResponseStatus, Role
from surveyapp.security import local_target
from surveyapp.services import audit
from surveyapp.services.access import (
    ASSIGNABLE_ROLES,
    Permission,
    Scope,
    get_visible_unit,
    scope_for,
    visible_units,
)
from surveyapp.services.accounts import api_tokens, officials
from surveyapp.services.collection import moderation
from surveyapp.services.errors import N_, InvalidInput, ServiceError
from surveyapp.services.feedback import cases
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.org import qr, units
from surveyapp.services.periods import parse_period
from surveyapp.services.validation import parse_id

ROLE_LABELS = {
    Role.ADMIN: lazy_gettext("Quản trị hệ thống"),
    Role.PAR_OFFICE: lazy_gettext("Phòng CCHC (Sở Nội vụ)"),
    Role.UNIT_MANAGER: lazy_gettext("Lãnh đạo đơn vị"),
    Role.COUNTER_STAFF: lazy_gettext("Cán bộ một cửa"),
}
STATUS_LABELS = {
    CaseStatus.NEW: lazy_gettext("Mới"),
    CaseStatus.ASSIGNED: lazy_gettext("Đã giao"),
    CaseStatus.IN_PROGRESS: lazy_gettext("Đang xử lý"),
    CaseStatus.ANSWERED: lazy_gettext("Đã trả lời"),
    CaseStatus.CLOSED: lazy_gettext("Đã đóng"),
}
RESPONSE_STATUS_LABELS = {
    ResponseStatus.REPORTABLE: lazy_gettext("Hợp lệ"),
    ResponseStatus.SPAM: lazy_gettext("Rác"),
    ResponseStatus.TEST: lazy_gettext("Thử nghiệm"),
    ResponseStatus.DELETED: lazy_gettext("Đã xóa"),
}


@bp.before_request
@login_required
def require_login() -> None:
    """Every dashboard page needs a signed-in official."""


def scope() -> Scope:
    if "scope" not in g:
        g.scope = scope_for(get_session(), current_user)
    return g.scope  # type: ignore[no-any-return]


def requires(permission: Permission) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scope().require(permission)
            return view(*args, **kwargs)

        return wrapper

    return decorator


FLAG_LABELS = {
    "rate": lazy_gettext("nhiều phiếu hơn hẳn thường lệ tại quầy trong ít phút"),
    "low_burst": lazy_gettext("nhiều phiếu đánh giá thấp liên tiếp tại quầy trong ít phút"),
    "burst": lazy_gettext("nhiều phiếu giống hệt nhau (quy tắc cũ)"),
    "official": lazy_gettext("do cán bộ gắn cờ"),
}


@bp.app_context_processor
def helpers() -> dict[str, Any]:
    def can(permission: str) -> bool:
        return bool(current_user.is_authenticated and scope().can(Permission(permission)))

    return {
        "can": can,
        "role_label": lambda role: ROLE_LABELS[Role(role)],
        "status_label": lambda status: STATUS_LABELS[CaseStatus(status)],
        "response_status_label": lambda s: RESPONSE_STATUS_LABELS[ResponseStatus(s)],
        "flag_label": lambda reason: FLAG_LABELS.get(reason or "", reason),
        "mask": cases.mask_personal_data,
    }


def _commit_or_form_error(form: Any, action: Callable[[], object]) -> bool:
    """Run a service call and commit; on bad input roll back and put the message on the form."""
    db = get_session()
    try:
        action()
    except InvalidInput as error:
        db.rollback()
        field = getattr(form, error.field, None) if error.field else None
        target = field.errors if field is not None else form.form_errors
        target.append(error.render(gettext))
        return False
    db.commit()
    return True


@bp.get("/")
def index() -> ResponseReturnValue:
    open_count, overdue = cases.count_open(get_session(), scope(), now())
    units_seen = visible_units(get_session(), scope())
    return render_template(
        "dashboard/index.html", open_count=open_count, overdue=overdue, units=units_seen
    )


# --- Feedback inbox -------------------------------------------------------------------------


def _inbox_filters() -> cases.CaseFilters:
    """Filters from the query string; a bad one is a 400 with its reason."""
    args = request.args
    db = get_session()
    unit_ids = None
    if args.get("unit"):
        unit = get_visible_unit(db, scope(), args["unit"])
        unit_ids = units.subtree_ids(db, unit)
    status = None
    if args.get("status") and args["status"] != "overdue":
        try:
            status = CaseStatus(args["status"])
        except ValueError:
            raise InvalidInput(N_("Trạng thái không hợp lệ."), field="status") from None
    assignee: int | str | None = None
    if args.get("assignee"):
        value = args["assignee"]
        if value in ("me", "none"):
            assignee = value
        elif parse_id(value) is not None:
            assignee = parse_id(value)
        else:
            raise InvalidInput(N_("Người được giao không hợp lệ."), field="assignee")
    sort = args.get("sort") or "newest"
    if sort not in cases.SORTS:
        raise InvalidInput(N_("Cách sắp xếp không hợp lệ."), field="sort")
    text = (args.get("q") or "").strip()
    if len(text) > 200:
        raise InvalidInput(N_("Từ khóa tìm kiếm dài tối đa 200 ký tự."), field="q")
    element = (args.get("element") or "").strip()[:40] or None
    return cases.CaseFilters(
        unit_ids=unit_ids,
        status=status,
        overdue=args.get("status") == "overdue",
        assignee=assignee,
        period=parse_period(args["period"]) if args.get("period") else None,
        element=element,
        text=text or None,
        flagged=args.get("flagged") == "1",
        sort=sort,
    )


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    db = get_session()
    config = current_app.config
    try:
        filters = _inbox_filters()
        page = cases.list_cases(
            db, scope(), filters, now(), config["TIMEZONE"], cursor=request.args.get("after")
        )
    except InvalidInput as error:
        flash(error.render(gettext), "error")
        return render_template(
            "dashboard/inbox.html",
            page=None,
            moment=now(),
            args={},
            units=visible_units(db, scope()),
            users=[],
        ), 400
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    users = officials.list_users(db, scope()) if scope().can(Permission.HANDLE_CASES) else []
    return render_template(
        "dashboard/inbox.html",
        page=page,
        moment=now(),
        args=args,
        units=visible_units(db, scope()),
        users=users,
        statuses=list(CaseStatus),
    )


@bp.post("/inbox/bulk")
@requires(Permission.HANDLE_CASES)
def bulk_cases() -> ResponseReturnValue:
    ids = [i for i in map(parse_id, request.form.getlist("ids")) if i is not None]
    action = request.form.get("action", "")
    assignee = parse_id(request.form.get("assignee"))
    db = get_session()
    try:
        count = cases.bulk(db, scope(), ids, action, assignee, now())
    except InvalidInput as error:
        db.rollback()
        flash(error.render(gettext), "error")
        return redirect(url_for("dashboard.inbox")), 303
    db.commit()
    flash(gettext("Đã cập nhật %(n)s phản ánh.", n=count), "success")
    return redirect(local_target(request.form.get("back"), url_for("dashboard.inbox")), 303)


def _case_forms(case: Any) -> dict[str, Any]:
    assign = AssignForm(prefix="assign")
    users = cases.assignable_users(get_session(), case.unit_id)
    assign.assignee.choices = [("", gettext("(chưa giao)"))] + [
        (str(u.id), u.full_name or u.email) for u in users
    ]
    status = StatusForm(prefix="status")
    status.status.choices = [(s.value, str(STATUS_LABELS[s])) for s in CaseStatus]
    return {
        "assign": assign,
        "status": status,
        "note": NoteForm(prefix="note"),
        "reply": ReplyForm(prefix="reply"),
    }


@bp.route("/cases/<id:case_id>", methods=["GET", "POST"])
def show_case(case_id: int) -> ResponseReturnValue:
    db = get_session()
    case = cases.get_case(db, scope(), case_id)
    forms = _case_forms(case)
    code = 200
    if request.method == "POST":
        scope().require(Permission.HANDLE_CASES)
        action = request.form.get("action")
        moment = now()
        form = forms.get(action or "")
        ok = False
        if form is not None and form.validate_on_submit():
            if action == "assign":
                value = form.assignee.data
                ok = _commit_or_form_error(
                    form,
                    lambda: cases.assign(db, scope(), case, int(value) if value else None, moment),
                )
            elif action == "status":
                ok = _commit_or_form_error(
                    form,
                    lambda: cases.set_status(
                        db, scope(), case, CaseStatus(form.status.data), moment
                    ),
                )
            elif action == "note":
                ok = _commit_or_form_error(
                    form, lambda: cases.add_note(db, scope(), case, form.note.data, moment)
                )
            elif action == "reply":
                ok = _commit_or_form_error(
                    form, lambda: cases.reply(db, scope(), case, form.reply.data, moment)
                )
        elif form is None:
            abort(400)
        if ok:
            flash(gettext("Đã lưu."), "success")
            return redirect(url_for("dashboard.show_case", case_id=case.id), 303)
        code = 422
        case = cases.get_case(db, scope(), case_id)
    forms["assign"].assignee.data = str(case.assignee_id or "")
    forms["status"].status.data = case.status.value
    response = case.response
    view = instrument_view(db, response.instrument_id, response.instrument.source_hash)
    items = {i.id: i for i in view.items}
    return render_template(
        "dashboard/case.html",
        case=case,
        forms=forms,
        answers=[
            (items[a.item_id], a)
            for a in sorted(response.answers, key=lambda a: items[a.item_id].position)
        ],
        instrument=view,
        history=audit.history(db, "case", case.id),
        people={u.id: u.email for u in officials.list_users(db, scope())},
        moment=now(),
        response_statuses=moderation.SETTABLE,
    ), code


@bp.post("/responses/<id:response_id>/status")
@requires(Permission.FLAG_RESPONSES)
def set_response_status(response_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        status = ResponseStatus(request.form.get("status", ""))
    except ValueError:
        abort(400)
    moderation.set_response_status(db, scope(), response_id, status, now())
    db.commit()
    flash(gettext("Đã đổi trạng thái phiếu."), "success")
    return redirect(local_target(request.form.get("back"), url_for("dashboard.inbox")), 303)


@bp.post("/responses/<id:response_id>/flag")
@requires(Permission.FLAG_RESPONSES)
def set_response_flag(response_id: int) -> ResponseReturnValue:
    """Keep a flagged response (clear the flag) or flag one for review; audited."""
    db = get_session()
    flagged = request.form.get("flagged")
    if flagged not in ("0", "1"):
        abort(400)
    moderation.set_flag(db, scope(), response_id, flagged == "1", now())
    db.commit()
    flash(
        gettext("Đã gắn cờ phiếu.") if flagged == "1" else gettext("Đã bỏ cờ: phiếu được giữ."),
        "success",
    )
    return redirect(local_target(request.form.get("back"), url_for("dashboard.flagged")), 303)


@bp.get("/flagged")
@requires(Permission.VIEW_FEEDBACK)
def flagged() -> ResponseReturnValue:
    """Responses flagged for review (unusual activity at a counter), newest first."""
    db = get_session()
    args = request.args
    unit_ids = None
    if args.get("unit"):
        unit_ids = units.subtree_ids(db, get_visible_unit(db, scope(), args["unit"][:40]))
    period = parse_period(args["period"]) if args.get("period") else None
    before_id = parse_id(args.get("before")) if args.get("before") else None
    if args.get("before") and before_id is None:
        raise InvalidInput(N_("Trang không hợp lệ."), field="before")
    page = moderation.list_flagged(
        db,
        scope(),
        unit_ids=unit_ids,
        period=period,
        timezone=current_app.config["TIMEZONE"],
        before_id=before_id,
    )
    return render_template(
        "dashboard/flagged.html",
        page=page,
        args={k: v for k, v in args.items() if k != "before" and v},
        units=visible_units(db, scope()),
        response_statuses=moderation.SETTABLE,
    )


# --- Counters and QR posters ----------------------------------------------------------------


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
            elif _commit_or_form_error(
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
    body = qr.render(ext, qr.Poster(url, counter.unit.name, counter.name))
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


# --- Users ----------------------------------------------------------------------------------


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
            created = _commit_or_form_error(
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
    try:
        role = Role(request.form.get("role", ""))
    except ValueError:
        abort(400)
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


# --- API tokens -----------------------------------------------------------------------------


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

        if _commit_or_form_error(form, create):
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


@bp.errorhandler(ServiceError)
def dashboard_service_error(error: ServiceError) -> ResponseReturnValue:
    get_session().rollback()
    return render_error(error.status_code, error.render(gettext))

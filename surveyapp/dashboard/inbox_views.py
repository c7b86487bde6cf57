"""The overview, the feedback inbox and its cases, moderation of responses and the flagged list."""

from __future__ import annotations

from typing import Any

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
from flask_login import current_user

from surveyapp.clock import now
from surveyapp.dashboard import bp, case_history
from surveyapp.dashboard.common import (
    choices_of,
    commit_or_form_error,
    posted_choice,
    requires,
    scope,
)
from surveyapp.dashboard.forms import (
    AssignForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TransferForm,
)
from surveyapp.dashboard.labels import CASE_STATUS_LABELS
from surveyapp.db import get_session
from surveyapp.models import CaseStatus, ResponseStatus
from surveyapp.query_args import inbox_filters
from surveyapp.security import local_target
from surveyapp.services.access import (
    Permission,
    get_visible_unit,
    transfer_targets,
    visible_units,
)
from surveyapp.services.accounts import officials
from surveyapp.services.collection import moderation
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.feedback import cases
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.org import units
from surveyapp.services.periods import parse_period
from surveyapp.services.validation import parse_id


@bp.get("/")
def index() -> ResponseReturnValue:
    db = get_session()
    open_count, overdue = cases.count_open(db, scope(), now())
    units_seen = visible_units(db, scope())
    return render_template(
        "dashboard/index.html",
        open_count=open_count,
        overdue=overdue,
        overdue_units=cases.overdue_by_unit(db, scope(), now()) if len(units_seen) > 1 else [],
        units=units_seen,
    )


@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    db = get_session()
    config = current_app.config
    try:
        filters = inbox_filters(db, scope(), request.args)
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
    users, assignable = [], []
    if scope().can(Permission.HANDLE_CASES):
        users = officials.list_users(db, scope())
        # The bulk list offers the officials of the filtered unit (or the reader's own).
        unit = get_visible_unit(db, scope(), args["unit"][:40]) if args.get("unit") else None
        unit_id = unit.id if unit else current_user.unit_id
        if unit_id is not None:
            assignable = cases.assignable_users(db, unit_id)
    return render_template(
        "dashboard/inbox.html",
        page=page,
        moment=now(),
        args=args,
        units=visible_units(db, scope()),
        users=users,
        assignable=assignable,
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
    status.status.choices = [(s.value, str(CASE_STATUS_LABELS[s])) for s in CaseStatus]
    transfer = TransferForm(prefix="transfer")
    transfer.unit.choices = [("", "—")] + [
        (u.code, f"{u.code} — {u.name}")
        for u in transfer_targets(get_session(), scope(), case.unit_id)
    ]
    return {
        "assign": assign,
        "status": status,
        "note": NoteForm(prefix="note"),
        "reply": ReplyForm(prefix="reply"),
        "transfer": transfer,
        "merge": MergeForm(prefix="merge"),
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
                ok = commit_or_form_error(
                    form,
                    lambda: cases.assign(db, scope(), case, int(value) if value else None, moment),
                )
            elif action == "status":
                ok = commit_or_form_error(
                    form,
                    lambda: cases.set_status(
                        db, scope(), case, CaseStatus(form.status.data), moment
                    ),
                )
            elif action == "note":
                ok = commit_or_form_error(
                    form, lambda: cases.add_note(db, scope(), case, form.note.data, moment)
                )
            elif action == "reply":
                ok = commit_or_form_error(
                    form, lambda: cases.reply(db, scope(), case, form.reply.data, moment)
                )
            elif action == "merge":
                ok = commit_or_form_error(
                    form, lambda: cases.merge(db, scope(), case, form.into.data, moment)
                )
            elif action == "transfer":
                target = form.unit.data
                if commit_or_form_error(
                    form,
                    lambda: cases.transfer(db, scope(), case, target, form.reason.data, moment),
                ):
                    flash(
                        gettext("Đã chuyển phản ánh #%(n)s đến %(unit)s.", n=case_id, unit=target),
                        "success",
                    )
                    return redirect(url_for("dashboard.inbox"), 303)
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
        history=case_history.lines(cases.case_history(db, scope(), case)),
        dossier_code=cases.dossier_code(db, case),
        merged_visible=case.merged_into_id is not None
        and cases.is_visible(db, scope(), case.merged_into_id),
        moment=now(),
        response_statuses=moderation.SETTABLE,
    ), code


@bp.post("/responses/<id:response_id>/status")
@requires(Permission.FLAG_RESPONSES)
def set_response_status(response_id: int) -> ResponseReturnValue:
    db = get_session()
    status: ResponseStatus = posted_choice("status", choices_of(ResponseStatus))
    moderation.set_response_status(db, scope(), response_id, status, now())
    db.commit()
    flash(gettext("Đã đổi trạng thái phiếu."), "success")
    return redirect(local_target(request.form.get("back"), url_for("dashboard.inbox")), 303)


@bp.post("/responses/<id:response_id>/flag")
@requires(Permission.FLAG_RESPONSES)
def set_response_flag(response_id: int) -> ResponseReturnValue:
    """Keep a flagged response (clear the flag) or flag one for review; audited."""
    db = get_session()
    flagged = posted_choice("flagged", {"0": False, "1": True})
    moderation.set_flag(db, scope(), response_id, flagged, now())
    db.commit()
    flash(
        gettext("Đã gắn cờ phiếu.") if flagged else gettext("Đã bỏ cờ: phiếu được giữ."),
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

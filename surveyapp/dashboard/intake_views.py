"""Dossiers for officials: figures per unit and period, search by dossier code, a dossier's
page; and for the PAR office the intake (tokens, file upload, log, unknown codes), the staff
register and the catalogue."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from surveyapp import query_args
from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import commit_or_form_error, requires, scope, uploaded_table
from surveyapp.dashboard.forms import (
    AliasForm,
    DossierUploadForm,
    IntakeTokenForm,
    StaffForm,
    UploadForm,
)
from surveyapp.db import get_session
from surveyapp.security import accepts_files
from surveyapp.services.access import Permission, get_visible_unit, visible_units
from surveyapp.services.accounts import api_tokens
from surveyapp.services.collection.tables import TableLimits
from surveyapp.services.errors import ServiceError
from surveyapp.services.exports import jobs
from surveyapp.services.intake import uploads
from surveyapp.services.intake.dossiers import intake_log
from surveyapp.services.org import catalogue, staff
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import dossiers
from surveyapp.services.reporting.dossiers import Timeliness
from surveyapp.services.validation import parse_id


def _unit_choices() -> list[tuple[str, str]]:
    return [(u.code, f"{u.code} — {u.name}") for u in visible_units(get_session(), scope())]


# --- Figures, search, one dossier -----------------------------------------------------------


@bp.get("/dossiers")
@requires(Permission.VIEW_FEEDBACK)
def dossier_figures() -> ResponseReturnValue:
    db = get_session()
    wanted = (request.args.get("code") or "").strip()
    if wanted:
        found = dossiers.find_dossier(db, scope(), wanted)
        return redirect(url_for("dashboard.dossier_page", dossier_id=found.id), 303)
    unit_code = (request.args.get("unit") or "").strip() or current_user.unit.code
    unit = get_visible_unit(db, scope(), unit_code[:40])
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    period = parse_period(
        ((request.args.get("period") or "").strip() or str(now().astimezone(zone).year))[:40]
    )
    attribution = query_args.attribution(request.args)
    figures = dossiers.dossier_figures(
        db, unit, period, current_app.config["TIMEZONE"], attribution
    )
    return render_template(
        "dashboard/dossiers.html",
        unit=unit,
        units=visible_units(db, scope()),
        period=period,
        attribution=attribution,
        figures=figures,
        Timeliness=Timeliness,
    )


@bp.get("/dossiers/<id:dossier_id>")
@requires(Permission.VIEW_FEEDBACK)
def dossier_page(dossier_id: int) -> ResponseReturnValue:
    view = dossiers.dossier_view(get_session(), scope(), dossier_id)
    return render_template("dashboard/dossier.html", view=view)


# --- Intake: tokens, file upload, log, unknown codes ---------------------------------------


@bp.route("/intake", methods=["GET", "POST"])
@requires(Permission.WRITE_DOSSIERS)
@requires(Permission.MANAGE_SETUP)
def intake() -> ResponseReturnValue:
    db = get_session()
    form = IntakeTokenForm(prefix="token")
    form.unit.choices = _unit_choices()
    created, code = None, 200
    if request.method == "POST":
        if form.validate_on_submit():
            unit = get_visible_unit(db, scope(), form.unit.data)

            def create() -> None:
                nonlocal created
                created = api_tokens.create_intake_token(
                    db, scope(), name=form.name.data, unit=unit, days=form.days.data, now=now()
                )[1]

            if not commit_or_form_error(form, create):
                code = 422
        else:
            code = 422
    return _intake_page(form, DossierUploadForm(prefix="file"), created=created), code


def _intake_page(
    form: IntakeTokenForm | None = None,
    upload: DossierUploadForm | None = None,
    created: str | None = None,
    errors: list[str] | None = None,
) -> str:
    db = get_session()
    if form is None:
        form = IntakeTokenForm(prefix="token", formdata=None)
        form.unit.choices = _unit_choices()
    if upload is None:
        upload = DossierUploadForm(prefix="file", formdata=None)
    return render_template(
        "dashboard/intake.html",
        form=form,
        upload=upload,
        created=created,
        errors=errors or [],
        tokens=api_tokens.intake_tokens(db, scope()),
        batches=intake_log(db, scope()),
        unknown=catalogue.unknown_codes(db, scope()),
        aliases=catalogue.list_aliases(db),
        moment=now(),
    )


@bp.post("/intake/aliases")
@requires(Permission.WRITE_DOSSIERS)
@requires(Permission.MANAGE_SETUP)
def map_code() -> ResponseReturnValue:
    """Map an unknown code to the field or procedure it stands for."""
    db = get_session()
    form = AliasForm()
    if not form.validate_on_submit():
        errors = [f"{form[name].label.text}: {e}" for name, es in form.errors.items() for e in es]
        return _intake_page(errors=errors), 422
    try:
        alias = catalogue.map_code(
            db, scope(), form.kind.data, form.code.data, form.target.data, now()
        )
    except ServiceError as error:
        db.rollback()
        return _intake_page(errors=[error.render(gettext)]), error.status_code
    db.commit()
    flash(
        gettext(
            "Hồ sơ mang mã %(code)s được tính vào %(target)s.",
            code=alias.code,
            target=alias.target_code,
        ),
        "success",
    )
    return redirect(url_for("dashboard.intake"), 303)


@bp.post("/intake/aliases/<id:alias_id>/remove")
@requires(Permission.WRITE_DOSSIERS)
@requires(Permission.MANAGE_SETUP)
def remove_alias(alias_id: int) -> ResponseReturnValue:
    catalogue.remove_alias(get_session(), scope(), alias_id, now())
    get_session().commit()
    flash(gettext("Đã gỡ ánh xạ mã."), "success")
    return redirect(url_for("dashboard.intake"), 303)


@bp.post("/intake/tokens/<id:token_id>/revoke")
@requires(Permission.WRITE_DOSSIERS)
def revoke_intake_token(token_id: int) -> ResponseReturnValue:
    api_tokens.revoke_token(get_session(), scope(), token_id, now())
    get_session().commit()
    flash(gettext("Đã thu hồi mã truy cập."), "success")
    return redirect(url_for("dashboard.intake"), 303)


@bp.post("/intake/upload")
@requires(Permission.WRITE_DOSSIERS)
@requires(Permission.MANAGE_SETUP)
@accepts_files("file-file")
def upload_dossiers() -> ResponseReturnValue:
    """A file exported by a one-stop system: checked here, imported by a queue worker while its
    status page shows the progress; all rows or none unless the official asks."""
    db = get_session()
    upload = DossierUploadForm(prefix="file")
    if not upload.validate_on_submit():
        errors = [e for messages in upload.errors.values() for e in messages]
        return _intake_page(upload=upload, errors=errors), 422
    try:
        job = uploads.queue_upload(
            db,
            scope(),
            upload.file.data.filename or "",
            upload.file.data.stream.read(),
            bool(upload.keep_good_rows.data),
            TableLimits.from_config(current_app.config),
            now(),
        )
    except ServiceError as error:
        db.rollback()
        return _intake_page(upload=upload, errors=[error.render(gettext)]), 422
    db.commit()
    current_app.extensions["surveyapp.queue"].enqueue_export(job.id)
    return redirect(url_for("dashboard.upload_status", job_id=job.id), 303)


@bp.get("/intake/uploads/<id:job_id>")
@requires(Permission.WRITE_DOSSIERS)
def upload_status(job_id: int) -> ResponseReturnValue:
    """An upload's progress while it runs (the page refreshes itself), then what it stored."""
    job = jobs.get_job(get_session(), scope(), job_id, kinds=(uploads.KIND,))
    current_app.extensions["surveyapp.queue"].wake()
    return render_template("dashboard/upload_status.html", job=job, state=jobs.state_of(job))


# --- The staff register ---------------------------------------------------------------------


@bp.route("/staff", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def staff_register() -> ResponseReturnValue:
    db = get_session()
    form = StaffForm()
    form.unit.choices = _unit_choices()
    code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            unit = get_visible_unit(db, scope(), form.unit.data)
            if commit_or_form_error(
                form,
                lambda: staff.save_staff(
                    db,
                    scope(),
                    code=form.code.data,
                    name=form.name.data,
                    unit=unit,
                    account_email=form.email.data or "",
                    active=bool(form.active.data),
                    now=now(),
                ),
            ):
                staff.link_dossiers(db)
                db.commit()
                flash(gettext("Đã lưu cán bộ %(code)s.", code=form.code.data), "success")
                return redirect(url_for("dashboard.staff_register"), 303)
        code = 422
    return _staff_page(form, UploadForm(prefix="csv")), code


def _staff_page(form: StaffForm, upload: UploadForm, errors: list[str] | None = None) -> str:
    text = (request.args.get("q") or "").strip()[:100]
    return render_template(
        "dashboard/staff.html",
        form=form,
        upload=upload,
        rows=staff.list_staff(get_session(), scope(), text),
        q=text,
        errors=errors or [],
    )


@bp.post("/staff/upload")
@requires(Permission.MANAGE_USERS)
@accepts_files("csv-file")
def upload_staff() -> ResponseReturnValue:
    db = get_session()
    upload = UploadForm(prefix="csv")
    form = StaffForm(formdata=None)
    form.unit.choices = _unit_choices()
    if not upload.validate_on_submit():
        errors = [e for messages in upload.errors.values() for e in messages]
        return _staff_page(form, upload, errors), 422
    try:
        table = uploaded_table(upload)
        result = staff.load_staff(db, table, scope(), now())
    except ServiceError as error:
        db.rollback()
        return _staff_page(form, upload, [error.render(gettext)]), 422
    if not result.ok:
        db.rollback()
        return _staff_page(form, upload, [str(e) for e in result.errors]), 422
    db.commit()
    flash(
        gettext(
            "Đã thêm %(a)s cán bộ, cập nhật %(b)s cán bộ.",
            a=result.added,
            b=result.already_present,
        ),
        "success",
    )
    return redirect(url_for("dashboard.staff_register"), 303)


# --- The catalogue: procedures, search, file ------------------------------------------------


@bp.get("/procedures")
@requires(Permission.VIEW_FEEDBACK)
def procedures() -> ResponseReturnValue:
    text = (request.args.get("q") or "").strip()[:100]
    field_id = parse_id(request.args.get("field"))
    rows = catalogue.search_procedures(get_session(), text)
    if field_id is not None:
        rows = [p for p in rows if p.service_field_id == field_id]
    return render_template(
        "dashboard/procedures.html",
        rows=rows,
        q=text,
        fields=catalogue.list_service_fields(get_session()),
        field_id=field_id,
        upload=UploadForm(prefix="catalogue"),
        errors=[],
    )


@bp.post("/procedures/upload")
@requires(Permission.MANAGE_SETUP)
@accepts_files("catalogue-file")
def upload_catalogue() -> ResponseReturnValue:
    db = get_session()
    upload = UploadForm(prefix="catalogue")
    errors: list[str] = []
    if upload.validate_on_submit():
        try:
            table = uploaded_table(upload)
            result = catalogue.load_catalogue(db, table, scope(), now())
        except ServiceError as error:
            db.rollback()
            errors = [error.render(gettext)]
        else:
            if result.ok:
                db.commit()
                flash(
                    gettext(
                        "Đã thêm %(a)s mục, cập nhật %(b)s thủ tục.",
                        a=result.added,
                        b=result.already_present,
                    ),
                    "success",
                )
                return redirect(url_for("dashboard.procedures"), 303)
            db.rollback()
            errors = [str(e) for e in result.errors]
    else:
        errors = [e for messages in upload.errors.values() for e in messages]
    return render_template(
        "dashboard/procedures.html",
        rows=catalogue.search_procedures(db, ""),
        q="",
        fields=catalogue.list_service_fields(db),
        field_id=None,
        upload=upload,
        errors=errors,
    ), 422

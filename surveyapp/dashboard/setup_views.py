"""Setup pages: units, service fields, campaigns, instruments, imports and paper entry."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import commit_or_form_error, requires, scope, uploaded_table
from surveyapp.dashboard.forms import (
    CampaignForm,
    FieldForm,
    ImportForm,
    LineageForm,
    PaperForm,
    UnitForm,
    UploadForm,
)
from surveyapp.dashboard.labels import LEVEL_LABELS, STREAM_LABELS, level_choices
from surveyapp.db import get_session
from surveyapp.models import Channel, Instrument, Stream, UnitLevel
from surveyapp.public.forms import posted_answers, survey_form_class
from surveyapp.security import accepts_files
from surveyapp.services.access import Permission, get_visible_unit, visible_units
from surveyapp.services.collection import imports, submissions, targets
from surveyapp.services.errors import DefinitionError, InvalidInput, ServiceError
from surveyapp.services.instruments import definitions, publishing
from surveyapp.services.org import campaigns as campaign_service
from surveyapp.services.org import catalogue, lineage, units
from surveyapp.services.periods import parse_period


def _instrument_and_stream_choices(form: CampaignForm | ImportForm) -> None:
    form.instrument.choices = [
        (str(i.id), f"{i.code} v{i.version}")
        for i in publishing.published_instruments(get_session())
    ]
    form.stream.choices = [(s.value, str(label)) for s, label in STREAM_LABELS.items()]


# --- Units ----------------------------------------------------------------------------------


@bp.route("/units", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def manage_units() -> ResponseReturnValue:
    db = get_session()
    seen = visible_units(db, scope())
    form = UnitForm()
    form.level.choices = level_choices()
    form.parent.choices = [("", "—")] + [(u.code, f"{u.code} — {u.name}") for u in seen]
    upload = UploadForm(prefix="csv")
    code = 200
    if request.method == "POST" and form.validate_on_submit():
        # The parent is one of the choices: a unit in scope (SelectField checks the choice).
        parent = get_visible_unit(db, scope(), form.parent.data) if form.parent.data else None
        if commit_or_form_error(
            form,
            lambda: units.save_unit(
                db,
                scope(),
                form.code.data,
                form.name.data,
                UnitLevel(form.level.data),
                parent,
                form.name_en.data or None,
            ),
        ):
            flash(gettext("Đã lưu đơn vị %(code)s.", code=form.code.data), "success")
            return redirect(url_for("dashboard.manage_units"), 303)
        code = 422
    elif request.method == "POST":
        code = 422
    return render_template(
        "dashboard/units.html", units=seen, form=form, upload=upload, levels=LEVEL_LABELS, errors=[]
    ), code


@bp.post("/units/upload")
@requires(Permission.MANAGE_SETUP)
@accepts_files("csv-file")
def upload_units() -> ResponseReturnValue:
    db = get_session()
    upload = UploadForm(prefix="csv")
    errors: list[str] = []
    if upload.validate_on_submit():
        try:
            result = imports.load_units(
                db,
                uploaded_table(upload),
                scope(),
            )
        except ServiceError as error:
            db.rollback()
            errors = [error.render(gettext)]
        else:
            if result.ok:
                db.commit()
                flash(
                    gettext(
                        "Đã nạp %(a)s đơn vị mới, cập nhật %(b)s đơn vị.",
                        a=result.added,
                        b=result.already_present,
                    ),
                    "success",
                )
                return redirect(url_for("dashboard.manage_units"), 303)
            db.rollback()
            errors = [str(e) for e in result.errors]
    else:
        errors = [e for messages in upload.errors.values() for e in messages]
    form = UnitForm()
    form.level.choices = level_choices()
    form.parent.choices = [("", "—")]
    return render_template(
        "dashboard/units.html",
        units=visible_units(db, scope()),
        form=form,
        upload=upload,
        levels=LEVEL_LABELS,
        errors=errors,
    ), 422


# --- Service fields -------------------------------------------------------------------------


@bp.route("/fields", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def fields() -> ResponseReturnValue:
    db = get_session()
    form = FieldForm()
    code = 200
    if request.method == "POST":
        if form.validate_on_submit() and commit_or_form_error(
            form,
            lambda: catalogue.create_service_field(
                db, scope(), form.code.data, form.name_vi.data, form.name_en.data or "", now()
            ),
        ):
            flash(gettext("Đã thêm lĩnh vực %(code)s.", code=form.code.data), "success")
            return redirect(url_for("dashboard.fields"), 303)
        code = 422
    return render_template(
        "dashboard/fields.html", fields=catalogue.list_service_fields(db), form=form
    ), code


# --- Campaigns ------------------------------------------------------------------------------


@bp.route("/campaigns", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def campaigns() -> ResponseReturnValue:
    db = get_session()
    form = CampaignForm()
    _instrument_and_stream_choices(form)
    form.units.choices = [(u.code, f"{u.code} — {u.name}") for u in visible_units(db, scope())]
    code = 200
    if request.method == "POST":
        if form.validate_on_submit() and commit_or_form_error(
            form,
            lambda: campaign_service.create_campaign(
                db,
                scope(),
                code=form.code.data,
                name=form.name.data,
                instrument_id=int(form.instrument.data),
                stream=Stream(form.stream.data),
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
                unit_codes=form.units.data,
                min_n=form.min_n.data,
                margin=form.margin.data,
                now=now(),
            ),
        ):
            flash(gettext("Đã tạo đợt khảo sát %(code)s.", code=form.code.data), "success")
            return redirect(url_for("dashboard.campaigns"), 303)
        code = 422
    return render_template(
        "dashboard/campaigns.html",
        campaigns=campaign_service.list_campaigns(db, scope()),
        form=form,
        streams=STREAM_LABELS,
    ), code


@bp.post("/campaigns/<code>/close")
@requires(Permission.MANAGE_SETUP)
def close_campaign(code: str) -> ResponseReturnValue:
    campaign_service.close_campaign(get_session(), scope(), code, now())
    get_session().commit()
    flash(gettext("Đã kết thúc đợt khảo sát %(code)s.", code=code), "success")
    return redirect(url_for("dashboard.campaigns"), 303)


# --- Instruments ----------------------------------------------------------------------------


@bp.route("/instruments", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
@accepts_files("file")
def manage_instruments() -> ResponseReturnValue:
    db = get_session()
    upload = UploadForm()
    problems: list[str] = []
    code = 200
    if request.method == "POST":
        if upload.validate_on_submit():
            name = upload.file.data.filename or ""
            try:
                raw = upload.file.data.stream.read()
                text = raw.decode("utf-8-sig")
                data = definitions.parse_definition(text, json_only=name.lower().endswith(".json"))
                published = publishing.publish_instrument(db, data, now())
            except UnicodeDecodeError:
                problems = [gettext("Tệp không phải văn bản UTF-8.")]
            except DefinitionError as error:
                problems = error.problems
            except ServiceError as error:
                problems = [error.render(gettext)]
            else:
                db.commit()
                flash(
                    gettext(
                        "Đã công bố %(code)s phiên bản %(v)s.",
                        code=published.code,
                        v=published.version,
                    ),
                    "success",
                )
                return redirect(url_for("dashboard.manage_instruments"), 303)
            db.rollback()
        else:
            problems = [e for messages in upload.errors.values() for e in messages]
        code = 422
    return render_template(
        "dashboard/instruments.html",
        instruments=publishing.published_instruments(db),
        upload=upload,
        problems=problems,
    ), code


# --- Imports --------------------------------------------------------------------------------


@bp.route("/imports", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
@accepts_files("file")
def import_responses() -> ResponseReturnValue:
    db = get_session()
    form = ImportForm()
    _instrument_and_stream_choices(form)
    errors: list[str] = []
    code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                chosen = db.get_one(Instrument, int(form.instrument.data))  # a validated choice
                options = imports.ImportOptions(
                    instrument=publishing.get_instrument(db, chosen.code, chosen.version),
                    timezone=current_app.config["TIMEZONE"],
                    scope=scope(),
                    now=now(),
                    period=parse_period(form.period.data) if form.period.data else None,
                    stream=Stream(form.stream.data),
                    ignore_extra_columns=form.ignore_extra.data,
                )
                table = uploaded_table(form)
                result = imports.import_responses(db, table, options)
            except ServiceError as error:
                db.rollback()
                errors = [error.render(gettext)]
            else:
                header_problems = any(e.line == 1 for e in result.errors)
                if result.errors and (not form.keep_good.data or header_problems):
                    db.rollback()
                    errors = [str(e) for e in result.errors]
                else:
                    db.commit()
                    flash(
                        gettext(
                            "Đã nhập %(a)s phiếu; %(b)s phiếu đã có từ trước; %(c)s dòng lỗi.",
                            a=result.added,
                            b=result.already_present,
                            c=len(result.errors),
                        ),
                        "success",
                    )
                    errors = [str(e) for e in result.errors]
                    if not errors:
                        return redirect(url_for("dashboard.import_responses"), 303)
        else:
            errors = [e for messages in form.errors.values() for e in messages]
        code = 422 if errors else 200
    return render_template("dashboard/imports.html", form=form, errors=errors), code


# --- Paper questionnaires -------------------------------------------------------------------


def _day_arg() -> date | None:
    try:
        return date.fromisoformat(request.args.get("paper-day", ""))
    except ValueError:
        return None


@bp.route("/paper", methods=["GET", "POST"])
@requires(Permission.ENTER_PAPER)
def paper_entry() -> ResponseReturnValue:
    """Keyboard-fast entry of a citizen's paper questionnaire (channel paper), same checks."""
    db = get_session()
    config = current_app.config
    counters = [c for c in units.list_counters(db) if scope().covers(c.unit_id)]
    choice = PaperForm(prefix="paper")
    choice.counter.choices = [(c.code, f"{c.code} — {c.unit.name}") for c in counters]
    picked = request.values.get("paper-counter") or (counters[0].code if counters else None)
    if picked is None:
        return render_template("dashboard/paper.html", choice=choice, form=None), 200
    counter = units.get_counter(db, picked)
    scope().require_unit(counter.unit_id)
    day = choice.day.data or _day_arg() or now().astimezone(ZoneInfo(config["TIMEZONE"])).date()
    moment = datetime.combine(day, time(12), tzinfo=ZoneInfo(config["TIMEZONE"]))
    code = 200
    try:
        target = targets.counter_target(db, counter, moment, config["TIMEZONE"])
    except ServiceError as error:
        flash(error.render(gettext), "error")
        return render_template("dashboard/paper.html", choice=choice, form=None), 422
    form = survey_form_class(target.instrument, config["COMMENT_MAX_LENGTH"])()
    if request.method == "POST":
        if choice.validate_on_submit() and form.validate_on_submit():
            if moment > now():
                choice.day.errors.append(gettext("Ngày trên phiếu không thể ở tương lai."))
            else:
                submission = submissions.Submission(
                    idempotency_key=form.idempotency_key.data,
                    answers=posted_answers(request.form, type(form)),
                    comment=form.comment.data,
                    dossier_code=form.dossier_code.data or None,
                )
                rules = submissions.Rules.from_config(config)
                try:
                    submissions.accept_submission(
                        db,
                        target=target,
                        channel=Channel.PAPER,
                        submission=submission,
                        now=moment,
                        rules=rules,
                    )
                except InvalidInput as error:
                    db.rollback()
                    form.form_errors.append(error.render(gettext))
                else:
                    db.commit()
                    flash(gettext("Đã lưu phiếu giấy. Nhập phiếu tiếp theo."), "success")
                    following: dict[str, Any] = {
                        "paper-counter": counter.code,
                        "paper-day": day.isoformat(),
                    }
                    return redirect(url_for("dashboard.paper_entry", **following), 303)
        code = 422
    else:
        choice.counter.data = counter.code
        choice.day.data = day
    form.idempotency_key.data = form.idempotency_key.data or secrets.token_urlsafe(24)
    return render_template(
        "dashboard/paper.html",
        choice=choice,
        form=form,
        target=target,
        instrument=target.instrument,
    ), code


# --- Unit lineage: merges, splits, renames ---------------------------------------------------


def _lineage_form() -> LineageForm:
    form = LineageForm(prefix="change")
    form.kind.choices = [
        ("merge", gettext("Sáp nhập")),
        ("split", gettext("Chia tách")),
        ("rename", gettext("Đổi tên, đổi mã")),
    ]
    return form


def _lineage_page(form: LineageForm, errors: list[str] | None = None, code: int = 200) -> Any:
    db = get_session()
    return render_template(
        "dashboard/lineage.html",
        form=form,
        upload=UploadForm(prefix="csv", formdata=None),
        steps=lineage.history(db, scope()),
        errors=errors or [],
    ), code


@bp.route("/lineage", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def unit_lineage() -> ResponseReturnValue:
    """Record a merge, split or rename (each old and new pair a step of the lineage)."""
    db = get_session()
    form = _lineage_form()
    if request.method == "GET":
        return _lineage_page(form)
    if not form.validate_on_submit():
        return _lineage_page(form, code=422)
    olds = [c.strip() for c in form.old_codes.data.split(",") if c.strip()]
    news = [c.strip() for c in form.new_codes.data.split(",") if c.strip()]
    kind = form.kind.data
    if (
        (kind == "merge" and len(news) != 1)
        or (kind == "split" and len(olds) != 1)
        or (kind == "rename" and (len(olds), len(news)) != (1, 1))
    ):
        form.new_codes.errors.append(
            gettext(
                "Sáp nhập: nhiều mã cũ, một mã mới; chia tách: một mã cũ, nhiều mã mới; "
                "đổi tên: một mã mỗi bên."
            )
        )
        return _lineage_page(form, code=422)
    try:
        for old in olds:
            for new in news:
                lineage.link(
                    db,
                    scope(),
                    old_code=old,
                    new_code=new,
                    kind=kind,
                    effective_on=form.effective_on.data,
                    now=now(),
                )
    except ServiceError as error:
        db.rollback()
        return _lineage_page(form, [error.render(gettext)], error.status_code)
    db.commit()
    flash(gettext("Đã ghi %(n)s thay đổi đơn vị.", n=len(olds) * len(news)), "success")
    return redirect(url_for("dashboard.unit_lineage"), 303)


@bp.post("/lineage/upload")
@requires(Permission.MANAGE_SETUP)
@accepts_files("csv-file")
def upload_lineage() -> ResponseReturnValue:
    db = get_session()
    upload = UploadForm(prefix="csv")
    if not upload.validate_on_submit():
        return _lineage_page(_lineage_form(), [e for es in upload.errors.values() for e in es], 422)
    try:
        result = lineage.load_lineage(db, scope(), uploaded_table(upload), now())
    except ServiceError as error:
        db.rollback()
        return _lineage_page(_lineage_form(), [error.render(gettext)], 422)
    if not result.ok:
        db.rollback()
        return _lineage_page(_lineage_form(), [str(e) for e in result.errors], 422)
    db.commit()
    flash(gettext("Đã ghi %(n)s thay đổi đơn vị.", n=result.added), "success")
    return redirect(url_for("dashboard.unit_lineage"), 303)

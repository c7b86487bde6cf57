"""The PAR office's survey rounds (đợt điều tra xã hội học): the groups and who rates whom as
YAML/JSON, the invitation list upload, progress against the quotas, reminders and the close."""

from __future__ import annotations

import yaml
from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import requires, scope
from surveyapp.dashboard.forms import RoundForm, UploadForm
from surveyapp.db import get_session
from surveyapp.security import accepts_files
from surveyapp.services.access import Permission, visible_units
from surveyapp.services.collection.tables import TableLimits
from surveyapp.services.errors import ServiceError
from surveyapp.services.invitations.settings import parse_quiet_hours
from surveyapp.services.par import rounds

TEMPLATE = """\
code: DTXHH-{year}
name: "Điều tra xã hội học Chỉ số CCHC năm {year}"
province: {province}
year: {year}
starts_on: {year}-09-01
ends_on: {year}-10-31
reminder_limit: 2          # thư nhắc tối đa cho mỗi liên kết
groups:                    # mỗi nhóm: phiếu riêng, cấp đơn vị nhóm đánh giá, chỉ tiêu mỗi đơn vị
  - code: CC
    name: {{vi: "Công chức", en: "Civil servants"}}
    instrument: PAR-UNIT
    rates: [department]
    quota: 15
  - code: LD
    name: {{vi: "Lãnh đạo phòng", en: "Heads of offices"}}
    instrument: PAR-UNIT
    rates: [department, commune]
    quota: 5
  - code: DN
    name: {{vi: "Doanh nghiệp", en: "Businesses"}}
    instrument: PAR-UNIT
    rates: [department]
    quota: 10
"""


def _list_page(
    form: RoundForm, errors: list[str] | None = None, code: int = 200
) -> ResponseReturnValue:
    return render_template(
        "dashboard/rounds.html",
        form=form,
        errors=errors or [],
        rounds=rounds.list_rounds(get_session(), scope()),
    ), code


@bp.route("/rounds", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def survey_rounds() -> ResponseReturnValue:
    """The rounds, and the editor: a new round, a round to change (``?edit=``), or the post."""
    db = get_session()
    if request.method == "GET":
        form = RoundForm(formdata=None)
        if request.args.get("edit"):
            survey = rounds.get_round(db, scope(), request.args["edit"][:40])
            form.text.data = yaml.safe_dump(
                rounds.as_mapping(survey), allow_unicode=True, sort_keys=False
            )
        else:
            provinces = [u for u in visible_units(db, scope()) if u.parent_id is None]
            form.text.data = TEMPLATE.format(
                province=provinces[0].code if provinces else "…", year=now().year
            )
        return _list_page(form)
    form = RoundForm()
    if not form.validate_on_submit():
        return _list_page(form, [e for es in form.errors.values() for e in es], 422)
    try:
        data = yaml.safe_load(form.text.data)
    except yaml.YAMLError:
        return _list_page(form, [gettext("Nội dung không đọc được như YAML/JSON.")], 422)
    try:
        survey, created = rounds.save_round(db, scope(), data, now())
    except ServiceError as error:
        db.rollback()
        return _list_page(form, [error.render(gettext)], error.status_code)
    db.commit()
    if created:
        flash(gettext("Đã tạo đợt %(code)s.", code=survey.code), "success")
    else:
        flash(gettext("Đã cập nhật đợt %(code)s.", code=survey.code), "success")
    return redirect(url_for("dashboard.survey_round", code=survey.code), 303)


def _round_page(
    code: str, errors: list[str] | None = None, status: int = 200
) -> ResponseReturnValue:
    db = get_session()
    survey = rounds.get_round(db, scope(), code[:40])
    cells = rounds.progress(db, scope(), survey.code)
    return render_template(
        "dashboard/round.html",
        survey=survey,
        cells=cells,
        upload=UploadForm(prefix="list", formdata=None),
        errors=errors or [],
    ), status


@bp.get("/rounds/<code>")
@requires(Permission.MANAGE_SETUP)
def survey_round(code: str) -> ResponseReturnValue:
    """A round's progress per rated unit and group, and what the office can do with it."""
    return _round_page(code)


@bp.post("/rounds/<code>/list")
@requires(Permission.MANAGE_SETUP)
@accepts_files("list-file")
def upload_round_list(code: str) -> ResponseReturnValue:
    """An invitation list (CSV/XLSX: group, contact, units); all rows or none."""
    db = get_session()
    upload = UploadForm(prefix="list")
    if not upload.validate_on_submit():
        return _round_page(code, [e for es in upload.errors.values() for e in es], 422)
    config = current_app.config
    try:
        done = rounds.import_list(
            db,
            scope(),
            code[:40],
            upload.file.data.filename or "",
            upload.file.data.stream,
            now(),
            timezone=config["TIMEZONE"],
            quiet=parse_quiet_hours(config["INVITE_QUIET_HOURS"]),
            limits=TableLimits.from_config(config),
        )
    except ServiceError as error:
        db.rollback()
        return _round_page(code, [error.render(gettext)], error.status_code)
    db.commit()
    current_app.extensions["surveyapp.queue"].invite_soon()
    flash(
        gettext(
            "Đã thêm %(p)s người, %(l)s liên kết đánh giá (%(u)s liên kết đã có).",
            p=done.respondents,
            l=done.links,
            u=done.unchanged,
        ),
        "success",
    )
    return redirect(url_for("dashboard.survey_round", code=code), 303)


@bp.post("/rounds/<code>/remind")
@requires(Permission.MANAGE_SETUP)
def remind_round(code: str) -> ResponseReturnValue:
    db = get_session()
    try:
        count = rounds.remind(db, scope(), code[:40], now())
    except ServiceError as error:
        db.rollback()
        return _round_page(code, [error.render(gettext)], error.status_code)
    db.commit()
    current_app.extensions["surveyapp.queue"].invite_soon()
    flash(gettext("Đã xếp %(n)s thư nhắc.", n=count), "success")
    return redirect(url_for("dashboard.survey_round", code=code), 303)


@bp.post("/rounds/<code>/close")
@requires(Permission.MANAGE_SETUP)
def close_round(code: str) -> ResponseReturnValue:
    db = get_session()
    try:
        erased = rounds.close_round(db, scope(), code[:40], now())
    except ServiceError as error:
        db.rollback()
        return _round_page(code, [error.render(gettext)], error.status_code)
    db.commit()
    flash(gettext("Đã kết thúc đợt; đã xóa danh sách %(n)s người được mời.", n=erased), "success")
    return redirect(url_for("dashboard.survey_round", code=code), 303)

"""The PAR office's pages: the settings of the PAR-index survey points (cấu hình điểm Chỉ số
CCHC), edited as the same YAML/JSON a file holds, uploaded, copied to the next year, downloaded;
and the published results (chốt số liệu) with what has changed since."""

from __future__ import annotations

import yaml
from flask import Response, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import requires, scope
from surveyapp.dashboard.forms import ParSchemeForm, ParUploadForm, PublishForm
from surveyapp.dashboard.labels import level_choices, stream_choices
from surveyapp.db import get_session
from surveyapp.models import ParScheme, Stream, UnitLevel
from surveyapp.security import accepts_files
from surveyapp.services.access import Permission, visible_units
from surveyapp.services.errors import N_, NotFound, ServiceError
from surveyapp.services.exports import scores
from surveyapp.services.par import publication, settings
from surveyapp.services.periods import parse_period
from surveyapp.services.validation import parse_id

TEMPLATE = """\
province: {province}
level: district          # province, department, centre, district, commune
year: {year}
decision: "QĐ …/QĐ-UBND"
instrument: COUNTER      # phiếu tính chỉ số
appraisal_max: 65        # điểm thẩm định; cộng điểm điều tra phải bằng 100
criteria:
  - code: "SXH"
    source: SIPAS        # SIPAS hoặc mã một yếu tố của phiếu (TC, TT, CC, KQ, PA)
    max_points: 35
    method: linear       # linear, hoặc banded với bands: [{{lower, upper, points}}, …]
ranking_bands:
  - {{label: "Tốt", lower: 80}}
  - {{label: "Khá", lower: 65}}
  - {{label: "Trung bình", lower: 50}}
  - {{label: "Yếu", lower: 0}}
"""


def _page(
    form: ParSchemeForm, errors: list[str] | None = None, code: int = 200
) -> ResponseReturnValue:
    db = get_session()
    return render_template(
        "dashboard/par.html",
        form=form,
        upload=ParUploadForm(prefix="file", formdata=None),
        errors=errors or [],
        schemes=settings.list_schemes(db, scope()),
        survey_max=lambda s: sum(float(c["max_points"]) for c in s.criteria),
    ), code


def _blank_form() -> ParSchemeForm:
    form = ParSchemeForm(formdata=None)
    provinces = [u for u in visible_units(get_session(), scope()) if u.parent_id is None]
    form.text.data = TEMPLATE.format(
        province=provinces[0].code if provinces else "…", year=now().year
    )
    return form


@bp.route("/par", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def par_settings() -> ResponseReturnValue:
    """The schemes, and the editor: empty, a scheme to change (``?edit=``), or what was posted."""
    db = get_session()
    if request.method == "GET":
        form = _blank_form()
        if request.args.get("edit"):
            scheme_id = parse_id(request.args["edit"])
            if scheme_id is None:
                raise NotFound(N_("Không tìm thấy cấu hình điểm CCHC."))
            scheme = settings.get_scheme(db, scope(), scheme_id)
            form.text.data = settings.to_yaml(settings.as_mapping(scheme))
        return _page(form)
    form = ParSchemeForm()
    if not form.validate_on_submit():
        return _page(form, [e for es in form.errors.values() for e in es], 422)
    try:
        data = yaml.safe_load(form.text.data)
    except yaml.YAMLError:
        return _page(form, [gettext("Nội dung không đọc được như YAML/JSON.")], 422)
    try:
        scheme, created = settings.save_scheme(db, scope(), data, now())
    except ServiceError as error:
        db.rollback()
        return _page(form, [error.render(gettext)], error.status_code)
    db.commit()
    flash(_saved(scheme, created), "success")
    return redirect(url_for("dashboard.par_settings"), 303)


def _saved(scheme: ParScheme, created: bool) -> str:
    what = {"p": scheme.province.code, "l": scheme.level.value, "y": scheme.year}
    if created:
        return gettext("Đã tạo cấu hình %(p)s cấp %(l)s năm %(y)s.", **what)
    return gettext("Đã cập nhật cấu hình %(p)s cấp %(l)s năm %(y)s.", **what)


@bp.post("/par/upload")
@requires(Permission.MANAGE_SETUP)
@accepts_files("file-file")
def upload_par_settings() -> ResponseReturnValue:
    """A YAML/JSON file of one or several schemes; all or none."""
    db = get_session()
    upload = ParUploadForm(prefix="file")
    if not upload.validate_on_submit():
        return _page(_blank_form(), [e for es in upload.errors.values() for e in es], 422)
    try:
        text = upload.file.data.stream.read().decode("utf-8")
    except UnicodeDecodeError:
        return _page(_blank_form(), [gettext("Tệp phải là văn bản UTF-8 (YAML hoặc JSON).")], 422)
    try:
        loaded = settings.load_schemes(db, scope(), text, now())
    except ServiceError as error:
        db.rollback()
        return _page(_blank_form(), [error.render(gettext)], 422)
    db.commit()
    for item in loaded:
        flash(_saved(item.scheme, item.created), "success")
    return redirect(url_for("dashboard.par_settings"), 303)


@bp.post("/par/<id:scheme_id>/copy")
@requires(Permission.MANAGE_SETUP)
def copy_par_settings(scheme_id: int) -> ResponseReturnValue:
    db = get_session()
    try:
        copy = settings.copy_to_next_year(db, scope(), scheme_id, now())
    except ServiceError as error:
        db.rollback()
        if error.status_code == 404:
            raise
        return _page(_blank_form(), [error.render(gettext)], error.status_code)
    db.commit()
    flash(_saved(copy, True), "success")
    return redirect(url_for("dashboard.par_settings", edit=copy.id), 303)


@bp.get("/par/<id:scheme_id>.yaml")
@requires(Permission.MANAGE_SETUP)
def download_par_settings(scheme_id: int) -> ResponseReturnValue:
    scheme = settings.get_scheme(get_session(), scope(), scheme_id)
    name = f"cau-hinh-cchc-{scheme.province.code}-{scheme.level.value}-{scheme.year}.yaml"
    return Response(
        settings.to_yaml(settings.as_mapping(scheme)),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- Published results (chốt số liệu) --------------------------------------------------------


def _publish_form() -> PublishForm:
    form = PublishForm(prefix="publish")
    provinces = [u for u in visible_units(get_session(), scope()) if u.parent_id is None]
    form.unit.choices = [(u.code, f"{u.code} — {u.name}") for u in provinces]
    form.level.choices = level_choices()
    form.stream.choices = stream_choices()
    if request.method == "GET":
        form.period.data = form.period.data or str(now().year - 1)
    return form


@bp.route("/publications", methods=["GET", "POST"])
@requires(Permission.MANAGE_SETUP)
def publications() -> ResponseReturnValue:
    """Publish a period's results for a level, and the results published so far."""
    db = get_session()
    form = _publish_form()
    code = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                done = publication.publish(
                    db,
                    scope(),
                    province_code=form.unit.data,
                    level=UnitLevel(form.level.data),
                    period=parse_period(form.period.data.strip()),
                    stream=None if form.stream.data == "all" else Stream(form.stream.data),
                    reason=form.reason.data or "",
                    timezone=current_app.config["TIMEZONE"],
                    now=now(),
                )
            except ServiceError as error:
                db.rollback()
                field = getattr(form, getattr(error, "field", None) or "", None)
                (field.errors if field is not None else form.form_errors).append(
                    error.render(gettext)
                )
                code = error.status_code if error.status_code != 404 else 422
            else:
                db.commit()
                flash(
                    gettext("Đã công bố phiên bản %(v)s.", v=done.version),
                    "success",
                )
                return redirect(url_for("dashboard.publication_page", publication_id=done.id), 303)
        else:
            code = 422
    return render_template(
        "dashboard/publications.html",
        form=form,
        published=publication.list_publications(db, scope()),
    ), code


@bp.get("/publications/<id:publication_id>")
@requires(Permission.MANAGE_SETUP)
def publication_page(publication_id: int) -> ResponseReturnValue:
    """One publication: its rows as published, and what later data would change."""
    db = get_session()
    shown = publication.get_publication(db, scope(), publication_id)
    live = scores.scores_export(
        db,
        scope=scope(),
        parent=shown.province,
        level=shown.level,
        period=parse_period(shown.period),
        appraisal=None,
        generated_at=now(),
        timezone=current_app.config["TIMEZONE"],
        stream=None if shown.stream == "all" else Stream(shown.stream),
    )
    header = shown.header
    return render_template(
        "dashboard/publication.html",
        shown=shown,
        label=publication.label_of(shown),
        versions=publication.versions(db, shown),
        rows=[
            dict(zip(header, [publication.loaded(v) for v in r], strict=True)) for r in shown.rows
        ],
        elements=header[header.index("sipas_ci_high") + 1 : header.index("reliable")],
        changes=publication.changes(shown, live),
    )

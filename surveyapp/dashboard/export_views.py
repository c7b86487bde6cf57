"""Dashboard downloads: exports queued as background jobs, a status page, the file when done."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user

from surveyapp.clock import now
from surveyapp.dashboard import bp
from surveyapp.dashboard.common import commit_or_form_error, scope
from surveyapp.dashboard.forms import ResponsesExportForm, ScoresExportForm
from surveyapp.dashboard.labels import JOB_LABELS, level_choices, stream_choices
from surveyapp.db import get_session
from surveyapp.models import ExportJob, JobStatus
from surveyapp.security import accepts_files
from surveyapp.services.access import visible_units
from surveyapp.services.collection.tables import TableLimits
from surveyapp.services.errors import N_, NotFound
from surveyapp.services.exports import jobs
from surveyapp.services.exports import scores as score_files
from surveyapp.services.periods import parse_period

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.app_context_processor
def job_helpers() -> dict[str, Any]:
    def job_status_label(state: jobs.JobState) -> str:
        return str(JOB_LABELS[state.status])

    return {"job_status_label": job_status_label}


def _forms() -> tuple[ScoresExportForm, ResponsesExportForm]:
    units = [(u.code, f"{u.code} — {u.name}") for u in visible_units(get_session(), scope())]
    scores = ScoresExportForm(prefix="scores")
    scores.unit.choices = units
    scores.level.choices = level_choices()
    scores.stream.choices = stream_choices()
    responses = ResponsesExportForm(prefix="responses")
    for form in (scores, responses):
        form.format.choices = [("xlsx", "Excel (XLSX)"), ("csv", "CSV")]
    responses.unit.choices = ([("", gettext("Tất cả"))] if scope().unit_ids is None else []) + units
    if request.method == "GET":
        # What works for this official: their unit, the level below it, this year, the stream
        # that has answers.
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        year = str(now().astimezone(zone).year)
        home = current_user.unit
        hint = score_files.suggest(get_session(), home, parse_period(year))
        scores.unit.data, scores.period.data = home.code, year
        scores.stream.data = hint.stream
        scores.level.data = hint.level.value if hint.level else scores.level.data
        responses.unit.data = home.code if scope().unit_ids is not None else ""
        for form in (scores, responses):
            form.unit.data = request.args.get("unit") or form.unit.data
            form.period.data = request.args.get("period") or form.period.data
    return scores, responses


@bp.route("/exports", methods=["GET", "POST"])
@accepts_files("scores-appraisal")
def exports_page() -> ResponseReturnValue:
    db = get_session()
    current_app.extensions["surveyapp.queue"].wake()
    scores, responses = _forms()
    code = 200
    if request.method == "POST":
        kind = request.form.get("kind", "")
        form = scores if kind == "scores" else responses
        queued: list[ExportJob] = []

        def queue() -> None:
            appraisal = None
            upload = getattr(form, "appraisal", None)
            if upload is not None and upload.data and upload.data.filename:
                appraisal = score_files.read_appraisal(
                    upload.data.filename,
                    upload.data.stream,
                    TableLimits.from_config(current_app.config),
                )
            params = {k: v for k, v in form.data.items() if k not in ("csrf_token", "appraisal")}
            queued.append(
                jobs.create_export(
                    db, scope(), kind=kind, params=params, appraisal=appraisal, now=now()
                )
            )
            jobs.prune(db, now(), current_app.config["EXPORT_KEEP_HOURS"])

        if form.validate_on_submit() and commit_or_form_error(form, queue):
            job_id = queued[0].id
            current_app.extensions["surveyapp.queue"].enqueue_export(job_id)
            return redirect(url_for("dashboard.export_status", job_id=job_id), 303)
        code = 422
    return render_template(
        "dashboard/exports.html",
        scores=scores,
        responses=responses,
        recent=jobs.recent_jobs(db, scope()),
        state_of=jobs.state_of,
        name_of=jobs.download_name,
    ), code


@bp.get("/exports/<id:job_id>")
def export_status(job_id: int) -> ResponseReturnValue:
    job = jobs.get_job(get_session(), scope(), job_id)
    current_app.extensions["surveyapp.queue"].wake()
    state = jobs.state_of(job)
    return render_template(
        "dashboard/export_status.html", job=job, state=state, name=jobs.download_name(job)
    )


@bp.get("/exports/<id:job_id>/download")
def export_download(job_id: int) -> ResponseReturnValue:
    """The finished file, streamed from the database part by part (any web server serves it)."""
    job = jobs.get_job(get_session(), scope(), job_id)
    if job.status is not JobStatus.DONE:
        raise NotFound(N_("Tệp chưa sẵn sàng hoặc đã bị xóa."))
    factory = current_app.extensions["surveyapp.sessionmaker"]

    def stream() -> Iterator[bytes]:
        # A session of its own, closed when the last part is sent or the client goes away.
        with factory() as session:
            yield from jobs.file_parts(session, job)

    mimetype = MIMETYPES.get(str(job.params.get("format")), "application/octet-stream")
    response = FlaskResponse(stream(), mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=jobs.download_name(job))
    if job.size is not None:
        response.headers["Content-Length"] = str(job.size)
    return response

"""API endpoints: health, and the indices a unit dashboard shows, as JSON (OpenAPI at
/api/v1/openapi.json, see spec.py). Authentication: an API token (``Authorization: Bearer …``)
or the dashboard session; the scope is the official's, as in the dashboard."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Response as FlaskResponse
from flask import current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy import text

from surveyapp.api import bp, spec
from surveyapp.clock import now
from surveyapp.db import get_session
from surveyapp.errors import render_error
from surveyapp.models import User, localized
from surveyapp.query_args import report_query, required_period, scores_query
from surveyapp.services.access import Scope, get_visible_unit, scope_for, visible_units
from surveyapp.services.accounts import api_tokens
from surveyapp.services.par import publication
from surveyapp.services.reporting import dashboards, figures, qd766


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Liveness and database reachability, for load balancers and monitoring."""
    get_session().execute(text("SELECT 1"))
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    return FlaskResponse(spec.document(), mimetype="application/json")


def api_user() -> User | None:
    """The official behind a bearer token, else the signed-in dashboard user."""
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer":
            return None
        user = api_tokens.authenticate(get_session(), raw.strip(), now())
        get_session().commit()  # last-used time
        return user
    return current_user if current_user.is_authenticated else None


def api_scope() -> Scope | None:
    if "api_scope" not in g:
        user = api_user()
        g.api_scope = scope_for(get_session(), user) if user is not None else None
    return g.api_scope


def unauthorized() -> ResponseReturnValue:
    body, code = render_error(401, gettext("Cần mã truy cập API hợp lệ hoặc đăng nhập."))
    return body, code, {"WWW-Authenticate": 'Bearer realm="surveyapp"'}


def _figure(f: figures.Figure, names: dict[str, dict[str, str]], locale: str) -> dict[str, Any]:
    out = f.as_dict()
    if f.index.code in names:
        out["name"] = localized(names[f.index.code], locale)
    return out


@bp.get("/units")
def units() -> ResponseReturnValue:
    """The units in the caller's scope, parents before children."""
    scope = api_scope()
    if scope is None:
        return unauthorized()
    db = get_session()
    rows = visible_units(db, scope)
    codes = {u.id: u.code for u in rows}
    return jsonify(
        units=[
            {
                "code": u.code,
                "name": u.name,
                "level": u.level.value,
                "parent": codes.get(u.parent_id) if u.parent_id else None,
            }
            for u in rows
        ]
    )


@bp.get("/units/<code>/indices")
def unit_indices(code: str) -> ResponseReturnValue:
    scope = api_scope()
    if scope is None:
        return unauthorized()
    db = get_session()
    unit = get_visible_unit(db, scope, code)
    query = report_query(db, request.args, None)
    period, stream, filters = query.period, query.stream, query.filters
    view = dashboards.unit_dashboard(
        db,
        unit,
        query,
        scope=scope,
        timezone=current_app.config["TIMEZONE"],
    )
    locale = request.args.get("lang", "vi") if request.args.get("lang") in ("vi", "en") else "vi"
    names = view.element_names
    return jsonify(
        unit={"code": unit.code, "name": unit.name, "level": unit.level.value},
        period={
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        instrument={"code": view.instrument.code, "version": view.instrument.version},
        stream=stream.value if stream else "all",
        filters={
            "channel": filters.channel.value if filters.channel else None,
            "field": request.args.get("field") or None,
            "respondent_type": filters.respondent_type.value if filters.respondent_type else None,
            "attribution": filters.attribution.value,
        },
        rules_version=view.rules.version,
        sipas=view.sipas.as_dict(),
        elements=[
            {
                **_figure(f, names, locale),
                "items": [i.as_dict() for i in view.items.get(f.index.code, [])],
            }
            for f in view.elements
        ],
        previous=_comparison(view.previous, view.previous_period.label),
        parent=_comparison(view.parent, unit.parent.code if unit.parent else None),
        trend=[
            {"month": f"{p.month // 100}-{p.month % 100:02d}", **p.figure.as_dict()}
            for p in view.trend
        ],
        channels={c.value: n for c, n in view.channels},
    )


@bp.get("/units/<code>/scores")
def unit_scores(code: str) -> ResponseReturnValue:
    """The PAR council's scores of the units of ``level`` under the unit, as the export file holds
    them (no appraisal points: those come with a file, in the dashboard or the CLI)."""
    scope = api_scope()
    if scope is None:
        return unauthorized()
    db = get_session()
    parent = get_visible_unit(db, scope, code[:40])
    level, period, stream = scores_query(request.args)
    export = publication.scores_file(
        db,
        scope=scope,
        parent=parent,
        level=level,
        period=period,
        appraisal=None,
        generated_at=now(),
        timezone=current_app.config["TIMEZONE"],
        stream=stream,
    )
    header = export.scores.header
    published = export.published
    return jsonify(
        meta=dict(export.meta),
        note=export.note,
        empty=export.empty,
        published=None
        if published is None
        else {
            "version": published.version,
            "published_at": published.created_at.isoformat(),
            "cutoff_at": published.cutoff_at.isoformat(),
            "reason": published.reason,
        },
        changes=[
            {"unit_code": code, "column": column, "published": _plain(was), "now": _plain(now_)}
            for code, column, was, now_ in (export.changes.rows if export.changes else [])
        ],
        header=header,
        rows=[
            {k: _plain(v) for k, v in zip(header, row, strict=True)} for row in export.scores.rows
        ],
    )


@bp.get("/units/<code>/qd766")
def unit_qd766(code: str) -> ResponseReturnValue:
    """The unit's QĐ 766/QĐ-TTg satisfaction figures, month by month over the period."""
    scope = api_scope()
    if scope is None:
        return unauthorized()
    db = get_session()
    unit = get_visible_unit(db, scope, code[:40])
    period = required_period(request.args)
    months = qd766.unit_months(
        db, scope, unit, period, timezone=current_app.config["TIMEZONE"], now=now()
    )
    return jsonify(
        unit={"code": unit.code, "name": unit.name, "level": unit.level.value},
        period=period.label,
        months=[m.as_dict() for m in months],
    )


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _comparison(
    comparison: dashboards.Comparison | None, label: str | None
) -> dict[str, Any] | None:
    if comparison is None:
        return None
    change = comparison.change
    return {
        "of": label,
        "sipas": comparison.other.as_dict(),
        "difference": round(100 * change.difference, 2) if change else None,
        "difference_ci_low": round(100 * change.interval.low, 2)
        if change and change.interval
        else None,
        "difference_ci_high": round(100 * change.interval.high, 2)
        if change and change.interval
        else None,
        "p_value": change.p_value if change else None,
    }

"""Unit dashboards, rankings and Thông tư 01 scores: figures from services.dashboards, charts drawn
on the server (dashboard.charts)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import force_locale, gettext
from sqlalchemy import select

from analysis.publication import Verdict
from analysis.trends import Change, MannKendall
from surveyapp.clock import now
from surveyapp.dashboard import bp, charts, report_pdf
from surveyapp.dashboard.common import scope
from surveyapp.dashboard.labels import (
    CHANNEL_LABELS,
    FUNNEL_LABELS,
    RESPONDENT_LABELS,
    STREAM_CHOICES,
)
from surveyapp.db import get_session
from surveyapp.models import Channel, ServiceField, Unit, UnitLevel, localized
from surveyapp.query_args import report_query
from surveyapp.services.access import get_visible_unit
from surveyapp.services.exports import writers
from surveyapp.services.par import publication
from surveyapp.services.reporting import dashboards, figures, qd766, ranking, report, tt01
from surveyapp.templating import current_locale, format_number


@bp.app_context_processor
def figure_helpers() -> dict[str, Any]:
    return {
        "reliability_label": reliability_label,
        "signed": signed,
        "change_text": change_text,
        "trend_text": trend_text,
        "funnel_label": lambda position: FUNNEL_LABELS[position],
        "channel_label": lambda channel: CHANNEL_LABELS[Channel(channel)],
    }


def reliability_label(verdict: Verdict) -> str:
    if verdict.hidden:
        return gettext("Ẩn (dưới %(n)s phiếu)", n=verdict.reason.removeprefix("n<"))
    if verdict.low_reliability:
        return gettext("Độ tin cậy thấp")
    if not verdict.rankable:
        return gettext("Đủ tin cậy, chưa đủ để xếp hạng")
    return gettext("Đủ tin cậy")


def signed(points: float | None) -> str:
    """A difference in percentage points with its sign: +2,31 điểm."""
    if points is None:
        return "—"
    text = format_number(abs(points))
    return gettext("%(sign)s%(v)s điểm", sign="+" if points >= 0 else "−", v=text)


def change_text(change: Change) -> str:
    interval = change.interval
    low = format_number(100 * interval.low) if interval else "?"
    high = format_number(100 * interval.high) if interval else "?"
    if change.p_value < 0.05:
        return gettext(
            "Khác biệt có ý nghĩa thống kê (KTC 95%%: %(low)s đến %(high)s điểm).",
            low=low,
            high=high,
        )
    return gettext(
        "Chưa khác biệt có ý nghĩa thống kê (KTC 95%%: %(low)s đến %(high)s điểm).",
        low=low,
        high=high,
    )


def trend_text(test: MannKendall) -> str:
    p = format_number(test.p_value, 3)
    if test.trend == "increasing":
        return gettext("Xu hướng tăng có ý nghĩa (Mann–Kendall, p = %(p)s).", p=p)
    if test.trend == "decreasing":
        return gettext("Xu hướng giảm có ý nghĩa (Mann–Kendall, p = %(p)s).", p=p)
    return gettext("Chưa thấy xu hướng rõ rệt (Mann–Kendall, p = %(p)s).", p=p)


def dashboard_query() -> dashboards.Query:
    """Period and filters from the query string (default: this year); bad values are a 422."""
    return report_query(get_session(), request.args, str(now().astimezone(_zone()).year))


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def ancestors(unit: Unit) -> list[Unit]:
    """The unit's ancestors the official may open, top first."""
    out = []
    parent = unit.parent
    while parent is not None:
        if scope().covers(parent.id):
            out.append(parent)
        parent = parent.parent
    return list(reversed(out))


def filter_choices() -> dict[str, Any]:
    fields = get_session().scalars(
        select(ServiceField).where(ServiceField.is_active).order_by(ServiceField.code)
    )
    return {
        "streams": STREAM_CHOICES,
        "channels": CHANNEL_LABELS,
        "respondents": RESPONDENT_LABELS,
        "fields": list(fields),
    }


def _bar(fig: figures.Figure, label: str) -> charts.Bar:
    return charts.Bar(label, *fig.span, muted=fig.verdict.low_reliability, note=f"n={fig.n}")


def unit_charts(view: dashboards.UnitDashboard, locale: str) -> dict[str, Any]:
    names = view.element_names
    element_bars = [
        _bar(f, f"{f.index.code} — {localized(names.get(f.index.code), locale)}")
        for f in view.elements
    ]
    parent_value = view.parent.other.span[0] if view.parent is not None else None
    out = {
        "elements": charts.bar_chart(
            element_bars,
            gettext("Chỉ số hài lòng theo yếu tố"),
            gettext(
                "Thanh ngang: chỉ số (%) của từng yếu tố; vạch đen: khoảng tin cậy 95%; "
                "thanh xám: độ tin cậy thấp; đường đỏ: đơn vị cấp trên."
            ),
            reference=parent_value,
            reference_label=gettext("Đơn vị cấp trên"),
            number=format_number,
        ),
        "trend": charts.line_chart(
            [charts.Point(p.label, *p.figure.span) for p in view.trend],
            gettext("Chỉ số SIPAS theo tháng"),
            gettext("Đường: chỉ số SIPAS (%) từng tháng; vùng mờ: khoảng tin cậy 95%."),
            number=format_number,
        ),
        "items": {
            code: charts.bar_chart(
                [_bar(f, f.index.code) for f in item_figures],
                gettext("Chỉ số theo câu hỏi, yếu tố %(code)s", code=code),
                gettext("Thanh ngang: tỷ lệ hài lòng (%) từng câu; vạch đen: khoảng tin cậy 95%."),
                label_width=90,
                number=format_number,
            )
            for code, item_figures in view.items.items()
        },
    }
    total = sum(n for _, n in view.channels)
    out["channels"] = charts.bar_chart(
        [
            charts.Bar(str(CHANNEL_LABELS[c]), 100 * n / total, note=str(n))
            for c, n in view.channels
        ],
        gettext("Phiếu theo kênh"),
        gettext("Tỷ lệ (%) phiếu theo kênh khảo sát; số phiếu trong ngoặc."),
        label_width=160,
        width=480,
        number=format_number,
    )
    return out


def _published(
    unit: Unit, level: UnitLevel | None, query: Any, shown: list[Unit]
) -> dict[str, Any]:
    """The publication covering the page's level and period, and its rows of the units shown
    (the published figures, beside the live ones)."""
    found = publication.covering(get_session(), unit, level, query.period, query.stream)
    rows = publication.published_rows(found, scope(), shown) if found is not None else []
    return {"published": found, "published_level": level, "published_rows": rows}


@bp.get("/units/<code>")
def unit_dashboard(code: str) -> ResponseReturnValue:
    db = get_session()
    unit = get_visible_unit(db, scope(), code)
    query = dashboard_query()
    view = dashboards.unit_dashboard(
        db, unit, query, scope=scope(), timezone=current_app.config["TIMEZONE"]
    )
    locale = current_locale()
    return render_template(
        "dashboard/unit.html",
        view=view,
        unit=unit,
        query=query,
        qd766_months=qd766.unit_months(
            db, scope(), unit, query.period, timezone=current_app.config["TIMEZONE"], now=now()
        ),
        trail=ancestors(unit),
        children=[child for child in unit.children if scope().covers(child.id)],
        charts=unit_charts(view, locale),
        **_published(unit, unit.level, query, [unit]),
        **filter_choices(),
    )


@bp.get("/units/<code>/ranking")
def unit_ranking(code: str) -> ResponseReturnValue:
    db = get_session()
    unit = get_visible_unit(db, scope(), code)
    query = dashboard_query()
    sort = request.args.get("sort", "rank")
    level = unit.children[0].level if unit.children else None
    table = ranking.ranking(
        db, unit, query, scope=scope(), timezone=current_app.config["TIMEZONE"], sort=sort
    )
    dots = [
        charts.Dot(row.unit.name, row.funnel.n, 100 * row.funnel.share, row.funnel.position)
        for row in table.rows
        if row.funnel is not None
    ]
    funnel = (
        charts.funnel_chart(
            dots,
            table.centre,
            gettext("Biểu đồ phễu: chỉ số SIPAS theo số phiếu"),
            gettext(
                "Mỗi chấm là một đơn vị (trục ngang: số người trả lời, trục dọc: chỉ số %). "
                "Đường đỏ: mức chung; nét đứt: giới hạn 95%; nét liền: giới hạn 99,8%. "
                "Chấm ngoài giới hạn khác biệt thật sự so với mức chung."
            ),
            number=format_number,
        )
        if dots and table.centre is not None
        else None
    )
    return render_template(
        "dashboard/ranking.html",
        unit=unit,
        table=table,
        query=query,
        sort=sort,
        funnel=funnel,
        trail=ancestors(unit),
        **_published(unit, level, query, [row.unit for row in table.rows]),
        **filter_choices(),
    )


@bp.get("/units/<code>/tt01")
def unit_tt01(code: str) -> ResponseReturnValue:
    db = get_session()
    unit = get_visible_unit(db, scope(), code)
    query = dashboard_query()
    tables = tt01.tt01_tables(
        db,
        scope(),
        unit,
        query.period,
        min_ratings=current_app.config["TT01_MIN_RATINGS"],
        timezone=current_app.config["TIMEZONE"],
    )
    return render_template(
        "dashboard/tt01.html", unit=unit, query=query, tables=tables, trail=ancestors(unit)
    )


@bp.get("/units/<code>/qd766.csv")
def unit_qd766_csv(code: str) -> ResponseReturnValue:
    """The QĐ 766 satisfaction figures of the unit and of each unit below it, month by month."""
    db = get_session()
    unit = get_visible_unit(db, scope(), code)
    query = dashboard_query()
    rows = qd766.level_months(
        db, scope(), unit, query.period, timezone=current_app.config["TIMEZONE"], now=now()
    )
    body = writers.rows_csv(qd766.HEADER, [row.cells() for row in rows])
    response = FlaskResponse(body, mimetype="text/csv; charset=utf-8")
    name = f"qd766-{unit.code}-{query.period.label.replace('..', '_')}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response


@bp.get("/units/<code>/report.pdf")
def unit_report(code: str) -> ResponseReturnValue:
    db = get_session()
    unit = get_visible_unit(db, scope(), code)
    query = dashboard_query()
    figures = report.report_figures(
        db, scope(), unit, query, timezone=current_app.config["TIMEZONE"], now=now()
    )
    with force_locale("vi"):  # the official document is in Vietnamese, whoever prints it
        pdf = report_pdf.report_pdf(figures)
    name = f"bao-cao-khao-sat-{unit.code}-{query.period.label.replace('..', '_')}.pdf"
    response = FlaskResponse(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=name)
    return response

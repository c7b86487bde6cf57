"""Reading a page's filters from its query string (dashboards, the inbox, the API): the web layer
parses, services take plain values. A bad value is an InvalidInput naming the parameter."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from sqlalchemy.orm import Session

from surveyapp.models import CaseStatus, Channel, RespondentType, Stream, UnitLevel
from surveyapp.services.access import Scope, get_visible_unit
from surveyapp.services.errors import N_, InvalidInput
from surveyapp.services.feedback import cases
from surveyapp.services.org import catalogue, units
from surveyapp.services.periods import Period, parse_period
from surveyapp.services.reporting.counts import Attribution, Filters
from surveyapp.services.reporting.dashboards import Query
from surveyapp.services.validation import parse_id

Choice = TypeVar("Choice", Stream, Channel, RespondentType, Attribution)
Args = Mapping[str, str]


def _choice(args: Args, name: str, kind: type[Choice]) -> Choice | None:
    value = (args.get(name) or "").strip()
    if not value or value == "all":
        return None
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(
            N_("Giá trị '%(v)s' của %(name)s không hợp lệ."), field=name, v=value[:40], name=name
        ) from None


def report_query(session: Session, args: Args, default_period: str | None) -> Query:
    """Period, stream, filters and instrument of a report; without ``period`` the default is
    used, or (None) the parameter is required."""
    text = (args.get("period") or "").strip() or default_period
    if not text:
        raise InvalidInput(N_("Thiếu tham số period (YYYY, YYYY-Qn hoặc YYYY-MM)."), field="period")
    field_id = None
    field_code = (args.get("field") or "").strip()
    if field_code and field_code != "all":
        field_id = catalogue.find_field_id(session, field_code)
        if field_id is None:
            raise InvalidInput(
                N_("Không có lĩnh vực %(code)s."), field="field", code=field_code[:40]
            )
    return Query(
        parse_period(text[:40]),
        _choice(args, "stream", Stream),
        Filters(
            _choice(args, "channel", Channel),
            field_id,
            _choice(args, "respondent_type", RespondentType),
            attribution(args),
        ),
        (args.get("instrument") or "").strip()[:40] or None,
    )


def scores_query(args: Args) -> tuple[UnitLevel, Period, Stream | None]:
    """Level, period and stream of a scores request (stream: official unless ``all``)."""
    try:
        level = UnitLevel((args.get("level") or "").strip())
    except ValueError:
        raise InvalidInput(
            N_("Cần tham số level (province, department, centre, district hoặc commune)."),
            field="level",
        ) from None
    period = required_period(args)
    if (args.get("stream") or "").strip() == "all":
        return level, period, None
    return level, period, _choice(args, "stream", Stream) or Stream.OFFICIAL


def required_period(args: Args) -> Period:
    """The ``period`` parameter, which must be given."""
    text = (args.get("period") or "").strip()
    if not text:
        raise InvalidInput(N_("Thiếu tham số period (YYYY, YYYY-Qn hoặc YYYY-MM)."), field="period")
    return parse_period(text[:40])


def attribution(args: Args) -> Attribution:
    """Whom ratings and dossiers count for: the handling unit (default) or the receiving place."""
    return _choice(args, "attribution", Attribution) or Attribution.HANDLING


def inbox_filters(session: Session, scope: Scope, args: Args) -> cases.CaseFilters:
    """The inbox's filters; a unit outside the scope is NotFound, a bad value InvalidInput."""
    unit_ids = None
    if args.get("unit"):
        unit_ids = units.subtree_ids(session, get_visible_unit(session, scope, args["unit"][:40]))
    status = None
    if args.get("status") and args["status"] not in ("overdue", "open"):
        try:
            status = CaseStatus(args["status"])
        except ValueError:
            raise InvalidInput(N_("Trạng thái không hợp lệ."), field="status") from None
    assignee: int | str | None = None
    if args.get("assignee"):
        value = args["assignee"]
        assignee = value if value in ("me", "none") else parse_id(value)
        if assignee is None:
            raise InvalidInput(N_("Người được giao không hợp lệ."), field="assignee")
    sort = args.get("sort") or "newest"
    if sort not in cases.SORTS:
        raise InvalidInput(N_("Cách sắp xếp không hợp lệ."), field="sort")
    text = (args.get("q") or "").strip()
    if len(text) > 200:
        raise InvalidInput(N_("Từ khóa tìm kiếm dài tối đa 200 ký tự."), field="q")
    return cases.CaseFilters(
        unit_ids=unit_ids,
        status=status,
        overdue=args.get("status") == "overdue",
        open_only=args.get("status") == "open",
        escalated=args.get("escalated") == "1",
        assignee=assignee,
        period=parse_period(args["period"][:40]) if args.get("period") else None,
        element=(args.get("element") or "").strip()[:40] or None,
        text=text or None,
        flagged=args.get("flagged") == "1",
        sort=sort,
    )

"""Query strings read into report and inbox filters; every bad value names its parameter."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from surveyapp.models import CaseStatus, Channel, Stream
from surveyapp.query_args import inbox_filters, report_query
from surveyapp.services.access import SYSTEM
from surveyapp.services.errors import InvalidInput, NotFound
from surveyapp.services.reporting.counts import Attribution


def test_report_filters_reject_unknown_values(session: Session, world: dict) -> None:
    with pytest.raises(InvalidInput) as error:
        report_query(session, {"channel": "fax"}, "2026")
    assert error.value.params["name"] == "channel"
    with pytest.raises(InvalidInput):
        report_query(session, {"field": "NOPE"}, "2026")
    with pytest.raises(InvalidInput) as missing:
        report_query(session, {}, None)
    assert missing.value.field == "period"
    query = report_query(session, {"stream": "official", "channel": "qr"}, "2026-Q2")
    assert query.stream is Stream.OFFICIAL
    assert query.filters.channel is Channel.QR
    assert query.period.label == "2026-Q2"
    assert query.filters.attribution is Attribution.HANDLING
    by_place = report_query(session, {"attribution": "receiving"}, "2026")
    assert by_place.filters.attribution is Attribution.RECEIVING
    assert by_place.filters.any  # counted from the raw answers, joined to the dossiers


def test_inbox_filters(session: Session, world: dict) -> None:
    filters = inbox_filters(
        session, SYSTEM, {"unit": "P.D1", "status": "new", "assignee": "me", "flagged": "1"}
    )
    assert filters.status is CaseStatus.NEW
    assert filters.assignee == "me"
    assert filters.flagged
    assert set(filters.unit_ids or []) == {world["units"]["d1"].id, world["units"]["x"].id}
    assert inbox_filters(session, SYSTEM, {"status": "overdue"}).overdue
    with pytest.raises(NotFound):
        inbox_filters(session, SYSTEM, {"unit": "NOPE"})
    for bad in ({"status": "x"}, {"assignee": "²"}, {"sort": "x"}, {"q": "x" * 201}):
        with pytest.raises(InvalidInput):
            inbox_filters(session, SYSTEM, bad)

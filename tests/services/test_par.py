"""PAR tables: survey points from the indices, totals with appraisal points, ranks and bands."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from surveyapp.models import Role, UnitLevel
from surveyapp.services.access import Forbidden, scope_for
from surveyapp.services.errors import InvalidInput
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting.par import par_table, save_scheme
from tests.conftest import NOW
from tests.factories import RATING_CODES, build_world, make_counter, make_unit, submit_response

SCHEME = {
    "province_code": "P",
    "level": UnitLevel.DISTRICT,
    "year": 2026,
    "instrument_code": "COUNTER",
    "appraisal_max": Decimal(65),
    "criteria": [{"code": "SXH", "source": "SIPAS", "max_points": "35"}],
    "ranking_bands": [{"label": "A", "lower": "90"}, {"label": "B", "lower": "80"}],
    "decision": "QĐ thử nghiệm",
}


def test_par_table_by_hand(session: Session) -> None:
    world = build_world(session)
    d3 = make_unit(session, "P.D3", level=UnitLevel.DISTRICT, parent=world["units"]["p"])
    small = make_counter(session, d3)
    session.commit()
    everything_5 = dict.fromkeys(RATING_CODES, 5) | {"OVR": 5}
    access_low = everything_5 | dict.fromkeys(["S15", "S16", "S17", "S18"], 2)
    for _ in range(100):
        submit_response(session, world["counters"]["P.D1"], everything_5)
        submit_response(session, world["counters"]["P.D2"], access_low)
    for _ in range(5):
        submit_response(session, small, everything_5)
    scope = scope_for(session, world["users"]["par"])
    scheme = save_scheme(session, scope, now=NOW, **SCHEME)
    session.commit()
    rows = {
        r.unit.code: r
        for r in par_table(
            session,
            scheme,
            parse_period("2026"),
            {"P.D1": Decimal("50"), "P.D2": Decimal("60"), "P.D3": Decimal("64")},
            stream=None,
            timezone="Asia/Ho_Chi_Minh",
        )
    }
    d1, d2, d3_row = rows["P.D1"], rows["P.D2"], rows["P.D3"]
    # D1: SIPAS 100 → 35 × 100 / 100 = 35.00; total 85.00.
    assert d1.index.percent() == Decimal("100.00")
    assert d1.survey_points == Decimal("35.00")
    assert d1.total == Decimal("85.00")
    # D2: access element 0%, the other four 100% → SIPAS 80 → 28.00; total 88.00.
    assert d2.index.percent() == Decimal("80.00")
    assert d2.survey_points == Decimal("28.00")
    assert d2.total == Decimal("88.00")
    assert (d2.rank, d1.rank) == (1, 2)
    assert (d1.band, d2.band) == ("B", "B")
    assert d1.respondents == 100
    # D3: 5 answers only: hidden and never ranked, whatever its points.
    assert d3_row.verdict.hidden
    assert d3_row.rank is None


def test_scheme_is_validated_and_permissioned(session: Session) -> None:
    world = build_world(session)
    par = scope_for(session, world["users"]["par"])
    with pytest.raises(InvalidInput, match="cộng lại bằng 100"):
        save_scheme(session, par, now=NOW, **(SCHEME | {"appraisal_max": Decimal(70)}))
    with pytest.raises(InvalidInput):
        save_scheme(
            session,
            par,
            now=NOW,
            **(SCHEME | {"criteria": [{"code": "X", "max_points": "35", "method": "banded"}]}),
        )
    with pytest.raises(Forbidden):
        save_scheme(session, scope_for(session, world["users"]["manager"]), now=NOW, **SCHEME)
    # Saving again replaces the settings of that province, level and year.
    first = save_scheme(session, par, now=NOW, **SCHEME)
    second = save_scheme(session, par, now=NOW, **(SCHEME | {"decision": "QĐ mới"}))
    assert first.id == second.id
    assert second.decision == "QĐ mới"
    assert Role.PAR_OFFICE.value == "par_office"

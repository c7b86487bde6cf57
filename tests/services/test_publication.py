"""Published results: a level's scores frozen, later data shown as changes, re-publication as
the next version with its reason, the year's PAR settings read-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import AuditEntry, ParScheme, Stream, UnitLevel
from surveyapp.services.access import Forbidden, scope_for
from surveyapp.services.errors import Conflict, InvalidInput
from surveyapp.services.par import publication
from surveyapp.services.periods import parse_period
from tests.conftest import NOW
from tests.factories import (
    PAR_SCHEME,
    RATING_CODES,
    build_world,
    make_par_scheme,
    submit_response,
)

TZ = "Asia/Ho_Chi_Minh"
YEAR = parse_period("2026")
GOOD = dict.fromkeys(RATING_CODES, 5) | {"OVR": 5}
# The officials element (S23–S27) unsatisfied: SIPAS = (1 + 1 + 0 + 1 + 1) / 5 = 80 %.
MIXED = GOOD | dict.fromkeys(["S23", "S24", "S25", "S26", "S27"], 3)


@pytest.fixture
def province(session: Session) -> dict:
    world = build_world(session)
    for _ in range(60):
        submit_response(session, world["counters"]["P.D1"], GOOD)
        submit_response(session, world["counters"]["P.D2"], MIXED)
    make_par_scheme(session)
    return world


def publish(session: Session, world: dict, reason: str = "", **extra: object) -> object:
    return publication.publish(
        session,
        scope_for(session, world["users"]["par"]),
        province_code="P",
        level=UnitLevel.DISTRICT,
        period=YEAR,
        stream=None,
        reason=reason,
        timezone=TZ,
        now=NOW,
        **extra,
    )


def file_of(session: Session, world: dict, appraisal: dict | None = None) -> object:
    return publication.scores_file(
        session,
        scope=scope_for(session, world["users"]["par"]),
        parent=world["units"]["p"],
        level=UnitLevel.DISTRICT,
        period=YEAR,
        appraisal=appraisal,
        generated_at=NOW,
        timezone=TZ,
        stream=None,
    )


def rows_of(export: object) -> dict[str, dict]:
    header = export.scores.header
    return {r[0]: dict(zip(header, r, strict=True)) for r in export.scores.rows}


def test_published_figures_stay_and_later_data_shows_as_changes(
    session: Session, province: dict
) -> None:
    first = publish(session, province)
    session.commit()
    assert first.version == 1
    assert session.scalar(select(ParScheme.published_at)) == NOW  # the settings are now fixed
    # Late ratings at D2, all satisfied: live SIPAS (80 + 100) / 2 = 90 %, n = 120.
    for _ in range(60):
        submit_response(session, province["counters"]["P.D2"], GOOD)
    export = file_of(session, province)
    rows = rows_of(export)
    assert (rows["P.D2"]["n"], rows["P.D2"]["sipas"]) == (60, Decimal("80.00"))  # as published
    assert rows["P.D2"]["survey_points"] == Decimal("28.00")  # 35 × 80 / 100
    meta = dict(export.meta)
    assert meta["Số liệu / Figures"].startswith("đã công bố, phiên bản 1")
    changed = {(c[0], c[1]): (c[2], c[3]) for c in export.changes.rows}
    assert changed[("P.D2", "n")] == (60, 120)
    assert changed[("P.D2", "sipas")] == (Decimal("80.00"), Decimal("90.00"))
    assert changed[("P.D2", "survey_points")] == (Decimal("28.00"), Decimal("31.50"))
    assert not any(code == "P.D1" for code, _ in changed)
    # Appraisal points add to the published survey points: D1 50.5 + 35 = 85.50, D2 61 + 28
    # = 89.00, so D2 ranks first; both at least 85: "Tốt".
    totals = rows_of(file_of(session, province, {"P.D1": Decimal("50.5"), "P.D2": Decimal(61)}))
    assert (totals["P.D1"]["total_points"], totals["P.D2"]["total_points"]) == (
        Decimal("85.50"),
        Decimal("89.00"),
    )
    assert (totals["P.D2"]["rank"], totals["P.D1"]["rank"]) == (1, 2)
    assert totals["P.D2"]["band"] == "Tốt"


def test_publishing_again_needs_a_reason_and_makes_the_next_version(
    session: Session, province: dict
) -> None:
    publish(session, province)
    for _ in range(60):
        submit_response(session, province["counters"]["P.D2"], GOOD)
    with pytest.raises(InvalidInput, match="công bố lại cần ghi lý do"):
        publish(session, province)
    second = publish(session, province, reason="Nhập bổ sung phiếu giấy của P.D2")
    session.commit()
    assert second.version == 2
    export = file_of(session, province)
    assert rows_of(export)["P.D2"]["n"] == 120
    assert export.changes.rows == []
    trail = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "par.publish"))
    assert list(trail) == ["P/district/2026/all/v1", "P/district/2026/all/v2"]
    # The year's settings cannot change any more.
    from surveyapp.services.par import settings

    with pytest.raises(Conflict):
        settings.save_scheme(session, scope_for(session, province["users"]["par"]), PAR_SCHEME, NOW)


def test_what_cannot_be_published(session: Session, province: dict) -> None:
    with pytest.raises(InvalidInput, match="Không đơn vị nào có phiếu"):
        publication.publish(
            session,
            scope_for(session, province["users"]["par"]),
            province_code="P",
            level=UnitLevel.DISTRICT,
            period=YEAR,
            stream=Stream.OFFICIAL,  # every answer here is general
            reason="",
            timezone=TZ,
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="không phải là một tỉnh"):
        publication.publish(
            session,
            scope_for(session, province["users"]["par"]),
            province_code="P.D1",
            level=UnitLevel.COMMUNE,
            period=YEAR,
            stream=None,
            reason="",
            timezone=TZ,
            now=NOW,
        )
    with pytest.raises(Forbidden):
        publication.publish(
            session,
            scope_for(session, province["users"]["manager"]),
            province_code="P",
            level=UnitLevel.DISTRICT,
            period=YEAR,
            stream=None,
            reason="",
            timezone=TZ,
            now=NOW,
        )

"""Unit lineage: communes merged into a ward on 1 July 2026. The ward's figures pool the
communes' answers, counters, officials and open cases move with the merge, the communes leave
their level's lists for later periods, exports carry the old codes."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Case, CaseStatus, Counter, Role, Unit, UnitLevel, User
from surveyapp.services.access import SYSTEM, Forbidden, scope_for
from surveyapp.services.collection.tables import open_table
from surveyapp.services.errors import Conflict, InvalidInput
from surveyapp.services.exports import scores
from surveyapp.services.org import lineage
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting import dashboards, ranking
from tests.conftest import NOW, signed_in
from tests.factories import (
    build_world,
    full_answers,
    make_counter,
    make_unit,
    make_user,
    submit_response,
)

TZ = "Asia/Ho_Chi_Minh"
MERGED_ON = date(2026, 7, 1)


@pytest.fixture
def map_2026(session: Session) -> dict[str, Any]:
    world = build_world(session)
    d1 = world["units"]["d1"]
    a = make_unit(session, "P.D1.A", level=UnitLevel.COMMUNE, parent=d1)
    b = make_unit(session, "P.D1.B", level=UnitLevel.COMMUNE, parent=d1)
    ward = make_unit(session, "P.W", level=UnitLevel.COMMUNE, parent=world["units"]["p"])
    counter_a, counter_b = make_counter(session, a), make_counter(session, b)
    make_user(session, "xa.a@x.vn", Role.COUNTER_STAFF, a)
    session.commit()
    # June (before the merge): two answers at A (one with a comment: an open case), one at B.
    submit_response(session, counter_a, full_answers(5), comment="Chờ lâu quá")
    submit_response(session, counter_a, full_answers(5))
    submit_response(session, counter_b, full_answers(2))
    return {**world, "a": a, "b": b, "ward": ward, "counter_a": counter_a}


def merge(session: Session, world: dict, old: str) -> None:
    lineage.link(
        session,
        scope_for(session, world["users"]["par"]),
        old_code=old,
        new_code="P.W",
        kind="merge",
        effective_on=MERGED_ON,
        now=NOW,
    )


def n_of(session: Session, unit: Unit, period: str) -> int:
    query = dashboards.Query(parse_period(period))
    return dashboards.unit_dashboard(session, unit, query, scope=SYSTEM, timezone=TZ).sipas.n


def test_a_merge_pools_history_and_moves_what_is_open(session: Session, map_2026: dict) -> None:
    ward = map_2026["ward"]
    assert n_of(session, ward, "2026-06") == 0
    merge(session, map_2026, "P.D1.A")
    merge(session, map_2026, "P.D1.B")
    session.commit()
    # Before it existed, the ward's figure pools A's and B's answers: n = 2 + 1.
    assert n_of(session, ward, "2026-06") == 3
    # What was A's now is the ward's: its counter, its official, its open case.
    session.expire_all()
    counter = session.get(Counter, map_2026["counter_a"].id)
    assert counter.unit.code == "P.W"
    assert session.scalar(select(User.unit_id).where(User.email == "xa.a@x.vn")) == ward.id
    cases = list(session.scalars(select(Case)))  # A's comment, B's low rating
    assert cases
    assert all((c.unit_id, c.status) == (ward.id, CaseStatus.NEW) for c in cases)
    assert not session.get(Unit, map_2026["a"].id).is_active
    # August: an answer at the moved counter is the ward's own.
    submit_response(session, counter, full_answers(5), now=NOW + timedelta(days=60))
    assert n_of(session, ward, "2026-08") == 1
    assert n_of(session, ward, "2026") == 4
    # The communes leave D1's ranking for periods after the merge, not before.
    d1 = map_2026["units"]["d1"]

    def children(period: str) -> list[str]:
        query = dashboards.Query(parse_period(period))
        table = ranking.ranking(session, d1, query, scope=SYSTEM, timezone=TZ)
        return [row.unit.code for row in table.rows]

    assert {"P.D1.A", "P.D1.B"} <= set(children("2026-06"))
    assert not {"P.D1.A", "P.D1.B"} & set(children("2026-08"))
    # The communes' scores file of the year: the ward with its former codes, no A or B.
    export = scores.scores_export(
        session,
        scope=SYSTEM,
        parent=map_2026["units"]["p"],
        level=UnitLevel.COMMUNE,
        period=parse_period("2026-08"),
        appraisal=None,
        generated_at=NOW,
        timezone=TZ,
        stream=None,
    )
    header = export.scores.header
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in export.scores.rows}
    assert "P.D1.A" not in rows
    assert rows["P.W"]["former_codes"] == "P.D1.A;P.D1.B"
    assert rows["P.W"]["n"] == 1


def test_lineage_refuses_what_cannot_be(session: Session, map_2026: dict) -> None:
    par = scope_for(session, map_2026["users"]["par"])

    def link(old: str, new: str, kind: str = "merge") -> None:
        lineage.link(
            session, par, old_code=old, new_code=new, kind=kind, effective_on=MERGED_ON, now=NOW
        )

    with pytest.raises(InvalidInput, match="merge, split hoặc rename"):
        link("P.D1.A", "P.W", "absorb")
    with pytest.raises(InvalidInput, match="phải khác nhau"):
        link("P.W", "P.W")
    with pytest.raises(InvalidInput, match="không thể kế thừa chính cấp trên"):
        link("P.D1", "P.D1.A")
    link("P.D1.A", "P.W")
    with pytest.raises(Conflict, match="đã có quan hệ kế thừa"):
        link("P.W", "P.D1.A")
    manager = scope_for(session, map_2026["users"]["manager"])
    with pytest.raises(Forbidden):
        lineage.link(
            session,
            manager,
            old_code="P.D1.B",
            new_code="P.W",
            kind="merge",
            effective_on=MERGED_ON,
            now=NOW,
        )


def test_a_split_gives_each_successor_the_history_and_moves_nothing(
    session: Session, map_2026: dict
) -> None:
    c1 = make_unit(session, "P.C1", level=UnitLevel.COMMUNE, parent=map_2026["units"]["p"])
    c2 = make_unit(session, "P.C2", level=UnitLevel.COMMUNE, parent=map_2026["units"]["p"])
    for successor in ("P.C1", "P.C2"):
        lineage.link(
            session,
            SYSTEM,
            old_code="P.D1.A",
            new_code=successor,
            kind="split",
            effective_on=MERGED_ON,
            now=NOW,
        )
    session.commit()
    assert (n_of(session, c1, "2026-06"), n_of(session, c2, "2026-06")) == (2, 2)
    assert session.get(Counter, map_2026["counter_a"].id).unit_id == map_2026["a"].id


def test_a_lineage_file_is_all_or_nothing(session: Session, map_2026: dict, tmp_path: Any) -> None:
    path = tmp_path / "sap-nhap.csv"
    path.write_text(
        "old_code,new_code,effective_date,kind\n"
        "P.D1.A,P.W,2026-07-01,merge\n"
        "P.D1.B,P.W,1/7/2026,merge\n",
        encoding="utf-8",
    )
    result = lineage.load_lineage(session, SYSTEM, open_table(path), NOW)
    assert [str(e) for e in result.errors] == [
        "dòng 3: ngày hiệu lực '1/7/2026' phải có dạng YYYY-MM-DD"
    ]
    session.rollback()
    assert lineage.history(session, SYSTEM) == []
    path.write_text(path.read_text().replace("1/7/2026", "2026-07-01"), encoding="utf-8")
    result = lineage.load_lineage(session, SYSTEM, open_table(path), NOW)
    assert (result.ok, result.added) == (True, 2)
    assert lineage.former_codes(session, [map_2026["ward"]])[map_2026["ward"].id] == [
        "P.D1.A",
        "P.D1.B",
    ]


def test_the_lineage_page_and_command(
    app: Any, session: Session, map_2026: dict, tmp_path: Any
) -> None:
    par = signed_in(app, "par@x.vn")

    def post(kind: str, olds: str, news: str, day: str = "2026-07-01") -> Any:
        return par.client.post(
            "/dashboard/lineage",
            data={
                "change-csrf_token": par.csrf("/dashboard/lineage"),
                "change-kind": kind,
                "change-old_codes": olds,
                "change-new_codes": news,
                "change-effective_on": day,
            },
        )

    wrong = post("merge", "P.D1.A, P.D1.B", "P.W, P.D2")
    assert wrong.status_code == 422
    assert "Sáp nhập: nhiều mã cũ, một mã mới" in wrong.get_data(as_text=True)
    missing = post("merge", "P.D1.A, P.NOPE", "P.W")
    assert missing.status_code == 404
    assert lineage.history(session, SYSTEM) == []  # nothing half-stored
    assert post("merge", "P.D1.A, P.D1.B", "P.W").status_code == 303
    page = par.client.get("/dashboard/lineage").get_data(as_text=True)
    assert page.count("Sáp nhập</td>") == 2
    assert n_of(session, map_2026["ward"], "2026-06") == 3
    # The command line: a bad row stores nothing and names the line.
    path = tmp_path / "doi-ten.csv"
    path.write_text("old_code,new_code,effective_date,kind\nP.D2,P.D1,2026-07-01,absorb\n")
    refused = app.test_cli_runner().invoke(args=["load-lineage", str(path)])
    assert refused.exit_code == 1
    assert "dòng 2: Loại thay đổi phải là merge, split hoặc rename" in refused.output
    manager = signed_in(app, "manager@x.vn")
    assert manager.client.get("/dashboard/lineage").status_code == 403

"""The unit tree: paths follow moves of whole subtrees; cycles are refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Unit, UnitLevel
from surveyapp.services.access import SYSTEM
from surveyapp.services.errors import InvalidInput
from surveyapp.services.org.units import save_unit, subtree_ids


def test_moving_a_unit_moves_its_subtree(session: Session) -> None:
    p = save_unit(session, SYSTEM, "P", "Tỉnh", UnitLevel.PROVINCE)
    a = save_unit(session, SYSTEM, "A", "Huyện A", UnitLevel.DISTRICT, p)
    b = save_unit(session, SYSTEM, "B", "Huyện B", UnitLevel.DISTRICT, p)
    x = save_unit(session, SYSTEM, "X", "Xã X", UnitLevel.COMMUNE, a)
    session.commit()
    save_unit(session, SYSTEM, "A", "Huyện A", UnitLevel.DISTRICT, b)  # A (with X) moves under B
    session.commit()
    paths = {u.code: u.path for u in session.scalars(select(Unit))}
    assert paths["A"] == f"/{p.id}/{b.id}/{a.id}/"
    assert paths["X"] == f"/{p.id}/{b.id}/{a.id}/{x.id}/"
    b = session.scalars(select(Unit).where(Unit.code == "B")).one()
    assert sorted(subtree_ids(session, b)) == sorted([b.id, a.id, x.id])


def test_a_unit_cannot_move_below_itself(session: Session) -> None:
    p = save_unit(session, SYSTEM, "P", "Tỉnh", UnitLevel.PROVINCE)
    a = save_unit(session, SYSTEM, "A", "Huyện A", UnitLevel.DISTRICT, p)
    x = save_unit(session, SYSTEM, "X", "Xã X", UnitLevel.COMMUNE, a)
    session.commit()
    with pytest.raises(InvalidInput):
        save_unit(session, SYSTEM, "A", "Huyện A", UnitLevel.DISTRICT, x)
    with pytest.raises(InvalidInput):
        save_unit(session, SYSTEM, "A", "Huyện A", UnitLevel.DISTRICT, a)

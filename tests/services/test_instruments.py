"""Instrument definitions: validated with every problem listed, published once, immutable."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from surveyapp.models import Instrument, Item, ItemKind
from surveyapp.models.instrument import PublishedInstrumentError
from surveyapp.services.errors import Conflict, DefinitionError
from surveyapp.services.instruments import (
    get_instrument,
    load_builtin_instruments,
    parse_definition,
    publish_instrument,
    validate_definition,
)
from tests.conftest import NOW

MINIMAL = {
    "code": "TINH",
    "version": 1,
    "name": {"vi": "Phiếu của tỉnh", "en": "Province form"},
    "scale": {
        "min": 1,
        "max": 3,
        "satisfied": [3],
        "labels": {"vi": ["Không hài lòng", "Bình thường", "Hài lòng"]},
    },
    "domains": [
        {
            "code": "D",
            "name": {"vi": "Dịch vụ"},
            "elements": [
                {
                    "code": "E",
                    "name": {"vi": "Cán bộ"},
                    "items": [{"code": "I1", "text": "Lịch sự"}],
                }
            ],
        }
    ],
}


def test_counter_instrument_has_the_services_domain(session: Session) -> None:
    (instrument,) = load_builtin_instruments(session, NOW)
    session.commit()
    loaded = get_instrument(session, "COUNTER")
    codes = [i.code for i in loaded.items]
    assert [c for c in codes if c.startswith("S")] == [f"S{i}" for i in range(15, 34)]
    assert "OVR" in codes
    assert [c for c in codes if c.startswith("E0")] == [f"E0{i}" for i in range(1, 10)]
    elements = [e.code for d in loaded.domains for e in d.elements]
    assert elements == ["TC", "TT", "CC", "KQ", "PA"]
    sizes = [len(e.items) for d in loaded.domains for e in d.elements]
    assert sizes == [4, 4, 5, 3, 3]
    assert loaded.scale["satisfied"] == [4, 5]
    assert loaded.scale["missing"] == [0]
    assert loaded.scale_label(5, "vi") == "Rất hài lòng"
    assert loaded.scale_label(0, "en") == "Don't know / No answer"
    assert instrument.id == loaded.id


def test_loading_twice_is_a_no_op(session: Session) -> None:
    load_builtin_instruments(session, NOW)
    load_builtin_instruments(session, NOW)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Instrument)) == 1


def test_same_version_with_other_content_is_refused(session: Session) -> None:
    publish_instrument(session, MINIMAL, NOW)
    changed = copy.deepcopy(MINIMAL)
    changed["domains"][0]["elements"][0]["items"][0]["text"] = "Nhiệt tình"
    with pytest.raises(Conflict, match="tăng số phiên bản"):
        publish_instrument(session, changed, NOW)
    changed["version"] = 2
    assert publish_instrument(session, changed, NOW).version == 2


def test_every_problem_is_reported() -> None:
    bad = copy.deepcopy(MINIMAL)
    bad["version"] = 0
    bad["scale"]["satisfied"] = [4]
    bad["scale"]["labels"]["vi"] = ["a", "b"]
    bad["aggregation"] = {"element": "median"}
    bad["domains"][0]["elements"][0]["items"].append({"code": "I1", "text": {"en": "no vi"}})
    bad["colour"] = "red"
    with pytest.raises(DefinitionError) as caught:
        validate_definition(bad)
    text = "\n".join(caught.value.problems)
    for fragment in (
        "version",
        "mức 4 nằm ngoài thang 1–3",
        "cần đúng 3 nhãn",
        "aggregation.element",
        "mã 'I1' bị trùng",
        "tiếng Việt",
        "colour",
    ):
        assert fragment in text
    assert len(caught.value.problems) == 7


def test_unparseable_file_gets_a_message() -> None:
    with pytest.raises(DefinitionError, match="Không đọc được tệp"):
        parse_definition("code: [unclosed")
    with pytest.raises(DefinitionError, match="mapping"):
        parse_definition("- just\n- a list\n")


def test_published_instrument_cannot_change(session: Session) -> None:
    instrument = publish_instrument(session, MINIMAL, NOW)
    session.commit()
    item = session.scalars(select(Item).where(Item.instrument_id == instrument.id)).one()
    item.text = {"vi": "sửa lén"}
    with pytest.raises(PublishedInstrumentError):
        session.flush()
    session.rollback()
    instrument.items.append(
        Item(
            code="X", position=99, kind=ItemKind.RATING, section="satisfaction", text={"vi": "thêm"}
        )
    )
    with pytest.raises(PublishedInstrumentError):
        session.flush()

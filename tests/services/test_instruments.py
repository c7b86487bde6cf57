"""Instrument definitions: validated with every problem listed, published once, immutable."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from surveyapp.models import Instrument, Item, ItemKind
from surveyapp.models.instrument import PublishedInstrumentError
from surveyapp.services.errors import Conflict, DefinitionError
from surveyapp.services.instruments.definitions import parse_definition, validate_definition
from surveyapp.services.instruments.publishing import (
    get_instrument,
    load_builtin_instruments,
    publish_instrument,
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
    instrument = next(i for i in load_builtin_instruments(session, NOW) if i.code == "COUNTER")
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


def test_builtin_instruments_have_the_official_structure(session: Session) -> None:
    instruments = {i.code: i for i in load_builtin_instruments(session, NOW)}
    session.commit()

    def rated(code: str) -> list[str]:
        return [i.code for i in instruments[code].items if i.element_id is not None]

    assert rated("SIPAS2023") == [f"P{i:02d}" for i in range(1, 15)] + [
        f"S{i}" for i in range(15, 34)
    ]
    sipas = instruments["SIPAS2023"]
    assert [d.code for d in sipas.domains] == ["CS", "DV"]
    assert [len(e.items) for d in sipas.domains for e in d.elements] == [2, 2, 8, 2, 4, 4, 5, 3, 3]
    profile = {i.code for i in sipas.items if i.section == "profile"}
    assert {"SEX", "AGE", "ETH", "EDU", "JOB", "AREA"} <= profile
    assert {f"Q{n}" for n in range(2, 8)} <= {i.code for i in sipas.items}
    assert len([i for i in sipas.items if i.section == "priority"]) == 9
    assert rated("SIPAS2017") == [f"C{i:02d}" for i in range(1, 23)]
    assert [len(e.items) for d in instruments["SIPAS2017"].domains for e in d.elements] == [
        4,
        5,
        6,
        3,
        4,
    ]
    tt01 = instruments["TT01"]
    by_domain = {d.code: [i.code for e in d.elements for i in e.items] for d in tt01.domains}
    assert by_domain == {"CB": ["T1", "T2", "T3", "T4", "T7"], "CQ": ["T5", "T6", "T8", "T9"]}
    assert tt01.scale_levels() == [0, 1, 2]
    assert tt01.missing_levels() == [9]
    hl3 = next(i for i in tt01.items if i.code == "HL3")
    assert [o["value"] for o in hl3.options if o.get("satisfied")] == [2, 3]


def test_loading_twice_is_a_no_op(session: Session) -> None:
    load_builtin_instruments(session, NOW)
    load_builtin_instruments(session, NOW)
    session.commit()
    codes = session.scalars(select(Instrument.code).order_by(Instrument.code)).all()
    assert codes == ["COUNTER", "SIPAS2017", "SIPAS2023", "TT01"]


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


def test_unquoted_comma_in_yaml_flow_text_is_explained() -> None:
    data = parse_definition("code: X\nversion: 1\nname: {vi: Phiếu, dễ hiểu, en: Form}\n")
    with pytest.raises(DefinitionError) as caught:
        validate_definition(data)
    assert any("ngoặc kép" in p for p in caught.value.problems)


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

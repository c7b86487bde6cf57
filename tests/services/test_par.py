"""PAR tables: survey points from the indices, totals with appraisal points, ranks and bands."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import criterion_points
from surveyapp.models import AuditEntry, ParScheme, UnitLevel
from surveyapp.services.access import Forbidden, Scope, scope_for
from surveyapp.services.errors import Conflict, InvalidInput, NotFound
from surveyapp.services.par import settings
from surveyapp.services.periods import parse_period
from surveyapp.services.reporting.par import par_table, parse_criteria
from tests.conftest import NOW
from tests.factories import (
    PAR_SCHEME,
    RATING_CODES,
    build_world,
    make_counter,
    make_unit,
    submit_response,
)

SCHEME = PAR_SCHEME | {
    "ranking_bands": [
        {"label": "A", "lower": 90},
        {"label": "B", "lower": 80},
        {"label": "C", "lower": 0},
    ]
}


def save(session: Session, scope: Scope, **changes: object) -> ParScheme:
    return settings.save_scheme(session, scope, SCHEME | changes, NOW)[0]


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
    scheme = save(session, scope)
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
        save(session, par, appraisal_max=70)
    with pytest.raises(Forbidden):
        save(session, scope_for(session, world["users"]["manager"]))
    with pytest.raises(NotFound):
        save(session, par, province="NOPE")
    # Saving again replaces the settings of that province, level and year, audited each time.
    first = save(session, par)
    second = save(session, par, decision="QĐ mới")
    assert first.id == second.id
    assert second.decision == "QĐ mới"
    trail = session.scalars(select(AuditEntry).where(AuditEntry.action == "par.scheme")).all()
    assert [e.entity_id for e in trail] == ["P/district/2026", "P/district/2026"]
    assert trail[1].before["decision"] == "QĐ thử nghiệm"
    assert trail[1].after["decision"] == "QĐ mới"


BANDED = {
    "code": "SXH",
    "source": "SIPAS",
    "max_points": 35,
    "method": "banded",
    "bands": [
        {"lower": 0, "upper": 50, "points": 0},
        {"lower": 50, "upper": 80, "points": 20},
        {"lower": 80, "points": 35},
    ],
}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"criteria": [BANDED | {"bands": BANDED["bands"][1:]}]},
            "khung đầu tiên phải bắt đầu từ 0",
        ),
        (
            {"criteria": [BANDED | {"bands": [BANDED["bands"][0], BANDED["bands"][2]]}]},
            "khung từ 0 phải kết thúc ở 80",
        ),
        (
            {
                "criteria": [
                    BANDED
                    | {"bands": [*BANDED["bands"][:2], {"lower": 80, "upper": 95, "points": 35}]}
                ]
            },
            "khung cuối phải lên tới 100",
        ),
        (
            {"criteria": [BANDED | {"bands": [*BANDED["bands"][:2], {"lower": 80, "points": 40}]}]},
            "cho 40 điểm, quá tối đa 35",
        ),
        ({"criteria": [BANDED | {"bands": []}]}, "cần ít nhất một khung"),
        (
            {"criteria": [{"code": "SXH", "max_points": 35, "method": "stepwise"}]},
            "criteria[1].method phải là một trong",
        ),
        (
            {"criteria": [{"code": "SXH", "max_points": "ba mươi"}]},
            "criteria[1].max_points phải là một số",
        ),
        (
            {"criteria": [{"code": "SXH", "source": "XX", "max_points": 35}]},
            "Phiếu COUNTER không có chỉ số XX",
        ),
        (
            {"criteria": [{"code": "A", "max_points": 20}, {"code": "A", "max_points": 15}]},
            "tiêu chí A lặp lại",
        ),
        (
            {"ranking_bands": [{"label": "A", "lower": 90}]},
            "khung xếp loại thấp nhất phải bắt đầu từ 0",
        ),
        ({"level": "hamlet"}, "level phải là một trong"),
        ({"year": 1999}, "year phải từ 2000 trở lên"),
        ({"colour": "red"}, "không có trường colour"),
    ],
)
def test_bad_settings_name_every_problem(
    session: Session, world: dict, changes: dict, message: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        save(session, scope_for(session, world["users"]["par"]), **changes)
    assert message in error.value.render()
    assert session.scalar(select(func.count()).select_from(ParScheme)) == 0


def test_banded_settings_convert_by_their_bands(session: Session, world: dict) -> None:
    scheme = save(session, scope_for(session, world["users"]["par"]), criteria=[BANDED])
    (criterion,) = parse_criteria(scheme.criteria)
    assert [criterion_points(criterion, v) for v in (0, 49.99, 50, 79.99, 80, 100)] == [
        Decimal(0),
        Decimal(0),
        Decimal(20),
        Decimal(20),
        Decimal(35),
        Decimal(35),
    ]


def test_a_year_is_copied_forward_and_a_published_year_is_read_only(
    session: Session, world: dict
) -> None:
    par = scope_for(session, world["users"]["par"])
    scheme = save(session, par, criteria=[BANDED])
    copy = settings.copy_to_next_year(session, par, scheme.id, NOW)
    assert (copy.year, copy.criteria, copy.ranking_bands) == (
        2027,
        scheme.criteria,
        scheme.ranking_bands,
    )
    with pytest.raises(Conflict, match="Năm 2027 đã có cấu hình"):
        settings.copy_to_next_year(session, par, scheme.id, NOW)
    scheme.published_at = NOW
    with pytest.raises(Conflict, match="đã dùng cho kết quả công bố"):
        save(session, par, decision="sửa sau công bố")
    assert settings.as_mapping(scheme)["decision"] == "QĐ thử nghiệm"


def test_a_file_holds_several_schemes_and_loads_all_or_none(session: Session, world: dict) -> None:
    par = scope_for(session, world["users"]["par"])
    text = yaml.safe_dump(
        {
            "schemes": [
                SCHEME,
                SCHEME
                | {
                    "level": "commune",
                    "appraisal_max": 70,
                    "criteria": [{"code": "SXH", "max_points": 30}],
                },
            ]
        },
        allow_unicode=True,
    )
    loaded = settings.load_schemes(session, par, text, NOW)
    assert [(x.scheme.level.value, x.created) for x in loaded] == [
        ("district", True),
        ("commune", True),
    ]
    bad = yaml.safe_dump([SCHEME | {"year": 2030}, SCHEME | {"year": 2031, "appraisal_max": 10}])
    with pytest.raises(InvalidInput, match="Cấu hình thứ 2: .*cộng lại bằng 100"):
        settings.load_schemes(session, par, bad, NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ParScheme)) == 0  # nothing kept
    for broken, message in [
        ("a: [1, 2", "dòng"),
        ("- 1\n- 2\n", "dạng khóa–giá trị"),
        ("", "dạng khóa–giá trị"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            settings.load_schemes(session, par, broken, NOW)
    # The stored shape reads back as the same file.
    again = settings.read_scheme(
        yaml.safe_load(settings.to_yaml(settings.as_mapping(loaded[0].scheme)))
    )
    assert again == settings.read_scheme(SCHEME)


def test_load_par_scheme_from_the_command_line(runner: Any, world: dict, tmp_path: Any) -> None:
    good = tmp_path / "cchc-2026.yaml"
    good.write_text(yaml.safe_dump(SCHEME, allow_unicode=True), encoding="utf-8")
    loaded = runner.invoke(args=["load-par-scheme", str(good)])
    assert loaded.exit_code == 0, loaded.output
    assert "Đã tạo cấu hình P cấp district năm 2026 (QĐ thử nghiệm)." in loaded.output
    again = runner.invoke(args=["load-par-scheme", str(good)])
    assert "Đã cập nhật cấu hình P cấp district năm 2026" in again.output
    as_json = tmp_path / "cchc.json"
    as_json.write_text(json.dumps(SCHEME | {"year": 2027, "appraisal_max": 50}), encoding="utf-8")
    refused = runner.invoke(args=["load-par-scheme", str(as_json)])
    assert refused.exit_code == 1
    assert "Cấu hình thứ 1: " in refused.output
    assert "điểm thẩm định (50) và điểm điều tra (35) phải cộng lại bằng 100" in refused.output
    assert "không nạp cấu hình nào" in refused.output


def test_the_readme_example_is_a_sound_scheme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## PAR settings") :]
    example = section[
        section.index("```yaml") + 7 : section.index("```", section.index("```yaml") + 7)
    ]
    scheme = settings.read_scheme(yaml.safe_load(example))
    assert scheme.appraisal_max + sum(c.max_points for c in scheme.criteria) == 100


def test_service_centres_are_a_level_of_their_own(session: Session, world: dict) -> None:
    """A Public Administration Service Centre is registered as one, and scored as one."""
    centre = make_unit(session, "P.TTPV", level=UnitLevel.CENTRE, parent=world["units"]["p"])
    session.commit()
    assert centre.level is UnitLevel.CENTRE
    scheme = save(session, scope_for(session, world["users"]["par"]), level="centre")
    assert scheme.level is UnitLevel.CENTRE

"""A province's PAR-index settings (cấu hình điểm Chỉ số CCHC) for one unit level and year: which
survey index gives which criterion how many points (linear, or by bands of the index), the
appraisal maximum, the ranking bands and the decision they follow. Each province sets them in
its own decision (QĐ …/QĐ-UBND; QĐ 876/QĐ-BNV for the national index), so they are data: typed
in the dashboard or loaded from a YAML/JSON file, checked here, audited, copied from one year to
the next. Once a year's results are published its settings are read-only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import Field, StringConstraints, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from surveyapp.models import ParScheme, RespondentGroup, SurveyRound, UnitLevel
from surveyapp.services import audit
from surveyapp.services.access import Permission, Scope, get_visible_unit
from surveyapp.services.errors import N_, Conflict, InvalidInput, NotFound, ServiceError
from surveyapp.services.instruments import publishing
from surveyapp.services.instruments.snapshots import instrument_view
from surveyapp.services.validation import CODE_PATTERN, StrictModel, describe_errors

Points = Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=3)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=CODE_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class BandIn(StrictModel):
    """Index in [lower, upper) gives ``points``; the last band has no upper bound (or 100)."""

    lower: Points
    upper: Points | None = None
    points: Points


Weight = Annotated[Decimal, Field(gt=0, le=1000, max_digits=9, decimal_places=6)]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=7, decimal_places=6)]


class CriterionIn(StrictModel):
    """A survey criterion. From the citizens' survey by default; with ``groups``, from the
    answers of those respondent groups (weights as the province's decision sets them) to
    ``instrument``, and with ``answer_points`` each answer level gives that share of the points
    (else the index is the instrument's satisfaction rule)."""

    code: Code
    source: Code = "SIPAS"  # SIPAS, an element code, or (groups) an item code of the instrument
    max_points: Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=3)]
    method: Literal["linear", "banded"] = "linear"
    bands: list[BandIn] = []
    instrument: Code | None = None
    groups: Annotated[dict[Code, Weight], Field(max_length=20)] = {}
    answer_points: Annotated[dict[int, Share], Field(max_length=20)] = {}


class RankingBandIn(StrictModel):
    label: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
    lower: Points  # on the PAR index %, inclusive


class SchemeIn(StrictModel):
    """A scheme as typed or loaded; ``province`` is a unit code."""

    province: Code
    level: UnitLevel
    year: Annotated[int, Field(ge=2000, le=2100)]
    instrument: Code
    appraisal_max: Points
    criteria: Annotated[list[CriterionIn], Field(min_length=1, max_length=50)]
    ranking_bands: Annotated[list[RankingBandIn], Field(max_length=20)] = []
    decision: Text = ""


def problems_of(scheme: SchemeIn) -> list[str]:
    """Every rule the scheme breaks, in words (empty when it is sound)."""
    problems = []
    survey = sum((c.max_points for c in scheme.criteria), Decimal(0))
    if scheme.appraisal_max + survey != 100:
        problems.append(
            f"điểm thẩm định ({_n(scheme.appraisal_max)}) và điểm điều tra ({_n(survey)}) phải "
            "cộng lại bằng 100"
        )
    codes = [c.code for c in scheme.criteria]
    for code in sorted({c for c in codes if codes.count(c) > 1}):
        problems.append(f"tiêu chí {code} lặp lại")
    for criterion in scheme.criteria:
        problems.extend(_band_problems(criterion))
    lowers = [b.lower for b in scheme.ranking_bands]
    labels = [b.label for b in scheme.ranking_bands]
    if scheme.ranking_bands and min(lowers) != 0:
        problems.append("khung xếp loại thấp nhất phải bắt đầu từ 0 (mọi đơn vị đều được xếp loại)")
    if len(set(lowers)) != len(lowers) or len(set(labels)) != len(labels):
        problems.append("các khung xếp loại phải có tên và ngưỡng khác nhau")
    return problems


def _band_problems(criterion: CriterionIn) -> list[str]:
    name = f"tiêu chí {criterion.code}"
    if not criterion.groups and (criterion.answer_points or criterion.instrument):
        return [f"{name}: instrument và answer_points chỉ dùng cho tiêu chí có groups"]
    if criterion.method == "linear":
        return [f"{name}: quy đổi tuyến tính không dùng khung điểm"] if criterion.bands else []
    bands = sorted(criterion.bands, key=lambda b: b.lower)
    if not bands:
        return [f"{name}: quy đổi theo khung cần ít nhất một khung"]
    out = []
    if bands[0].lower != 0:
        out.append(f"{name}: khung đầu tiên phải bắt đầu từ 0")
    for before, after in zip(bands, bands[1:], strict=False):
        if before.upper is None or before.upper != after.lower:
            out.append(
                f"{name}: khung từ {_n(before.lower)} phải kết thúc ở {_n(after.lower)}, nơi khung "
                "sau bắt đầu (không hở, không chồng)"
            )
    last = bands[-1].upper
    if last is not None and last != 100:
        out.append(f"{name}: khung cuối phải lên tới 100 (để trống upper)")
    for band in bands:
        if band.upper is not None and band.upper <= band.lower:
            out.append(f"{name}: khung từ {_n(band.lower)} có upper không lớn hơn lower")
        if band.points > criterion.max_points:
            out.append(
                f"{name}: khung từ {_n(band.lower)} cho {_n(band.points)} điểm, quá tối đa "
                f"{_n(criterion.max_points)}"
            )
    return out


def _n(value: Decimal) -> str:
    return format(value.normalize(), "f")


def read_scheme(raw: object) -> SchemeIn:
    """The scheme in a mapping (a file's or a form's), or InvalidInput listing every problem."""
    try:
        scheme = SchemeIn.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(
            SCHEME_PROBLEMS, field="scheme", problems=describe_errors(error)
        ) from None
    if problems := problems_of(scheme):
        raise InvalidInput(SCHEME_PROBLEMS, field="scheme", problems="; ".join(problems))
    return scheme


SCHEME_PROBLEMS = N_("Cấu hình điểm CCHC không hợp lệ: %(problems)s.")


def read_file(text: str, key: str = "schemes") -> list[object]:
    """The mappings of a YAML or JSON file (JSON is YAML): one mapping, a list, or a list under
    ``key`` (``schemes:``, ``rounds:``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        if mark is None:
            raise InvalidInput(N_("Tệp không đọc được như YAML/JSON."), field="file") from None
        raise InvalidInput(
            N_("Tệp không đọc được như YAML/JSON (dòng %(line)s)."),
            field="file",
            line=mark.line + 1,
        ) from None
    if isinstance(data, dict) and key in data:
        data = data[key]
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise InvalidInput(
            N_("Tệp cần một mục (hoặc danh sách các mục) dạng khóa–giá trị."), field="file"
        )
    return list(items)


def as_mapping(scheme: ParScheme) -> dict[str, Any]:
    """The stored scheme in the file's shape (what the dashboard editor and a copy start from)."""
    return {
        "province": scheme.province.code,
        "level": scheme.level.value,
        "year": scheme.year,
        "decision": scheme.decision,
        "instrument": scheme.instrument_code,
        "appraisal_max": _plain(scheme.appraisal_max),
        "criteria": [_criterion_out(c) for c in scheme.criteria],
        "ranking_bands": [
            {"label": b["label"], "lower": _plain(b["lower"])} for b in scheme.ranking_bands
        ],
    }


def _criterion_out(stored: Mapping[str, Any]) -> dict[str, Any]:
    out = {
        "code": stored["code"],
        "source": stored.get("source", "SIPAS"),
        "max_points": _plain(stored["max_points"]),
        "method": stored.get("method", "linear"),
    }
    if stored.get("bands"):
        out["bands"] = [_plain_band(b) for b in stored["bands"]]
    if stored.get("groups"):
        out["instrument"] = stored.get("instrument")
        out["groups"] = {g: _plain(w) for g, w in stored["groups"].items()}
    if stored.get("answer_points"):
        out["answer_points"] = {int(k): _plain(v) for k, v in stored["answer_points"].items()}
    return out


def _plain(value: Any) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _plain_band(band: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (None if v is None else _plain(v)) for k, v in band.items()}


def to_yaml(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False)


def save_scheme(
    session: Session, scope: Scope, raw: object, now: datetime
) -> tuple[ParScheme, bool]:
    """Create or replace the scheme of its province, level and year (checked, audited); whether it
    was new. Sources must be indices of the instrument; a published year cannot change."""
    scope.require(Permission.MANAGE_SETUP)
    scheme_in = read_scheme(raw)
    province = get_visible_unit(session, scope, scheme_in.province)
    if province.parent_id is not None:
        raise InvalidInput(
            N_("%(code)s không phải là một tỉnh."), field="province", code=province.code
        )
    _check_sources(session, province.id, scheme_in)
    instrument = publishing.get_instrument(session, scheme_in.instrument)
    scheme = find_scheme(session, province.id, scheme_in.level, scheme_in.year)
    if scheme is not None and scheme.published_at is not None:
        raise Conflict(
            N_("Cấu hình năm %(y)s đã dùng cho kết quả công bố; không sửa được."),
            field="scheme",
            y=scheme.year,
        )
    before = as_mapping(scheme) if scheme is not None else None
    created = scheme is None
    if scheme is None:
        scheme = ParScheme(
            province_id=province.id, level=scheme_in.level, year=scheme_in.year, created_at=now
        )
        session.add(scheme)
    scheme.instrument_code = instrument.code
    scheme.appraisal_max = str(scheme_in.appraisal_max)
    scheme.criteria = [
        {
            "code": c.code,
            "source": c.source,
            "max_points": str(c.max_points),
            "method": c.method,
            "bands": [
                {
                    "lower": str(b.lower),
                    "upper": None if b.upper is None else str(b.upper),
                    "points": str(b.points),
                }
                for b in sorted(c.bands, key=lambda b: b.lower)
            ],
            **(
                {
                    "instrument": c.instrument or instrument.code,
                    "groups": {g: str(w) for g, w in c.groups.items()},
                    "answer_points": {str(k): str(v) for k, v in c.answer_points.items()},
                }
                if c.groups
                else {}
            ),
        }
        for c in scheme_in.criteria
    ]
    scheme.ranking_bands = [
        {"label": b.label, "lower": str(b.lower)}
        for b in sorted(scheme_in.ranking_bands, key=lambda b: b.lower, reverse=True)
    ]
    scheme.decision = scheme_in.decision
    scheme.updated_at = now
    session.flush()
    session.refresh(scheme, ["province"])
    audit.record(
        session,
        user_id=scope.user_id,
        action="par.scheme",
        entity=("par_scheme", f"{province.code}/{scheme.level.value}/{scheme.year}"),
        before=before,
        after=as_mapping(scheme),
        now=now,
    )
    return scheme, created


def _check_sources(session: Session, province_id: int, scheme_in: SchemeIn) -> None:
    """Each criterion's source is an index of its instrument (an item, too, for a group
    criterion), its answer levels on the instrument's scale, and its groups those of the
    province's rounds of that year (when it has any)."""
    rounds_groups = set(
        session.scalars(
            select(RespondentGroup.code)
            .join(SurveyRound, SurveyRound.id == RespondentGroup.round_id)
            .where(SurveyRound.province_id == province_id, SurveyRound.year == scheme_in.year)
        )
    )
    for criterion in scheme_in.criteria:
        code = (criterion.instrument if criterion.groups else None) or scheme_in.instrument
        instrument = publishing.get_instrument(session, code)
        view = instrument_view(session, instrument.id, instrument.source_hash)
        known = {"SIPAS"} | {e.code for e in view.elements}
        if criterion.groups:
            known |= {i.code for i in view.items}
        if criterion.source not in known:
            raise InvalidInput(
                N_("Phiếu %(i)s không có chỉ số %(codes)s (dùng SIPAS hoặc mã yếu tố: %(known)s)."),
                field="criteria",
                i=instrument.code,
                codes=criterion.source,
                known=", ".join(sorted(known)),
            )
        off_scale = set(criterion.answer_points) - set(view.scale_levels())
        if off_scale:
            raise InvalidInput(
                N_("Tiêu chí %(c)s: mức %(levels)s không có trên thang đo của phiếu %(i)s."),
                field="criteria",
                c=criterion.code,
                levels=", ".join(str(v) for v in sorted(off_scale)),
                i=instrument.code,
            )
        unknown = set(criterion.groups) - rounds_groups
        if rounds_groups and unknown:
            raise InvalidInput(
                N_("Tiêu chí %(c)s: không có nhóm %(groups)s trong đợt điều tra năm %(y)s."),
                field="criteria",
                c=criterion.code,
                groups=", ".join(sorted(unknown)),
                y=scheme_in.year,
            )


def find_scheme(
    session: Session, province_id: int, level: UnitLevel, year: int
) -> ParScheme | None:
    return session.scalar(
        select(ParScheme)
        .options(joinedload(ParScheme.province))
        .where(
            ParScheme.province_id == province_id, ParScheme.level == level, ParScheme.year == year
        )
    )


def list_schemes(session: Session, scope: Scope) -> list[ParScheme]:
    """The schemes of the provinces in scope, newest year first."""
    return [
        s
        for s in session.scalars(
            select(ParScheme)
            .options(joinedload(ParScheme.province))
            .order_by(ParScheme.year.desc(), ParScheme.level, ParScheme.id)
        )
        if scope.covers(s.province_id)
    ]


def get_scheme(session: Session, scope: Scope, scheme_id: int) -> ParScheme:
    scheme = session.get(ParScheme, scheme_id)
    if scheme is None or not scope.covers(scheme.province_id):
        raise NotFound(N_("Không tìm thấy cấu hình điểm CCHC."))
    return scheme


def copy_to_next_year(session: Session, scope: Scope, scheme_id: int, now: datetime) -> ParScheme:
    """The scheme copied to the following year, for the office to adjust (Conflict if that year
    has settings already)."""
    source = get_scheme(session, scope, scheme_id)
    if find_scheme(session, source.province_id, source.level, source.year + 1) is not None:
        raise Conflict(
            N_("Năm %(y)s đã có cấu hình cho cấp này."), field="scheme", y=source.year + 1
        )
    data = as_mapping(source) | {"year": source.year + 1}
    copy, _ = save_scheme(session, scope, data, now)
    return copy


@dataclass(frozen=True)
class Loaded:
    scheme: ParScheme
    created: bool


def load_schemes(session: Session, scope: Scope, text: str, now: datetime) -> list[Loaded]:
    """Every scheme of a file, all or none (the first bad one names its position)."""
    out = []
    for position, raw in enumerate(read_file(text), start=1):
        try:
            scheme, created = save_scheme(session, scope, raw, now)
        except ServiceError as error:
            raise InvalidInput(
                N_("Cấu hình thứ %(n)s: %(reason)s"),
                field="file",
                n=position,
                reason=error.render(),
            ) from None
        out.append(Loaded(scheme, created))
    return out

"""Instrument definitions (YAML/JSON) → validated, published, immutable versions."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from surveyapp.models import Domain, Element, Instrument, InstrumentStatus, Item, ItemKind
from surveyapp.services.errors import N_, Conflict, DefinitionError, NotFound

AGGREGATIONS = ("mean", "pooled")
LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
SECTIONS = ("satisfaction", "overall", "profile", "perception", "priority")
RESPONSE_COLUMNS = ("respondent_type", "sex", "age_band")
BUILTIN_FILES = ("sipas2023.yaml", "counter.yaml", "sipas2017.yaml", "tt01.yaml")


def read_definition(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON file into a mapping (JSON is YAML, but say which failed)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError([N_("Tệp không phải văn bản UTF-8.")]) from exc
    return parse_definition(text, json_only=path.suffix.lower() == ".json")


def parse_definition(text: str, json_only: bool = False) -> dict[str, Any]:
    try:
        data = json.loads(text) if json_only else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DefinitionError([f"Không đọc được tệp: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError(["Tệp phải chứa một đối tượng (mapping) ở cấp cao nhất."])
    return data


class _Checker:
    """Collects every problem with a definition instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def text(self, value: Any, where: str) -> dict[str, str]:
        if isinstance(value, str) and value.strip():
            return {"vi": value.strip()}
        if not isinstance(value, dict) or not str(value.get("vi") or "").strip():
            self.fail(where, "cần văn bản tiếng Việt (khóa 'vi'), có thể kèm 'en'.")
            return {"vi": ""}
        out = {}
        for locale, text in value.items():
            if not LOCALE_RE.match(str(locale)):
                self.fail(
                    where,
                    f"khóa ngôn ngữ '{locale}' không hợp lệ (dùng vi, en…); văn bản có dấu phẩy "
                    "trong {…} của YAML phải đặt trong ngoặc kép.",
                )
            elif not isinstance(text, str):
                self.fail(f"{where}.{locale}", "phải là chuỗi văn bản.")
            elif text.strip():
                out[str(locale)] = text.strip()
        return out

    def code(self, value: Any, where: str, seen: set[str]) -> str:
        if not isinstance(value, str | int) or not str(value).strip():
            self.fail(where, "thiếu mã (code).")
            return ""
        code = str(value).strip()
        if len(code) > 40 or any(c.isspace() for c in code):
            self.fail(where, f"mã '{code}' không hợp lệ (tối đa 40 ký tự, không có khoảng trắng).")
        if code in seen:
            self.fail(where, f"mã '{code}' bị trùng.")
        seen.add(code)
        return code

    def level(self, value: Any, where: str) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            self.fail(where, f"mức '{value}' phải là số nguyên từ 0 đến 10.")
            return None
        return value

    def items_list(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.fail(where, "phải là một danh sách không rỗng.")
            return []
        return value


def validate_definition(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a definition; return its canonical form or raise DefinitionError listing problems."""
    check = _Checker()
    known = {"code", "version", "name", "scale", "aggregation", "domains", "questions"}
    for key in sorted(set(data) - known):
        check.fail(key, "khóa không được hỗ trợ.")
    out: dict[str, Any] = {"code": check.code(data.get("code"), "code", set())}
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        check.fail("version", "phải là số nguyên dương.")
    out["version"] = version
    out["name"] = check.text(data.get("name"), "name")
    out["scale"] = _validate_scale(check, data.get("scale"))
    out["aggregation"] = _validate_aggregation(check, data.get("aggregation") or {})
    item_codes: set[str] = set()
    out["domains"] = _validate_domains(check, data.get("domains"), item_codes)
    domain_codes = {d["code"] for d in out["domains"]}
    for code in out["aggregation"].get("weights", {}):
        if code not in domain_codes:
            check.fail("aggregation.weights", f"không có lĩnh vực (domain) mã '{code}'.")
    out["questions"] = [
        _validate_question(check, q, f"questions[{i}]", item_codes)
        for i, q in enumerate(data.get("questions") or [])
    ]
    if check.problems:
        raise DefinitionError(check.problems)
    return out


def _validate_scale(check: _Checker, scale: Any) -> dict[str, Any]:
    if not isinstance(scale, dict):
        check.fail("scale", "thiếu thang đo (min, max, satisfied, labels).")
        return {}
    low, high = (
        check.level(scale.get("min"), "scale.min"),
        check.level(scale.get("max"), "scale.max"),
    )
    if low is None or high is None:
        return {}
    if low >= high:
        check.fail("scale", "min phải nhỏ hơn max.")
        return {}
    levels = range(low, high + 1)
    satisfied = scale.get("satisfied")
    if not isinstance(satisfied, list) or not satisfied:
        check.fail("scale.satisfied", "cần danh sách các mức được tính là hài lòng.")
        satisfied = []
    for level in satisfied:
        if level not in levels:
            check.fail("scale.satisfied", f"mức {level} nằm ngoài thang {low}–{high}.")
    missing = scale.get("missing") or []
    if not isinstance(missing, list):
        check.fail("scale.missing", "phải là danh sách.")
        missing = []
    for level in missing:
        if check.level(level, "scale.missing") is not None and level in levels:
            check.fail("scale.missing", f"mức {level} trùng với một mức của thang đo.")
    labels = scale.get("labels")
    out_labels: dict[str, list[str]] = {}
    if not isinstance(labels, dict) or "vi" not in labels:
        check.fail("scale.labels", "cần nhãn tiếng Việt (vi) cho từng mức.")
    else:
        for locale, seq in labels.items():
            if not isinstance(seq, list) or len(seq) != len(levels):
                check.fail(
                    f"scale.labels.{locale}", f"cần đúng {len(levels)} nhãn, mỗi mức một nhãn."
                )
            else:
                out_labels[str(locale)] = [str(s) for s in seq]
    missing_labels = {}
    for level, text in (scale.get("missing_labels") or {}).items():
        if int(level) not in missing:
            check.fail("scale.missing_labels", f"mức {level} không nằm trong 'missing'.")
        missing_labels[str(level)] = check.text(text, f"scale.missing_labels.{level}")
    return {
        "min": low,
        "max": high,
        "satisfied": sorted(int(v) for v in satisfied if v in levels),
        "missing": sorted(int(v) for v in missing if isinstance(v, int)),
        "labels": out_labels,
        "missing_labels": missing_labels,
    }


def _validate_aggregation(check: _Checker, agg: Any) -> dict[str, Any]:
    if not isinstance(agg, dict):
        check.fail("aggregation", "phải là một đối tượng.")
        return {}
    out: dict[str, Any] = {}
    for level in ("element", "domain", "overall"):
        method = agg.get(level, "mean")
        if method not in AGGREGATIONS:
            check.fail(f"aggregation.{level}", "chỉ nhận 'mean' hoặc 'pooled'.")
        out[level] = method
    weights = agg.get("weights")
    if weights is not None:
        if not isinstance(weights, dict):
            check.fail("aggregation.weights", "phải là bảng mã lĩnh vực → trọng số.")
        else:
            out["weights"] = {}
            for code, weight in weights.items():
                try:
                    value = Decimal(str(weight))
                except InvalidOperation:
                    value = Decimal(-1)
                if not value > 0:
                    check.fail("aggregation.weights", f"trọng số của '{code}' phải là số dương.")
                out["weights"][str(code)] = str(value)
    for key in sorted(set(agg) - {"element", "domain", "overall", "weights"}):
        check.fail(f"aggregation.{key}", "khóa không được hỗ trợ.")
    return out


def _validate_domains(check: _Checker, domains: Any, item_codes: set[str]) -> list[dict[str, Any]]:
    out = []
    domain_codes: set[str] = set()
    element_codes: set[str] = set()
    for d, domain in enumerate(check.items_list(domains, "domains")):
        where = f"domains[{d}]"
        if not isinstance(domain, dict):
            check.fail(where, "phải là một đối tượng.")
            continue
        elements = []
        for e, element in enumerate(check.items_list(domain.get("elements"), f"{where}.elements")):
            ewhere = f"{where}.elements[{e}]"
            if not isinstance(element, dict):
                check.fail(ewhere, "phải là một đối tượng.")
                continue
            items = []
            for i, item in enumerate(check.items_list(element.get("items"), f"{ewhere}.items")):
                iwhere = f"{ewhere}.items[{i}]"
                if not isinstance(item, dict):
                    check.fail(iwhere, "phải là một đối tượng.")
                    continue
                items.append(
                    {
                        "code": check.code(item.get("code"), f"{iwhere}.code", item_codes),
                        "text": check.text(item.get("text"), f"{iwhere}.text"),
                        "required": bool(item.get("required", True)),
                    }
                )
            elements.append(
                {
                    "code": check.code(element.get("code"), f"{ewhere}.code", element_codes),
                    "name": check.text(element.get("name"), f"{ewhere}.name"),
                    "items": items,
                }
            )
        out.append(
            {
                "code": check.code(domain.get("code"), f"{where}.code", domain_codes),
                "name": check.text(domain.get("name"), f"{where}.name"),
                "elements": elements,
            }
        )
    return out


def _validate_question(check: _Checker, q: Any, where: str, item_codes: set[str]) -> dict[str, Any]:
    if not isinstance(q, dict):
        check.fail(where, "phải là một đối tượng.")
        return {}
    kind = q.get("kind", "choice")
    if kind not in {k.value for k in ItemKind}:
        check.fail(f"{where}.kind", "chỉ nhận 'rating', 'choice' hoặc 'text'.")
    section = q.get("section", "profile")
    if section not in SECTIONS or section == "satisfaction":
        check.fail(f"{where}.section", f"chỉ nhận {', '.join(SECTIONS[1:])}.")
    column = q.get("column")
    if column is not None and column not in RESPONSE_COLUMNS:
        check.fail(f"{where}.column", f"chỉ nhận {', '.join(RESPONSE_COLUMNS)}.")
    placement = q.get("placement", "after")
    if placement not in ("before", "after"):
        check.fail(f"{where}.placement", "chỉ nhận 'before' hoặc 'after'.")
    options = []
    if kind == "choice":
        values: set[int] = set()
        for o, option in enumerate(check.items_list(q.get("options"), f"{where}.options")):
            owhere = f"{where}.options[{o}]"
            if not isinstance(option, dict):
                check.fail(owhere, "phải là một đối tượng.")
                continue
            value = check.level(option.get("value"), f"{owhere}.value")
            if value in values:
                check.fail(f"{owhere}.value", f"giá trị {value} bị trùng.")
            values.add(value if value is not None else -1)
            entry: dict[str, Any] = {
                "value": value,
                "label": check.text(option.get("label"), f"{owhere}.label"),
                "missing": bool(option.get("missing", False)),
            }
            if option.get("key") is not None:
                entry["key"] = str(option["key"])
            options.append(entry)
    satisfied = q.get("satisfied")
    if satisfied is not None and (
        kind != "choice"
        or not isinstance(satisfied, list)
        or not set(satisfied) <= {o["value"] for o in options}
    ):
        check.fail(f"{where}.satisfied", "chỉ dùng cho câu lựa chọn, gồm các giá trị đã khai báo.")
    return {
        "code": check.code(q.get("code"), f"{where}.code", item_codes),
        "kind": kind,
        "section": section,
        "placement": placement,
        "text": check.text(q.get("text"), f"{where}.text"),
        "required": bool(q.get("required", False)),
        "column": column,
        "options": options or None,
        "satisfied": satisfied,
    }


def definition_hash(canonical: Mapping[str, Any]) -> str:
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def publish_instrument(session: Session, data: Mapping[str, Any], now: datetime) -> Instrument:
    """Validate and publish a definition as a new version; the same definition again is a no-op."""
    canonical = validate_definition(data)
    digest = definition_hash(canonical)
    existing = session.scalar(
        select(Instrument).where(
            Instrument.code == canonical["code"], Instrument.version == canonical["version"]
        )
    )
    if existing is not None:
        if existing.source_hash == digest:
            return existing
        raise Conflict(
            N_(
                "Phiên bản %(version)s của phiếu %(code)s đã được công bố với nội dung khác; "
                "hãy tăng số phiên bản."
            ),
            code=canonical["code"],
            version=canonical["version"],
        )
    weights = canonical["aggregation"].get("weights", {})
    instrument = Instrument(
        code=canonical["code"],
        version=canonical["version"],
        name=canonical["name"],
        scale=canonical["scale"],
        aggregation=canonical["aggregation"],
        source_hash=digest,
        status=InstrumentStatus.PUBLISHED,
        published_at=now,
    )
    session.add(instrument)
    position = 0

    def add_question(q: dict[str, Any]) -> None:
        nonlocal position
        position += 1
        options = [
            {
                **o,
                **({"column": q["column"]} if q["column"] else {}),
                **({"satisfied": o["value"] in q["satisfied"]} if q["satisfied"] else {}),
            }
            for o in q["options"] or []
        ] or None
        instrument.items.append(
            Item(
                code=q["code"],
                position=position,
                kind=ItemKind(q["kind"]),
                section=q["section"],
                text=q["text"],
                is_required=q["required"],
                options=options,
            )
        )

    for q in canonical["questions"]:
        if q["placement"] == "before":
            add_question(q)
    for d_pos, d in enumerate(canonical["domains"], start=1):
        weight = weights.get(d["code"])
        domain = Domain(
            code=d["code"],
            position=d_pos,
            name=d["name"],
            weight=Decimal(weight) if weight else None,
        )
        instrument.domains.append(domain)
        for e_pos, e in enumerate(d["elements"], start=1):
            element = Element(code=e["code"], position=e_pos, name=e["name"], instrument=instrument)
            domain.elements.append(element)
            for it in e["items"]:
                position += 1
                item = Item(
                    code=it["code"],
                    position=position,
                    kind=ItemKind.RATING,
                    section="satisfaction",
                    text=it["text"],
                    is_required=it["required"],
                )
                instrument.items.append(item)
                element.items.append(item)
    for q in canonical["questions"]:
        if q["placement"] == "after":
            add_question(q)
    session.flush()
    return instrument


def load_builtin_instruments(session: Session, now: datetime) -> list[Instrument]:
    """Publish the instruments shipped with the product (idempotent)."""
    folder = resources.files("surveyapp") / "instruments"
    return [
        publish_instrument(session, parse_definition(folder.joinpath(name).read_text("utf-8")), now)
        for name in BUILTIN_FILES
    ]


def get_instrument(session: Session, code: str, version: int | None = None) -> Instrument:
    """A published instrument by code (newest version unless given), with its structure loaded."""
    query = (
        select(Instrument)
        .where(Instrument.code == code, Instrument.status == InstrumentStatus.PUBLISHED)
        .options(
            selectinload(Instrument.items),
            selectinload(Instrument.domains).selectinload(Domain.elements),
        )
        .order_by(Instrument.version.desc())
    )
    if version is not None:
        query = query.where(Instrument.version == version)
    instrument = session.scalars(query.limit(1)).first()
    if instrument is None:
        raise NotFound(N_("Không tìm thấy phiếu khảo sát %(code)s."), code=code)
    return instrument

"""Instrument definitions (YAML/JSON): read with bounded size, validated with every problem
listed, reduced to a canonical form and its hash."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from surveyapp.models import (
    ItemKind,
    RespondentType,
)
from surveyapp.services.errors import N_, DefinitionError
from surveyapp.services.validation import CODE_RULE, has_control_characters, is_code, parse_int

AGGREGATIONS = ("mean", "pooled")


LOCALE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


SECTIONS = ("satisfaction", "overall", "profile", "perception", "priority")


RESPONSE_COLUMNS = ("respondent_type", "sex", "age_band")


MAX_VERSION = 1_000_000


OPTION_KEY_MAX = 10  # the response columns sex and age_band hold 10 characters


def read_definition(path: str | Path) -> dict[str, Any]:
    """Parse a YAML or JSON file into a mapping (JSON is YAML, but say which failed)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DefinitionError([N_("Tệp không phải văn bản UTF-8.")]) from exc
    return parse_definition(text, json_only=path.suffix.lower() == ".json")


# A questionnaire is a few levels deep and a few thousand values at most; a file beyond these is
# refused before it is validated (YAML aliases could otherwise expand a small file enormously).
MAX_DEPTH = 20


MAX_VALUES = 20_000


MAX_PROBLEMS = 50  # problems listed; the rest are counted


MAX_ERROR_TEXT = 300


class _Refused(yaml.YAMLError):
    """The YAML is well formed but too big for an instrument file."""


class _DefinitionLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader that refuses a document whose aliases (``*name``) would expand it
    beyond MAX_VALUES values or MAX_DEPTH levels, before anything is built from it."""

    def compose_document(self) -> Any:
        node = super().compose_document()
        _expanded_size(node, 1, {}, set())
        return node


def _expanded_size(
    node: Any, level: int, sizes: dict[int, tuple[int, int]], open_: set[int]
) -> tuple[int, int]:
    """(values, height) of a node with every alias expanded; each node is measured once."""
    if id(node) in sizes:
        values, height = sizes[id(node)]
    else:
        if id(node) in open_:
            raise _Refused("tham chiếu YAML vòng (một alias trỏ vào chính nó)")
        open_.add(id(node))
        if isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        values, height = 1, 1
        for child in children:
            child_values, child_height = _expanded_size(child, level + 1, sizes, open_)
            values, height = values + child_values, max(height, child_height + 1)
            if values > MAX_VALUES:
                break
        open_.discard(id(node))
        sizes[id(node)] = (values, height)
    if values > MAX_VALUES:
        raise _Refused(f"tệp có quá {MAX_VALUES} giá trị (kể cả các alias * đã mở rộng)")
    if level + height - 1 > MAX_DEPTH:
        raise _Refused(f"tệp lồng nhau quá {MAX_DEPTH} cấp")
    return values, height


def _check_size(data: Any) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH or holding more than MAX_VALUES values."""
    stack, values = [(data, 1)], 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if depth > MAX_DEPTH or values > MAX_VALUES:
            raise DefinitionError(
                [f"Tệp lồng nhau quá {MAX_DEPTH} cấp hoặc có quá {MAX_VALUES} giá trị."]
            )
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)


def parse_definition(text: str, json_only: bool = False) -> dict[str, Any]:
    """The mapping in a YAML or JSON file, or DefinitionError saying why it cannot be read."""
    try:
        if json_only:
            data = json.loads(text)
            _check_size(data)
        else:
            data = yaml.load(text, Loader=_DefinitionLoader)  # noqa: S506 - a SafeLoader
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise DefinitionError([f"Không đọc được tệp: {str(exc)[:MAX_ERROR_TEXT]}"]) from exc
    except RecursionError as exc:
        raise DefinitionError([f"Tệp lồng nhau quá {MAX_DEPTH} cấp."]) from exc
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
        if isinstance(value, str) and has_control_characters(value):
            self.fail(where, "chứa ký tự điều khiển không hợp lệ.")
            return {"vi": ""}
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
            elif has_control_characters(text):
                self.fail(f"{where}.{locale}", "chứa ký tự điều khiển không hợp lệ.")
            elif text.strip():
                out[str(locale)] = text.strip()
        return out

    def code(self, value: Any, where: str, seen: set[str]) -> str:
        if not isinstance(value, str | int) or not str(value).strip():
            self.fail(where, "thiếu mã (code).")
            return ""
        code = str(value).strip()
        if not is_code(code):
            self.fail(where, f"mã '{code[:40]}' không hợp lệ ({CODE_RULE}).")
        if code in seen:
            self.fail(where, f"mã '{code}' bị trùng.")
        seen.add(code)
        return code

    def level(self, value: Any, where: str) -> int | None:
        if not _is_int(value) or not 0 <= value <= 10:
            self.fail(where, f"mức '{str(value)[:20]}' phải là số nguyên từ 0 đến 10.")
            return None
        return int(value)

    def levels(self, value: Any, where: str, allowed: Any, named: str = "thang đo") -> list[int]:
        """A list of levels, each in ``allowed`` (``named`` in messages), reported at ``where``."""
        if not isinstance(value, list):
            self.fail(where, "phải là danh sách các mức (số nguyên).")
            return []
        out = []
        for level in value:
            if not _is_int(level) or level not in allowed:
                self.fail(where, f"mức {str(level)[:20]} nằm ngoài {named}.")
            else:
                out.append(int(level))
        return out

    def choice(self, value: Any, where: str, allowed: tuple[str, ...]) -> str:
        if not isinstance(value, str) or value not in allowed:
            self.fail(where, f"chỉ nhận {', '.join(allowed)}.")
            return allowed[0]
        return value

    def items_list(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list) or not value:
            self.fail(where, "phải là một danh sách không rỗng.")
            return []
        return value

    def objects(self, value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each entry of a non-empty list of objects, with where it stands (``where[i]``);
        an entry that is not an object is a problem and skipped."""
        for i, entry in enumerate(self.items_list(value, where)):
            if isinstance(entry, dict):
                yield f"{where}[{i}]", entry
            else:
                self.fail(f"{where}[{i}]", "phải là một đối tượng.")


def validate_definition(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a definition; return its canonical form or raise DefinitionError listing problems."""
    check = _Checker()
    known = {"code", "version", "name", "scale", "aggregation", "domains", "questions"}
    for key in sorted(set(data) - known):
        check.fail(key, "khóa không được hỗ trợ.")
    out: dict[str, Any] = {"code": check.code(data.get("code"), "code", set())}
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= MAX_VERSION:
        check.fail("version", f"phải là số nguyên dương (tối đa {MAX_VERSION}).")
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
        shown = check.problems[:MAX_PROBLEMS]
        if len(check.problems) > MAX_PROBLEMS:
            shown.append(f"… và {len(check.problems) - MAX_PROBLEMS} lỗi khác.")
        raise DefinitionError(shown)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
    given = scale.get("satisfied")
    if given is None or given == []:
        check.fail("scale.satisfied", "cần danh sách các mức được tính là hài lòng.")
    satisfied = check.levels(given or [], "scale.satisfied", levels, f"thang {low}–{high}")
    missing = check.levels(scale.get("missing") or [], "scale.missing", range(11), "0–10")
    for level in missing:
        if level in levels:
            check.fail("scale.missing", f"mức {level} trùng với một mức của thang đo.")
    labels = scale.get("labels")
    out_labels: dict[str, list[str]] = {}
    if not isinstance(labels, dict) or "vi" not in labels:
        check.fail("scale.labels", "cần nhãn tiếng Việt (vi) cho từng mức.")
    else:
        for locale, seq in labels.items():
            where = f"scale.labels.{str(locale)[:10]}"
            if not isinstance(seq, list) or len(seq) != len(levels):
                check.fail(where, f"cần đúng {len(levels)} nhãn, mỗi mức một nhãn.")
            elif not all(isinstance(s, str) and not has_control_characters(s) for s in seq):
                check.fail(where, "mỗi nhãn phải là một chuỗi văn bản.")
            else:
                out_labels[str(locale)] = [str(s) for s in seq]
    missing_labels = {}
    given = scale.get("missing_labels") or {}
    if not isinstance(given, dict):
        check.fail("scale.missing_labels", "phải là bảng mức → nhãn.")
        given = {}
    for level, text in given.items():
        number = parse_int(str(level)) if isinstance(level, int | str) else None
        if number is None or number not in missing:
            check.fail("scale.missing_labels", f"mức {str(level)[:20]} không nằm trong 'missing'.")
            continue
        missing_labels[str(number)] = check.text(text, f"scale.missing_labels.{number}")
    return {
        "min": low,
        "max": high,
        "satisfied": sorted(set(satisfied)),
        "missing": sorted(set(missing)),
        "labels": out_labels,
        "missing_labels": missing_labels,
    }


def _validate_aggregation(check: _Checker, agg: Any) -> dict[str, Any]:
    if not isinstance(agg, dict):
        check.fail("aggregation", "phải là một đối tượng.")
        return {}
    out: dict[str, Any] = {}
    for level in ("element", "domain", "overall"):
        out[level] = check.choice(agg.get(level, "mean"), f"aggregation.{level}", AGGREGATIONS)
    weights = agg.get("weights")
    if weights is not None:
        if not isinstance(weights, dict):
            check.fail("aggregation.weights", "phải là bảng mã lĩnh vực → trọng số.")
        else:
            out["weights"] = {}
            for code, weight in weights.items():
                try:
                    value = Decimal(str(weight)) if not isinstance(weight, bool) else Decimal(-1)
                except InvalidOperation:
                    value = Decimal(-1)
                if not value.is_finite() or not 0 < value <= 1000:
                    check.fail(
                        "aggregation.weights",
                        f"trọng số của '{str(code)[:40]}' phải là số dương (tối đa 1000).",
                    )
                out["weights"][str(code)] = str(value)
    for key in sorted(set(agg) - {"element", "domain", "overall", "weights"}):
        check.fail(f"aggregation.{key}", "khóa không được hỗ trợ.")
    return out


def _validate_domains(check: _Checker, domains: Any, item_codes: set[str]) -> list[dict[str, Any]]:
    out = []
    domain_codes: set[str] = set()
    element_codes: set[str] = set()
    for where, domain in check.objects(domains, "domains"):
        elements = []
        for ewhere, element in check.objects(domain.get("elements"), f"{where}.elements"):
            items = []
            for iwhere, item in check.objects(element.get("items"), f"{ewhere}.items"):
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
    kind = check.choice(q.get("kind", "choice"), f"{where}.kind", tuple(k.value for k in ItemKind))
    section = check.choice(q.get("section", "profile"), f"{where}.section", SECTIONS[1:])
    column = q.get("column")
    if column is not None:
        column = check.choice(column, f"{where}.column", RESPONSE_COLUMNS)
    placement = check.choice(q.get("placement", "after"), f"{where}.placement", ("after", "before"))
    options = []
    if kind == "choice":
        values: set[int] = set()
        for owhere, option in check.objects(q.get("options"), f"{where}.options"):
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
                entry["key"] = _option_key(check, option["key"], column, f"{owhere}.key")
            options.append(entry)
    satisfied = q.get("satisfied")
    if satisfied is not None:
        declared = {o["value"] for o in options if o["value"] is not None}
        if kind != "choice":
            check.fail(f"{where}.satisfied", "chỉ dùng cho câu lựa chọn.")
        satisfied = check.levels(
            satisfied, f"{where}.satisfied", declared, "các giá trị đã khai báo"
        )
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


def _option_key(check: _Checker, key: Any, column: str | None, where: str) -> str:
    """The response-column value an option stands for: a respondent type, or a short code."""
    text = str(key).strip() if isinstance(key, str | int) and not isinstance(key, bool) else ""
    if column == "respondent_type":
        allowed = tuple(t.value for t in RespondentType)
        if text not in allowed:
            check.fail(where, f"chỉ nhận {', '.join(allowed)}.")
    elif not text or len(text) > OPTION_KEY_MAX or has_control_characters(text):
        check.fail(where, f"khóa '{text[:20]}' phải có từ 1 đến {OPTION_KEY_MAX} ký tự.")
    return text


def definition_hash(canonical: Mapping[str, Any]) -> str:
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()

"""The plan (units, villages, data elements, indicators) loaded from YAML and checked against its schema."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema  # without its IRI parser (kpi/__init__.py)
import yaml

from kpi.core import paths, safety, schema_messages
from kpi.core.errors import PlanError  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.plan.model import Element, Indicator, Plan, Unit, Village, village_key
from kpi.plan.schema import SCHEMA

# libyaml's safe loader where PyYAML has it (the wheels do): the same data, several times faster to read
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _node_line(root: yaml.Node, path: list) -> int:
    """1-based line of the YAML node at a jsonschema error path (the deepest node that exists)."""
    node = root
    for key in path:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if k.value == key]
            if not match:
                break
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
    return node.start_mark.line + 1


def _dates_to_text(obj: Any) -> Any:
    """PyYAML reads 2026-06-20 as a date; the schema speaks of ISO text."""
    if isinstance(obj, dict):
        return {k: _dates_to_text(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_dates_to_text(v) for v in obj]
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def _check_references(raw: dict) -> list[tuple[list, str]]:
    """Cross-references the schema cannot express: units, elements and ids that must exist and be unique."""
    problems: list[tuple[list, str]] = []
    units = [u["code"] for u in raw["units"]]
    elements = {e["code"]: e for e in raw["elements"]}
    for key, items, attr in (("units", raw["units"], "code"), ("villages", raw["villages"], "code"),
                             ("villages", raw["villages"], "name"), ("elements", raw["elements"], "code"),
                             ("indicators", raw["indicators"], "id")):
        seen: set = set()
        for i, item in enumerate(items):
            same = village_key(item[attr]) if (key, attr) == ("villages", "name") else item[attr]
            if same in seen:
                problems.append(([key, i, attr], f"'{item[attr]}' có hai lần trong danh sách (sau khi bỏ dấu, "
                                                 "chữ hoa và số 0 đứng đầu)" if key == "villages" else
                                 f"'{item[attr]}' có hai lần trong danh sách"))
            seen.add(same)
    for i, e in enumerate(raw["elements"]):
        if e["unit"] not in units:
            problems.append((["elements", i, "unit"], f"đơn vị '{e['unit']}' không có trong units ({', '.join(units)})"))
    for i, ind in enumerate(raw["indicators"]):
        if ind["lead"] not in units:
            problems.append((["indicators", i, "lead"], f"đơn vị '{ind['lead']}' không có trong units ({', '.join(units)})"))
        for attr in ("numerator", "denominator"):
            if attr in ind and ind[attr] not in elements:
                problems.append((["indicators", i, attr], f"mã số liệu '{ind[attr]}' chưa được khai báo trong elements"))
        if ind["kind"] == "ratio" and ("denominator" in ind) == ("denominator_constant" in ind):
            problems.append((["indicators", i], "chỉ số tỷ lệ cần đúng một trong hai mục denominator, denominator_constant"))
        if ind["kind"] == "count" and ("denominator" in ind or "denominator_constant" in ind):
            problems.append((["indicators", i], "chỉ số đếm (count) không có mẫu số; xóa denominator"))
        if (why := _target_text_problem(ind)) is not None:
            problems.append((["indicators", i, "target_text"], why))
        if (ind["kind"] == "ratio" and ind.get("denominator") in elements and ind["numerator"] in elements
                and elements[ind["numerator"]]["level"] != elements[ind["denominator"]]["level"]):
            problems.append((["indicators", i], "tử số và mẫu số phải cùng cấp (thôn hoặc xã)"))
    return problems


_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def derived_target_text(target: dict | str, kind: str) -> str:
    """A target in words, from its value and operator: '≥ 30%' for a ratio, '≥ 2' for a count, 'Khuyến khích' for
    an encouraged indicator (the plan's own target_text, where it gives one, is checked against these)."""
    if target == "encouraged":
        return "Khuyến khích"
    number = f"{float(target['value']):g}".replace(".", ",")
    return f"{'≥' if target['op'] == '>=' else target['op']} {number}{'%' if kind == 'ratio' else ''}"


def _target_text_problem(ind: dict) -> str | None:
    """Where an indicator gives both a target and its words, they must say the same: the words' first number is the
    target's value (a ratio's followed by %), and an encouraged indicator's words carry no number."""
    text = ind.get("target_text")
    if not text:
        return None
    found = _NUMBER.search(text)
    derived = derived_target_text(ind["target"], ind["kind"])
    fix = f"sửa target_text thành '{derived}' hoặc xóa dòng target_text để kit tự viết từ target"
    if ind["target"] == "encouraged":
        return None if not found else (f"target là encouraged (Khuyến khích) nhưng target_text '{text}' ghi số "
                                       f"{found[0]}; {fix}")
    value = float(ind["target"]["value"])
    if not found:
        return f"target_text '{text}' không ghi con số của target.value {value:g}; {fix}"
    if float(found[0].replace(",", ".")) != value:
        return f"target_text '{text}' ghi {found[0]} nhưng target.value là {value:g}; {fix}"
    if ind["kind"] == "ratio" and not text[found.end():].lstrip().startswith("%"):
        return f"target_text '{text}' thiếu dấu % sau {found[0]} (chỉ số tỷ lệ, target.value {value:g}%); {fix}"
    return None


def _real_day(text: str) -> bool:
    try:
        y, m, d = (int(x) for x in text.split("-"))
        dt.date(y, m, d)
        return True
    except ValueError:
        return False


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    """Parse and check plan YAML text; every problem is collected and raised at once with its line."""
    safety.check_plan_text(text, source)
    try:
        raw = _dates_to_text(yaml.load(text, Loader=SAFE_LOADER))
    except yaml.YAMLError as exc:
        raise PlanError(f"{source}: không phải YAML hợp lệ: {exc}") from None
    except ValueError:  # a date YAML reads as one but that is not a day: 2026-13-40
        bad = [f"{source}:{n}: ngày '{m[0]}' không có thật; ghi dạng NNNN-TT-NN, ví dụ 2026-12-31"
               for n, line in enumerate(text.splitlines(), start=1)
               for m in re.finditer(r"\b\d{4}-\d{1,2}-\d{1,2}\b", line) if not _real_day(m[0])]
        raise PlanError("Tệp kế hoạch có lỗi:\n" + "\n".join(bad or [f"{source}: có một ngày không có thật"])) from None
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: kế hoạch phải là một bảng YAML (commune, year, units, ...)")
    validator = jsonschema.Draft202012Validator(SCHEMA)
    errors = sorted(validator.iter_errors(raw), key=lambda e: list(map(str, e.absolute_path)))
    found = [(list(e.absolute_path), schema_messages.message(e)) for e in errors]
    if not found:
        found = _check_references(raw)
    if found:
        root = yaml.compose(text, Loader=SAFE_LOADER)  # the nodes carry the line numbers; needed only to name where a problem is
        lines = []
        for path, message in found:
            where = ".".join(str(p) for p in path) or "(gốc tệp)"
            lines.append(f"{source}:{_node_line(root, path)}: {where}: {message}")
        raise PlanError("Tệp kế hoạch có lỗi (sửa từng dòng được nêu rồi chạy lại):\n" + "\n".join(lines))
    return _build(raw, source)


def _build(raw: dict, source: str) -> Plan:
    def indicator(d: dict) -> Indicator:
        target = None if d["target"] == "encouraged" else float(d["target"]["value"])
        deadline = None if d["deadline"] == "continuous" else dt.date.fromisoformat(d["deadline"])
        return Indicator(
            id=d["id"], group=d["group"], name=d["name"], short=d["short"], kind=d["kind"],
            numerator=d["numerator"], denominator=d.get("denominator"),
            denominator_constant=d.get("denominator_constant"), target=target,
            target_text=d.get("target_text") or derived_target_text(d["target"], d["kind"]), deadline=deadline,
            lead=d["lead"],
            partners=d.get("partners", ""), method=d.get("method", ""), purpose=d.get("purpose", ""),
            note=d.get("note", ""), tasks=tuple(d.get("tasks", ())),
        )

    return Plan(
        commune=raw["commune"], year=raw["year"], report_due_day=raw["report_due_day"],
        units=tuple(Unit(code=u["code"], name=u["name"], short=u["short"], role=u.get("role", ""),
                         officers=tuple(u.get("officers", ()))) for u in raw["units"]),
        villages=tuple(Village(**v) for v in raw["villages"]),
        elements=tuple(Element(**e) for e in raw["elements"]),
        indicators=tuple(indicator(d) for d in raw["indicators"] if d.get("assigned", True)),
        not_assigned=tuple(indicator(d) for d in raw["indicators"] if not d.get("assigned", True)),
        title=raw.get("title", ""), commune_full=raw.get("commune_full", ""),
        province=raw.get("province", ""), consolidating_unit=raw.get("consolidating_unit", "vhxh"),
        focal_point=raw.get("focal_point", {}), signed_by=raw.get("signed_by", ""),
        general_tasks=tuple(raw.get("general_tasks", ())), report_recipients=tuple(raw.get("report_recipients", ())),
        source=source,
    )


def load_plan(path: str | Path | None = None) -> Plan:
    """Load the plan YAML (default: $KPI_PLAN, or the sample data's plan params/plan_2026.yml; a period's own year:
    kpi.core.paths.plan_file_for)."""
    path = Path(path or paths.PLAN_FILE)
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> Plan:
    return parse_plan(Path(path).read_text(encoding="utf-8"), source=_display(Path(path)))


def _display(path: Path) -> str:
    """The plan file as the user would find it: relative to the working folder where it is under it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)

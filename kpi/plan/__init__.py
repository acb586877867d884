"""The plan (units, villages, data elements, indicators) loaded from YAML and checked against its schema."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from kpi.core import paths, periods, safety, schema_messages
from kpi.core.errors import PlanError  # noqa: F401 (raised here, caught by kpi.cli)


def _import_jsonschema():
    """jsonschema, imported without its optional IRI-format helper rfc3987_syntax, which builds a parser
    at import (about 1.4 s, paid by every report's worker process and kernel). The plan's schema checks no
    string formats, so nothing here needs it; a later explicit `import rfc3987_syntax` still works."""
    if "jsonschema" in sys.modules:
        return sys.modules["jsonschema"]
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # makes jsonschema's guarded import skip it
    try:
        import jsonschema
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", False) is None:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


jsonschema = _import_jsonschema()
# libyaml's safe loader where PyYAML has it (the wheels do): the same data, several times faster to read
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

UNIT_CODES = ("vhxh", "kt", "ttpvhcc", "ca")

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_TEXT = {"type": "string", "minLength": 1}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["commune", "year", "units", "villages", "elements", "indicators", "report_due_day"],
    "properties": {
        "commune": _TEXT,
        "commune_full": _TEXT,
        "province": _TEXT,
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "title": _TEXT,
        "consolidating_unit": _TEXT,
        "report_due_day": {"type": "integer", "minimum": 1, "maximum": 28},
        "focal_point": {"type": "object"},
        "signed_by": {"type": "string"},
        "general_tasks": {"type": "array", "items": _TEXT},
        "report_recipients": {"type": "array", "items": _TEXT},  # the Báo cáo's Nơi nhận (kpi.outputs.docx_report)
        "units": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name", "short"],
                "properties": {
                    "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "name": _TEXT,
                    "short": _TEXT,
                    "role": {"type": "string"},
                    "officers": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["name"],
                            "properties": {
                                "name": _TEXT,
                                "phone": {"type": "string"},
                                "email": {"type": "string", "pattern": r"^$|^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$"},
                                "note": {"type": "string"},
                            },
                        },
                    },
                },
            },
        },
        "villages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "name"],
                "properties": {"code": {"type": "string", "pattern": r"^[a-z0-9_]+$"}, "name": _TEXT},
            },
        },
        "elements": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "label", "unit", "level", "time"],
                "properties": {
                    "code": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"},
                    "label": _TEXT,
                    "unit": {"type": "string"},
                    "level": {"enum": ["village", "commune"]},
                    "time": {"enum": ["stock", "flow"]},
                    "max": {"type": "number", "exclusiveMinimum": 0},
                    "decimals": {"type": "boolean"},
                },
            },
        },
        "indicators": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "group", "name", "short", "kind", "numerator", "target", "deadline", "lead"],
                "properties": {
                    "id": {"type": "string", "pattern": r"^[0-9]+[a-z]?$"},
                    "group": {"type": "string"},
                    "name": _TEXT,
                    "short": _TEXT,
                    "kind": {"enum": ["ratio", "count"]},
                    "numerator": {"type": "string"},
                    "denominator": {"type": "string"},
                    "denominator_constant": {"type": "number", "exclusiveMinimum": 0},
                    "target": {
                        "oneOf": [
                            {"const": "encouraged"},
                            {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["op", "value"],
                                "properties": {"op": {"const": ">="}, "value": {"type": "number"}},
                            },
                        ]
                    },
                    "target_text": {"type": "string"},
                    "deadline": {"oneOf": [{"const": "continuous"}, _DATE]},
                    "lead": {"type": "string"},
                    "partners": {"type": "string"},
                    "method": {"type": "string"},
                    "purpose": {"type": "string"},
                    "note": {"type": "string"},
                    "tasks": {"type": "array", "items": _TEXT},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short: str
    role: str = ""
    officers: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Village:
    code: str
    name: str


@dataclass(frozen=True)
class Element:
    code: str
    label: str
    unit: str
    level: str  # village | commune
    time: str  # stock | flow
    max: float | None = None
    decimals: bool = False


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str
    name: str
    short: str
    kind: str  # ratio | count
    numerator: str
    denominator: str | None
    denominator_constant: float | None
    target: float | None  # None: encouraged (Khuyến khích)
    target_text: str
    deadline: dt.date | None  # None: continuous (thường xuyên)
    lead: str
    partners: str = ""
    method: str = ""
    purpose: str = ""
    note: str = ""
    tasks: tuple[str, ...] = ()

    @property
    def encouraged(self) -> bool:
        return self.target is None

    @property
    def continuous(self) -> bool:
        return self.deadline is None


@dataclass(frozen=True)
class Plan:
    commune: str
    year: int
    report_due_day: int
    units: tuple[Unit, ...]
    villages: tuple[Village, ...]
    elements: tuple[Element, ...]
    indicators: tuple[Indicator, ...]
    title: str = ""
    commune_full: str = ""
    province: str = ""
    consolidating_unit: str = "vhxh"
    focal_point: dict = field(default_factory=dict)
    signed_by: str = ""
    general_tasks: tuple[str, ...] = ()
    report_recipients: tuple[str, ...] = ()
    source: str = ""

    # Lookups used everywhere; cheap to rebuild, so derived rather than stored.
    def unit(self, code: str) -> Unit:
        return {u.code: u for u in self.units}[code]

    def element(self, code: str) -> Element:
        return {e.code: e for e in self.elements}[code]

    def indicator(self, ind_id: str) -> Indicator:
        return {i.id: i for i in self.indicators}[ind_id]

    @property
    def unit_codes(self) -> list[str]:
        return [u.code for u in self.units]

    @property
    def village_names(self) -> list[str]:
        return [v.name for v in self.villages]

    @property
    def periods(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    def due_date(self, period: str) -> dt.date:
        """Units send a month's figures on or before day `report_due_day` (the 10th) of the month after it
        (Chế độ thông tin báo cáo); December's are due in January of the next year."""
        year, month = periods.year_of(period), periods.month_number(period)
        return dt.date(year + month // 12, month % 12 + 1, self.report_due_day)

    def indicators_of(self, unit: str | None) -> list[Indicator]:
        """Indicators a unit leads, or all of them for the commune report (unit None or 'commune')."""
        if unit in (None, "commune", "all"):
            return list(self.indicators)
        return [i for i in self.indicators if i.lead == unit]

    def elements_of(self, unit: str) -> list[Element]:
        return [e for e in self.elements if e.unit == unit]

    def to_dict(self) -> dict:
        d = asdict(self)
        for ind in d["indicators"]:
            ind["deadline"] = ind["deadline"].isoformat() if ind["deadline"] else "continuous"
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


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


def fold(text: object) -> str:
    """Compare-friendly text: NFC, no diacritics, lower case, single spaces (đ -> d)."""
    s = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", s).strip().casefold()


def village_key(name: object) -> str:
    """A village name as the data matching compares it: folded, and numbers without leading zeros, so
    'thôn  05', 'Thon 5' and 'Thôn 5' are one village."""
    return re.sub(r"\b0+(\d)", r"\1", fold(name))


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
        if (ind["kind"] == "ratio" and ind.get("denominator") in elements and ind["numerator"] in elements
                and elements[ind["numerator"]]["level"] != elements[ind["denominator"]]["level"]):
            problems.append((["indicators", i], "tử số và mẫu số phải cùng cấp (thôn hoặc xã)"))
    return problems


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
            target_text=d.get("target_text", ""), deadline=deadline, lead=d["lead"],
            partners=d.get("partners", ""), method=d.get("method", ""), purpose=d.get("purpose", ""),
            note=d.get("note", ""), tasks=tuple(d.get("tasks", ())),
        )

    return Plan(
        commune=raw["commune"], year=raw["year"], report_due_day=raw["report_due_day"],
        units=tuple(Unit(code=u["code"], name=u["name"], short=u["short"], role=u.get("role", ""),
                         officers=tuple(u.get("officers", ()))) for u in raw["units"]),
        villages=tuple(Village(**v) for v in raw["villages"]),
        elements=tuple(Element(**e) for e in raw["elements"]),
        indicators=tuple(indicator(d) for d in raw["indicators"]),
        title=raw.get("title", ""), commune_full=raw.get("commune_full", ""),
        province=raw.get("province", ""), consolidating_unit=raw.get("consolidating_unit", "vhxh"),
        focal_point=raw.get("focal_point", {}), signed_by=raw.get("signed_by", ""),
        general_tasks=tuple(raw.get("general_tasks", ())), report_recipients=tuple(raw.get("report_recipients", ())),
        source=source,
    )


def load_plan(path: str | Path | None = None) -> Plan:
    """Load the plan YAML (default: params/plan_2026.yml, or $KPI_PLAN)."""
    path = Path(path or paths.PLAN_FILE)
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


@lru_cache(maxsize=8)
def _load_cached(path: str, _mtime: int) -> Plan:
    return parse_plan(Path(path).read_text(encoding="utf-8"), source=Path(path).name)

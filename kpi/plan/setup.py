"""A commune's plan for a year made from a base plan (the province's, or last year's) and the commune's answers."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import yaml

from kpi.core.errors import PlanError
from kpi.plan import parse_plan
from kpi.plan.model import Plan, fold

ENCOURAGED_WORDS = ("khuyen khich", "kk", "encouraged")


@dataclass
class Answers:
    """What a commune says about its plan; None (or empty) keeps the base plan's value."""

    commune: str
    year: int
    villages: list[str]
    province: str | None = None
    targets: dict[str, str] = field(default_factory=dict)  # indicator id -> "30", "35,4", "khuyến khích"
    deadlines: dict[str, str] = field(default_factory=dict)  # indicator id -> "2027-06-20" or "thường xuyên"
    not_assigned: set[str] = field(default_factory=set)
    officers: dict[str, list[dict]] = field(default_factory=dict)  # unit code -> [{name, phone, email}]
    signed_by: str | None = None
    recipients: list[str] = field(default_factory=list)


def village_codes(names: list[str]) -> list[str]:
    """Codes for villages named anything ('Xóm Đông' -> xom_dong, 'Tổ dân phố 3' -> to_dan_pho_3), unique."""
    codes: list[str] = []
    for name in names:
        base = re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_") or "thon"
        code, n = base, 2
        while code in codes:
            code, n = f"{base}_{n}", n + 1
        codes.append(code)
    return codes


def _target(text: str, kind: str, where: str) -> tuple[object, str]:
    """('30', ratio) -> ({op: >=, value: 30}, '30%'); 'khuyến khích' -> encouraged."""
    t = text.strip()
    if fold(t) in ENCOURAGED_WORDS:
        return "encouraged", "Khuyến khích"
    try:
        value = float(t.rstrip("%").strip().replace(",", "."))
    except ValueError:
        raise PlanError(f"{where}: chỉ tiêu giao '{text}' không phải một số (ví dụ 30 hoặc 35,4) hay "
                        "'khuyến khích'; ghi lại.") from None
    number = int(value) if value.is_integer() else value
    words = f"{number:g}%" if kind == "ratio" else f"{number:g}/năm"
    return {"op": ">=", "value": number}, words


def _deadline(text: str, year: int, where: str) -> str:
    t = text.strip()
    if fold(t) in ("thuong xuyen", "continuous"):
        return "continuous"
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", t)  # 30/06/2027, as Vietnamese dates are written
    iso = f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}" if m else t
    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        raise PlanError(f"{where}: hạn '{text}' không phải một ngày; ghi dạng ngày/tháng/năm (30/06/{year}) "
                        "hoặc 'thường xuyên'.") from None
    if day.year != year:
        raise PlanError(f"{where}: hạn {day.strftime('%d/%m/%Y')} không thuộc năm kế hoạch {year}.")
    return day.isoformat()


def _moved_year(text: str, year: int) -> str:
    """A base plan's deadline moved to the new year, same day and month (29 February falls on the 28th)."""
    if text == "continuous":
        return text
    day = dt.date.fromisoformat(text)
    try:
        return day.replace(year=year).isoformat()
    except ValueError:
        return day.replace(year=year, day=28).isoformat()


def make_plan(base: dict, base_year: int, a: Answers) -> dict:
    """The commune's plan as YAML data: the base plan's indicators, elements and units with the commune's name,
    villages, targets, deadlines, assignments, officers, signer and recipients."""
    raw = dict(base)
    ids = [str(d["id"]) for d in raw["indicators"]]
    unknown = sorted((set(a.targets) | set(a.deadlines) | a.not_assigned) - set(ids))
    if unknown:
        raise PlanError(f"Không có chỉ tiêu {', '.join(unknown)} trong kế hoạch gốc; các chỉ tiêu là: {', '.join(ids)}.")
    if not a.villages:
        raise PlanError("Chưa có thôn nào: ghi tên các thôn (tổ dân phố, xóm...) của xã.")
    old_commune = raw.get("commune", "")
    raw["commune"] = a.commune
    raw["commune_full"] = f"Ủy ban nhân dân xã {a.commune}"
    if a.province:
        raw["province"] = a.province
    raw["year"] = a.year
    if raw.get("title"):
        raw["title"] = raw["title"].replace(str(base_year), str(a.year))
    raw["villages"] = [{"code": c, "name": n.strip()} for c, n in zip(village_codes(a.villages), a.villages)]
    indicators = []
    for d in raw["indicators"]:
        d = {k: v for k, v in d.items() if k != "assigned"}
        i = str(d["id"])
        where = f"Chỉ tiêu {i}"
        d["deadline"] = (_deadline(a.deadlines[i], a.year, where) if i in a.deadlines
                         else _moved_year(str(d["deadline"]), a.year))
        if i in a.targets:
            d["target"], d["target_text"] = _target(a.targets[i], d["kind"], where)
        if i in a.not_assigned:
            d["assigned"] = False
        indicators.append(d)
    raw["indicators"] = indicators
    units = []
    for u in raw["units"]:
        u = dict(u)
        if a.officers.get(u["code"]):
            u["officers"] = [{k: v for k, v in o.items() if v} for o in a.officers[u["code"]]]
        units.append(u)
    raw["units"] = units
    focal = raw.get("focal_point") or {}
    lead = a.officers.get(focal.get("unit", raw.get("consolidating_unit", "")))
    if lead:
        raw["focal_point"] = {"name": lead[0]["name"], "unit": focal.get("unit", raw.get("consolidating_unit")),
                              "phone": lead[0].get("phone", "")}
    if a.signed_by:
        raw["signed_by"] = a.signed_by
    if a.recipients:
        raw["report_recipients"] = list(a.recipients)
    for key in ("general_tasks",):  # the base commune's name in the plan's own words
        if old_commune and key in raw:
            raw[key] = [t.replace(old_commune, a.commune) for t in raw[key]]
    return raw


def plan_text(raw: dict, source: str) -> str:
    """The plan as YAML text, with a header saying where it came from."""
    head = (f"# Kế hoạch năm {raw['year']} của xã {raw['commune']}, lập bằng `kpi init` từ {source}.\n"
            "# Sửa được bằng tay; `kpi plan` kiểm tra lại tệp mỗi khi nạp.\n")
    return head + yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=120, default_flow_style=False)


def checked(raw: dict, source: str, name: str) -> tuple[str, Plan]:
    """The YAML text and the Plan it loads to: every check the kit makes when it reads a plan, before writing."""
    text = plan_text(raw, source)
    return text, parse_plan(text, source=name)

"""Province targets (docs/rules.md §9): from an optional province plan file, else derived from the commune plan: a count
target is the sum of the reporting communes' targets, a ratio target is the commune target, encouraged stays
encouraged. The province plan file also lists the communes the province expects (for the packages route)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from kpi.core.errors import PlanError
from kpi.plan import Plan

# how each province target was set (the report says which)
RULE_PROVINCE_PLAN = "province_plan"
RULE_SUM_OF_COMMUNES = "sum_of_communes"
RULE_COMMUNE_TARGET = "commune_target"
RULE_ENCOURAGED = "encouraged"
RULE_WORDS = {
    RULE_PROVINCE_PLAN: "theo kế hoạch của tỉnh",
    RULE_SUM_OF_COMMUNES: "tổng chỉ tiêu của các xã có số liệu",
    RULE_COMMUNE_TARGET: "bằng chỉ tiêu giao cho xã",
    RULE_ENCOURAGED: "khuyến khích, không giao số",
}


@dataclass(frozen=True)
class ProvincePlan:
    """What a province plan file says: its own targets (indicator -> value, None = encouraged) and the
    communes it expects (commune ids, the names of the communes' data folders), both optional."""

    province: str = ""
    targets: dict[str, float | None] = field(default_factory=dict)
    communes: tuple[str, ...] = ()
    file: str = ""
    keys: dict[str, bytes] = field(default_factory=dict)  # commune id -> Ed25519 public key (kpi.core.signing)
    names: dict[str, str] = field(default_factory=dict)  # commune id -> name, as the province writes it


def load_province_plan(path: str | Path | None, plan: Plan) -> ProvincePlan:
    """Read a province plan YAML: `province: name`, `communes: [xa_001, …]`, `targets: {"7": 20, "4":
    encouraged}`. Every problem is listed at once, with the file and what to write instead."""
    if not path:
        return ProvincePlan()
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PlanError(f"Không đọc được kế hoạch của tỉnh {path}: {exc}. Tệp phải là YAML, mã UTF-8.") from None
    if not isinstance(raw, dict):
        raise PlanError(f"Kế hoạch của tỉnh {path}: cần các khóa province, communes, targets (YAML dạng từ điển).")
    problems = []
    ids = {i.id for i in plan.indicators}
    targets: dict[str, float | None] = {}
    given = raw.get("targets") or {}
    if not isinstance(given, dict):
        problems.append("targets phải là từ điển 'mã chỉ tiêu: giá trị', ví dụ targets: {\"7\": 20}")
        given = {}
    for key, value in given.items():
        ind = str(key)
        if ind not in ids:
            problems.append(f"targets: chỉ tiêu '{ind}' không có trong kế hoạch (dùng một trong {', '.join(sorted(ids))})")
        elif value == "encouraged":
            targets[ind] = None
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value) and value >= 0:
            targets[ind] = float(value)
        else:
            problems.append(f"targets: chỉ tiêu {ind} = {value!r}: ghi một số không âm (phần trăm với chỉ tiêu tỷ lệ) "
                            "hoặc encouraged")
    ids, keys, names = _communes(raw.get("communes") or [], problems)
    if problems:
        raise PlanError(f"Kế hoạch của tỉnh {path} có {len(problems)} lỗi:\n" + "\n".join(f"  - {p}" for p in problems))
    return ProvincePlan(str(raw.get("province") or ""), targets, ids, str(path), keys, names)


def _communes(given: object, problems: list[str]) -> tuple[tuple[str, ...], dict[str, bytes], dict[str, str]]:
    """The communes the province expects: each a commune id (the commune's data folder name), or
    {id, name, key} with the public key `kpi keys` printed at the commune (docs/rules.md §10)."""
    from kpi.core.signing import parse_public

    if not isinstance(given, list):
        problems.append("communes phải là danh sách xã, mỗi xã một dòng {id: xa_001, name: Xã …, key: \"ed25519:…\"} "
                        "(hoặc chỉ mã xã)")
        return (), {}, {}
    ids, keys, names, owner = [], {}, {}, {}
    for n, entry in enumerate(given, 1):
        if isinstance(entry, (str, int)) and not isinstance(entry, bool):
            entry = {"id": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), (str, int)) or isinstance(entry.get("id"), bool):
            problems.append(f"communes, xã thứ {n}: cần {{id: mã xã, name: tên xã, key: \"ed25519:…\"}}, không phải "
                            f"{entry!r}")
            continue
        cid = str(entry["id"])
        if cid in ids:
            problems.append(f"communes: xã {cid} ghi hai lần")
            continue
        ids.append(cid)
        if entry.get("name"):
            names[cid] = str(entry["name"])
        if entry.get("key") is None:
            continue
        try:
            key = parse_public(entry["key"])
        except ValueError as exc:
            problems.append(f"communes, xã {cid}: {exc}")
            continue
        if key in owner:  # one key for two communes would let either sign for the other
            problems.append(f"communes: xã {cid} và xã {owner[key]} có cùng một khóa; mỗi xã có khóa riêng do "
                            "`kpi keys` tạo ở xã đó")
            continue
        owner[key], keys[cid] = cid, key
    return tuple(ids), keys, names


def province_targets(plan: Plan, communes_reported: pd.Series, pplan: ProvincePlan | None = None) -> pd.DataFrame:
    """Per indicator the province target, its words and the rule that set it (docs/rules.md §9).

    `communes_reported`: per indicator, how many communes have a value at P. A count's target is the sum of
    the targets of the communes that reported (indicator 7: 2 per commune), since the province's value is the
    sum of their counts; a ratio's province value is a ratio of sums, so its target stays the commune's."""
    pplan = pplan or ProvincePlan()
    rows = []
    for ind in plan.indicators:
        if ind.id in pplan.targets:
            target, rule = pplan.targets[ind.id], RULE_PROVINCE_PLAN
        elif ind.target is None:
            target, rule = None, RULE_ENCOURAGED
        elif ind.kind == "count":
            target, rule = ind.target * int(communes_reported.get(ind.id, 0)), RULE_SUM_OF_COMMUNES
        else:
            target, rule = ind.target, RULE_COMMUNE_TARGET
        rows.append({"indicator": ind.id, "target": np.nan if target is None else float(target),
                     "target_rule": rule, "target_text": target_text(ind, target, rule)})
    return pd.DataFrame(rows)


def target_text(ind, target: float | None, rule: str) -> str:
    """The province target in words, e.g. '≥ 8 (tổng chỉ tiêu của các xã có số liệu)'."""
    if target is None:
        return f"Khuyến khích ({RULE_WORDS[rule]})" if rule == RULE_PROVINCE_PLAN else "Khuyến khích"
    number = (f"{target:,.0f}".replace(",", ".") if ind.kind == "count"
              else f"{target:g}".replace(".", ",") + "%")
    return f"≥ {number} ({RULE_WORDS[rule]})"

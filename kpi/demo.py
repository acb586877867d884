"""A synthetic, clearly marked data set for one commune: 26 villages, about 30,000 people, January..November."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd

from kpi import paths
from kpi.plan import Plan

LAST_MONTH = 11
MARK = "DỮ LIỆU GIẢ LẬP (synthetic) — chỉ dùng để thử bộ công cụ, không phải số liệu thật."

# Commune-wide share of the base population at January and November for each village-level numerator;
# villages scatter around it, a few lag behind (so the village chart has something to show).
VILLAGE_RATES = {
    "pop_4g5g": ("pop_total", 0.86, 0.93),
    "adult_digital_health": ("pop_adult", 0.60, 0.835),
    "adult_digital_education": ("pop_adult", 0.50, 0.71),
    "adult_digital_insurance": ("pop_adult", 0.62, 0.815),
    "adult_digital_transport": ("pop_adult", 0.40, 0.62),
    "bank_account_15plus": ("pop_15plus", 0.62, 0.855),
    "vneid_accounts": ("pop_14plus", 0.55, 0.715),
    "adult_digital_signature": ("pop_adult", 0.12, 0.33),
}
# vneid_level2 is a share of the total population; ehealth_books is never supplied (Trạm Y tế has not sent it).
NOT_SUPPLIED = {"ehealth_books"}


def _village_base(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    n = len(plan.villages)
    pop = rng.integers(850, 1450, n)
    pop = np.round(pop * 30_000 / pop.sum()).astype(int)
    base = pd.DataFrame({"village": plan.village_names, "pop_total": pop})
    base["pop_adult"] = np.round(pop * rng.uniform(0.73, 0.77, n)).astype(int)
    base["pop_15plus"] = base["pop_adult"] + np.round(pop * rng.uniform(0.045, 0.06, n)).astype(int)
    base["pop_14plus"] = base["pop_15plus"] + np.round(pop * rng.uniform(0.012, 0.018, n)).astype(int)
    base["lag"] = rng.normal(0, 0.03, n)
    base.loc[rng.choice(n, 3, replace=False), "lag"] -= 0.12  # three villages clearly behind
    return base


def _village_rows(plan: Plan, rng: np.random.Generator) -> pd.DataFrame:
    base = _village_base(plan, rng)
    months = np.arange(1, LAST_MONTH + 1)
    grid = base.merge(pd.DataFrame({"month": months}), how="cross")
    growth = 1 + 0.0008 * (grid["month"] - 1)  # population creeps up month by month
    for col in ("pop_total", "pop_adult", "pop_15plus", "pop_14plus"):
        grid[col] = np.round(grid[col] * growth).astype(int)
    t = (grid["month"] - 1) / (LAST_MONTH - 1)
    for element, (denominator, start, end) in VILLAGE_RATES.items():
        rate = np.clip(start + (end - start) * t + grid["lag"] + rng.normal(0, 0.005, len(grid)), 0.02, 0.99)
        grid[element] = np.floor(grid[denominator] * rate).astype(int)
    grid["vneid_level2"] = np.floor(grid["pop_total"] * np.clip(0.45 + 0.2 * t + grid["lag"] / 2, 0, 0.95)).astype(int)
    elements = [e.code for e in plan.elements if e.level == "village" and e.code not in NOT_SUPPLIED]
    long = grid.melt(id_vars=["village", "month"], value_vars=elements, var_name="element", value_name="value")
    return long


def _commune_rows(rng: np.random.Generator) -> pd.DataFrame:
    m = np.arange(1, LAST_MONTH + 1)
    records_total = rng.integers(380, 520, len(m))
    records_dvc = np.round(records_total * rng.uniform(0.62, 0.7, len(m))).astype(int)
    payments_total = rng.integers(110, 160, len(m))
    cols = {
        "officials_total": np.full(len(m), 31),
        "officials_trained": np.minimum(np.array([18, 19, 21, 23, 25, 26, 27, 28, 28, 29, 29]), 31)[: len(m)],
        "st_enterprises": np.where(m >= 6, 1, 0),
        "enterprises_total": 40 + (m >= 4) + (m >= 9),
        "enterprises_innovating": np.array([3, 3, 4, 4, 5, 5, 5, 6, 6, 7, 7])[: len(m)],
        "startups_new": np.isin(m, [4, 9]).astype(int),
        "ip_applications_new": (m == 10).astype(int),
        "sme_digital": np.array([15, 15, 16, 17, 18, 19, 19, 20, 21, 22, 23])[: len(m)],
        "records_total": records_total,
        "records_digitized": np.floor(records_total * rng.uniform(0.975, 0.995, len(m))).astype(int),
        "records_dvc_total": records_dvc,
        "records_online": np.floor(records_dvc * np.linspace(0.84, 0.9, len(m))).astype(int),
        "payments_total": payments_total,
        "payments_online": np.floor(payments_total * np.linspace(0.68, 0.77, len(m))).astype(int),
        "satisfaction_points": np.round(np.linspace(18.6, 19.3, len(m)), 1),
    }
    frame = pd.DataFrame({"month": m, **cols})
    long = frame.melt(id_vars="month", var_name="element", value_name="value")
    return long.assign(village="")


def _submission_day(unit: str, month: int) -> dt.date:
    """Units send before the 10th of the next month; Công an is late for November, VHXH for March."""
    year, nxt = (2026, month + 1) if month < 12 else (2027, 1)
    day = {"vhxh": 6, "kt": 8, "ttpvhcc": 5, "ca": 9}[unit]
    if (unit, month) == ("ca", 11):
        day = 14
    if (unit, month) == ("vhxh", 3):
        day = 12
    return dt.date(year, nxt, day)


def demo_frame(plan: Plan, seed: int = 2026) -> pd.DataFrame:
    """The synthetic long data: every unit-month except Phòng Kinh tế's July (never sent), with a few village
    rows missing (VHXH forgot Thôn 7 and Thôn 19 in November; Công an left out Thôn 22 in October)."""
    rng = np.random.default_rng(seed)
    rows = pd.concat([_village_rows(plan, rng), _commune_rows(rng)], ignore_index=True)
    owner = {e.code: e.unit for e in plan.elements}
    rows["unit"] = rows["element"].map(owner)
    rows["period"] = rows["month"].map(lambda m: f"{plan.year}-{m:02d}")
    drop = ((rows["unit"] == "kt") & (rows["month"] == 7)) \
        | ((rows["unit"] == "vhxh") & (rows["month"] == 11) & rows["village"].isin(["Thôn 7", "Thôn 19"])
           & rows["element"].isin(["adult_digital_signature", "bank_account_15plus"])) \
        | ((rows["unit"] == "ca") & (rows["month"] == 10) & (rows["village"] == "Thôn 22"))
    rows = rows[~drop]
    rows["submitted_on"] = [_submission_day(u, m).isoformat() for u, m in zip(rows["unit"], rows["month"])]
    order = {e.code: n for n, e in enumerate(plan.elements)}
    village_order = {v: n for n, v in enumerate([""] + plan.village_names)}
    rows = rows.assign(_e=rows["element"].map(order), _v=rows["village"].map(village_order))
    rows = rows.sort_values(["period", "unit", "_e", "_v"])
    return rows[["period", "unit", "village", "element", "value", "submitted_on"]].reset_index(drop=True)


def _fmt_value(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def write_demo(out: str | Path, plan: Plan, seed: int = 2026) -> list[Path]:
    """Write <out>/submissions/<period>/<unit>.csv (long format, UTF-8) and a README marking it synthetic."""
    out = Path(out)
    frame = demo_frame(plan, seed)
    frame["value"] = frame["value"].map(_fmt_value)
    written = []
    for (period, unit), part in frame.groupby(["period", "unit"], sort=True):
        target = paths.submissions_dir(out) / period / f"{unit}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        part.to_csv(target, index=False, encoding="utf-8", lineterminator="\n")
        written.append(target)
    (out / "README.md").write_text(
        f"# {MARK}\n\nSinh bởi `kpi demo-data --seed {seed}`: xã {plan.commune}, {len(plan.villages)} thôn, "
        f"tháng 1–{LAST_MONTH}/{plan.year}.\n\nSynthetic data made by `kpi demo-data --seed {seed}`; "
        "not real figures.\n", encoding="utf-8")
    return written

"""Province roll-up over many communes: each indicator as a ratio of sums over communes, ranks, status grid,
communes that have not reported. Pure frames in, frames out (vectorised over communes); plus reading a
province root, and the computed report as Parquet files for the notebook (write_report, read_report)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from kpi.core import paths
from kpi.core.files import write_atomic
from kpi.indicators import compute
from kpi.indicators.history import commune_history  # noqa: F401 (the one history, kpi.indicators.history)
from kpi.plan import SAFE_LOADER
from kpi.plan.model import Plan, Village
from kpi.province.targets import ProvincePlan, province_targets

COMMUNE_FILE = paths.COMMUNE_FILE


def commune_plan(plan: Plan, commune_dir: Path) -> Plan:
    """The plan as it applies to one commune: same units, elements, indicators and targets; the commune's own
    name and villages when its folder has a commune.yml, else the folder name and the plan's villages."""
    spec_file = Path(commune_dir) / COMMUNE_FILE
    if not spec_file.is_file():
        return replace(plan, commune=Path(commune_dir).name)
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}
    villages = spec.get("villages") or plan.village_names
    return replace(plan, commune=str(spec.get("commune") or Path(commune_dir).name),
                   villages=tuple(Village(code=f"t{n:02d}", name=str(v)) for n, v in enumerate(villages, 1)))


def commune_plan_yaml(base_plan_file: Path, plan: Plan) -> str:
    """The base plan YAML with one commune's name and villages, for that commune's notebooks."""
    raw = yaml.load(Path(base_plan_file).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    raw["commune"] = plan.commune
    raw["commune_full"] = f"Ủy ban nhân dân xã {plan.commune}"
    raw["villages"] = [{"code": v.code, "name": v.name} for v in plan.villages]
    # libyaml's loader and dumper where PyYAML has them (the same text as the Python ones, ten times faster: a
    # province run writes this for every commune)
    return yaml.dump(raw, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False)


@dataclass
class ProvinceData:
    data: pd.DataFrame  # long data of every commune: commune, period, unit, village, element, value
    received: pd.DataFrame  # commune, unit, period, submitted_on, file
    villages: pd.Series  # villages expected per commune
    communes: list[str]


def load_province(root: Path, plan: Plan) -> ProvinceData:
    """Read and validate every commune folder under a province root (each against its own villages)."""
    from kpi.intake.validate import load_submissions

    communes = {}
    for d in paths.commune_dirs(root):
        cplan = commune_plan(plan, d)
        communes[d.name] = (load_submissions(d, cplan), len(cplan.villages))
    return province_data(communes)


def province_data(communes: dict) -> ProvinceData:
    """The province's data from each commune's validated submissions and number of villages (folder name ->
    (kpi.intake.validate.Submissions, villages)), in the communes' order."""
    data = [subs.data[["period", "unit", "village", "element", "value"]].assign(commune=name)
            for name, (subs, _) in communes.items()]
    received = [subs.received.assign(commune=name) for name, (subs, _) in communes.items()]
    frame = pd.concat(data, ignore_index=True) if data else pd.DataFrame(
        columns=["period", "unit", "village", "element", "value", "commune"])
    return ProvinceData(frame, pd.concat(received, ignore_index=True) if received else pd.DataFrame(),
                        pd.Series({name: n for name, (_, n) in communes.items()}, dtype="int64"), list(communes))


def rollup(history: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Province value per indicator and month as a ratio of sums over the communes that have a value:
    100 × Σ numerator / Σ denominator (never a mean of commune ratios); a count is the sum of the communes'
    counts. Columns: indicator, month, numerator, denominator, value, communes_reported."""
    has = history[history["villages_reported"] > 0]
    agg = has.groupby(["indicator", "month"]).agg(
        numerator=("numerator", "sum"), denominator=("denominator", lambda s: s.sum(min_count=1)),
        communes_reported=("commune", "size"))
    return finish_rollup(agg, plan, sorted(history["month"].unique()))


def finish_rollup(agg: pd.DataFrame, plan: Plan, months: list[int]) -> pd.DataFrame:
    """From the sums per (indicator, month) over reporting communes (numerator, denominator,
    communes_reported) to rollup's frame: every indicator and month, the value as 100 × Σ num / Σ den."""
    grid = pd.MultiIndex.from_product([[i.id for i in plan.indicators], [int(m) for m in months]],
                                      names=["indicator", "month"])
    out = agg.reindex(grid).reset_index()
    out["communes_reported"] = out["communes_reported"].fillna(0).astype("int64")
    kind = out["indicator"].map({i.id: i.kind for i in plan.indicators})
    out["value"] = compute.values_from_sums(out, kind, out["communes_reported"])
    out.loc[out["communes_reported"] == 0, ["numerator", "denominator"]] = np.nan
    return out


def _with_status(frame: pd.DataFrame, plan: Plan, period: str, fc: pd.Series, keys: list[str],
                 targets: dict | None = None) -> pd.DataFrame:
    if targets is None:
        targets = {i.id: (np.nan if i.target is None else i.target) for i in plan.indicators}
    deadlines = {i.id: i.deadline for i in plan.indicators}
    frame = frame.assign(target=frame["indicator"].map(targets).astype("float64"),
                         deadline=frame["indicator"].map(deadlines))
    frame = frame.merge(fc.rename("forecast").reset_index(), on=keys, how="left")
    frame["status"] = compute.status(frame, period)
    return frame


@dataclass
class ProvinceReport:
    period: str
    scorecard: pd.DataFrame  # province, one row per indicator
    communes: pd.DataFrame  # commune × indicator at P: value, numerator, denominator, status, rank
    not_reported: pd.DataFrame  # commune, missing units for P
    history: pd.DataFrame  # province value per indicator and month


REPORT_FRAMES = ("scorecard", "communes", "not_reported", "history")  # the frames of a ProvinceReport
REPORT_META = "report.json"  # beside them: the period they are for


def write_report(rep: ProvinceReport, folder: Path) -> Path:
    """A computed province report as Parquet files in `folder` (one per frame, each written under a temporary
    name and renamed) plus report.json naming the period: how `kpi run --scheduler` hands the cluster's result
    to the province notebook, which then computes nothing again. Needs pyarrow (the `dask` extra)."""
    import io

    folder = Path(folder)
    for name in REPORT_FRAMES:
        buf = io.BytesIO()
        getattr(rep, name).to_parquet(buf, index=False)
        write_atomic(folder / f"{name}.parquet", buf.getvalue())
    write_atomic(folder / REPORT_META, json.dumps({"period": rep.period, "frames": list(REPORT_FRAMES)}))
    return folder


def read_report(folder: Path, period: str) -> ProvinceReport:
    """The province report write_report left in `folder`; refuses one made for another period."""
    folder = Path(folder)
    meta = json.loads((folder / REPORT_META).read_text(encoding="utf-8"))
    if meta.get("period") != period:
        raise ValueError(f"Kết quả tổng hợp trong {folder} là của kỳ {meta.get('period')}, không phải kỳ {period}: "
                         f"chạy lại `kpi run` cho kỳ {period}.")
    return ProvinceReport(period, *(pd.read_parquet(folder / f"{name}.parquet") for name in REPORT_FRAMES))


def province_report(pdata: ProvinceData, plan: Plan, period: str, pplan: ProvincePlan | None = None) -> ProvinceReport:
    """Everything the province report shows for period P."""
    hist = commune_history(pdata.data, plan, period, pdata.villages)
    return report_from_history(hist, rollup(hist, plan), pdata.received, pdata.communes, plan, period, pplan)


def report_from_history(hist: pd.DataFrame, prov_hist: pd.DataFrame, received: pd.DataFrame, communes: list[str],
                        plan: Plan, period: str, pplan: ProvincePlan | None = None) -> ProvinceReport:
    """The province report for P from the communes' history January..P (commune_history), the province's
    (rollup or finish_rollup), the units' received files (commune, unit, period) and the commune names: the
    last step of the pandas path, the Dask path (kpi/province/on_dask.py) and the packages path
    (kpi/province/packages.py). `pplan`: the province plan file's targets (docs/rules.md §9), if any."""
    m = compute.month_of(period)
    prov = province_scorecard(prov_hist, plan, period, len(communes), pplan)
    now = hist[hist["month"] == m].drop(columns="month")
    per = _with_status(now, plan, period, compute.forecast_by(hist, plan, ["commune", "indicator"]), ["commune", "indicator"])
    per["rank"] = per.groupby("indicator")["value"].rank(method="min", ascending=False).astype("Int64")
    return ProvinceReport(period, prov, per, missing_units(received, communes, plan, period), prov_hist)


def province_scorecard(prov_hist: pd.DataFrame, plan: Plan, period: str, communes_expected: int,
                       pplan: ProvincePlan | None = None) -> pd.DataFrame:
    """The province's row per indicator at P from its history (rollup): value, status, forecast, name, and the
    province target with the rule that set it (kpi.province.targets: a count's target is the sum of the
    reporting communes' targets, never one commune's)."""
    m = compute.month_of(period)
    prov = prov_hist[prov_hist["month"] == m].drop(columns="month")
    tg = province_targets(plan, prov.set_index("indicator")["communes_reported"], pplan)
    prov = _with_status(prov, plan, period, compute.forecast_by(prov_hist, plan, ["indicator"]), ["indicator"],
                        dict(zip(tg["indicator"], tg["target"])))
    prov = prov.merge(tg[["indicator", "target_rule", "target_text"]], on="indicator", how="left")
    order = {i.id: n for n, i in enumerate(plan.indicators)}
    prov = prov.assign(name=prov["indicator"].map({i.id: i.short for i in plan.indicators}),
                       communes_expected=communes_expected).sort_values("indicator", key=lambda s: s.map(order))
    return prov.reset_index(drop=True)


def missing_units(received: pd.DataFrame, communes: list[str], plan: Plan, period: str) -> pd.DataFrame:
    """From the units' received files (commune, unit, period; a file counts even when its values were
    rejected): each commune where some unit sent nothing for P, with the missing unit codes and their count."""
    rec = received
    got = (rec[rec["period"] == period].groupby("commune")["unit"].agg(set) if len(rec)
           else pd.Series(dtype=object))
    rows = []
    for c in communes:
        missing = [u for u in plan.unit_codes if u not in got.get(c, set())]
        if missing:
            rows.append({"commune": c, "missing_units": ", ".join(missing), "missing": len(missing)})
    return pd.DataFrame(rows, columns=["commune", "missing_units", "missing"])

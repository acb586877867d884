"""Province and national scorecards with dask.dataframe on a Dask cluster, for long data larger than one
machine's memory: the same rules as kpi/province/__init__.py (pandas), computed partition by partition.

Every commune's rows must sit in one partition: read from a province root, each partition is one commune
folder, read and validated on a worker (read_province); long data made elsewhere comes in blocks of whole
communes (benchmarks/run.py part b). Each partition's communes get their year-to-date history with
province.commune_history (the within-commune ratio of sums over villages); the province roll-up is then a
dask groupby sum over the communes that have a value, 100 × Σ numerator / Σ denominator, never a mean of
commune ratios. Only small frames come back to the client: the sums per (indicator, month), and for the
province report the communes' history (communes × indicators × months rows) and which units sent files."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kpi import province
from kpi.core import paths
from kpi.core.fingerprint import sha256_file
from kpi.indicators import compute
from kpi.plan import load_plan
from kpi.plan.model import Plan

HISTORY_COLUMNS = {"commune": object, "indicator": object, "month": "int64", "numerator": "float64",
                   "denominator": "float64", "value": "float64", "villages_reported": "int64",
                   "villages_expected": "int64"}


def _empty_history() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in HISTORY_COLUMNS.items()})


def _history_part(part: pd.DataFrame, plan: Plan, period: str, villages: dict[str, int]) -> pd.DataFrame:
    """province.commune_history for the communes of one partition (each commune wholly in it)."""
    if part.empty:
        return _empty_history()
    part = part.assign(commune=part["commune"].astype(str))
    here = sorted(part["commune"].unique())
    per = pd.Series([villages.get(c, len(plan.villages)) for c in here], index=pd.Index(here, name="commune"),
                    dtype="int64")
    out = province.commune_history(part, plan, period, per)
    return out.astype(HISTORY_COLUMNS)


def commune_history(ddf, plan: Plan, period: str, villages: pd.Series | dict | None = None):
    """Every commune's year-to-date value of every indicator for each month January..P, as a dask DataFrame
    (the columns of province.commune_history). `ddf` is the long data as a dask DataFrame whose partitions each
    hold whole communes (blocks of communes, or one commune folder each: read_province); `villages` the
    villages expected per commune (default: the plan's). Communes without any row are not in the result."""
    villages = {} if villages is None else {str(k): int(v) for k, v in dict(villages).items()}
    return ddf.map_partitions(_history_part, plan, period, villages, meta=_empty_history())


def rollup_sums(history):
    """The sums per (indicator, month) over the communes that have a value, lazily: numerator, denominator
    (NaN where no commune has one) and communes_reported; finish_sums turns them into province.rollup's frame."""
    has = history[history["villages_reported"] > 0]
    has = has.assign(den_n=has["denominator"].notnull().astype("int64"), one=1)
    return has.groupby(["indicator", "month"])[["numerator", "denominator", "den_n", "one"]].sum()


def finish_sums(sums: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """province.rollup's frame for months January..P from rollup_sums' computed result (which may hold later
    months too: a month's sums do not depend on the months after it)."""
    m = compute.month_of(period)
    agg = sums[sums.index.get_level_values("month") <= m].rename(columns={"one": "communes_reported"})
    agg["denominator"] = agg["denominator"].where(agg["den_n"] > 0)  # Σ of no denominators is no value
    return province.finish_rollup(agg.drop(columns="den_n"), plan, list(range(1, m + 1)))


def rollup(history, plan: Plan, period: str, client=None) -> pd.DataFrame:
    """province.rollup computed on the cluster: sums per (indicator, month) over the communes that have a
    value; the result (one row per indicator and month) is a small pandas frame."""
    sums = rollup_sums(history)
    return finish_sums(client.compute(sums).result() if client is not None else sums.compute(), plan, period)


# --- a province root read on the cluster: one partition per commune folder ---------------------------------

# A commune folder as one frame, rows of three kinds (`record`), so that the folder is read and validated once
# for all that the province report needs from it:
#   "value"     an accepted value: period, unit, village ("" for commune level), element, value;
#   "received"  a unit sent a file for a month (counted even when its values were rejected): unit, period;
#   "villages"  one row: the number of villages the commune expects, in `value`.
COMMUNE_FRAME = {"commune": object, "record": object, "period": object, "unit": object, "village": object,
                 "element": object, "value": "float64"}
LONG = ["commune", "period", "unit", "village", "element", "value"]


class NotOnWorker(RuntimeError):
    """A Dask worker does not see the files the client sees (the data folder and the plan must be at the same
    paths on every worker)."""


def _empty_commune_frame() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in COMMUNE_FRAME.items()})


def _worker_plan(plan_file: str, plan_sha256: str) -> Plan:
    """The plan on a worker, refused when the worker's file is not the client's (load_plan caches it)."""
    if not Path(plan_file).is_file() or sha256_file(Path(plan_file)) != plan_sha256:
        raise NotOnWorker(f"Máy worker {socket.gethostname()} không có đúng tệp kế hoạch {plan_file} như máy chạy "
                          f"lệnh: tệp kế hoạch phải ở cùng đường dẫn, cùng nội dung trên mọi worker.")
    return load_plan(plan_file)


def read_commune(commune_dir: str, plan_file: str, plan_sha256: str) -> pd.DataFrame:
    """One commune folder read and validated on a worker against the commune's own villages (its commune.yml),
    as a COMMUNE_FRAME: its accepted values, the units' files received per month, its villages expected."""
    from kpi.intake.validate import load_submissions

    folder = Path(commune_dir)
    if not paths.submissions_dir(folder).is_dir():
        raise NotOnWorker(f"Máy worker {socket.gethostname()} không thấy thư mục {paths.submissions_dir(folder)}: "
                          f"thư mục dữ liệu phải ở cùng đường dẫn trên mọi worker (thư mục dùng chung).")
    cplan = province.commune_plan(_worker_plan(plan_file, plan_sha256), folder)
    subs = load_submissions(folder, cplan)
    values = subs.data[["period", "unit", "village", "element", "value"]].assign(record="value")
    received = (subs.received[["unit", "period"]].drop_duplicates().assign(record="received", village="", element="",
                                                                            value=np.nan)
                if len(subs.received) else None)
    villages = pd.DataFrame({"record": ["villages"], "period": [""], "unit": [""], "village": [""], "element": [""],
                             "value": [float(len(cplan.villages))]})
    frame = pd.concat([f for f in (values, received, villages) if f is not None], ignore_index=True)
    return frame.assign(commune=folder.name)[list(COMMUNE_FRAME)].astype(COMMUNE_FRAME)


def read_province(root: Path, plan_file: Path):
    """Every commune folder of a province root as one partition of a dask DataFrame (COMMUNE_FRAME), read
    lazily by the workers: no process holds all communes' rows. The root and the plan file must be at the same
    paths on the workers as here."""
    import dask.dataframe as dd

    plan_file = Path(plan_file).resolve()
    dirs = [str(d.resolve()) for d in paths.commune_dirs(root)]
    return dd.from_map(read_commune, dirs, args=(str(plan_file), sha256_file(plan_file)), meta=_empty_commune_frame(),
                       label="kpi-read-commune", enforce_metadata=False)


def _history_of_folders(part: pd.DataFrame, plan_file: str, plan_sha256: str, period: str) -> pd.DataFrame:
    """province.commune_history for the communes of one partition of read_province, with each commune's own
    villages expected; a commune that sent nothing still gets its rows (no value, 0 villages reported)."""
    vil = part[part["record"] == "villages"]
    if vil.empty:
        return _empty_history()
    villages = pd.Series(vil["value"].astype("int64").to_numpy(), dtype="int64",
                         index=pd.Index(vil["commune"].astype(str).to_numpy(), name="commune"))
    values = part.loc[part["record"] == "value", LONG].assign(commune=lambda f: f["commune"].astype(str))
    out = province.commune_history(values, _worker_plan(plan_file, plan_sha256), period, villages)
    return out.astype(HISTORY_COLUMNS)


@dataclass
class ProvinceTotals:
    """What comes back from the cluster for a province, for every month of the plan year: small frames from
    which the province report of any month is made (province_report) without reading the data again."""
    history: pd.DataFrame  # commune × indicator × month January..December: province.commune_history's columns
    sums: pd.DataFrame  # rollup_sums per (indicator, month), computed
    received: pd.DataFrame  # commune, unit, period: the unit sent a file for that month
    villages: pd.Series  # villages expected per commune, in the order of the commune folders
    latest: str | None  # the latest period with an accepted value, None when there is none


def province_totals(frame, plan: Plan, plan_file: Path, client) -> ProvinceTotals:
    """From read_province's frame, on the cluster in one pass over the folders: every commune's history for
    the whole plan year, the roll-up sums, the received files, the villages and the latest period."""
    plan_file = Path(plan_file).resolve()
    year_end = f"{plan.year}-12"
    hist = frame.map_partitions(_history_of_folders, str(plan_file), sha256_file(plan_file), year_end,
                                meta=_empty_history())
    received = frame.loc[frame["record"] == "received", ["commune", "unit", "period"]]
    villages = frame.loc[frame["record"] == "villages", ["commune", "value"]]
    periods = frame.loc[frame["record"] == "value", ["period"]].drop_duplicates()  # a few rows: max taken here
    # One compute for all five: each folder is read once, and its rows are gone once its history is made.
    h, sums, rec, vil, per_text = client.gather(client.compute([hist, rollup_sums(hist), received, villages, periods]))
    per = pd.Series(vil["value"].astype("int64").to_numpy(), index=pd.Index(vil["commune"].astype(str).to_numpy(),
                                                                             name="commune"), dtype="int64")
    return ProvinceTotals(h.reset_index(drop=True), sums, rec.reset_index(drop=True), per,
                          str(per_text["period"].max()) if len(per_text) else None)


def province_report(totals: ProvinceTotals, plan: Plan, period: str, pplan=None) -> province.ProvinceReport:
    """The province report for P from the cluster's totals: the same frames as province.province_report on
    the same folders (the history and sums of months after P are left out; a month's values do not depend on
    later months)."""
    m = compute.month_of(period)
    hist = totals.history[totals.history["month"] <= m].reset_index(drop=True)
    return province.report_from_history(hist, finish_sums(totals.sums, plan, period), totals.received,
                                        list(totals.villages.index), plan, period, pplan)

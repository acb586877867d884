"""Province and national scorecards with dask.dataframe on a Dask cluster, for long data larger than one
machine's memory: the same rules as kpi/province.py (pandas), computed partition by partition.

The long data (commune, period, unit, village, element, value) is shuffled so that every commune's rows sit
in one partition; each partition's communes get their year-to-date history with province.commune_history
(the within-commune ratio of sums over villages); the province roll-up is then a dask groupby sum over the
communes that have a value, 100 × Σ numerator / Σ denominator, never a mean of commune ratios. Only the
small per-(indicator, month) sums come back to the client."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi import compute, province
from kpi.plan import Plan

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
    (the columns of province.commune_history). `ddf` is the long data as a dask DataFrame; `villages` the
    villages expected per commune (default: the plan's). Communes without any row are not in the result."""
    villages = {} if villages is None else {str(k): int(v) for k, v in dict(villages).items()}
    whole = ddf.shuffle(on="commune")  # all rows of a commune in one partition
    return whole.map_partitions(_history_part, plan, period, villages, meta=_empty_history())


def rollup(history, plan: Plan, period: str, client=None) -> pd.DataFrame:
    """province.rollup computed on the cluster: sums per (indicator, month) over the communes that have a
    value; the result (one row per indicator and month) is a small pandas frame."""
    has = history[history["villages_reported"] > 0]
    has = has.assign(den_n=has["denominator"].notnull().astype("int64"), one=1)
    sums = has.groupby(["indicator", "month"])[["numerator", "denominator", "den_n", "one"]].sum()
    agg = client.compute(sums).result() if client is not None else sums.compute()
    agg = agg.rename(columns={"one": "communes_reported"})
    agg["denominator"] = agg["denominator"].where(agg["den_n"] > 0)  # Σ of no denominators is no value
    agg = agg.drop(columns="den_n")
    return province.finish_rollup(agg, plan, list(range(1, compute.month_of(period) + 1)))


def province_scorecard(ddf, plan: Plan, period: str, villages: pd.Series | dict | None = None,
                       communes_expected: int | None = None, client=None) -> pd.DataFrame:
    """The province (or national) scorecard at P from long data in a dask DataFrame: the same frame as
    province.province_report(...).scorecard. With `client` (a distributed Client) the work runs there;
    else on dask's current scheduler."""
    hist = commune_history(ddf, plan, period, villages)
    prov_hist = rollup(hist, plan, period, client)
    if communes_expected is None:
        communes_expected = len(villages) if villages is not None else int(
            (client.compute(ddf["commune"].nunique()).result() if client is not None
             else ddf["commune"].nunique().compute()))
    return province.province_scorecard(prov_hist, plan, period, int(np.int64(communes_expected)))

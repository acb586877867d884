"""The year-to-date history, once for everyone (docs/rules.md §3): every indicator's value for each month January..P,
per commune, vectorised over communes. The commune's report (its trends, forecast and scorecard,
kpi.indicators.compute.history), its data package (history.csv) and the province roll-up (kpi.province, on Dask
and on pandas) all take their history from `commune_history`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.core import periods
from kpi.plan.model import Plan

KEYS = ["commune", "element", "village"]
COLUMNS = ["commune", "indicator", "month", "numerator", "denominator", "value", "villages_reported",
           "villages_expected"]


def year_to_date(wide: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """docs/rules.md §3.1 on a matrix of monthly values (rows with an `element` index level, one column per month from
    January): a flow sums its months from January (missing months add nothing; no value until its first
    reported month), a stock keeps the month's own value, with no carry-forward."""
    flows = [e.code for e in plan.elements if e.time == "flow"]
    is_flow = wide.index.get_level_values("element").isin(flows)
    out = wide.copy()
    if is_flow.any():
        part = wide[is_flow]
        out.loc[is_flow] = part.fillna(0).cumsum(axis=1).where(part.notna().cumsum(axis=1) > 0)
    return out


def values_from_sums(frame: pd.DataFrame, kind: pd.Series, reported: pd.Series) -> pd.Series:
    """docs/rules.md §3.2 from the sums over places (villages of a commune, or communes of a province): a ratio is
    100 × Σ numerator / Σ denominator (a zero denominator gives no value; never a mean of ratios), a count is
    Σ numerator; nothing reported, no value. `frame` has numerator and denominator; `kind` ratio|count."""
    ratio = 100 * frame["numerator"] / frame["denominator"].where(frame["denominator"] > 0)
    value = pd.Series(np.where(kind == "ratio", ratio, frame["numerator"]), index=frame.index, dtype="float64")
    return value.where(reported > 0)


def ytd_matrix(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """Year-to-date values, one row per (commune, element, village), one column per month 1..P of the plan year
    (year_to_date on the raw monthly values)."""
    upto = periods.month_number(period)
    # Months are read once per distinct period text, not once per row (30 million rows nationally).
    codes, uniques = pd.factorize(data["period"])
    prefix = f"{plan.year}-"
    months = np.array([int(p[5:7]) if str(p).startswith(prefix) else 0 for p in uniques] + [0], dtype="int8")
    month = months[np.where(codes >= 0, codes, len(uniques))]
    keep = (month >= 1) & (month <= upto)
    rows = data.loc[keep, KEYS + ["value"]].assign(month=month[keep])
    wide = rows.set_index([*KEYS, "month"])["value"].astype("float64").unstack("month")
    wide = wide.reindex(columns=pd.Index(range(1, upto + 1), name="month"))
    return year_to_date(wide, plan)


def commune_history(data: pd.DataFrame, plan: Plan, period: str, villages: pd.Series | None = None) -> pd.DataFrame:
    """Every commune's year-to-date value of every indicator for each month January..P.

    Within a commune a ratio is 100 × Σ numerator / Σ denominator over the villages that have both (never a
    mean of village ratios); a constant denominator (indicator 11: 20 points) counts once per place; a count
    is the element's value. `data`: long data with a `commune` column; `villages`: villages expected per
    commune (index: the communes, in the output's order), else the plan's for each commune in `data`.
    Columns: COLUMNS, rows by commune, indicator (plan order), month."""
    wide = ytd_matrix(data, plan, period)
    months = list(wide.columns)
    by_element = {e: wide.xs(e, level="element") for e in wide.index.get_level_values("element").unique()}
    empty = pd.DataFrame(columns=pd.Index(months, name="month"),  # an element no commune reported
                         index=pd.MultiIndex.from_arrays([[], []], names=["commune", "village"]), dtype="float64")
    parts = []
    for ind in plan.indicators:
        num = by_element.get(ind.numerator, empty)
        if ind.kind == "count":
            den = None
            mask = num.notna()
        elif ind.denominator_constant is not None:
            den = num.notna() * float(ind.denominator_constant)
            mask = num.notna()
        else:
            den_raw = by_element.get(ind.denominator, empty)
            num, den = num.align(den_raw, join="inner")
            mask = num.notna() & den.notna()
        g = num.where(mask).groupby(level="commune")
        frame = pd.DataFrame({
            "numerator": g.sum(min_count=1).stack(future_stack=True),
            "villages_reported": mask.groupby(level="commune").sum().stack(future_stack=True),
        })
        frame["denominator"] = (np.nan if den is None else
                                den.where(mask).groupby(level="commune").sum(min_count=1).stack(future_stack=True))
        frame["indicator"] = ind.id
        parts.append(frame.reset_index())
    out = pd.concat(parts, ignore_index=True)
    levels = {e.code: e.level for e in plan.elements}
    ind_level = {i.id: levels[i.numerator] for i in plan.indicators}
    communes = (villages.index if villages is not None else pd.Index(sorted(data["commune"].unique()), name="commune"))
    grid = pd.MultiIndex.from_product([list(communes), [i.id for i in plan.indicators], months],
                                      names=["commune", "indicator", "month"]).to_frame(index=False)
    out = grid.merge(out, on=["commune", "indicator", "month"], how="left")
    out["villages_reported"] = out["villages_reported"].fillna(0).astype("int64")
    per_commune = villages if villages is not None else pd.Series(len(plan.villages), index=communes)
    is_village = out["indicator"].map(ind_level).eq("village")
    out["villages_expected"] = np.where(is_village, out["commune"].map(per_commune), 1).astype("int64")
    kind = out["indicator"].map({i.id: i.kind for i in plan.indicators})
    out["value"] = values_from_sums(out, kind, out["villages_reported"])
    out.loc[out["villages_reported"] == 0, ["numerator", "denominator"]] = np.nan
    return out[COLUMNS]


def one_commune(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """commune_history for the plan's own commune from its long data (no `commune` column needed), without the
    commune column: the history of one commune's report and data package."""
    rows = data[["period", "element", "village", "value"]].assign(commune=plan.commune)
    expected = pd.Series({plan.commune: len(plan.villages)}, dtype="int64")
    return commune_history(rows, plan, period, expected).drop(columns="commune")

"""Indicators from long data, exactly as docs/rules.md §3: year-to-date view, ratio of sums, status, forecast, timeliness."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kpi.core import periods, schema
from kpi.core.i18n import STATUS_LABELS
from kpi.core.problems import UNREADABLE_FILE_CODES
from kpi.indicators.history import one_commune, values_from_sums, year_to_date
from kpi.plan.model import Plan

FORECAST_MONTHS = 3  # the forecast line goes through the last up to 3 months that have a value


def month_of(period: str) -> int:
    """The number of period P's last month E (a month is its own): the year-to-date view is taken there."""
    return periods.month_number(period)


def period_end(period: str) -> dt.date:
    return periods.end_date(period)


def previous_period(period: str) -> str | None:
    return periods.previous(period)


def monthly_matrix(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """Raw monthly values, one row per (element, village) that has any, one column per month 1..P of the plan year."""
    schema.check(data, schema.LONG, "data")
    upto = month_of(period)
    rows = data[data["period"].str.startswith(f"{plan.year}-")]
    rows = rows.assign(month=rows["period"].str[5:7].astype(int))
    rows = rows[rows["month"] <= upto]
    index = pd.MultiIndex.from_frame(rows[["element", "village"]].drop_duplicates().sort_values(["element", "village"]))
    if rows.empty:
        return pd.DataFrame(index=pd.MultiIndex.from_tuples([], names=["element", "village"]),
                            columns=pd.Index(range(1, upto + 1), name="month"), dtype="float64")
    matrix = rows.pivot_table(index=["element", "village"], columns="month", values="value", aggfunc="last")
    return matrix.reindex(index=index, columns=pd.Index(range(1, upto + 1), name="month")).astype("float64")


def ytd_view(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """The year-to-date view at period P's last month E (docs/rules.md §3.1), long: element, village, month (= E),
    value. A flow sums its monthly values from January (missing months add nothing; no value at all until E means
    no value); a stock takes E's own value, with no carry-forward."""
    m = month_of(period)
    ytd = year_to_date(monthly_matrix(data, plan, period), plan)
    out = ytd[m].rename("value").reset_index().assign(month=m)
    return out.dropna(subset=["value"])[["element", "village", "month", "value"]]


def indicator_table(plan: Plan) -> pd.DataFrame:
    """The plan's indicators as a frame: id, kind, element codes, constant, level, target, deadline."""
    levels = {e.code: e.level for e in plan.elements}
    return pd.DataFrame([{
        "indicator": i.id, "kind": i.kind, "num_element": i.numerator, "den_element": i.denominator,
        "constant": i.denominator_constant, "level": levels[i.numerator], "target": i.target,
        "deadline": i.deadline, "order": n,
    } for n, i in enumerate(plan.indicators)])


def place_values(view: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """Numerator and denominator per indicator, place (village, or '' for commune) and month.

    A place counts toward a ratio only when both its numerator and its denominator exist in the view."""
    ind = indicator_table(plan)
    cols = ["indicator", "village", "month"]
    num = ind.merge(view, left_on="num_element", right_on="element")[cols + ["value"]].rename(columns={"value": "num"})
    with_den = ind[ind["den_element"].notna()]
    den = with_den.merge(view, left_on="den_element", right_on="element")[cols + ["value"]].rename(columns={"value": "den"})
    ratio = num[num["indicator"].isin(with_den["indicator"])].merge(den, on=cols, how="inner")
    const = ind[ind["constant"].notna()][["indicator", "constant"]]
    fixed = num.merge(const, on="indicator").rename(columns={"constant": "den"})
    counts = num[num["indicator"].isin(ind.loc[ind["kind"] == "count", "indicator"])].assign(den=np.nan)
    return pd.concat([ratio, fixed, counts], ignore_index=True)


def indicator_values(view: pd.DataFrame, plan: Plan, months: list[int]) -> pd.DataFrame:
    """Commune value of every indicator for every month in `months`, from a view.

    A ratio rolls up as a ratio of sums over the places that count, never a mean of village ratios:
    value = 100 × Σ numerator / Σ denominator; a zero denominator gives no value. A count is the numerator."""
    ind = indicator_table(plan)
    per_place = place_values(view, plan)
    agg = (per_place.groupby(["indicator", "month"])
           .agg(numerator=("num", "sum"), denominator=("den", lambda s: s.sum(min_count=1)),
                villages_reported=("village", "size"))
           .reset_index())
    grid = pd.MultiIndex.from_product([ind["indicator"], months], names=["indicator", "month"]).to_frame(index=False)
    out = grid.merge(agg, on=["indicator", "month"], how="left").merge(ind, on="indicator")
    out["villages_reported"] = out["villages_reported"].fillna(0).astype("int64")
    out["villages_expected"] = np.where(out["level"] == "village", len(plan.villages), 1).astype("int64")
    out["value"] = values_from_sums(out, out["kind"], out["villages_reported"])
    out.loc[out["villages_reported"] == 0, ["numerator", "denominator"]] = np.nan
    return out.sort_values(["order", "month"]).reset_index(drop=True)


def deadline_month(plan: Plan, indicator_id: str) -> int | None:
    """The deadline as a month number of the plan year (13 = January of the next year); None when continuous."""
    d = plan.indicator(indicator_id).deadline
    return None if d is None else (d.year - plan.year) * 12 + d.month


def _trend(history: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The least-squares line y = intercept + slope × month through the last up to 3 months that have a value,
    for each group of `keys`: columns n (months used), slope, intercept (NaN with fewer than 2 values)."""
    valid = history.dropna(subset=["value"]).sort_values([*keys, "month"])
    last = valid.groupby(keys).tail(FORECAST_MONTHS)
    x = last["month"].astype("float64")
    g = last.assign(x=x, y=last["value"], xx=x**2, xy=x * last["value"]).groupby(keys)
    n, sx, sy, sxx, sxy = g.size(), g["x"].sum(), g["y"].sum(), g["xx"].sum(), g["xy"].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = ((n * sxy - sx * sy) / (n * sxx - sx**2)).where(n >= 2)
    return pd.DataFrame({"n": n, "slope": slope, "intercept": (sy - slope * sx) / n})


def forecast_by(history: pd.DataFrame, plan: Plan, keys: list[str]) -> pd.Series:
    """docs/rules.md §3.4's forecast for each group of `keys` (an indicator, or a commune and an indicator): the
    least-squares line through the last up to 3 months that have a value (x = month number), evaluated at the
    deadline's month; NaN with fewer than 2 values or no deadline."""
    line = _trend(history, keys)
    months = {i.id: deadline_month(plan, i.id) for i in plan.indicators if i.deadline}
    at = line.index.get_level_values("indicator").map(months).astype("float64")
    return line["intercept"] + line["slope"] * at


def forecast(history: pd.DataFrame, plan: Plan) -> pd.Series:
    """The forecast of every indicator (forecast_by over the indicator alone), in the plan's order."""
    return forecast_by(history, plan, ["indicator"]).reindex([i.id for i in plan.indicators])


def pace(history: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """How the present pace goes on, on the forecast's own line (the last up to 3 months that have a value):
    `months` used (0..3), `slope` per month, and `reach`, the first month after period P's last month E at which
    the line stands at or above the target, as a month number of the plan year (13 = January of the next year);
    reach is NaN without a target, with fewer than 2 values, or when the line does not rise. Indexed by
    indicator, in the plan's order."""
    ids = [i.id for i in plan.indicators]
    line = _trend(history, ["indicator"]).reindex(ids)
    target = pd.Series({i.id: np.nan if i.target is None else float(i.target) for i in plan.indicators})
    rising = line["slope"] > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.ceil((target - line["intercept"]) / line["slope"].where(rising) - 1e-9)
    reach = np.maximum(crossing, month_of(period) + 1).where(rising & target.notna())
    return pd.DataFrame({"months": line["n"].fillna(0).astype("int64"), "slope": line["slope"], "reach": reach})


def status(frame: pd.DataFrame, period: str) -> pd.Series:
    """The status rule of docs/rules.md §3, in order: no value → no_data; encouraged target → encouraged; value ≥ target
    → achieved; continuous below target → behind; past the deadline (last day of P after it) → missed;
    else the forecast at the deadline decides on_track / behind (fewer than 2 values → behind).

    `frame` needs columns value, target (NaN = encouraged), deadline (date or None), forecast."""
    end = period_end(period)
    no_value = frame["value"].isna()
    encouraged = frame["target"].isna()
    achieved = frame["value"] >= frame["target"]
    continuous = frame["deadline"].isna()
    past = frame["deadline"].map(lambda d: d is not None and not pd.isna(d) and end > d).astype(bool)
    on_track = frame["forecast"] >= frame["target"]
    return pd.Series(np.select(
        [no_value, encouraged, achieved, continuous, past, on_track],
        ["no_data", "encouraged", "achieved", "behind", "missed", "on_track"], default="behind"),
        index=frame.index)


def period_view(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """The view of period P alone (docs/rules.md §3.6, §7), long: element, village, month (= E), value. A flow sums its
    values over P's months (no value at all in them: no value); a stock takes its value at P's last month E.
    For a month this is the month view."""
    p = periods.parse(period)
    matrix = monthly_matrix(data, plan, period)
    flows = {e.code for e in plan.elements if e.time == "flow"}
    is_flow = matrix.index.get_level_values("element").isin(flows)
    value = matrix[p.last].where(~is_flow, matrix[p.month_numbers].sum(axis=1, min_count=1))
    out = value.rename("value").reset_index().assign(month=p.last)
    return out.dropna(subset=["value"])[["element", "village", "month", "value"]]


def period_values(data: pd.DataFrame, plan: Plan, period: str) -> pd.Series:
    """Every indicator's value over the view of period P alone (period_view), indexed by indicator."""
    values = indicator_values(period_view(data, plan, period), plan, [month_of(period)])
    return values.set_index("indicator")["value"]


def history(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """Every indicator's year-to-date value for each month January..P (the trend line and the forecast's input):
    the one implementation, kpi.indicators.history, for the plan's commune, with the plan's columns of each
    indicator (indicator_table), in the plan's order."""
    schema.check(data, schema.LONG, "data")
    hist = one_commune(data, plan, period)
    columns = ["indicator", "month", "numerator", "denominator", "villages_reported"]
    out = hist[columns].merge(indicator_table(plan), on="indicator")
    return out.assign(villages_expected=hist["villages_expected"].to_numpy(), value=hist["value"].to_numpy())


def scorecard(data: pd.DataFrame, plan: Plan, period: str, lang: str = "vi",
              hist: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per indicator for period P (schema.SCORECARD): year-to-date value at P's last month E, target,
    status, forecast, villages reported, and the period view's value (`month_value`: for a month the month
    alone, for a quarter, half-year, nine months or year the period alone, docs/rules.md §7) and its change against the
    previous period of the same kind (P−1, the quarter before; none for January, Q1, H1, 9T and the year).
    `hist`: history(data, plan, period) when the caller has it already (kpi.report.period_data)."""
    m = month_of(period)
    hist = history(data, plan, period) if hist is None else hist
    now = hist[hist["month"] == m].set_index("indicator")
    this_month = period_values(data, plan, period)
    before = previous_period(period)
    last_month = period_values(data, plan, before) if before else pd.Series(dtype="float64")
    fc = forecast(hist, plan)
    by_id = {i.id: i for i in plan.indicators}
    ids = [i.id for i in plan.indicators]
    card = pd.DataFrame({
        "indicator": ids,
        "group": [by_id[i].group for i in ids],
        "name": [by_id[i].name for i in ids],
        "short": [by_id[i].short for i in ids],
        "kind": [by_id[i].kind for i in ids],
        "lead": [by_id[i].lead for i in ids],
        "value": now["value"].reindex(ids).to_numpy(dtype="float64"),
        "numerator": now["numerator"].reindex(ids).to_numpy(dtype="float64"),
        "denominator": now["denominator"].reindex(ids).to_numpy(dtype="float64"),
        "target": [np.nan if by_id[i].target is None else by_id[i].target for i in ids],
        "target_text": [by_id[i].target_text for i in ids],
        "deadline_date": [by_id[i].deadline for i in ids],
        "forecast": fc.reindex(ids).to_numpy(dtype="float64"),
        "villages_reported": now["villages_reported"].reindex(ids).to_numpy(dtype="int64"),
        "villages_expected": now["villages_expected"].reindex(ids).to_numpy(dtype="int64"),
        "month_value": this_month.reindex(ids).to_numpy(dtype="float64"),
        "previous_month_value": last_month.reindex(ids).to_numpy(dtype="float64"),
    })
    card["target"] = card["target"].astype("float64")
    # For a count the denominator is empty; indicator 11's denominator is the plan's constant.
    card["status"] = status(card.rename(columns={"deadline_date": "deadline"}), period)
    card["status_label"] = card["status"].map(STATUS_LABELS[lang])
    card["change"] = card["month_value"] - card["previous_month_value"]
    card["deadline"] = card["deadline_date"].map(lambda d: d.isoformat() if d else "")
    card = card.drop(columns="deadline_date")
    return schema.check(card[list(schema.SCORECARD)], schema.SCORECARD, "scorecard")


def village_table(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """Village-level ratio indicators for period P, one row per (indicator, village): numerator, denominator,
    value and share of target (value / target)."""
    per = place_values(ytd_view(data, plan, period), plan)
    ind = indicator_table(plan)
    per = per.merge(ind[["indicator", "level", "kind", "target", "order"]], on="indicator")
    per = per[(per["level"] == "village") & (per["kind"] == "ratio")]
    per = per.assign(value=(100 * per["num"]) / per["den"].where(per["den"] > 0))
    per["share_of_target"] = per["value"] / per["target"]
    grid = pd.MultiIndex.from_product(
        [ind.loc[(ind["level"] == "village") & (ind["kind"] == "ratio"), "indicator"], plan.village_names],
        names=["indicator", "village"]).to_frame(index=False)
    out = grid.merge(per.drop(columns=["month", "level", "kind", "order"]), on=["indicator", "village"], how="left")
    return out.rename(columns={"num": "numerator", "den": "denominator"})


def timeliness(received: pd.DataFrame, plan: Plan, period: str, problems: list | None = None) -> pd.DataFrame:
    """Per unit, its state for P (docs/rules.md §3.5, §4a): `on_time` when the earliest date it sent anything for P is on
    or before day `report_due_day` (the 10th) of the month after P; `late` by N days after that; `date_unknown`
    when values were read but no row carries a date; `unreadable` when it sent a file for P that could not be
    read (a problem of UNREADABLE_FILE_CODES naming the unit and P) and no row of it was accepted; else `missing`.
    A month with nothing received is an ordinary month: every unit missing."""
    due = pd.Timestamp(plan.due_date(period))
    rows = received[received["period"] == period] if not received.empty else received
    if rows.empty:
        got = pd.Series([], dtype="datetime64[ns]", index=pd.Index([], dtype=object))
        sent = set()
    else:
        dates = pd.to_datetime(rows["submitted_on"], errors="coerce")
        got = dates.groupby(rows["unit"]).min()
        sent = set(rows["unit"])
    unreadable = {p.unit for p in (problems or []) if p.code in UNREADABLE_FILE_CODES and p.period in (period, None)}
    out = pd.DataFrame({"unit": plan.unit_codes, "unit_name": [u.name for u in plan.units]})
    out["submitted_on"] = pd.Series(got.reindex(out["unit"]).to_numpy(dtype="datetime64[ns]"), index=out.index)
    out["due"] = due
    out["days_late"] = (out["submitted_on"] - due).dt.days.clip(lower=0).astype("Int64")
    has_date = out["submitted_on"].notna()
    out["status"] = np.select(
        [has_date & (out["submitted_on"] <= due), has_date, out["unit"].isin(sent), out["unit"].isin(unreadable)],
        ["on_time", "late", "date_unknown", "unreadable"], default="missing")
    return out


def not_sent(timeliness_frame: pd.DataFrame) -> pd.DataFrame:
    """The units that have not sent P (state `missing`, or a file that could not be read), in plan order."""
    return timeliness_frame[timeliness_frame["status"].isin(["missing", "unreadable"])]


def completeness(data: pd.DataFrame, plan: Plan, period: str) -> pd.DataFrame:
    """Per element: places reported for month P out of those expected (26 villages, or 1 for the commune)."""
    got = data[data["period"] == period].groupby("element")["village"].nunique()
    out = pd.DataFrame([{"element": e.code, "label": e.label, "unit": e.unit, "level": e.level} for e in plan.elements])
    out["reported"] = out["element"].map(got).fillna(0).astype("int64")
    out["expected"] = np.where(out["level"] == "village", len(plan.villages), 1).astype("int64")
    out["share"] = out["reported"] / out["expected"]
    return out


def latest_period(data: pd.DataFrame, plan: Plan) -> str | None:
    """The latest month of the plan year that has any accepted data."""
    periods = data.loc[data["period"].str.startswith(f"{plan.year}-"), "period"]
    return None if periods.empty else str(periods.max())


GROUP_PRECEDENCE = ("missed", "behind", "no_data", "on_track", "encouraged", "achieved")


def group_status(card: pd.DataFrame) -> pd.DataFrame:
    """Status of the plan's 16 indicators: a group with parts (3a–3d) is achieved only when every part is;
    otherwise it takes its most serious part's status (missed, behind, no data, on track, in that order)."""
    rank = {s: n for n, s in enumerate(GROUP_PRECEDENCE)}
    ranked = card.assign(_rank=card["status"].map(rank))
    worst = ranked.sort_values("_rank", kind="stable").groupby("group", sort=False).head(1)
    order = {g: n for n, g in enumerate(dict.fromkeys(card["group"]))}
    worst = worst.assign(_order=worst["group"].map(order)).sort_values("_order")
    return worst[["group", "status"]].reset_index(drop=True)


def status_counts(card: pd.DataFrame) -> pd.DataFrame:
    """How many indicators have each status, over the plan's groups (16) and over the measured ones (19)."""
    from kpi.core.i18n import STATUSES

    groups = group_status(card)["status"].value_counts().reindex(STATUSES, fill_value=0)
    measured = card["status"].value_counts().reindex(STATUSES, fill_value=0)
    return pd.DataFrame({"status": list(STATUSES), "plan": groups.to_numpy(), "measured": measured.to_numpy()})


def urgent(card: pd.DataFrame) -> pd.DataFrame:
    """Behind or missed indicators, nearest deadline first (continuous ones last), then by plan order."""
    rows = card[card["status"].isin(["behind", "missed"])]
    key = rows["deadline"].replace("", "9999-12-31")
    return rows.assign(_k=key, _o=range(len(rows))).sort_values(["_k", "_o"]).drop(columns=["_k", "_o"])


def upcoming(card: pd.DataFrame, period: str, days: int = 60) -> pd.DataFrame:
    """Indicators whose deadline falls within `days` after the end of period P and that are not yet achieved."""
    end = pd.Timestamp(period_end(period))
    deadlines = pd.to_datetime(card["deadline"].replace("", None))
    soon = (deadlines > end) & (deadlines <= end + pd.Timedelta(days=days)) & (card["status"] != "achieved")
    return card[soon.fillna(False)].assign(_d=deadlines[soon.fillna(False)]).sort_values("_d").drop(columns="_d")


def completion(card: pd.DataFrame) -> dict[str, list[str]]:
    """The plan's first aim, "Hoàn thành 16 chỉ tiêu" (docs/rules.md §7, the year report): each of the plan's groups is
    `completed` when its status is achieved (a group with parts, 3a–3d, only when every part is), else
    `not_completed`; a group without a target (Khuyến khích) is `encouraged`, listed apart and never counted
    as completed. Groups in plan order."""
    encouraged = set(card.loc[card["target"].isna(), "group"])
    out: dict[str, list[str]] = {"completed": [], "not_completed": [], "encouraged": []}
    for group, state in group_status(card).itertuples(index=False):
        kind = "encouraged" if group in encouraged else "completed" if state == "achieved" else "not_completed"
        out[kind].append(group)
    return out

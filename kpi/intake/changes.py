"""Warnings from a place's history: month-to-month jumps and falling stocks (the values are kept)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi.core.problems import Problem
from kpi.intake.cells import _fmt
from kpi.plan.model import Plan

JUMP_Z = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score


JUMP_MIN_MONTHS = 5  # a place needs at least 4 month-to-month changes before its history can judge one


JUMP_MIN_CHANGE = 10  # and a change must differ from its usual one by at least this many (people, files...)


JUMP_MIN_SHARE = 0.05  # and by at least 5 % of the previous month's level (small drift is not a jump)


STOCK_FALL_SHARE = 0.10  # a stock that loses more than 10 % of its previous month's level


STOCK_FALL_MIN = 5  # and at least 5 units (tiny commune counts such as 1 -> 0 are ordinary)


def change_warnings(data: pd.DataFrame, plan: Plan, columns: dict | None = None) -> list[Problem]:
    """Warnings on accepted data; they never reject a row.
    W_STOCK_FALL: a stock element falls from one month to the next by more than STOCK_FALL_SHARE of its level
    and by at least STOCK_FALL_MIN.
    W_JUMP: per place (village, or the commune) and element, the month-to-month changes d_t between
    consecutive months are scored with the modified z-score z = 0.6745 (d_t - median d) / MAD, where MAD is the
    median absolute deviation of that place's own changes (when MAD is 0, 1.2533 x the mean absolute deviation
    stands in); |z| > JUMP_Z with |d_t - median d| >= max(JUMP_MIN_CHANGE, JUMP_MIN_SHARE x previous value) is
    flagged, once the place has at least
    JUMP_MIN_MONTHS months. A row already flagged as a stock fall is not flagged again."""
    if data.empty:
        return []
    columns = columns or {}
    time = {e.code: e.time for e in plan.elements}
    labels = {e.code: e.label for e in plan.elements}
    d = data.assign(month=data["period"].str[5:7].astype(int)).sort_values(["element", "village", "month"])
    g = d.groupby(["element", "village"], sort=False)
    d["prev"] = g["value"].shift()
    consecutive = g["month"].diff() == 1
    d["change"] = (d["value"] - d["prev"]).where(consecutive)
    stock = d["element"].map(time) == "stock"
    fall = stock & (d["prev"] - d["value"] > np.maximum(STOCK_FALL_SHARE * d["prev"], STOCK_FALL_MIN - 1e-9)) \
        & consecutive
    gc = d.groupby(["element", "village"], sort=False)["change"]
    med = gc.transform("median")
    dev = (d["change"] - med).abs()
    mad = dev.groupby([d["element"], d["village"]], sort=False).transform("median")
    mean_ad = dev.groupby([d["element"], d["village"]], sort=False).transform("mean")
    z = (0.6745 * (d["change"] - med) / mad.where(mad > 0)).where(
        mad > 0, (d["change"] - med) / (1.2533 * mean_ad).where(mean_ad > 0))
    months = gc.transform("count") + 1
    jump = (z.abs() > JUMP_Z) & (dev >= np.maximum(JUMP_MIN_CHANGE, JUMP_MIN_SHARE * d["prev"].abs())) & (months >= JUMP_MIN_MONTHS) & ~fall
    out = []
    for r in d[fall].itertuples():
        share = (r.prev - r.value) / r.prev * 100 if r.prev else 0.0
        out.append(Problem("W_STOCK_FALL", file=r.file, sheet=r.sheet, row=int(r.row),
                           column=columns.get((r.file, r.sheet, r.row, r.element), "value"),
                           found=_fmt(r.value), expected=_fmt(r.prev),
                           detail=(f"{labels.get(r.element, r.element)}, {r.village or 'cấp xã'}, {r.period}: "
                                   f"giảm {share:.0f}%").replace(".", ",")))
    for r, m in zip(d[jump].itertuples(), med[jump]):
        out.append(Problem("W_JUMP", file=r.file, sheet=r.sheet, row=int(r.row),
                           column=columns.get((r.file, r.sheet, r.row, r.element), "value"), found=_fmt(r.value),
                           expected=_fmt(r.prev), detail=jump_text(labels.get(r.element, r.element), r.village,
                                                                   r.period, r.value, r.prev, m)))
    return out


def jump_text(label: str, village: str, period: str, value: float, prev: float, usual: float) -> str:
    """The jump warning in an officer's words: the value, last month's value, up or down, and the usual change
    (no statistics: the modified z-score only decides whether to warn)."""
    change = value - prev
    way, to = ("tăng bất thường", "lên") if change > 0 else ("giảm bất thường", "xuống")
    usual_text = ("hầu như không đổi" if round(abs(usual)) == 0 else
                  f"thường {'tăng' if usual > 0 else 'giảm'} khoảng {_fmt(float(round(abs(usual))))} mỗi tháng")
    return (f"{label}, {village or 'cấp xã'}, tháng {int(period[5:7])}/{period[:4]}: {way} từ {_fmt(float(prev))} "
            f"(tháng trước) {to} {_fmt(float(value))} ({'+' if change > 0 else '−'}{_fmt(float(abs(change)))}), "
            f"khác hẳn các tháng trước ({usual_text})")

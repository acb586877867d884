"""The Báo cáo's sentences about one indicator: how far it moved since the previous period, and when the present
pace reaches its target (or that it will not by the deadline).

The numbers are the HTML report's: the period's own value and its change are the scorecard's `month_value` and
`change` ('Tháng này', 'So tháng trước'), the forecast at the deadline is its `forecast` ('Dự báo đến hạn'), and
the month the target is reached lies on that same line (kpi.indicators.compute.pace), all through kpi.core.formats."""

from __future__ import annotations

import pandas as pd

from kpi.core import formats, periods
from kpi.indicators import compute

HORIZON_YEARS = 1  # the month the target is reached is named up to December of the year after the plan year


def change_words(row: pd.Series, period: str) -> str:
    """'riêng tháng 11/2026: 89,4%, giảm 0,5 điểm % so với tháng 10/2026' (the same value and change as the
    HTML's scorecard), '… không đổi so với …', or what is missing. '' for a year, a half-year and nine months
    when their period value is the whole year-to-date (no earlier period of the kind to compare with)."""
    this = periods.label(period)
    before = periods.previous(period)
    value, change = row["month_value"], row["change"]
    if formats.missing(value):
        return f"{this} không có số liệu mới"
    said = f"riêng {this}: {formats.value(value, row['kind'])}"
    if before is None:
        return said
    if formats.missing(change):
        return f"{said} ({periods.label(before)} chưa có số liệu để so sánh)"
    amount = formats.change(abs(change), row["kind"]).lstrip("+±")  # the HTML's digits and unit, without the sign
    if not any(c in "123456789" for c in amount):  # nothing moved at the precision the report shows ('±0,0')
        return f"{said}, không đổi so với {periods.label(before)}"
    return f"{said}, {'tăng' if change > 0 else 'giảm'} {amount} so với {periods.label(before)}"


def _month_words(plan_year: int, month: int) -> str:
    """A month number of the plan year (13 = January of the next year) as 'tháng 1/2027'."""
    year, m = plan_year + (month - 1) // 12, (month - 1) % 12 + 1
    return periods.label(periods.month_text(year, m))


def pace_words(row: pd.Series, pace: pd.Series, plan_year: int, period: str) -> str:
    """For an indicator with a target that its value has not reached: when the line of its last up to 3 months
    (the HTML's forecast line) reaches the target, and whether that is within the deadline. `pace` is the row of
    kpi.indicators.compute.pace for the indicator. '' when the value already reaches the target or there is none."""
    if formats.missing(row["target"]) or formats.missing(row["value"]) or row["value"] >= row["target"]:
        return ""
    if pace["months"] < 2:
        return "chưa đủ số liệu để dự báo khi nào đạt (cần số liệu của ít nhất 2 tháng)"
    by = f"theo tốc độ {int(pace['months'])} tháng gần nhất"
    last = (HORIZON_YEARS + 1) * 12  # December of the horizon's year, as a month number of the plan year
    reach = pace["reach"]
    when = (f"dự kiến đạt chỉ tiêu vào {_month_words(plan_year, int(reach))}" if not formats.missing(reach) and reach <= last
            else "chỉ số không tăng nên chưa đạt được chỉ tiêu" if formats.missing(reach)
            else f"chưa đạt chỉ tiêu trước hết năm {plan_year + HORIZON_YEARS}")
    deadline = row["deadline"]
    if not deadline:
        return f"{by}, {when}"
    day = formats.date(deadline)
    if periods.end_date(period).isoformat() > deadline:
        return f"đã quá hạn {day}; {by}, {when}"
    forecast = formats.value(row["forecast"], row["kind"])
    if not formats.missing(row["forecast"]) and row["forecast"] >= row["target"]:
        return f"{by}, {when}, kịp hạn {day} (dự báo đến hạn: {forecast})"
    return f"{by}, sẽ không đạt chỉ tiêu trước hạn {day} (dự báo đến hạn: {forecast}); {when}"


def indicator_sentences(r) -> dict[str, str]:
    """For every indicator of report `r` (its scorecard, history, plan and period), the change and pace words
    joined ('; '), '' when there is nothing to say. Keyed by indicator id."""
    pace = compute.pace(r.history, r.plan, r.period)
    out = {}
    for _, row in r.scorecard.iterrows():
        parts = [change_words(row, r.period) if row["status"] != "no_data" else "",
                 pace_words(row, pace.loc[row["indicator"]], r.plan.year, r.period)]
        out[row["indicator"]] = "; ".join(p for p in parts if p)
    return out

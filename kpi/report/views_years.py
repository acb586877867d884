"""The section comparing this year with the year before: last year's final values of the indicators that continue."""

from __future__ import annotations

from IPython.display import HTML

from kpi.core import formats, periods
from kpi.report import MonthReport
from kpi.report.views import _table, _titled, _w


def last_year(r: MonthReport) -> HTML:
    """A small table, this year's value beside last year's final one (kpi.report.last_year_values); nothing when
    there is no last year in the data folder."""
    if r.last_year.empty:
        return _titled("")
    w = _w(r)
    before = r.plan.year - 1
    last = r.last_year["period"].iloc[0]
    now = r.card.set_index("indicator")
    rows = []
    for row in r.last_year.itertuples(index=False):
        if row.indicator not in now.index:
            continue
        this = now.loc[row.indicator]
        rows.append([row.indicator, this["short"], formats.value(row.value, row.kind, r.lang),
                     formats.value(this["value"], this["kind"], r.lang)])
    head = [w["col_id"], w["col_name"], w["last_year_col"].format(y=before, p=periods.label(last, r.lang)),
            w["this_year_col"].format(p=periods.label(r.period, r.lang))]
    note = w["last_year_note"].format(y=before, n=r.plan.year)
    body = f"<p class='small muted'>{note}</p>" + str(_table(head, rows, num_cols=(2, 3)))
    return _titled(w["last_year"].format(y=before), body, new_page=True)  # whole on its own page, not split from page 1

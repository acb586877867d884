"""Words and tables of a report for a quarter, half-year, nine months or year (docs/rules.md §7): what the period covers,
the comparison it makes, the year's completed indicators, and each unit's state month by month."""

from __future__ import annotations

import pandas as pd
from IPython.display import HTML

from kpi.core import periods
from kpi.core import formats
from kpi.core.i18n import PERIOD_COLUMNS, TIMELINESS_LABELS, WORDS
from kpi.indicators import compute
from kpi.report import MonthReport
from kpi.report.templates import render



def words(r: MonthReport, key: str, **kw) -> str:
    return WORDS[r.lang]["period"][key].format(**kw)


def column_words(r: MonthReport) -> tuple[str, str]:
    """The scorecard's two period columns: the value over the period alone and its change against the previous
    period of the same kind ('Tháng này' / 'So tháng trước' for a month, 'Trong quý' / 'So quý trước'…)."""
    return PERIOD_COLUMNS[r.lang][periods.kind(r.period)]


def overview(r: MonthReport) -> HTML:
    """For a period other than a month: what it covers in words, the comparison it makes (or that it makes
    none), and for the year how many of the plan's indicators were completed, the encouraged ones listed
    apart (their values are in the scorecard below). Nothing for a month."""
    if r.is_month:
        return HTML("")
    p = periods.parse(r.period)
    lines = [words(r, "covers", p=r.period_words, a=p.first, e=p.last, y=p.year, col=column_words(r)[0])]
    before = periods.previous(r.period)
    lines.append(words(r, "compare", prev=periods.words(before, r.lang)) if before
                 else words(r, "no_compare", p=r.period_words))
    completion = None
    if p.kind == "year" and r.unit == "commune":
        done = compute.completion(r.card)
        n = sum(len(v) for v in done.values())
        card = r.card.drop_duplicates("group").set_index("group")
        items = "; ".join(f"{g}. {card.at[g, 'short']}" for g in done["encouraged"]) or words(r, "none")
        completion = {"title": words(r, "completed", k=len(done["completed"]), n=n, y=p.year),
                      "done": words(r, "done_list", ids=", ".join(done["completed"]) or words(r, "none")),
                      "not_done": words(r, "not_done", ids=", ".join(done["not_completed"]) or words(r, "none")),
                      "encouraged": words(r, "encouraged", items=items)}
    return HTML(render("report/period_overview.html.j2", lines=lines, completion=completion))


def not_sent_by_unit(r: MonthReport, gone: pd.DataFrame) -> pd.DataFrame:
    """The rows of compute.not_sent as one row per unit (plan order) with its state in words: for a month the
    state; over a longer period each state with its months ('Chưa gửi tháng 4, 5')."""
    labels = TIMELINESS_LABELS[r.lang]
    if r.is_month:
        return gone.assign(state=gone["status"].map(labels))
    rows = []
    for unit in (u for u in r.plan.unit_codes if u in set(gone["unit"])):
        mine = gone[gone["unit"] == unit]
        state = "; ".join(
            f"{labels[s]} {words(r, 'months_of', ms=', '.join(str(periods.month_number(m)) for m in by))}"
            for s, by in mine.groupby("status", sort=False)["period"])
        rows.append({"unit": unit, "unit_name": mine["unit_name"].iloc[0], "state": state})
    return pd.DataFrame(rows, columns=["unit", "unit_name", "state"])


def timeliness_grid(r: MonthReport, tl: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """Each unit's state in each month of the period (docs/rules.md §7): headers, and a row per unit (short name) with a
    cell per month, the day it sent under the state; cells are text or markup."""
    labels = TIMELINESS_LABELS[r.lang]
    months = periods.months(r.period)
    rows = []
    for unit in (u for u in r.plan.unit_codes if u in set(tl["unit"])):
        cells = {row.period: render("report/month_cell.html.j2", state=labels[row.status].format(days=row.days_late),
                                    sent=formats.date(row.submitted_on) if row.status in ("on_time", "late") else "")
                 for row in tl[tl["unit"] == unit].itertuples()}
        rows.append([r.plan.unit(unit).short] + [cells.get(m, "") for m in months])
    return [words(r, "unit")] + [words(r, "month_of", m=periods.month_number(m)) for m in months], rows

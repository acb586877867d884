"""Words and tables of a report for a quarter, half-year, nine months or year (SPEC §7): what the period covers,
the comparison it makes, the year's completed indicators, and each unit's state month by month."""

from __future__ import annotations

from html import escape

import pandas as pd
from IPython.display import HTML

from kpi.core import periods
from kpi.core.i18n import PERIOD_COLUMNS, TIMELINESS_LABELS, date_text
from kpi.indicators import compute
from kpi.report import MonthReport

WORDS = {
    "vi": {
        "covers": "Kỳ báo cáo: {p} (từ tháng {a} đến hết tháng {e}/{y}). Giá trị lũy kế và trạng thái tính đến hết "
                  "tháng {e}/{y}. Cột «{col}»: số liệu phát sinh (số hồ sơ, doanh nghiệp mới, đơn sở hữu trí tuệ) "
                  "cộng qua các tháng của kỳ; số liệu thời điểm (dân số, tài khoản, doanh nghiệp…) lấy tại tháng {e}.",
        "compare": "So sánh với kỳ trước cùng loại: {prev}.",
        "no_compare": "Không so sánh với kỳ trước: {p} không có kỳ cùng loại nào trước đó trong năm kế hoạch.",
        "completed": "Hoàn thành {k}/{n} chỉ tiêu của kế hoạch năm {y} (chỉ tiêu 3 chỉ được tính khi cả 3a, 3b, "
                     "3c, 3d đều đạt).",
        "done_list": "Đã hoàn thành: {ids}.", "not_done": "Chưa hoàn thành: {ids}.",
        "encouraged": "Chỉ tiêu khuyến khích, tính riêng (không tính là hoàn thành hay chưa): {items}.",
        "none": "không có",
        "not_sent": "Chưa gửi đủ số liệu các tháng của kỳ ({k}/{n} đơn vị)",
        "not_sent_none": "Tất cả đơn vị đã gửi số liệu mọi tháng của kỳ.",
        "months_of": "tháng {ms}", "unit": "Đơn vị", "month_of": "Tháng {m}",
    },
    "en": {
        "covers": "Period: {p} (months {a} to {e}/{y}). Year-to-date values and statuses as at the end of month "
                  "{e}/{y}. Column '{col}': flows (records, new firms, IP applications) summed over the period's "
                  "months; stocks (population, accounts, firms…) at month {e}.",
        "compare": "Compared with the previous period of the same kind: {prev}.",
        "no_compare": "No comparison with an earlier period: the plan year has no earlier period of this kind ({p}).",
        "completed": "{k}/{n} of the plan's indicators completed in {y} (indicator 3 counts only when 3a, 3b, 3c "
                     "and 3d all are).",
        "done_list": "Completed: {ids}.", "not_done": "Not completed: {ids}.",
        "encouraged": "Encouraged indicators, counted apart (neither completed nor not): {items}.",
        "none": "none",
        "not_sent": "Months not yet sent in this period ({k}/{n} units)",
        "not_sent_none": "Every unit has sent every month of the period.",
        "months_of": "(months {ms})", "unit": "Unit", "month_of": "Month {m}",
    },
}


def words(r: MonthReport, key: str, **kw) -> str:
    return WORDS[r.lang][key].format(**kw)


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
    html = "".join(f"<p>{escape(x)}</p>" for x in lines)
    if p.kind == "year" and r.unit == "commune":
        done = compute.completion(r.card)
        n = sum(len(v) for v in done.values())
        card = r.card.drop_duplicates("group").set_index("group")
        items = "; ".join(f"{g}. {card.at[g, 'short']}" for g in done["encouraged"]) or words(r, "none")
        html += (f"<p><b>{escape(words(r, 'completed', k=len(done['completed']), n=n, y=p.year))}</b></p>"
                 f"<p class='small'>{escape(words(r, 'done_list', ids=', '.join(done['completed']) or words(r, 'none')))} "
                 f"{escape(words(r, 'not_done', ids=', '.join(done['not_completed']) or words(r, 'none')))} "
                 f"{escape(words(r, 'encouraged', items=items))}</p>")
    return HTML(f"<div class='kpi period'>{html}</div>")


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
    """Each unit's state in each month of the period (SPEC §7): headers, and a row per unit (short name) with a
    cell per month, the day it sent under the state; cells are escaped HTML."""
    labels = TIMELINESS_LABELS[r.lang]
    months = periods.months(r.period)
    rows = []
    for unit in (u for u in r.plan.unit_codes if u in set(tl["unit"])):
        cells = {row.period: escape(labels[row.status].format(days=row.days_late))
                 + (f"<br><span class='muted'>{escape(date_text(row.submitted_on))}</span>"
                    if row.status in ("on_time", "late") else "")
                 for row in tl[tl["unit"] == unit].itertuples()}
        rows.append([escape(r.plan.unit(unit).short)] + [cells.get(m, "") for m in months])
    return [words(r, "unit")] + [words(r, "month_of", m=periods.month_number(m)) for m in months], rows

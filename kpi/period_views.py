"""HTML of a report for a quarter, half-year, nine months or year (SPEC §7): what the period covers in words,
the comparison it makes, the year's completed indicators, and which units have not sent which months."""

from __future__ import annotations

from html import escape

from IPython.display import HTML

from kpi import compute, periods
from kpi.i18n import PERIOD_COLUMNS, TIMELINESS_LABELS
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
        "encouraged": "Chỉ tiêu khuyến khích, tính riêng: {items}.",
        "none": "không có",
        "not_sent": "Chưa gửi đủ số liệu các tháng của kỳ ({k}/{n} đơn vị)",
        "not_sent_none": "Tất cả đơn vị đã gửi số liệu mọi tháng của kỳ.",
        "months": "tháng {ms}",
        "no_officer": "kế hoạch chưa ghi cán bộ phụ trách",
        "gap": "{g}/{t} chỉ số chưa có số liệu tại tháng {e}.",
        "unit": "Đơn vị", "month": "Tháng {m}",
    },
    "en": {
        "covers": "Period: {p} (months {a} to {e}/{y}). Year-to-date values and statuses as at the end of month "
                  "{e}/{y}. Column '{col}': flows (records, new firms, IP applications) summed over the period's "
                  "months; stocks (population, accounts, firms…) at month {e}.",
        "compare": "Compared with the previous period of the same kind: {prev}.",
        "no_compare": "No comparison with an earlier period: the {p} has no earlier period of its kind in the plan year.",
        "completed": "{k}/{n} of the plan's indicators completed in {y} (indicator 3 counts only when 3a, 3b, 3c "
                     "and 3d all are).",
        "done_list": "Completed: {ids}.", "not_done": "Not completed: {ids}.",
        "encouraged": "Encouraged indicators, counted apart: {items}.",
        "none": "none",
        "not_sent": "Months not yet sent in this period ({k}/{n} units)",
        "not_sent_none": "Every unit has sent every month of the period.",
        "months": "months {ms}",
        "no_officer": "no officer in the plan",
        "gap": "{g}/{t} indicators have no data at month {e}.",
        "unit": "Unit", "month": "Month {m}",
    },
}


def _w(r: MonthReport, key: str, **kw) -> str:
    return WORDS[r.lang][key].format(**kw)


def column_words(r: MonthReport) -> tuple[str, str]:
    """The scorecard's two period columns: the value over the period alone and its change against the previous
    period of the same kind ('Tháng này' / 'So tháng trước' for a month, 'Trong quý' / 'So quý trước'…)."""
    return PERIOD_COLUMNS[r.lang][periods.kind(r.period)]


def overview(r: MonthReport) -> HTML:
    """For a period other than a month: what it covers in words, the comparison it makes (or that it makes
    none), and for the year how many of the plan's indicators were completed. Nothing for a month."""
    from kpi.views import fmt_value

    if r.is_month:
        return HTML("")
    p = periods.parse(r.period)
    lines = [_w(r, "covers", p=r.period_words, a=p.first, e=p.last, y=p.year, col=column_words(r)[0])]
    before = periods.previous(r.period)
    lines.append(_w(r, "compare", prev=periods.words(before, r.lang)) if before
                 else _w(r, "no_compare", p=r.period_words))
    html = "".join(f"<p>{escape(x)}</p>" for x in lines)
    if p.kind == "year" and r.unit == "commune":
        done = compute.completion(r.card)
        n = len(done["completed"]) + len(done["not_completed"]) + len(done["encouraged"])
        card = r.card.set_index("indicator")
        items = "; ".join(f"{g}. {card.at[i, 'short']}: {fmt_value(card.loc[i], r.lang)}"
                          for g in done["encouraged"] for i in card.index[card["group"] == g])
        html += (f"<p><b>{escape(_w(r, 'completed', k=len(done['completed']), n=n, y=p.year))}</b></p>"
                 f"<p class='small'>{escape(_w(r, 'done_list', ids=', '.join(done['completed']) or _w(r, 'none')))} "
                 f"{escape(_w(r, 'not_done', ids=', '.join(done['not_completed']) or _w(r, 'none')))} "
                 f"{escape(_w(r, 'encouraged', items=items or _w(r, 'none')))}</p>")
    return HTML(f"<div class='kpi period'>{html}</div>")


def not_sent_block(r: MonthReport) -> str:
    """The units of this report that have not sent (or sent unreadable files for) some month of the period,
    with those months and their officers (Phụ lục II)."""
    tl = r.timeliness[r.timeliness["unit"].isin(r.units)]
    gone = compute.not_sent(tl)
    gap = int((r.card["status"] == "no_data").sum())
    gap_text = f" {escape(_w(r, 'gap', g=gap, t=len(r.card), e=periods.month_number(r.period)))}" if gap else ""
    if gone.empty:
        return f"<p class='countline'>{escape(_w(r, 'not_sent_none'))}{gap_text}</p>"
    labels = TIMELINESS_LABELS[r.lang]
    items = []
    order = {u: n for n, u in enumerate(r.plan.unit_codes)}
    gone = gone.assign(_o=gone["unit"].map(order)).sort_values(["_o", "period"], kind="stable")
    for unit, rows in gone.groupby("unit", sort=False):
        states = "; ".join(
            f"{labels[state]} {_w(r, 'months', ms=', '.join(str(periods.month_number(m)) for m in by['period']))}"
            for state, by in rows.groupby("status", sort=False))
        people = "; ".join(" · ".join(x for x in (o.get("name", ""), o.get("phone", "")) if x)
                           for o in r.plan.unit(unit).officers) or _w(r, "no_officer")
        items.append(f"<li><b>{escape(rows['unit_name'].iloc[0])}</b>: {escape(states)} · {escape(people)}</li>")
    k, n = gone["unit"].nunique(), tl["unit"].nunique()
    return (f"<div class='notsent keep'><h3>{escape(_w(r, 'not_sent', k=k, n=n))}</h3>"
            f"<ul class='tight'>{''.join(items)}</ul><div class='small'>{gap_text.strip()}</div></div>")


def timeliness_table(r: MonthReport, tl) -> str:
    """Each unit's state for each month of the period (SPEC §7): a row per unit, a column per month, the day
    it sent under the state; `tl` is the report's timeliness rows for its units (unit x month)."""
    from kpi.i18n import date_text
    from kpi.views import _table

    labels = TIMELINESS_LABELS[r.lang]
    months = periods.months(r.period)
    rows = []
    for unit, by in tl.groupby("unit", sort=False):
        cells = {row.period: escape(labels[row.status].format(days=row.days_late))
                 + (f"<br><span class='muted'>{escape(date_text(row.submitted_on))}</span>"
                    if row.status in ("on_time", "late") else "")
                 for row in by.itertuples()}
        rows.append([escape(r.plan.unit(unit).short)] + [cells.get(m, "") for m in months])
    head = [_w(r, "unit")] + [_w(r, "month", m=periods.month_number(m)) for m in months]
    return _table(head, rows, cls="small timeliness")

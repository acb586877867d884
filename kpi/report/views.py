"""HTML sections of the report, from a MonthReport; every string from data or plan is escaped."""

from __future__ import annotations

import math
from html import escape

import pandas as pd
from IPython.display import HTML

from kpi.core import periods
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES, TIMELINESS_LABELS, date_text, target_words
from kpi.core.problems import format_place
from kpi.indicators import compute
from kpi.report import MonthReport, period_views, phone

TEXT = {
    "vi": {
        "title": "Báo cáo thực hiện chỉ tiêu Khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số",
        "month": "Tháng {m}/{y}", "month_of": "Tháng {m}",
        "made": "Lập ngày {d}",
        "synthetic": "Dữ liệu giả lập, chỉ để thử bộ công cụ",
        "counts_plan": "16 chỉ tiêu của kế hoạch",
        "counts_measured": "19 chỉ số đo",
        "urgent": "Cần xử lý ngay",
        "not_sent": "Chưa gửi số liệu tháng {m} ({k}/{n} đơn vị)",
        "not_sent_none": "Tất cả đơn vị đã gửi số liệu tháng {m}.",
        "not_sent_gap": "{g}/{t} chỉ số chưa có số liệu.",
        "no_officer": "kế hoạch chưa ghi cán bộ phụ trách",
        "urgent_none": "Không có chỉ tiêu chậm tiến độ hay không đạt.",
        "upcoming": "Hạn hoàn thành trong 60 ngày tới",
        "upcoming_none": "Không có chỉ tiêu nào đến hạn trong 60 ngày tới.",
        "scorecard": "Bảng tổng hợp chỉ tiêu",
        "col_id": "STT", "col_name": "Chỉ tiêu", "col_value": "Lũy kế", "col_target": "Chỉ tiêu giao",
        "col_status": "Trạng thái", "col_deadline": "Hạn", "col_places": "Thôn/xã báo cáo",
        "col_month": "Tháng này", "col_change": "So tháng trước", "col_lead": "Chủ trì",
        "col_num": "Tử số", "col_den": "Mẫu số", "col_forecast": "Dự báo đến hạn",
        "continuous": "Thường xuyên",
        "actions": "Việc cần làm với các chỉ tiêu chậm hoặc không đạt",
        "actions_none": "Không có chỉ tiêu nào chậm tiến độ hay không đạt.",
        "lead": "Chủ trì", "partners": "Phối hợp", "tasks": "Nhiệm vụ theo kế hoạch",
        "detail": "Chi tiết theo đơn vị",
        "method": "Cách tính",
        "quality": "Chất lượng số liệu",
        "timeliness": "Tình hình gửi báo cáo (hạn: ngày {d} tháng sau)",
        "unit": "Đơn vị", "submitted": "Ngày gửi", "due": "Hạn gửi", "state": "Tình trạng",
        "completeness": "Mức đầy đủ số liệu tháng {m} (số thôn/xã có số liệu)",
        "element": "Số liệu", "reported": "Đã báo cáo", "expected": "Cần có",
        "files": "Tệp đã nhận", "file": "Tệp", "rows_read": "Số dòng đọc", "accepted": "Nhận",
        "rejected": "Loại",
        "problems": "Lỗi và cảnh báo trong số liệu gửi lên",
        "problems_none": "Không phát hiện lỗi nào trong các tệp đã gửi.",
        "place": "Vị trí", "code": "Mã", "message": "Nội dung", "fix": "Cách sửa",
        "officers": "Cán bộ phụ trách",
        "name": "Họ và tên", "phone": "Số điện thoại", "note": "Ghi chú",
        "villages": "Kết quả theo thôn (lũy kế so với chỉ tiêu giao)",
        "trends": "Diễn biến lũy kế từ tháng 1, chỉ tiêu giao, hạn hoàn thành và dự báo đến hạn",
        "attachments": "Tệp kèm theo",
        "no_value": "—",
        "more_problems": "… và {n} vấn đề khác (xem `kpi validate`).",
        "more_urgent": "… và {n} chỉ tiêu khác (xem mục Việc cần làm).",
        "more_upcoming": "… và {n} chỉ tiêu khác (xem Bảng tổng hợp chỉ tiêu).",
        "chart": "Giá trị lũy kế so với chỉ tiêu giao (vạch đen: chỉ tiêu giao)",
        "page": "Trang",
        "title_short": "Chỉ tiêu KHCN, ĐMST và CĐS",
    },
    "en": {
        "title": "Science, technology, innovation and digital transformation indicators",
        "month": "Month {m}/{y}", "month_of": "Month {m}",
        "made": "Made on {d}",
        "synthetic": "Synthetic data, for trying the kit only",
        "counts_plan": "Plan's 16 indicators",
        "counts_measured": "19 measured indicators",
        "urgent": "Needs action now",
        "not_sent": "Not yet sent for month {m} ({k}/{n} units)",
        "not_sent_none": "Every unit has sent month {m}.",
        "not_sent_gap": "{g}/{t} indicators have no data.",
        "no_officer": "no officer in the plan",
        "urgent_none": "No indicator is behind or missed.",
        "upcoming": "Deadlines in the next 60 days",
        "upcoming_none": "No deadline in the next 60 days.",
        "scorecard": "Scorecard",
        "col_id": "No.", "col_name": "Indicator", "col_value": "Year to date", "col_target": "Target",
        "col_status": "Status", "col_deadline": "Deadline", "col_places": "Places reported",
        "col_month": "This month", "col_change": "Change", "col_lead": "Lead",
        "col_num": "Numerator", "col_den": "Denominator", "col_forecast": "Forecast at deadline",
        "continuous": "Continuous",
        "actions": "What to do about indicators behind or missed",
        "actions_none": "No indicator is behind or missed.",
        "lead": "Lead", "partners": "Partners", "tasks": "Tasks in the plan",
        "detail": "Detail by unit",
        "method": "Method",
        "quality": "Data quality",
        "timeliness": "Submissions (due on day {d} of the next month)",
        "unit": "Unit", "submitted": "Sent on", "due": "Due", "state": "State",
        "completeness": "Completeness for month {m} (places with data)",
        "element": "Data element", "reported": "Reported", "expected": "Expected",
        "files": "Files received", "file": "File", "rows_read": "Rows read", "accepted": "Accepted",
        "rejected": "Rejected",
        "problems": "Errors and warnings in the submissions",
        "problems_none": "No problem found in the files received.",
        "place": "Place", "code": "Code", "message": "Message", "fix": "How to fix",
        "officers": "Officers in charge",
        "name": "Name", "phone": "Phone", "note": "Note",
        "villages": "Results by village (year to date against target)",
        "trends": "Year to date since January, target, deadline and forecast at the deadline",
        "attachments": "Attached files",
        "no_value": "—",
        "more_problems": "… and {n} more problems (see `kpi validate`).",
        "more_urgent": "… and {n} more (see the section on what to do).",
        "more_upcoming": "… and {n} more (see the scorecard).",
        "chart": "Year-to-date value against target (black tick: target)",
        "page": "Page",
        "title_short": "Science, innovation and digital indicators",
    },
}

# The report's stylesheet is a file of its own: kpi/templates/kpi_report/report.css (inlined by the template).


def _t(r: MonthReport, key: str, **kw) -> str:
    return TEXT[r.lang][key].format(**kw)


def fmt_number(value: float, decimals: int = 0, lang: str = "vi") -> str:
    """1234567.8 -> '1.234.567,8' in Vietnamese, '1,234,567.8' in English; NaN -> '—'."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_value(row: pd.Series, lang: str, column: str = "value") -> str:
    """A ratio as a percent with one decimal; a count as a whole number."""
    v = row[column]
    if row["kind"] == "ratio":
        return "—" if pd.isna(v) else fmt_number(v, 1, lang) + "%"
    return fmt_number(v, 0, lang)


def fmt_change(row: pd.Series, lang: str) -> str:
    v = row["change"]
    if pd.isna(v):
        return "—"
    unit = " điểm %" if (row["kind"] == "ratio" and lang == "vi") else (" pp" if row["kind"] == "ratio" else "")
    sign = "+" if v > 0 else ("±" if v == 0 else "−")
    return sign + fmt_number(abs(v), 1 if row["kind"] == "ratio" else 0, lang) + unit


def badge(status: str, lang: str) -> str:
    """Status in words on its colour; the word carries the meaning, the colour only helps."""
    color = STATUS_COLORS[status]
    text_color = "#000" if status in ("on_track", "behind", "no_data", "encouraged") else "#fff"
    return (f'<span class="badge status-{status}" style="background:{color};color:{text_color}">'
            f"{escape(STATUS_LABELS[lang][status])}</span>")


def _table(headers: list[str], rows: list[list[str]], num_cols: tuple[int, ...] = (), cls: str = "",
           nowrap: tuple[int, ...] = ()) -> str:
    """Cells are already-escaped HTML; header labels are escaped here."""
    def cell_class(i: int) -> str:
        return ' class="num"' if i in num_cols else (' class="nowrap"' if i in nowrap else "")

    head = "".join(f"<th{cell_class(i)}>{escape(h)}</th>" for i, h in enumerate(headers))
    labels = [f' data-label="{escape(h)}"' for h in headers]  # a phone shows each cell under its column's name
    body = "".join("<tr>" + "".join(f"<td{cell_class(i)}{labels[i]}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows)
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def _wrap(html: str) -> HTML:
    return HTML(f'<div class="kpi">{html}</div>')


def _target(r: MonthReport, row: pd.Series) -> str:
    return target_words(row["target_text"], row["target"], row["kind"], r.lang)


def _deadline(r: MonthReport, row: pd.Series) -> str:
    return date_text(row["deadline"]) if row["deadline"] else _t(r, "continuous")


def css_string(text: str) -> str:
    """A CSS string literal for `text`: quotes, backslashes, line breaks and '<' escaped (no way out of <style>)."""
    out = []
    for ch in text:
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def page_css(r: MonthReport) -> str:
    """Print layout: A4 with a running header (scope, month) and 'Trang X/Y' at the foot, drawn by Chromium's
    @page margin boxes (Chromium 131+), so the PDF needs no header template of its own."""
    running = f"{r.scope_name} · {period_heading(r)}"
    page = _t(r, "page")
    return ("<style>@page { size: A4; margin: 13mm 11mm 12mm 11mm;"
            f" @top-left {{ content: {css_string(running)}; font: 8pt 'Noto Sans','DejaVu Sans',sans-serif;"
            " color: #444; vertical-align: bottom; padding-bottom: 2mm; }"
            f" @top-right {{ content: {css_string(_t(r, 'title_short'))}; font: 8pt 'Noto Sans','DejaVu Sans',"
            "sans-serif; color: #444; vertical-align: bottom; padding-bottom: 2mm; }"
            f" @bottom-right {{ content: {css_string(page + ' ')} counter(page) \"/\" counter(pages);"
            " font: 8pt 'Noto Sans','DejaVu Sans',sans-serif; color: #444; vertical-align: top; padding-top: 2mm; }"
            "}</style>")


def period_heading(r: MonthReport) -> str:
    """'Tháng 11/2026' for a month; any other period in words, capitalised ('6 tháng đầu năm 2026', 'Quý II năm
    2026', 'Năm 2026')."""
    if r.is_month:
        return _t(r, "month", m=periods.month_number(r.period), y=periods.year_of(r.period))
    text = r.period_words
    return text[:1].upper() + text[1:]


def header(r: MonthReport) -> HTML:
    """Styles, title, commune or unit, month, date made (and a banner when the data is synthetic)."""
    synthetic = f' <span class="synthetic">{escape(_t(r, "synthetic"))}</span>' if r.submissions.synthetic else ""
    return HTML(page_css(r) + f'<div class="kpi"><h1>{escape(_t(r, "title"))}</h1>'
                f'<div class="sub"><b>{escape(r.scope_name)}</b> · <b>{escape(period_heading(r))}</b> · '
                f'{escape(_t(r, "made", d=date_text(r.made_on)))}{synthetic}</div></div>')


def _count_line(r: MonthReport, title: str, statuses: list[str], numbers: list[int]) -> str:
    items = "".join(f'<span class="count"><b>{int(n)}</b>{badge(s, r.lang)}</span>'
                    for s, n in zip(statuses, numbers) if n > 0)
    return f"<div class='countline'><span class='what'>{escape(title)}:</span>{items}</div>"


def summary(r: MonthReport, max_urgent: int = 5, max_upcoming: int = 6) -> HTML:
    """Counts by status (16 plan indicators and 19 measured), the most urgent items (the first `max_urgent`,
    nearest deadline first, then how many more), and deadlines in the next 60 days: kept short so that this
    and the scorecard table fit the first A4 page."""
    card = r.card
    counts = compute.status_counts(card)
    lines = []
    if r.unit == "commune":
        lines.append(_count_line(r, _t(r, "counts_plan"), list(counts["status"]), list(counts["plan"])))
        lines.append(_count_line(r, _t(r, "counts_measured"), list(counts["status"]), list(counts["measured"])))
    else:
        lines.append(_count_line(r, f"{len(card)} {_t(r, 'col_name').lower()}", list(counts["status"]),
                                 list(counts["measured"])))
    urgent = compute.urgent(card)
    lines.insert(0, not_sent_block(r))
    if urgent.empty:
        urgent_html = f"<p>{escape(_t(r, 'urgent_none'))}</p>"
    else:
        urgent_html = "<ul class='tight'>" + "".join(
            f"<li>{badge(row.status, r.lang)} <b>{escape(row.indicator)}.</b> {escape(row.short)}: "
            f"{escape(fmt_value(row, r.lang))} / {escape(_target(r, row))} · {escape(_deadline(r, row))} · "
            f"{escape(r.plan.unit(row.lead).short)}</li>"
            for _, row in urgent.head(max_urgent).iterrows()) + "</ul>"
        if len(urgent) > max_urgent:
            urgent_html += f"<div class='small muted'>{escape(_t(r, 'more_urgent', n=len(urgent) - max_urgent))}</div>"
    soon = compute.upcoming(card, r.period)
    soon_html = (f"<p>{escape(_t(r, 'upcoming_none'))}</p>" if soon.empty else "<ul class='tight'>" + "".join(
        f"<li><b>{escape(row.indicator)}.</b> {escape(row.short)} · {escape(_deadline(r, row))} · "
        f"{badge(row.status, r.lang)}</li>" for _, row in soon.head(max_upcoming).iterrows()) + "</ul>")
    if len(soon) > max_upcoming:
        soon_html += f"<div class='small muted'>{escape(_t(r, 'more_upcoming', n=len(soon) - max_upcoming))}</div>"
    return _wrap("".join(lines)
                 + f"<div class='cols'><div><h3>{escape(_t(r, 'urgent'))}</h3>{urgent_html}</div>"
                 f"<div><h3>{escape(_t(r, 'upcoming'))}</h3>{soon_html}</div></div>")


def not_sent_block(r: MonthReport) -> str:
    """The units of this report that have not sent P (or sent a file that could not be read), each with its
    state in words and its officers (Phụ lục II), and how many indicators that leaves without data: the
    biggest gap of a month comes first on page 1, beside the urgent items. (A longer period: by month.)"""
    m = periods.month_number(r.period)
    tl = r.timeliness[r.timeliness["unit"].isin(r.units)]
    gone = period_views.not_sent_by_unit(r, compute.not_sent(tl))
    gap = int((r.card["status"] == "no_data").sum())
    gap_text = f" {escape(_t(r, 'not_sent_gap', g=gap, t=len(r.card)))}" if gap else ""
    if gone.empty:
        none = _t(r, "not_sent_none", m=m) if r.is_month else period_views.words(r, "not_sent_none")
        return f"<p class='countline'>{escape(none)}{gap_text}</p>"
    items = []
    for row in gone.itertuples():
        people = "; ".join(" · ".join(x for x in (o.get("name", ""), o.get("phone", "")) if x)
                           for o in r.plan.unit(row.unit).officers) or _t(r, "no_officer")
        items.append(f"<li><b>{escape(row.unit_name)}</b>: {escape(row.state)} · {escape(people)}</li>")
    n = tl["unit"].nunique()
    title = (_t(r, "not_sent", m=m, k=len(gone), n=n) if r.is_month
             else period_views.words(r, "not_sent", k=len(gone), n=n))
    return (f"<div class='notsent keep'><h3>{escape(title)}</h3>"
            f"<ul class='tight'>{''.join(items)}</ul><div class='small'>{gap_text.strip()}</div></div>")


def scorecard_table(r: MonthReport) -> HTML:
    """The one-page scorecard: value, target, status in words and colour, deadline, month value and change,
    places reported, lead unit."""
    headers = [_t(r, k) for k in ("col_id", "col_name", "col_value", "col_target", "col_status", "col_deadline")]
    headers += [*period_views.column_words(r), _t(r, "col_places"), _t(r, "col_lead")]
    rows = [[escape(row.indicator), escape(row.short), escape(fmt_value(row, r.lang)), escape(_target(r, row)),
             badge(row.status, r.lang), escape(_deadline(r, row)), escape(fmt_value(row, r.lang, "month_value")),
             escape(fmt_change(row, r.lang)), f"{row.villages_reported}/{row.villages_expected}",
             escape(r.plan.unit(row.lead).short)]
            for _, row in r.card.iterrows()]
    return _wrap(f"<h2>{escape(_t(r, 'scorecard'))}</h2><div class='scorecard-wide'>"
                 + _table(headers, rows, (2, 6, 7, 8), "scorecard", nowrap=(5, 9)) + "</div>"
                 + phone.card_list(headers, rows))


def actions(r: MonthReport) -> HTML:
    """For each indicator behind or missed: the plan's tasks (section III), the lead unit and partners, and the
    lead unit's own 'Nguyên nhân / giải pháp' (kpi.intake.notes)."""
    urgent = compute.urgent(r.card)
    parts = [f"<h2>{escape(_t(r, 'actions'))}</h2>"]
    if urgent.empty:
        parts.append(f"<p>{escape(_t(r, 'actions_none'))}</p>")
    for _, row in urgent.iterrows():
        ind = r.plan.indicator(row.indicator)
        tasks = "".join(f"<li>{escape(t)}</li>" for t in ind.tasks)
        parts.append(
            f"<h3>{escape(ind.id)}. {escape(ind.name)} {badge(row.status, r.lang)}</h3>"
            f"<div class='small'>{escape(_t(r, 'col_value'))}: <b>{escape(fmt_value(row, r.lang))}</b> · "
            f"{escape(_t(r, 'col_target'))}: {escape(_target(r, row))} · {escape(_t(r, 'col_deadline'))}: "
            f"{escape(_deadline(r, row))} · {escape(_t(r, 'lead'))}: {escape(r.plan.unit(ind.lead).name)} · "
            f"{escape(_t(r, 'partners'))}: {escape(ind.partners)}</div>"
            f"<div class='small'>{escape(_t(r, 'tasks'))}:</div><ul class='small'>{tasks}</ul>"
            + item_note(r, ind.id))
    return _wrap("".join(parts))


def item_note(r: MonthReport, indicator: str) -> str:
    """The lead unit's 'Nguyên nhân / giải pháp' under an indicator's item, escaped ('' when it sent none)."""
    from kpi.intake import notes

    text = notes.reason(r.notes, indicator)
    if not text:
        return ""
    label = notes.FIELDS["reason"] if r.lang == "vi" else "Reason / remedy"
    lines = "<br>".join(escape(line) for line in text.split("\n"))
    return f"<div class='small note'><b>{escape(label)} ({escape(r.plan.unit(r.plan.indicator(indicator).lead).short)}):</b> {lines}</div>"


def unit_detail(r: MonthReport) -> HTML:
    """Per unit, its indicators with numerator and denominator, so every number can be checked by hand."""
    parts = [f"<h2 class='pagebreak'>{escape(_t(r, 'detail'))}</h2>"]
    headers = [_t(r, k) for k in ("col_id", "col_name", "col_num", "col_den", "col_value", "col_target",
                                  "col_forecast", "col_status")] + [_t(r, "method")]
    card = r.card
    for code in r.units:
        rows = []
        for _, row in card[card["lead"] == code].iterrows():
            ind = r.plan.indicator(row.indicator)
            fc = "—" if pd.isna(row.forecast) else fmt_value(row, r.lang, "forecast")
            rows.append([escape(row.indicator), escape(ind.name), escape(fmt_number(row.numerator, 1 if row.numerator % 1 else 0, r.lang)),
                         escape(fmt_number(row.denominator, 0, r.lang)), escape(fmt_value(row, r.lang)),
                         escape(_target(r, row)), escape(fc), badge(row.status, r.lang),
                         f"<span class='small'>{escape(ind.method)}</span>"])
        if rows:
            parts.append(f"<h3>{escape(r.plan.unit(code).name)}</h3>" + _table(headers, rows, (2, 3, 4, 6), "detail"))
    return _wrap("".join(parts))


_DQ_TEXTS = {
    "vi": {
        "summary": "{when}: {files} tệp, đọc {read} dòng, nhận {acc}, loại {rej}; {err} lỗi, {warn} cảnh báo. "
                   "Các dòng bị loại không được tính vào số liệu; phần còn lại của tệp vẫn được dùng.",
        "severity": "Mức", "error": "Lỗi", "warning": "Cảnh báo",
        "rejected_head": "Dòng bị loại và cảnh báo",
    },
    "en": {
        "summary": "{when}: {files} files, {read} rows read, {acc} accepted, {rej} rejected; {err} errors, "
                   "{warn} warnings. Rejected rows are left out of the numbers; the rest of each file is used.",
        "severity": "Level", "error": "Error", "warning": "Warning",
        "rejected_head": "Rejected rows and warnings",
    },
}


def _period_files(r: MonthReport) -> pd.DataFrame:
    """Files of the report's month (in the period's folder, or holding rows of that month), for its units."""
    subs = r.submissions
    files = subs.files
    if files.empty:
        return files
    received = subs.received
    months = periods.months(r.period)
    of_period = set(received.loc[received["period"].isin(months), "file"])
    files = files[files["file"].str.startswith(tuple(m + "/" for m in months)) | files["file"].isin(of_period)]
    if r.unit != "commune":
        mine = set(received.loc[received["unit"] == r.unit, "file"])
        files = files[files["file"].isin(mine) | files["file"].str.contains(rf"\b{r.unit}\b", regex=True)]
    return files


def data_quality(r: MonthReport, max_problems: int = 60) -> HTML:
    """Timeliness per unit (on time / late by N days / missing), completeness per element (places reported of
    those expected), the month's files with rows read = accepted + rejected, and every error and warning found
    in them. All of it comes from the one validation result (r.submissions), so the report and `kpi validate`
    agree; a month whose files are broken still renders this section."""
    lang = r.lang
    dq = _DQ_TEXTS[lang]
    tl = r.timeliness[r.timeliness["unit"].isin(r.units)]
    labels = TIMELINESS_LABELS[lang]
    rows = [[escape(row.unit_name), escape(date_text(row.submitted_on)), escape(date_text(row.due)),
             escape(labels[row.status].format(days=row.days_late))] for row in tl.itertuples()]
    if r.is_month:
        states = _table([_t(r, "unit"), _t(r, "submitted"), _t(r, "due"), _t(r, "state")], rows)
    else:  # a longer period: each unit's state in each of its months
        states = _table(*period_views.timeliness_grid(r, tl), cls="small")
    files = _period_files(r)
    problems = r.submissions.problem_table
    if not problems.empty:
        problems = problems[problems["file"].isin(files["file"])]
        problems = problems.sort_values(["severity", "file", "sheet", "row"], kind="stable",
                                        key=lambda c: c.map({"error": 0, "warning": 1}) if c.name == "severity" else c)
    n_err = int((problems["severity"] == "error").sum()) if not problems.empty else 0
    parts = [f"<h2 class='pagebreak'>{escape(_t(r, 'quality'))}</h2>",
             "<p>" + escape(dq["summary"].format(
                 when=_t(r, "month_of", m=periods.month_number(r.period)) if r.is_month else period_heading(r),
                 files=len(files), read=int(files["rows_read"].sum()) if len(files) else 0,
                 acc=int(files["accepted"].sum()) if len(files) else 0,
                 rej=int(files["rejected"].sum()) if len(files) else 0, err=n_err, warn=len(problems) - n_err)) + "</p>",
             f"<h3>{escape(_t(r, 'timeliness', d=r.plan.report_due_day))}</h3>",
             states]
    comp = r.completeness[r.completeness["unit"].isin(r.units)]
    rows = [[escape(row.label), escape(r.plan.unit(row.unit).short), f"{row.reported}/{row.expected}"]
            for row in comp.itertuples()]
    parts += [f"<h3>{escape(_t(r, 'completeness', m=periods.month_number(r.period)))}</h3>",
              _table([_t(r, "element"), _t(r, "unit"), _t(r, "reported")], rows, (2,), "small")]
    rows = [[escape(f.file), str(f.rows_read), str(f.accepted), str(f.rejected)] for f in files.itertuples()]
    parts += [f"<h3>{escape(_t(r, 'files'))}</h3>",
              _table([_t(r, k) for k in ("file", "rows_read", "accepted", "rejected")], rows, (1, 2, 3), "small")]
    from kpi.report.corrections import lines as correction_lines  # values published before that changed

    parts += [f"<p class='correction'><strong>{escape(t)}</strong></p>" for t in correction_lines(r.plan, r.corrections, lang)]
    parts.append(f"<h3>{escape(_t(r, 'problems'))}</h3>")
    if problems.empty:
        parts.append(f"<p>{escape(_t(r, 'problems_none'))}</p>")
    else:
        shown = problems.head(max_problems)
        rows = [[escape(dq[p.severity]), escape(format_place(p.file, p.sheet, p.row, p.column)), escape(p.code), escape(p.message), escape(p.fix)]
                for p in shown.itertuples()]
        parts.append(_table([dq["severity"]] + [_t(r, k) for k in ("place", "code", "message", "fix")], rows, (),
                            "small"))
        if len(problems) > max_problems:
            parts.append(f"<p>{escape(_t(r, 'more_problems', n=len(problems) - max_problems))}</p>")
    return _wrap("".join(parts))


def officers(r: MonthReport) -> HTML:
    """The officers responsible (Phụ lục II), per unit."""
    rows = [[escape(r.plan.unit(code).name), escape(o.get("name", "")), escape(o.get("phone", "")),
             escape(o.get("note", ""))] for code in r.units for o in r.plan.unit(code).officers]
    return _wrap(f"<h2>{escape(_t(r, 'officers'))}</h2>"
                 + _table([_t(r, k) for k in ("unit", "name", "phone", "note")], rows))


def section(r: MonthReport, key: str, new_page: bool = True) -> HTML:
    """A section heading in the report's language (for charts, which carry no heading of their own); in print
    a section starts on a new page, so a chart is never cut."""
    if key == "villages" and r.villages[r.villages["indicator"].isin(r.card["indicator"])].empty:
        return _wrap("")  # a unit with no village-level indicator has no village chart, so no heading either
    cls = " class='pagebreak'" if new_page else ""
    return _wrap(f"<h2{cls}>{escape(_t(r, key))}</h2>")


def status_legend(lang: str = "vi") -> str:
    return " ".join(badge(s, lang) for s in STATUSES)


def footer(r: MonthReport, output_dir: str = "") -> HTML:
    """Links to the period's shared files that sit beside this report (scorecard tables, index)."""
    from pathlib import Path

    if not output_dir:
        return _wrap("")
    # The batch writes the scorecard tables before the reports and index.html after them.
    names = ["index.html"] + [n for n in ("scorecard.xlsx", "scorecard.csv") if (Path(output_dir) / n).exists()]
    links = " · ".join(f'<a href="{escape(n)}">{escape(n)}</a>' for n in names)
    return _wrap(f"<p class='small'>{escape(_t(r, 'attachments'))}: {links}</p>")

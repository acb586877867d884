"""HTML sections of the report, from a MonthReport: the data each section shows, put in words and numbers here,
laid out by its template (kpi/templates/report/, autoescaped by kpi.report.templates)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from IPython.display import HTML
from markupsafe import Markup

from kpi.core import formats, periods
from kpi.core.i18n import TIMELINESS_LABELS, WORDS, target_words
from kpi.indicators import compute
from kpi.intake import notes as unit_notes
from kpi.report import MonthReport, period_views, phone, quality
from kpi.report.templates import badge, render


def _w(r: MonthReport) -> dict:
    return WORDS[r.lang]["report"]


def _t(r: MonthReport, key: str, **kw) -> str:
    return _w(r)[key].format(**kw)


def _value(r: MonthReport, row: pd.Series, column: str = "value") -> str:
    return formats.value(row[column], row["kind"], r.lang)


def _table(headers: list[str], rows: list[list[str]], num_cols: tuple[int, ...] = (), cls: str = "",
           nowrap: tuple[int, ...] = ()) -> Markup:
    """Cells are text or markup (a badge); the template escapes the text."""
    return render("report/table.html.j2", headers=headers, rows=rows, num_cols=num_cols, cls=cls, nowrap=nowrap)


def _titled(title: str, body: str = "", new_page: bool = False) -> HTML:
    return HTML(render("report/titled.html.j2", title=title, body=Markup(body), new_page=new_page))


def _target(r: MonthReport, row: pd.Series) -> str:
    return target_words(row["target_text"], row["target"], row["kind"], r.lang)


def _deadline(r: MonthReport, row: pd.Series) -> str:
    return formats.date(row["deadline"]) if row["deadline"] else _t(r, "continuous")


def page_css(r: MonthReport) -> Markup:
    """Print layout: A4, a running header (scope, period) and 'Trang X/Y' (print_css)."""
    return print_css(f"{r.scope_name} · {period_heading(r)}", r.lang)


def print_css(running: str, lang: str) -> Markup:
    """The print layout of every report, the commune's, a unit's and the province's (kpi/templates/report/page.css.j2):
    A4, `running` at the head of every page beside the short title, and 'Trang X/Y' at its foot."""
    words = WORDS[lang]["report"]
    return render("report/page.css.j2", running=running, title=words["title_short"], page=words["page"])


def period_heading(r: MonthReport) -> str:
    """'Tháng 11/2026' for a month; any other period in words, capitalised ('6 tháng đầu năm 2026', 'Quý II năm
    2026', 'Năm 2026')."""
    if r.is_month:
        return _t(r, "month", m=periods.month_number(r.period), y=periods.year_of(r.period))
    text = r.period_words
    return text[:1].upper() + text[1:]


def header(r: MonthReport) -> HTML:
    """Styles, title, commune or unit, month, date made (and a banner when the data is synthetic)."""
    return HTML(render("report/header.html.j2", w=_w(r), page_css=page_css(r), scope=r.scope_name, period=period_heading(r),
                       made=_t(r, "made", d=formats.date(r.made_on)), synthetic=r.submissions.synthetic))


def _count_line(r: MonthReport, title: str, statuses: list[str], numbers: list[int]) -> Markup:
    return render("report/countline.html.j2", title=title, counts=[(s, int(n)) for s, n in zip(statuses, numbers)],
                  lang=r.lang)


def summary(r: MonthReport, max_urgent: int = 5, max_upcoming: int = 6) -> HTML:
    """Counts by status (the plan's indicators, a group with parts counted once, and every measured one), the most urgent items (the first `max_urgent`,
    nearest deadline first, then how many more), and deadlines in the next 60 days: kept short so that this
    and the scorecard table fit the first A4 page."""
    card = r.card
    counts = compute.status_counts(card)
    statuses = list(counts["status"])
    if r.unit == "commune":
        lines = [_count_line(r, _t(r, "counts_plan", n=r.plan.group_count), statuses, list(counts["plan"])),
                 _count_line(r, _t(r, "counts_measured", n=r.plan.measure_count), statuses, list(counts["measured"]))]
        if r.plan.not_assigned:  # where a reader counts the indicators, the ones this commune was not given
            items = "; ".join(f"{i.id}. {i.short}" for i in r.plan.not_assigned)
            lines.append(Markup("<p class='countline muted'>{}</p>").format(_t(r, "not_assigned", items=items)))
        if r.is_month and periods.month_number(r.period) == 1:
            y = periods.year_of(r.period)
            lines.append(Markup("<p class='countline muted'>{}</p>").format(_t(r, "new_year", y=y, p=y - 1)))
    else:
        lines = [_count_line(r, f"{len(card)} {_t(r, 'col_name').lower()}", statuses, list(counts["measured"]))]
    urgent = compute.urgent(card)
    soon = compute.upcoming(card, r.period)

    def item(row) -> dict:
        return {"status": row.status, "indicator": row.indicator, "short": row.short, "value": _value(r, row),
                "target": _target(r, row), "deadline": _deadline(r, row), "lead": r.plan.unit(row.lead).short}

    more_urgent = _t(r, "more_urgent", n=len(urgent) - max_urgent) if len(urgent) > max_urgent else ""
    more_soon = _t(r, "more_upcoming", n=len(soon) - max_upcoming) if len(soon) > max_upcoming else ""
    return HTML(render("report/summary.html.j2", w=_w(r), lang=r.lang, not_sent=not_sent_block(r), countlines=lines,
                       urgent=[item(row) for _, row in urgent.head(max_urgent).iterrows()], more_urgent=more_urgent,
                       soon=[item(row) for _, row in soon.head(max_upcoming).iterrows()], more_soon=more_soon))


def not_sent_block(r: MonthReport) -> Markup:
    """The units of this report that have not sent P (or sent a file that could not be read), each with its
    state in words and its officers (Phụ lục II), and how many indicators that leaves without data: the
    biggest gap of a month comes first on page 1, beside the urgent items. (A longer period: by month.)"""
    m = periods.month_number(r.period)
    tl = r.timeliness[r.timeliness["unit"].isin(r.units)]
    gone = period_views.not_sent_by_unit(r, compute.not_sent(tl))
    gap = int((r.card["status"] == "no_data").sum())
    gap_text = _t(r, "not_sent_gap", g=gap, t=len(r.card)) if gap else ""
    none = _t(r, "not_sent_none", m=m) if r.is_month else period_views.words(r, "not_sent_none")
    units = [{"name": row.unit_name, "state": row.state,
              "people": "; ".join(" · ".join(x for x in (o.get("name", ""), o.get("phone", "")) if x)
                                  for o in r.plan.unit(row.unit).officers) or _t(r, "no_officer")}
             for row in gone.itertuples()]
    n = tl["unit"].nunique()
    title = (_t(r, "not_sent", m=m, k=len(gone), n=n) if r.is_month
             else period_views.words(r, "not_sent", k=len(gone), n=n))
    return render("report/not_sent.html.j2", units=units, title=title, none_text=none, gap=gap_text)


def scorecard_table(r: MonthReport) -> HTML:
    """The one-page scorecard: value, target, status in words and colour, deadline, month value and change,
    places reported, lead unit."""
    headers = [_t(r, k) for k in ("col_id", "col_name", "col_value", "col_target", "col_status", "col_deadline")]
    headers += [*period_views.column_words(r), _t(r, "col_places"), _t(r, "col_lead")]
    rows = [[row.indicator, row.short, _value(r, row), _target(r, row), badge(row.status, r.lang), _deadline(r, row),
             _value(r, row, "month_value"), formats.change(row.change, row.kind, r.lang),
             f"{row.villages_reported}/{row.villages_expected}", r.plan.unit(row.lead).short]
            for _, row in r.card.iterrows()]
    return HTML(render("report/scorecard.html.j2", title=_t(r, "scorecard"),
                       table=_table(headers, rows, (2, 6, 7, 8), "scorecard", nowrap=(5, 9)),
                       cards=phone.card_list(headers, rows)))


def actions(r: MonthReport) -> HTML:
    """For each indicator behind or missed: the plan's tasks (section III), the lead unit and partners, and the
    lead unit's own 'Nguyên nhân / giải pháp' (kpi.intake.notes)."""
    items = []
    for _, row in compute.urgent(r.card).iterrows():
        ind = r.plan.indicator(row.indicator)
        items.append({"id": ind.id, "name": ind.name, "status": row.status, "value": _value(r, row),
                      "target": _target(r, row), "deadline": _deadline(r, row), "lead": r.plan.unit(ind.lead).name,
                      "partners": ind.partners, "tasks": ind.tasks, "note": item_note(r, ind.id)})
    return HTML(render("report/actions.html.j2", w=_w(r), lang=r.lang, items=items))


def item_note(r: MonthReport, indicator: str) -> Markup:
    """The lead unit's 'Nguyên nhân / giải pháp' under an indicator's item ('' when it sent none)."""
    text = unit_notes.reason(r.notes, indicator)
    if not text:
        return Markup("")
    return render("report/item_note.html.j2", label=WORDS[r.lang]["notes"]["field_reason"], text=text,
                  unit=r.plan.unit(r.plan.indicator(indicator).lead).short)


def unit_detail(r: MonthReport) -> HTML:
    """Per unit, its indicators with numerator and denominator, so every number can be checked by hand."""
    headers = [_t(r, k) for k in ("col_id", "col_name", "col_num", "col_den", "col_value", "col_target",
                                  "col_forecast", "col_status")] + [_t(r, "method")]
    card = r.card
    units = []
    for code in r.units:
        rows = []
        for _, row in card[card["lead"] == code].iterrows():
            ind = r.plan.indicator(row.indicator)
            rows.append([row.indicator, ind.name, formats.amount(row.numerator, r.lang),
                         formats.number(row.denominator, 0, r.lang), _value(r, row), _target(r, row),
                         _value(r, row, "forecast"), badge(row.status, r.lang),
                         render("report/small.html.j2", text=ind.method)])
        if rows:
            units.append((r.plan.unit(code).name, _table(headers, rows, (2, 3, 4, 6), "detail")))
    return HTML(render("report/unit_detail.html.j2", w=_w(r), units=units))


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


def data_quality(r: MonthReport) -> HTML:
    """Timeliness per unit (on time / late by N days / missing), completeness per element (places reported of
    those expected), the month's files with rows read = accepted + rejected, every value a later file replaced,
    and the errors and warnings found in them grouped by kind and file (kpi.report.quality). All of it comes from
    the one validation result (r.submissions), so the report and `kpi validate` agree; a month whose files are
    broken still renders this section."""
    w = _w(r)
    tl = r.timeliness[r.timeliness["unit"].isin(r.units)]
    labels = TIMELINESS_LABELS[r.lang]
    rows = [[row.unit_name, formats.date(row.submitted_on), formats.date(row.due),
             labels[row.status].format(days=row.days_late)] for row in tl.itertuples()]
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
    total = {k: int(files[k].sum()) if len(files) else 0 for k in ("rows_read", "accepted", "rejected")}
    summary_text = w["dq_summary"].format(
        when=_t(r, "month_of", m=periods.month_number(r.period)) if r.is_month else period_heading(r),
        files=len(files), read=total["rows_read"], acc=total["accepted"], rej=total["rejected"], err=n_err,
        warn=len(problems) - n_err)
    comp = r.completeness[r.completeness["unit"].isin(r.units)]
    completeness = _table([_t(r, "element"), _t(r, "unit"), _t(r, "reported")],
                          [[row.label, r.plan.unit(row.unit).short, f"{row.reported}/{row.expected}"]
                           for row in comp.itertuples()], (2,), "small")
    file_table = _table([_t(r, k) for k in ("file", "rows_read", "accepted", "rejected")],
                        [[f.file, str(f.rows_read), str(f.accepted), str(f.rejected)] for f in files.itertuples()],
                        (1, 2, 3), "small")
    from kpi.report.corrections import lines as correction_lines  # values published before that changed

    revised, grouped = quality.blocks(r, problems)  # every value a file replaced; the problems by kind and file
    return HTML(render("report/data_quality.html.j2", w=w, summary=summary_text,
                       timeliness_title=_t(r, "timeliness", d=r.plan.report_due_day), states=states,
                       completeness_title=_t(r, "completeness", m=periods.month_number(r.period)),
                       completeness=completeness, files=file_table,
                       corrections=correction_lines(r.plan, r.corrections, r.lang), revised=revised,
                       problems=grouped if not problems.empty else ""))


def officers(r: MonthReport) -> HTML:
    """The officers responsible (Phụ lục II), per unit; on a phone one line ('8 cán bộ của 4 đơn vị') that opens
    on a tap."""
    rows = [[r.plan.unit(code).name, o.get("name", ""), o.get("phone", ""), o.get("note", "")]
            for code in r.units for o in r.plan.unit(code).officers]
    table = _table([_t(r, k) for k in ("unit", "name", "phone", "note")], rows)
    return _titled(_t(r, "officers"), render("report/fold.html.j2", summary=_t(r, "officers_count", n=len(rows),
                                                                                 k=len(r.units)), body=table))


def section(r: MonthReport, key: str, new_page: bool = True) -> HTML:
    """A section heading in the report's language (for charts, which carry no heading of their own); in print
    a section starts on a new page, so a chart is never cut."""
    if key == "villages" and r.villages[r.villages["indicator"].isin(r.card["indicator"])].empty:
        return _titled("")  # a unit with no village-level indicator has no village chart, so no heading either
    return _titled(_t(r, key), new_page=new_page)


def footer(r: MonthReport, output_dir: str = "") -> HTML:
    """Links to the period's shared files that sit beside this report (scorecard tables, index)."""
    if not output_dir:
        return _titled("")
    # The batch says which tables it writes beside the reports (index.html after them); a notebook run by hand
    # links those it finds.
    tables = r.beside if r.beside is not None else [n for n in ("scorecard.xlsx", "scorecard.csv")
                                                    if (Path(output_dir) / n).exists()]
    names = ["index.html", *tables]
    return HTML(render("report/footer.html.j2", label=_t(r, "attachments"), names=names))

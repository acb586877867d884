"""The data-quality section's problems as leadership reads them: grouped by kind and file, each group with its
count and first places, its first few messages and one way to fix it (the full list stays in `kpi validate`
and `--problems-csv`); and every value a later file replaced, with old and new value, both files and dates."""

from __future__ import annotations

import pandas as pd
from markupsafe import Markup

from kpi.core import formats, periods
from kpi.core.i18n import WORDS
from kpi.core.problems import format_place
from kpi.report import MonthReport
from kpi.report.templates import render

SHOWN = 5  # messages shown in a group; the summary line names the first PLACES places
PLACES = 3
# shown apart, each value with its files and dates (correction_groups), not as a group of problems
APART = ("W_REVISED",)
# kinds whose place is not a cell but what the problem names (a village without data)
PLACE_IN_FOUND = ("W_VILLAGE_MISSING",)


def _q(r: MonthReport) -> dict:
    return WORDS[r.lang]["quality"]


def _where(p) -> str:
    """A problem's place inside its file ('trang 'Số liệu', dòng 22, cột C'), '' for the file as a whole."""
    if p.code in PLACE_IN_FOUND:
        return p.found
    if p.row is None or pd.isna(p.row):
        return ""
    return format_place("", p.sheet, p.row, p.column).removeprefix("?, ")


def problem_groups(r: MonthReport, problems: pd.DataFrame) -> list[dict]:
    """One group per (severity, kind, file), errors first, then by file and by the catalog's order of kinds:
    the kind's short name, the count, the first places, the first SHOWN messages and the first fix."""
    if problems.empty:
        return []
    kinds = WORDS[r.lang]["problem_kinds"]
    order = {code: n for n, code in enumerate(kinds)}
    shown = problems[~problems["code"].isin(APART)].copy()
    shown["_sev"] = shown["severity"].map({"error": 0, "warning": 1})
    shown["_kind"] = shown["code"].map(order).fillna(len(order))
    groups = []
    for (_, file, _, code), part in shown.groupby(["_sev", "file", "_kind", "code"], sort=True):
        first = part.iloc[0]
        places = [w for w in (_where(p) for p in part.itertuples()) if w]
        groups.append({
            "severity": first["severity"], "kind": kinds.get(code, code), "code": code, "file": file,
            "count": _q(r)["group_count"].format(n=len(part)),
            "places": (_q(r)["first_places"].format(places="; ".join(places[:PLACES]) + "; …")
                       if len(places) > PLACES else "; ".join(places)),
            "items": [{"where": "" if p.code in PLACE_IN_FOUND else _where(p), "message": p.message}
                      for p in part.head(SHOWN).itertuples()],
            "fix": first["fix"],  # one way to fix: the same for the whole group, or the first place's
            "fix_label": _q(r)["fix"] if part["fix"].nunique() == 1 else _q(r)["fix_first"],
            "more": _q(r)["more_places"].format(n=len(part) - SHOWN) if len(part) > SHOWN else "",
        })
    return groups


def _day(r: MonthReport, d: object) -> str:
    return _q(r)["date_unknown"] if d is None or pd.isna(d) else formats.date(d)


def report_revisions(r: MonthReport) -> pd.DataFrame:
    """The values replaced by a later file for the report's units, in the months of the plan year up to the
    report's last month: a correction of an earlier month changes the year to date this report shows."""
    rev = r.submissions.revisions
    if rev.empty:
        return rev
    last = periods.last_month(r.period)
    mine = rev["unit"].isin(r.units) & (rev["period"] <= last) & (rev["period"].str[:4] == last[:4])
    return rev[mine]


def correction_groups(r: MonthReport) -> list[dict]:
    """Each pair (later file, earlier file) with every value it replaced: period, element, village, old value,
    new value; the files, their report dates and the rule that decided head the group."""
    rev = report_revisions(r)
    if rev.empty:
        return []
    q = _q(r)
    labels = {e.code: e.label for e in r.plan.elements}
    groups = []
    for (new, old), part in rev.groupby(["new_file", "old_file"], sort=True):
        first = part.iloc[0]
        rows = [[row.period, labels.get(row.element, row.element), row.village or q["commune_level"],
                 formats.amount(row.old_value, r.lang), formats.amount(row.new_value, r.lang)]
                for row in part.sort_values(["period", "new_row"]).itertuples()]
        groups.append({
            "title": q["correction_group"].format(new=new, new_date=_day(r, first["new_date"]), n=len(part), old=old,
                                                  old_date=_day(r, first["old_date"])),
            "rule": q["correction_rule"].format(rule=first["rule"]),
            "table": render("report/table.html.j2", headers=[q[k] for k in ("period", "element", "place", "old", "new")],
                            rows=rows, num_cols=(3, 4), cls="small", nowrap=()),
        })
    return groups


def blocks(r: MonthReport, problems: pd.DataFrame) -> tuple[Markup, Markup]:
    """The corrections and the grouped problems, as markup for the data-quality section."""
    w = WORDS[r.lang]["report"]
    corrections = render("report/corrections.html.j2", title=_q(r)["corrections"], groups=correction_groups(r))
    grouped = render("report/problem_groups.html.j2", groups=problem_groups(r, problems), q=_q(r),
                     severity={"error": w["dq_error"], "warning": w["dq_warning"]})
    return corrections, grouped

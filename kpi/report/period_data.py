"""The period's data, computed once by the batch and handed to every report of the period, to the data package
and to the DOCX: the validated submissions, the scorecard, the year-to-date history, the villages, timeliness
and completeness, the units' notes and the corrections of published values.

A worker runs a report `with handed(data)`: the notebook's `report.build` then takes the report from it
(`take`) instead of reading and computing the period again, and the report it built stays at hand for the DOCX
(`built`). Without handed data (a notebook run by hand, `kpi run --engine kernel`) `build` reads the files."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.core import periods
from kpi.indicators import compute
from kpi.intake import notes as unit_notes
from kpi.intake.validate import Submissions
from kpi.plan.model import Plan
from kpi.report import corrections as corrections_of


LAST_YEAR_EMPTY = pd.DataFrame({"indicator": pd.Series(dtype=object), "value": pd.Series(dtype=float),
                                "kind": pd.Series(dtype=object), "period": pd.Series(dtype=object)})


def year_before_plan(plan: Plan, data_dir: Path) -> Plan | None:
    """The plan of the year before, when the data folder holds files of that year and its plan is found
    (kpi.core.paths.plan_files); else None."""
    from kpi.core import paths
    from kpi.plan import load_plan

    before = plan.year - 1
    plan_file = paths.plan_files(data_dir).get(before)
    if plan_file is None or before not in paths.data_years(data_dir):
        return None
    return load_plan(plan_file)


def last_year_values(plan: Plan, data_dir: Path, lang: str = "vi", read: Submissions | None = None) -> pd.DataFrame:
    """Last year's final value (year to date at its latest month with data, under last year's own plan) of
    each indicator that continues into this plan: same id, kind, numerator and denominator. Empty when the
    data folder holds no files of last year, or no plan of last year is found (kpi.core.paths.plan_files).
    `read`: the data folder read under last year's plan already (Submissions.year_before), else it is read here."""
    from kpi.intake.validate import load_submissions

    prev = year_before_plan(plan, data_dir)
    if prev is None:
        return LAST_YEAR_EMPTY
    subs = read if read is not None else load_submissions(data_dir, prev)
    last = compute.latest_period(subs.data, prev)
    if last is None:
        return LAST_YEAR_EMPTY

    def same(i) -> tuple:
        return i.kind, i.numerator, i.denominator, i.denominator_constant

    old = {i.id: same(i) for i in prev.indicators}
    continuing = [i.id for i in plan.indicators if old.get(i.id) == same(i)]
    card = compute.scorecard(subs.data, prev, last, lang)
    card = card[card["indicator"].isin(continuing)]
    return card[["indicator", "value", "kind"]].assign(period=last).reset_index(drop=True)


@dataclass
class PeriodData:
    plan: Plan
    period: str
    lang: str
    data_dir: str  # resolved: the folder the submissions were read from
    plan_path: str  # resolved
    submissions: Submissions
    scorecard: pd.DataFrame
    history: pd.DataFrame
    villages: pd.DataFrame
    timeliness: pd.DataFrame  # unit x month of P (column `period`)
    completeness: pd.DataFrame
    notes: pd.DataFrame  # every unit's notes for P
    note_messages: list[str] = field(default_factory=list)
    corrections: pd.DataFrame = field(default_factory=lambda: corrections_of.empty())  # set with the package
    last_year: pd.DataFrame = field(default_factory=lambda: LAST_YEAR_EMPTY)  # the commune report's year before
    # the shared files the batch writes beside the reports (their footer links them), as planned, not as found in
    # the folder: a report never depends on what another step happened to write first
    beside: tuple[str, ...] | None = None

    def is_for(self, period: str, data_dir: str | Path, plan_path: str | Path, lang: str) -> bool:
        return (self.period, self.lang, self.data_dir, self.plan_path) == (
            period, lang, str(Path(data_dir).resolve()), str(Path(plan_path).resolve()))


def period_timeliness(subs: Submissions, plan: Plan, period: str) -> pd.DataFrame:
    """Each unit's state (compute.timeliness) for each month of P, month after month; column `period` names
    the month. For a month, that month's rows alone."""
    return pd.concat([compute.timeliness(subs.received, plan, m, subs.problems).assign(period=m)
                      for m in periods.months(period)], ignore_index=True)


def compute_period(plan: Plan, subs: Submissions, period: str, lang: str, data_dir: str | Path,
                   plan_path: str | Path, scorecard: pd.DataFrame | None = None, last_year: bool = False) -> PeriodData:
    """Everything the period's reports show, whatever their unit (`last_year`: also last year's values, which only
    the commune report shows)."""
    notes, messages = unit_notes.of_submissions(subs, data_dir, plan, period)  # taken as the files were read
    history = compute.history(subs.data, plan, period)  # the trends', and the scorecard's year to date
    return PeriodData(
        plan=plan, period=period, lang=lang, data_dir=str(Path(data_dir).resolve()),
        plan_path=str(Path(plan_path).resolve()), submissions=subs,
        scorecard=compute.scorecard(subs.data, plan, period, lang, history) if scorecard is None else scorecard,
        history=history, villages=compute.village_table(subs.data, plan, period),
        timeliness=period_timeliness(subs, plan, period),
        completeness=compute.completeness(subs.data, plan, periods.last_month(period)),
        notes=unit_notes.for_period(notes, period, plan.unit_codes), note_messages=messages,
        last_year=last_year_values(plan, Path(data_dir), lang, subs.year_before) if last_year else LAST_YEAR_EMPTY)


_handed: list[PeriodData] = []
built: list = []  # the reports build() made from the handed data (kpi.run.job writes the DOCX from them)


@contextlib.contextmanager
def handed(data: PeriodData | None):
    """While a worker runs one report: `take` answers with `data`; afterwards nothing is left."""
    _handed[:] = [data] if data is not None else []
    built.clear()
    try:
        yield
    finally:
        _handed.clear()
        built.clear()


def take(period: str, data_dir: str | Path, plan_path: str | Path, lang: str) -> PeriodData | None:
    """The handed data when it is this very period, data folder, plan and language; else None."""
    return next((d for d in _handed if d.is_for(period, data_dir, plan_path, lang)), None)


def made_on_date(made_on: dt.date | str | None) -> dt.date:
    return dt.date.fromisoformat(made_on) if isinstance(made_on, str) else (made_on or periods.run_day())

"""Everything one report shows, computed once: the notebook asks this module, then hands the parts to views."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.core import periods, safety
from kpi.core.errors import ParameterError  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.indicators import compute
from kpi.intake import notes as unit_notes
from kpi.intake.validate import Submissions, load_submissions
from kpi.plan import load_plan
from kpi.plan.model import Plan
from kpi.report import corrections as corrections_of
from kpi.report import period_data
from kpi.report.period_data import LAST_YEAR_EMPTY, last_year_values, period_timeliness  # noqa: F401 (also kpi.report.*)

SCOPES = ("commune",)  # plus the plan's unit codes


@dataclass
class MonthReport:
    plan: Plan
    period: str
    unit: str  # "commune" or a unit code
    lang: str
    submissions: Submissions
    scorecard: pd.DataFrame  # every indicator (the commune's numbers), schema.SCORECARD
    history: pd.DataFrame  # year-to-date value per indicator and month
    villages: pd.DataFrame  # village-level ratios for P
    timeliness: pd.DataFrame  # unit x month of P (column `period`)
    completeness: pd.DataFrame  # at P's last month
    made_on: dt.date
    notes: pd.DataFrame = field(default_factory=unit_notes.empty)  # the units' notes for P (kpi.intake.notes)
    note_messages: list[str] = field(default_factory=list)  # notes cut or left out, with their place
    corrections: pd.DataFrame = field(default_factory=lambda: corrections_of.empty())  # published values changed
    last_year: pd.DataFrame = field(default_factory=lambda: LAST_YEAR_EMPTY)  # last_year_values: the year before
    beside: tuple[str, ...] | None = None  # the period's shared files (PeriodData.beside); None: those in the folder

    @property
    def is_month(self) -> bool:
        return periods.is_month(self.period)

    @property
    def period_words(self) -> str:
        """The period in words: 'tháng 11 năm 2026', '6 tháng đầu năm 2026' (kpi.core.periods.words)."""
        return periods.words(self.period, self.lang)

    @property
    def indicator_ids(self) -> list[str]:
        return [i.id for i in self.plan.indicators_of(self.unit)]

    @property
    def card(self) -> pd.DataFrame:
        """The scorecard rows this report is about (all, or the unit's own)."""
        return self.scorecard[self.scorecard["indicator"].isin(self.indicator_ids)].reset_index(drop=True)

    @property
    def units(self) -> list[str]:
        return self.plan.unit_codes if self.unit == "commune" else [self.unit]

    @property
    def scope_name(self) -> str:
        if self.unit == "commune":
            return f"xã {self.plan.commune}" if self.lang == "vi" else f"{self.plan.commune} commune"
        return self.plan.unit(self.unit).name


def check_parameters(plan: Plan, period: str, unit: str, lang: str = "vi", month_only: bool = False) -> None:
    """Refuse a period the kit cannot read or outside the plan year (a month only where `month_only`), a period
    other than a month whose last month has not ended on the run's day (kpi.intake.validate.run_day), a unit the plan
    does not know, or an unknown language."""
    from kpi.intake.validate import run_day

    if month_only and period not in plan.periods:
        raise ParameterError(f"Kỳ báo cáo '{period}' không hợp lệ: cần một tháng NNNN-TT trong năm {plan.year} "
                             f"(ví dụ {plan.year}-11).")
    try:
        p = periods.check_in_year(period, plan.year)
        if not p.is_month:
            periods.check_ended(period, run_day())
    except periods.PeriodError as exc:
        raise ParameterError(str(exc)) from None
    if unit not in (*SCOPES, *plan.unit_codes):
        raise ParameterError(f"Đơn vị '{unit}' không hợp lệ: dùng commune hoặc một trong {', '.join(plan.unit_codes)}.")
    if lang not in ("vi", "en"):
        raise ParameterError(f"Ngôn ngữ '{lang}' không hợp lệ: dùng vi hoặc en.")


def build(period: str, unit: str = "commune", data_dir: str | Path | None = None,
          plan_path: str | Path | None = None, lang: str = "vi", made_on: dt.date | str | None = None,
          output_dir: str | Path | None = None) -> MonthReport:
    """Load the plan and the data folder, validate, and compute everything a report for (period, unit) shows.

    With `output_dir` (the period's output folder), the data the batch has already validated is taken from
    its cache there (kpi.intake.cache) when the cache's key, computed here from the same files, plan and kit,
    matches; else the files are read and validated here."""
    from kpi.core import paths
    from kpi.intake import cache

    safety.check_notebook_parameters(period, unit, data_dir, plan_path, output_dir, lang, made_on)
    data = Path(data_dir or paths.DATA_DIR)
    if not plan_path:  # a notebook run by hand: the plan of the period's own year
        try:
            plan_path = paths.plan_file_for(periods.year_of(period), data)
        except periods.PeriodError:
            pass  # check_parameters names the period and its forms
    given = period_data.take(period, data, plan_path or paths.PLAN_FILE, lang)
    if given is not None:  # the batch's data for this period, handed to the worker (kpi.run.job)
        check_parameters(given.plan, period, unit, lang)
        report = from_period(given, unit, made_on)
        period_data.built.append(report)
        return report
    plan = load_plan(plan_path)
    check_parameters(plan, period, unit, lang)
    subs = card = None
    if output_dir:
        key = cache.data_key(data, plan_path)
        subs = cache.read(output_dir, key)
        if subs is not None:  # the batch's scorecard of these very data, plan and period
            card = cache.read_table(output_dir, key, cache.scorecard_name(period, lang))
    if subs is None:
        subs = load_submissions(data, plan)
    computed = period_data.compute_period(plan, subs, period, lang, data, plan_path or paths.PLAN_FILE, card,
                                          last_year=unit == "commune")
    computed.corrections = corrections_of.read(output_dir)  # what the batch's package found
    return from_period(computed, unit, made_on)


def from_period(data: period_data.PeriodData, unit: str, made_on: dt.date | str | None = None) -> MonthReport:
    """The report of one unit (or the commune) from the period's data."""
    return MonthReport(
        plan=data.plan, period=data.period, unit=unit, lang=data.lang, submissions=data.submissions,
        scorecard=data.scorecard, history=data.history, villages=data.villages, timeliness=data.timeliness,
        completeness=data.completeness, made_on=period_data.made_on_date(made_on),
        notes=unit_notes.for_period(data.notes, data.period, data.plan.unit_codes if unit == "commune" else [unit]),
        note_messages=list(data.note_messages), corrections=data.corrections,
        last_year=data.last_year if unit == "commune" else LAST_YEAR_EMPTY, beside=data.beside)

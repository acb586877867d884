"""One period's batch on a commune's data: the period computed once (kpi.report.period_data), its scorecard,
workbook and data package written from it, a job planned per report and run by the run's executor (a report
whose key the manifest holds, its outputs present, is kept), then index.html."""

from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path

from kpi.core import fingerprint, paths, periods
from kpi.intake.validate import Submissions
from kpi.outputs import excel, publish
from kpi.outputs.tables import write_scorecard_csv
from kpi.plan.model import Plan
from kpi.report import period_data
from kpi.run.executor import DEFAULT_TIMEOUT, Executor, RunOptions, default_workers, pending, save
from kpi.run.inputs import file_units, report_inputs, write_cache
from kpi.run.job import LOG_DIR, Job
from kpi.run.lock import OutputLock
from kpi.run.manifest import clean_partials, load_manifest, report_key
from kpi.run.summary import BatchResult

__all__ = ["DEFAULT_TIMEOUT", "DataSet", "Executor", "OutputLock", "RunOptions", "default_workers",
           "plan_jobs", "run_batch"]


@dataclass
class DataSet:
    """The validated data a run reports on, with the fingerprint of what it was read from (taken from the folder
    when not given)."""

    plan: Plan
    subs: Submissions
    data_dir: Path
    plan_path: Path = paths.PLAN_FILE
    inputs: fingerprint.Inputs | None = None


def plan_jobs(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions) -> list[tuple[Job, dict]]:
    """(job, manifest key) for each report of the period."""
    owners = file_units(data.subs)
    jobs = []
    for unit in units:
        job = Job(period=period, unit=unit, data_dir=str(Path(data.data_dir).resolve()), out=str(out.resolve()),
                  plan_path=str(Path(data.plan_path).resolve()), formats=sorted(opts.formats), lang=opts.lang,
                  made_on=opts.made_on, notebook=str(Path(opts.notebook).resolve()) if opts.notebook else None,
                  engine=opts.engine)
        used = report_inputs(data.plan, data.subs, period, unit, data.inputs.files, owners)
        jobs.append((job, report_key(job, used, data.inputs)))
    return jobs


def run_batch(data: DataSet, period: str, units: list[str], out_dir: Path, opts: RunOptions = RunOptions(), *,
              lock: bool = True, executor: Executor | None = None) -> BatchResult:
    """All reports of one period into <out>/<period>/, plus scorecard.csv, index.html and manifest.json.

    A report that fails or runs out of time is named with its error and the others still render. The output
    folder is locked for the whole run unless the caller holds the lock (lock=False). `executor`: the run's
    executor, shared by all its batches; else the batch makes its own and closes it."""
    out = paths.period_dir(Path(out_dir).resolve(), period)  # absolute: the workers run in another folder
    out.mkdir(parents=True, exist_ok=True)
    opts = replace(opts, made_on=opts.made_on or periods.run_day().isoformat(),
                   workers=opts.workers or default_workers())
    plan_path = Path(data.plan_path or paths.PLAN_FILE)
    data = replace(data, data_dir=Path(data.data_dir), plan_path=plan_path,
                   inputs=data.inputs or fingerprint.take(Path(data.data_dir), plan_path,
                                                         opts.notebook or paths.MASTER_NOTEBOOK))
    with contextlib.ExitStack() as stack:
        if lock:
            stack.enter_context(OutputLock(out_dir, wait=opts.wait, on_wait=opts.on_wait))
        ex = executor or stack.enter_context(Executor(opts))
        return _run_locked(data, period, units, out, opts, ex)


def _run_locked(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions,
                ex: Executor) -> BatchResult:
    clean_partials(out)
    result = BatchResult(period, out, [], notes=list(ex.engine.notes), pdf_engine=ex.engine.label)
    manifest = load_manifest(out)
    by_unit, todo = pending(plan_jobs(data, period, units, out, opts), manifest, out, opts.force)
    # started now: the workers' imports and the browser's start overlap the period's computing
    ex.start(len(todo), out / LOG_DIR / "workers.log")
    given = period_data.compute_period(data.plan, data.subs, period, opts.lang, data.data_dir, data.plan_path,
                                       last_year="commune" in [j.unit for j, _ in todo])
    card = given.scorecard
    result.scorecard = result.attempt("scorecard.csv", out / "scorecard.csv",
                                      lambda: write_scorecard_csv(card, out / "scorecard.csv"))
    # the workbook is written on a thread of its own while the reports run; they link it as planned
    # (PeriodData.beside); what it could not write is said where it would have been had it been written first
    at = len(result.notes), len(result.unwritten)
    aside = ThreadPoolExecutor(1, thread_name_prefix="kpi-scorecard.xlsx")
    workbook = aside.submit(excel.write_scorecard_xlsx, card, data.plan, period, out / "scorecard.xlsx", opts.lang)
    given.beside = ("scorecard.xlsx",) + (("scorecard.csv",) if result.scorecard else ())
    if periods.is_month(period):  # the data package for the province; its revisions are the reports' corrections
        from kpi.outputs.package import write_period_package

        result.attempt("package", out / "package", lambda: write_period_package(given, out, opts.made_on))
    from kpi.plan import load_plan

    own = load_plan(data.plan_path)  # the plan the reports read
    if todo and ex.local:
        from kpi.intake.cache import scorecard_name

        # the reports read it instead of computing it
        write_cache(data.plan, data.subs, own, out, data.inputs.cache_key(), {scorecard_name(period, opts.lang): card})
    # handed to the reports only when they would read this very plan (a province commune's plan file differs in
    # its names: its reports then compute for themselves)
    handed = given if own == data.plan else None
    if handed is None or not ex.local or opts.engine != "worker":
        wait([workbook])  # a report that reads the folder (a kernel, a cluster, its own plan) finds the workbook there
    try:
        by_unit.update(ex.run(todo, out, manifest, result, handed))
    finally:
        aside.shutdown(wait=True)
        result.attempt("scorecard.xlsx", out / "scorecard.xlsx", workbook.result, at=at)
    result.reports = [by_unit[u] for u in units]
    save(result, manifest)
    result.index = result.attempt("index.html", out / "index.html", lambda: publish.write_index(
        data.plan, period, card, result.reports, out / "index.html", opts.lang, opts.made_on))
    return result

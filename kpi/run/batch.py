"""The monthly batch: papermill runs the master notebook once per report in worker processes, then HTML, PDF,
scorecard and index; a manifest of input hashes lets a re-run skip what has not changed."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from pathlib import Path

from kpi.core import paths, periods
from kpi.core.files import write_error_text
from kpi.indicators import compute
from kpi.intake.validate import Submissions
from kpi.outputs import excel, pdf, publish
from kpi.outputs.tables import write_scorecard_csv
from kpi.plan.model import Plan
from kpi.report import period_data
from kpi.run.executor import DEFAULT_TIMEOUT, Executor, RunOptions, default_workers, job_key, pending, save
from kpi.run.inputs import file_units, kit_fingerprint, report_inputs, write_cache
from kpi.run.job import LOG_DIR, Job
from kpi.run.lock import OutputLock
from kpi.run.manifest import clean_partials, load_manifest
from kpi.run.summary import BatchResult

__all__ = ["DEFAULT_TIMEOUT", "DataSet", "Executor", "OutputLock", "RunOptions", "default_workers",
           "plan_jobs", "run_batch"]

@dataclass
class DataSet:
    """The validated data a run reports on, with what it was read from (the hashes of the files as read)."""

    plan: Plan
    subs: Submissions
    data_dir: Path
    plan_path: Path = paths.PLAN_FILE
    hashes: dict[str, str] | None = None


def plan_jobs(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions,
              engine: pdf.Engine) -> list[tuple[Job, dict]]:
    """(job, manifest key) for each report of the period."""
    owners = file_units(data.subs)
    hashes = {} if data.hashes is None else data.hashes
    notebook = Path(opts.notebook or paths.MASTER_NOTEBOOK)
    jobs = []
    for unit in units:
        job = Job(period=period, unit=unit, data_dir=str(Path(data.data_dir).resolve()), out=str(out.resolve()),
                  plan_path=str(Path(data.plan_path).resolve()), formats=sorted(opts.formats), lang=opts.lang,
                  made_on=opts.made_on, chromium=engine.path or None, pdf_engine=engine.name,
                  notebook=str(notebook.resolve()) if opts.notebook else None, engine=opts.engine)
        inputs = report_inputs(data.plan, data.subs, Path(data.data_dir), period, unit, owners, hashes)
        jobs.append((job, job_key(job, inputs)))
    return jobs


def run_batch(data: DataSet, period: str, units: list[str], out_dir: Path, opts: RunOptions = RunOptions(), *,
              lock: bool = True, executor: Executor | None = None) -> BatchResult:
    """All reports of one period into <out>/<period>/, plus scorecard.csv, index.html and manifest.json.

    Reports run in parallel worker processes (default: one per core); each has a log file in logs/ and a
    time limit. A report whose inputs (data files that feed it, plan, notebook, kit, parameters) match the
    manifest and whose outputs exist is skipped unless `opts.force`. A report that fails or runs out of time is
    named with its error and the others still render. The output folder is locked for the whole run (unless
    the caller holds the lock: lock=False). `executor`: the run's executor (kpi.run.executor), shared by all
    its batches; else the batch makes its own and closes it."""
    out = paths.period_dir(Path(out_dir).resolve(), period)  # absolute: the workers run in another folder
    out.mkdir(parents=True, exist_ok=True)
    opts = replace(opts, made_on=opts.made_on or periods.run_day().isoformat(),
                   workers=opts.workers or default_workers())
    data = replace(data, data_dir=Path(data.data_dir), plan_path=Path(data.plan_path or paths.PLAN_FILE),
                   hashes={} if data.hashes is None else data.hashes)
    with contextlib.ExitStack() as stack:
        if lock:
            stack.enter_context(OutputLock(out_dir, wait=opts.wait, on_wait=opts.on_wait))
        ex = executor or stack.enter_context(Executor(opts))
        return _run_locked(data, period, units, out, opts, ex)


def _write_tables(result: BatchResult, card, data: DataSet, period: str, opts: RunOptions) -> None:
    """scorecard.csv and scorecard.xlsx; one that cannot be written (a full disk) is said and counted."""
    out = result.out_dir
    for name, write in (("scorecard.csv", lambda t: write_scorecard_csv(card, t)),
                        ("scorecard.xlsx", lambda t: excel.write_scorecard_xlsx(card, data.plan, period, t,
                                                                                opts.lang))):
        try:
            written = write(out / name)
        except OSError as exc:  # a full disk: said, counted as not written; the reports still run
            result.notes.append(write_error_text(exc, out / name))
            result.unwritten.append(name)
        else:
            result.scorecard = written if name == "scorecard.csv" else result.scorecard


def _run_locked(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions,
                ex: Executor) -> BatchResult:
    clean_partials(out)
    result = BatchResult(period, out, [])
    result.notes.extend(ex.engine.notes)
    result.pdf_engine = ex.engine.label
    manifest = load_manifest(out)
    by_unit, todo = pending(plan_jobs(data, period, units, out, opts, ex.engine), manifest, out, opts.force)
    # started now: the workers' imports and the browser's start overlap the scorecard and the cache
    ex.start(len(todo), out / LOG_DIR / "workers.log")
    if opts.scheduler:
        from kpi.run.distributed import scorecard_on_cluster

        card = scorecard_on_cluster(opts.scheduler, data.data_dir, data.plan_path, period, opts.lang)
    else:
        card = compute.scorecard(data.subs.data, data.plan, period, opts.lang)
    _write_tables(result, card, data, period, opts)
    given = period_data.compute_period(data.plan, data.subs, period, opts.lang, data.data_dir, data.plan_path, card,
                                       last_year="commune" in [j.unit for j, _ in todo])
    if periods.is_month(period):  # the data package for the province; its revisions are the reports' corrections
        from kpi.outputs.package import write_period_package

        try:
            write_period_package(given, out, opts.made_on)
        except OSError as exc:
            result.notes.append(write_error_text(exc, out / "package"))
            result.unwritten.append("package")
    if todo and ex.local:
        from kpi.intake.cache import scorecard_name

        write_cache(data.plan, data.subs, data.data_dir, data.plan_path, out, kit_fingerprint(), data.hashes,
                    {scorecard_name(period, opts.lang): card})  # the reports read it instead of computing it
    from kpi.plan import load_plan

    # handed to the reports only when they would read this very plan (a province commune's plan file differs in
    # its names: its reports then compute for themselves)
    by_unit.update(ex.run(todo, out, manifest, result, given if load_plan(data.plan_path) == data.plan else None))
    result.reports = [by_unit[u] for u in units]
    save(result, manifest)
    try:
        result.index = publish.write_index(data.plan, period, card, result.reports, out / "index.html", opts.lang,
                                           opts.made_on)
    except OSError as exc:
        result.notes.append(write_error_text(exc, out / "index.html"))
        result.unwritten.append("index.html")
    return result

"""The monthly batch: papermill runs the master notebook once per report in worker processes, then HTML, PDF,
scorecard and index; a manifest of input hashes lets a re-run skip what has not changed."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from kpi.core import paths, periods
from kpi.core.files import write_error_text
from kpi.indicators import compute
from kpi.intake.validate import Submissions
from kpi.outputs import excel, pdf, publish
from kpi.outputs.tables import write_scorecard_csv
from kpi.plan.model import Plan
from kpi.run.inputs import file_units, kit_fingerprint, report_inputs, sha256_file, write_cache
from kpi.run.job import LOG_DIR, PDF_GRACE, Job, print_pdf, timed_out
from kpi.run.lock import OutputLock
from kpi.run.manifest import MANIFEST, clean_partials, is_current, load_manifest, report_key, save_manifest
from kpi.run.summary import BatchResult, ReportResult

MAX_TIMEOUT = 7 * 24 * 3600  # --timeout above a week is refused (timers overflow long before 1e300)
DEFAULT_TIMEOUT = 1200  # seconds one report (notebook + HTML + PDF) may take before it is stopped


# --- the batch ------------------------------------------------------------------------------------------


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class RunOptions:
    """How a run makes its reports: the same for every period (and every commune of a province) of the run."""

    formats: tuple[str, ...] = ("html", "pdf")
    lang: str = "vi"
    made_on: str = ""  # YYYY-MM-DD the reports say they were made; empty: today
    workers: int | None = None  # parallel worker processes; None: one per core
    force: bool = False  # remake every report, whatever the manifest says
    time_limit: float = DEFAULT_TIMEOUT  # seconds per report, its PDF included
    progress: bool | None = None  # the progress bar: None lets tqdm decide (a terminal or not)
    scheduler: str | None = None  # tcp://HOST:PORT: the reports run on a Dask cluster
    wait: bool = False  # wait for another run's lock instead of stopping
    on_wait: Callable[[str], object] | None = None  # says once that the run waits
    notebook: Path | None = None  # the master notebook to run (--notebook); None: notebooks/monthly_report.ipynb
    say: Callable[[str], object] | None = None  # the run's progress lines (a province's communes); None: silent


@dataclass
class DataSet:
    """The validated data a run reports on, with what it was read from (the hashes of the files as read)."""

    plan: Plan
    subs: Submissions
    data_dir: Path
    plan_path: Path = paths.PLAN_FILE
    hashes: dict[str, str] | None = None


@dataclass
class Shared:
    """Workers (kpi.run.workers.Pool) and a PDF printer a caller lends to several batches and closes itself."""

    pool: object = None
    printer: object = None


def plan_jobs(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions,
              engine: pdf.Engine) -> list[tuple[Job, dict]]:
    """(job, manifest key) for each report of the period."""
    owners = file_units(data.subs)
    hashes = {} if data.hashes is None else data.hashes
    notebook = Path(opts.notebook or paths.MASTER_NOTEBOOK)
    plan_hash, nb_hash, kit = sha256_file(data.plan_path), sha256_file(notebook), kit_fingerprint()
    jobs = []
    for unit in units:
        job = Job(period=period, unit=unit, data_dir=str(Path(data.data_dir).resolve()), out=str(out.resolve()),
                  plan_path=str(Path(data.plan_path).resolve()), formats=sorted(opts.formats), lang=opts.lang,
                  made_on=opts.made_on, chromium=engine.path or None, pdf_engine=engine.name,
                  notebook=str(notebook.resolve()) if opts.notebook else None)
        inputs = report_inputs(data.plan, data.subs, Path(data.data_dir), period, unit, owners, hashes)
        jobs.append((job, report_key(job, inputs, plan_hash, nb_hash, kit)))
    return jobs


def run_batch(data: DataSet, period: str, units: list[str], out_dir: Path, opts: RunOptions = RunOptions(), *,
              lock: bool = True, shared: Shared | None = None) -> BatchResult:
    """All reports of one period into <out>/<period>/, plus scorecard.csv, index.html and manifest.json.

    Reports run in parallel worker processes (default: one per core); each has a log file in logs/ and a
    time limit. A report whose inputs (data files that feed it, plan, notebook, kit, parameters) match the
    manifest and whose outputs exist is skipped unless `opts.force`. A report that fails or runs out of time is
    named with its error and the others still render. The output folder is locked for the whole run (unless
    the caller holds the lock: lock=False). `shared`: workers and a printer the caller lends; else the batch
    starts its own when there is something to make."""
    out = paths.period_dir(Path(out_dir).resolve(), period)  # absolute: the workers run in another folder
    out.mkdir(parents=True, exist_ok=True)
    opts = replace(opts, made_on=opts.made_on or dt.date.today().isoformat(),
                   workers=opts.workers or default_workers())
    data = replace(data, data_dir=Path(data.data_dir), plan_path=Path(data.plan_path or paths.PLAN_FILE),
                   hashes={} if data.hashes is None else data.hashes)
    with OutputLock(out_dir, wait=opts.wait, on_wait=opts.on_wait) if lock else contextlib.nullcontext():
        return _run_locked(data, period, units, out, opts, shared or Shared())


def _todo(jobs: list[tuple[Job, dict]], entries: dict, out: Path, force: bool) -> tuple[dict, list]:
    """The reports already up to date (by unit) and those to make, the longest first (as the manifest timed
    them last time), so that the batch does not end on one long report running alone."""
    done, todo = {}, []
    for job, key in jobs:
        entry = entries.get(job.unit)
        if not force and is_current(entry, key, out):
            done[job.unit] = ReportResult(job.unit, {f: out / n for f, n in entry["outputs"].items()}, skipped=True,
                                          log=out / LOG_DIR / f"{job.unit}.log")
        else:
            todo.append((job, key))
    todo.sort(key=lambda jk: -float((entries.get(jk[0].unit) or {}).get("seconds", 0)))
    return done, todo


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


def _save(result: BatchResult, manifest: dict) -> None:
    try:
        result.manifest = save_manifest(result.out_dir, manifest)
    except OSError as exc:  # the reports stand; the next run remakes what is not recorded
        note = write_error_text(exc, result.out_dir / MANIFEST)
        if note not in result.notes:
            result.notes.append(note)


def _run_locked(data: DataSet, period: str, units: list[str], out: Path, opts: RunOptions,
                shared: Shared) -> BatchResult:
    clean_partials(out)
    result = BatchResult(period, out, [])
    engine = pdf.choose() if "pdf" in opts.formats else pdf.Engine("")
    result.notes.extend(engine.notes)
    result.pdf_engine = engine.label
    manifest = load_manifest(out)
    entries = manifest["reports"]
    by_unit, todo = _todo(plan_jobs(data, period, units, out, opts, engine), entries, out, opts.force)
    kit = kit_fingerprint()
    local = bool(todo) and not opts.scheduler
    pool, printer = shared.pool, shared.printer
    try:
        if local:  # started now: their imports and the browser's start overlap the scorecard and the cache
            from kpi.run.workers import Pool

            pool = pool or Pool(min(opts.workers, len(todo)), out / LOG_DIR / "workers.log")
            if engine.name:
                printer = printer or pdf.open_printer(engine)
        if opts.scheduler:
            from kpi.run.distributed import scorecard_on_cluster

            card = scorecard_on_cluster(opts.scheduler, data.data_dir, data.plan_path, period, opts.lang)
        else:
            card = compute.scorecard(data.subs.data, data.plan, period, opts.lang)
        _write_tables(result, card, data, period, opts)
        if periods.is_month(period):  # the data package for the province, before the reports read its revisions
            from kpi.outputs.package import write_package

            try:
                write_package(data.plan, data.subs, period, card, out, data.data_dir, data.plan_path, opts.made_on)
            except OSError as exc:
                result.notes.append(write_error_text(exc, out / "package"))
                result.unwritten.append("package")
        if local:
            write_cache(data.plan, data.subs, data.data_dir, data.plan_path, out, kit, data.hashes)
        lock = threading.Lock()

        def record(job: Job, key: dict, res: dict, seconds: float) -> None:
            rr = ReportResult(job.unit, {f: Path(p) for f, p in res["files"].items()}, res["error"],
                              seconds=seconds, log=out / LOG_DIR / f"{job.unit}.log")
            with lock:
                by_unit[job.unit] = rr
                if rr.ok:
                    entries[job.unit] = {"key": key, "outputs": {f: p.name for f, p in rr.files.items()},
                                         "made_at": dt.datetime.now().isoformat(timespec="seconds"),
                                         "seconds": round(seconds, 2)}
                    if "pdf" in rr.files:
                        entries[job.unit]["pdf_engine"] = engine.name
                else:
                    entries.pop(job.unit, None)
                manifest["kit"] = kit
                _save(result, manifest)

        if todo and opts.scheduler:
            from kpi.run.distributed import run_on_cluster

            for job, key, res, secs in run_on_cluster(opts.scheduler, [j for j, _ in todo], [k for _, k in todo],
                                                      opts.time_limit):
                record(job, key, res, secs)
        elif todo:
            _run_local(todo, out, period, Shared(pool, printer), opts, record)
    finally:
        if pool and pool is not shared.pool:
            pool.close()
        if printer and printer is not shared.printer:
            printer.close()
    result.reports = [by_unit[u] for u in units]
    _save(result, manifest)
    try:
        result.index = publish.write_index(data.plan, period, card, result.reports, out / "index.html", opts.lang,
                                           opts.made_on)
    except OSError as exc:
        result.notes.append(write_error_text(exc, out / "index.html"))
        result.unwritten.append("index.html")
    return result


def _run_local(todo: list[tuple[Job, dict]], out: Path, period: str, shared: Shared, opts: RunOptions,
               record) -> None:
    """The reports on this machine: a worker makes each notebook and its HTML; the PDF is printed by the batch's
    one browser while that worker already runs the next report. Each finished report is recorded at once."""
    from tqdm.auto import tqdm

    workers_pool, printer, time_limit = shared.pool, shared.printer, opts.time_limit

    def one(job: Job, key: dict):
        log_path = out / LOG_DIR / f"{job.unit}.log"
        res = workers_pool.run(replace(job, chromium=None, pdf_engine="") if printer else job, log_path, time_limit)
        if res is None:
            res = {**timed_out(job, log_path, time_limit), "seconds": time_limit}
        seconds = res.pop("seconds", 0.0)  # the report's own time, not its wait for a free worker
        if printer and not res["error"] and "pdf" in job.formats and "html" in res["files"]:
            t0 = time.perf_counter()
            res["error"] = print_pdf(printer, Path(res["files"]["html"]), out / f"{job.unit}.pdf",
                                     res["files"], log_path, max(PDF_GRACE, time_limit - seconds))
            seconds += time.perf_counter() - t0
        return job, key, res, seconds

    bar = tqdm(total=len(todo), desc=f"Kỳ {period}", unit="báo cáo",
               disable=(None if opts.progress is None else not opts.progress))
    try:
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:  # threads wait; the workers pool does the work
            try:
                for fut in as_completed([pool.submit(one, job, key) for job, key in todo]):
                    job, key, res, secs = fut.result()
                    record(job, key, res, secs)
                    bar.set_postfix_str(f"{job.unit}: {'LỖI' if res['error'] else 'xong'}")
                    bar.update(1)
            except BaseException:  # Ctrl-C (or a fault here): no report starts, the running ones are stopped
                workers_pool.terminate()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        bar.close()



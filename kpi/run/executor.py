"""The one executor of planned jobs, whatever root planned them (a commune's reports, a province report): it
decides which jobs are up to date, runs the others, and records each one in its period's manifest as it
finishes. Where the jobs run is chosen once per run, as papermill chooses an engine: this machine's worker
processes and one PDF printer (kpi.run.workers, kpi.outputs.pdf), or the Dask cluster of `opts.scheduler`
(kpi.run.distributed)."""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from kpi.core.files import write_error_text
from kpi.outputs import pdf
from kpi.run.job import LOG_DIR, Job
from kpi.run.manifest import MANIFEST, is_current, save_manifest
from kpi.run.summary import BatchResult, ReportResult

DEFAULT_TIMEOUT = 1200  # seconds one report (notebook + HTML + PDF) may take before it is stopped

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
    engine: str = "worker"  # where the notebook's cells run: the worker (kpi.run.engine) or a kernel


def pending(jobs: list[tuple[Job, dict]], manifest: dict, out: Path, force: bool
            ) -> tuple[dict[str, ReportResult], list[tuple[Job, dict]]]:
    """The reports already up to date (by unit) and those to make, the longest first (as the manifest timed
    them last time), so that a batch does not end on one long report running alone."""
    entries = manifest["reports"]
    done, todo = {}, []
    for job, key in jobs:
        entry = entries.get(job.unit)
        if not force and is_current(entry, key, out):
            done[job.unit] = ReportResult.kept(job.unit, entry, out)
        else:
            todo.append((job, key))
    todo.sort(key=lambda jk: -float((entries.get(jk[0].unit) or {}).get("seconds", 0)))
    return done, todo


def save(result: BatchResult, manifest: dict) -> None:
    """Write the period's manifest; one that cannot be written (a full disk) is a note: the reports stand and the
    next run remakes what is not recorded."""
    try:
        result.manifest = save_manifest(result.out_dir, manifest)
    except OSError as exc:
        note = write_error_text(exc, result.out_dir / MANIFEST)
        if note not in result.notes:
            result.notes.append(note)


class Executor:
    """Runs planned jobs for every batch of a run. Locally, the workers and the browser start with the first job
    to make (`start`); a job's PDF is printed by the run's one printer while its worker already runs the next job.
    With `opts.scheduler` every job is a task on the Dask cluster."""

    def __init__(self, opts: RunOptions, *, size: int | None = None):
        self.opts = opts
        self.engine = pdf.choose() if "pdf" in opts.formats else pdf.Engine("")
        self.pool = self.printer = None
        self.size = size  # workers to start: at most this many jobs run at once (None: the first batch's jobs)
        self._starting = threading.Lock()

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, exc_type=None, *exc) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.terminate()
        self.close()

    def terminate(self) -> None:
        """Ctrl-C: no job starts any more and the running ones are stopped with their kernels."""
        if self.pool is not None:
            self.pool.terminate()

    @property
    def local(self) -> bool:
        return not self.opts.scheduler

    def start(self, jobs: int, log: Path) -> None:
        """Start the workers and the printer now, for `jobs` jobs to come: their imports and the browser's
        start overlap the caller's own work (the scorecard, the cache). Nothing to start on a cluster."""
        if not self.local or jobs < 1:
            return
        from kpi.run.workers import Pool

        with self._starting:
            if self.pool is None:
                self.pool = Pool(min(self.opts.workers or default_workers(), self.size or jobs), log)
            if self.printer is None and self.engine.name:
                self.printer = pdf.open_printer(self.engine)

    def run(self, jobs: list[tuple[Job, dict]], out: Path, manifest: dict, result: BatchResult, given=None
            ) -> dict[str, ReportResult]:
        """Run the jobs of one period folder (`out`) and record each in `manifest` (saved after each job, so an
        interrupted run keeps what was finished); their outcomes by unit. `given`: the period's data
        (kpi.report.period_data), handed to each local worker with its job."""
        made: dict[str, ReportResult] = {}
        if not jobs:
            return made
        self.start(len(jobs), out / LOG_DIR / "workers.log")
        entries = manifest["reports"]

        def record(job: Job, key: dict, res: dict, seconds: float) -> None:
            rr = ReportResult(job.unit, {f: Path(p) for f, p in res["files"].items()}, res["error"],
                              seconds=seconds, log=job.log)
            made[job.unit] = rr
            entries.pop(job.unit, None)
            if rr.ok:
                entries[job.unit] = {"key": key, "outputs": {f: p.name for f, p in rr.files.items()},
                                     "made_at": dt.datetime.now().isoformat(timespec="seconds"),
                                     "seconds": round(seconds, 2), **({"pdf_engine": self.engine.name}
                                                                      if "pdf" in rr.files else {})}
            manifest["kit"] = key["kit"]
            save(result, manifest)

        if not self.local:
            from kpi.run.distributed import run_on_cluster

            for job, key, res, secs in run_on_cluster(self.opts.scheduler, [j for j, _ in jobs], [k for _, k in jobs],
                                                      self.opts.time_limit, self.engine):
                record(job, key, res, secs)
            return made
        from tqdm.auto import tqdm

        from kpi.run.workers import finish

        # every job is queued on the workers at once; as each ends, the run's one browser prints its PDF (while
        # that worker already runs the next job) and the manifest records it
        futures = {self.pool.submit(job, self.opts.time_limit, given): (job, key) for job, key in jobs}
        progress = self.opts.progress
        bar = tqdm(total=len(jobs), desc=f"Kỳ {result.period}", unit="báo cáo",
                   disable=(None if progress is None else not progress))
        try:
            for fut in as_completed(futures):
                job, key = futures[fut]
                res = finish(self.pool, fut, job, self.opts.time_limit, self.printer)
                record(job, key, res, res.pop("seconds"))
                bar.set_postfix_str(f"{job.unit}: {'LỖI' if res['error'] else 'xong'}")
                bar.update(1)
        except BaseException:  # Ctrl-C (or a fault here): no job starts, the running ones are stopped
            self.terminate()
            raise
        finally:
            bar.close()
        return made

    def close(self) -> None:
        """Stop the workers and the browser, side by side."""
        ours = [x for x in (self.pool, self.printer) if x is not None]
        self.pool = self.printer = None
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="kpi-close") as ending:
            done = [ending.submit(x.close) for x in ours]
        for fut in done:
            fut.result()  # a fault in either is raised here, after both have ended

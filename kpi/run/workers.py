"""The batch's worker processes: one pebble process pool forked from multiprocessing's fork server (started by exec,
so no process is forked from one that has threads), which imported the kit, papermill and nbconvert once. A worker
runs report after report (kpi.run.job.run_report) and is replaced after RECYCLE reports, or with the report it was
running when that passes its time limit. A report's output goes to its log file, the rest to the pool's log. Once
the pool is closed its workers, the fork server and the resource tracker have ended and been waited for. `finish` is
the batch's side of a report its worker is done with: its outcome, then its PDF by the batch's one browser."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import CancelledError, Future, InvalidStateError, TimeoutError as FutureTimeout
from pathlib import Path
from typing import TYPE_CHECKING

from kpi.core.files import write_error_text
from kpi.run.job import Job, error_text, timed_out

if TYPE_CHECKING:
    from kpi.outputs.render import PdfPrinter

INTERRUPTED = "Đã dừng (Ctrl-C): báo cáo chưa chạy xong nên không được tạo; chạy lại lệnh để tạo."
RECYCLE = 50  # reports a worker runs before a fresh one takes its place
PDF_GRACE = 5.0  # seconds a PDF may always take, even when the notebook used up the report's time limit
# imported once, in the fork server, for every worker (what a report needs, not the batch's own modules)
PRELOAD = ["kpi.run.preload"]

_open = 0  # pools open in this process; the last one to close stops the fork server
_open_lock = threading.Lock()


# what keeps the fork server to one thread through its imports (numpy's OpenBLAS and pyarrow's jemalloc would
# each start one), so that it forks its workers safely
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "JE_ARROW_MALLOC_CONF": "background_thread:false"}


def _context():
    """The forkserver context, its server started now with the preloaded modules and one thread."""
    from multiprocessing import forkserver

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    saved = dict(os.environ)
    os.environ.update(ONE_THREAD)
    try:
        forkserver.ensure_running()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return ctx


def _end_servers() -> None:
    """Stop and wait for multiprocessing's fork server and resource tracker (they would otherwise end only with
    this process, and be left unreaped where nothing adopts orphans)."""
    import gc
    from multiprocessing import forkserver, resource_tracker

    gc.collect()  # a pool's semaphores, once collected, tell the tracker they are gone: before it stops
    forkserver._forkserver._stop()
    resource_tracker._resource_tracker._stop()


class Pool:
    """`size` workers, started at once: their start overlaps the batch's own work. `log` takes what they print
    between reports. Reports are queued on pebble's pool as they come (`submit`); pebble hands each to a free
    worker and stops it past its time limit, counted from that start."""

    def __init__(self, size: int, log: Path, recycle: int = RECYCLE):
        global _open
        from pebble import ProcessPool

        self.log, self.size = Path(log), max(1, size)
        self.stopping = False  # set by terminate(): no new report starts
        self._pending: set[Future] = set()  # reports queued or running, ended as interrupted by terminate()
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with _open_lock:
            _open += 1
        self._counted = True  # in _open until closed
        self._pool = ProcessPool(max_workers=self.size, max_tasks=recycle, initializer=_begin,
                                 initargs=(str(self.log),), context=_context())
        self._pool.schedule(_ready)  # the workers start now, not with the first report

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type=None, *exc) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.terminate()
        self.close()

    def submit(self, job: Job, time_limit: float, given=None) -> Future:
        """Queue the report with the period's data (`given`); its future gives run_report's result, with "seconds"
        (from its start) and "worker" (its pid). Its log (job.log) begins when a worker starts it."""
        if self.stopping:  # after Ctrl-C: the report ends as interrupted, never started
            future = Future()
            future.set_exception(CancelledError())
            return future
        if self._pool is None:
            raise RuntimeError("the pool is closed")
        future = self._pool.schedule(_work, args=(job, given), timeout=time_limit)
        self._pending.add(future)
        future.add_done_callback(self._pending.discard)
        return future

    def outcome(self, future: Future, job: Job) -> dict | None:
        """A submitted report's result once it ended; None past its time limit (its worker is then replaced)."""
        try:
            result = future.result()
        except FutureTimeout:
            return None
        except CancelledError:
            return {"files": {}, "error": INTERRUPTED}
        except Exception as exc:  # the worker ended abnormally (killed, crashed)
            code = getattr(exc, "exitcode", None)
            return {"files": {}, "error": f"Tiến trình chạy báo cáo dừng bất thường (mã {code}); "
                                          f"xem nhật ký {job.log.name}."}
        return {"files": {}, "error": INTERRUPTED} if self.stopping else result

    def run(self, job: Job, time_limit: float, given=None) -> dict | None:
        """One report, waited for (`submit`, then `outcome`)."""
        return self.outcome(self.submit(job, time_limit, given), job)

    def terminate(self) -> None:
        """Ctrl-C: no report starts any more, and every worker is stopped at once; the reports they ran end as
        interrupted, under their temporary names only."""
        self.stopping = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join()
        for future in list(self._pending):  # a stopped pebble pool settles none of its futures: said here
            with contextlib.suppress(InvalidStateError):
                future.set_exception(CancelledError())
        self.close()

    def close(self) -> None:
        """The workers end (each after its report), then the fork server when no other pool is open."""
        global _open
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()
            pool.join()
        with _open_lock:
            if self._counted:
                self._counted, _open = False, _open - 1
                if _open == 0:
                    _end_servers()


# --- in the worker ------------------------------------------------------------------------------------------

_BETWEEN = 2  # the descriptor of the pool's log, where the worker's output goes between reports


def _redirect(path: str | None) -> None:
    """Point file descriptors 1 and 2 (this process's and any child's output) at a report's log file, or at
    the pool's log between reports."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else os.dup(_BETWEEN)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _end(*_) -> None:
    """A worker stopped by the pool (a time limit, Ctrl-C) first stops what it started (a kernel, with
    --engine kernel) and waits for it."""
    try:
        import psutil  # IPython's dependency

        children = psutil.Process().children(recursive=True)
        for child in children:
            child.kill()
        psutil.wait_procs(children, timeout=5)
    finally:
        os._exit(1)


def _begin(log: str) -> None:
    """A worker's start: Ctrl-C is the batch's to handle (it stops the workers); output to the pool's log."""
    global _BETWEEN
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end)
    _BETWEEN = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    _redirect(None)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, force=True,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _ready() -> None:
    """The first task: it makes the pool start its workers."""


def _work(job: Job, given) -> dict:
    from kpi.run.job import run_report, start_log

    t0, log = time.perf_counter(), str(job.log)
    try:
        start_log(job, job.log)  # the report starts now, not when it was queued
        _redirect(log)
    except OSError as exc:
        return {"files": {}, "error": write_error_text(exc, log), "seconds": 0.0}
    try:
        return {**run_report(job, given), "worker": os.getpid(), "seconds": time.perf_counter() - t0}
    finally:
        _redirect(None)


# --- in the batch, once a worker is done ----------------------------------------------------------------------

def finish(pool: Pool, future: Future, job: Job, time_limit: float, printer=None) -> dict:
    """A submitted report's result once its worker is done ("seconds": its own time, not its wait for a worker),
    its PDF printed by `printer` (the one browser; None: no PDF) within what is left of its time limit."""
    res = pool.outcome(future, job)
    if res is None:
        res = {**timed_out(job, job.log, time_limit), "seconds": time_limit}
    res.setdefault("seconds", 0.0)
    if printer and not res["error"] and "pdf" in job.formats and "html" in res["files"]:
        t0 = time.perf_counter()
        res["error"] = print_pdf(printer, Path(res["files"]["html"]), Path(job.out) / f"{job.unit}.pdf", res["files"],
                                 job.log, max(PDF_GRACE, time_limit - res["seconds"]))
        res["seconds"] += time.perf_counter() - t0
    return res


def print_pdf(printer: PdfPrinter, html: Path, target: Path, files: dict, log_path: Path,
              time_limit: float | None = None) -> str:
    """Print one report's HTML with the batch's browser; the PDF joins `files`, the outcome goes to the
    report's log. Returns the error text ("" when the PDF was made). Past `time_limit` seconds (what is left
    of the report's limit) the browser is killed and the report fails with "Quá thời gian"."""
    try:
        files["pdf"] = str(printer.print(html, target, time_limit))
        error, line = "", f"Đã xuất PDF: {target.name}"
    except Exception as exc:  # the report's PDF failed: named in the summary, the other reports go on
        error = error_text(exc, target)  # a full disk is said as such, not as a failed notebook
        line = f"Lỗi khi in PDF {target.name}: {error}"
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {line}\n")
    except OSError:  # a full disk: the outcome still reaches the summary
        pass
    return error


def run_in_subprocess(job: Job, time_limit: float, given=None, engine=None) -> dict:
    """Run one report in a worker process of its own, its output going to the report's log file (job.log), and
    print its PDF with a browser of its own (`engine`: kpi.outputs.pdf.Engine); a report that passes its time
    limit is stopped and recorded as timed out. For one-off reports: a report on a Dask worker."""
    from kpi.outputs import pdf

    printer = pdf.open_printer(engine) if engine and "pdf" in job.formats else None
    try:
        with Pool(1, job.log.parent / "workers.log") as pool:
            res = finish(pool, pool.submit(job, time_limit, given), job, time_limit, printer)
    finally:
        if printer is not None:
            printer.close()
    res.pop("seconds", None)
    return res

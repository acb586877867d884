"""The batch's worker processes: one pebble process pool forked from multiprocessing's fork server (started by exec,
so no process is forked from one that has threads), which imported the kit, papermill and nbconvert once. A worker
runs report after report (kpi.run.job.run_report) and is replaced after RECYCLE reports, or with the report it was
running when that passes its time limit. A report's output goes to its log file, the rest to the pool's log. Once
the pool is closed its workers, the fork server and the resource tracker have ended and been waited for."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import CancelledError, TimeoutError as FutureTimeout, wait
from pathlib import Path

from kpi.core.files import write_error_text
from kpi.run.job import Job, timed_out

INTERRUPTED = "Đã dừng (Ctrl-C): báo cáo chưa chạy xong nên không được tạo; chạy lại lệnh để tạo."
RECYCLE = 50  # reports a worker runs before a fresh one takes its place
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
    between reports."""

    def __init__(self, size: int, log: Path, recycle: int = RECYCLE):
        global _open
        self.log, self.size, self.recycle = Path(log), max(1, size), recycle
        self.stopping = False  # set by terminate(): no new report starts
        self._slots = threading.BoundedSemaphore(self.size)  # a report is handed over when a worker is free
        self._pool = None
        self._closed = False
        self._started = threading.Lock()
        with _open_lock:
            _open += 1
        self._start()

    def _start(self):
        from pebble import ProcessPool

        with self._started:
            if self._closed:
                raise RuntimeError("the pool is closed")
            if self._pool is None:
                self.log.parent.mkdir(parents=True, exist_ok=True)
                self._pool = ProcessPool(max_workers=self.size, max_tasks=self.recycle, initializer=_begin,
                                         initargs=(str(self.log),), context=_context())
                self._pool.schedule(_ready)  # the workers start now, not with the first report
        return self._pool

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type=None, *exc) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.terminate()
        self.close()

    def run(self, job: Job, log_path: Path, time_limit: float, given=None) -> dict | None:
        """Wait for a free worker, then run the report on it with the period's data (`given`): run_report's result,
        with "seconds" (from the worker taking it) and "worker" (its pid); None past `time_limit` (the worker is
        then replaced). A report whose log cannot be written fails with that reason."""
        from kpi.run.job import start_log

        with self._slots:
            if self.stopping:
                return {"files": {}, "error": INTERRUPTED}
            try:
                start_log(job, log_path)  # the report starts now, not when it was queued
            except OSError as exc:
                return {"files": {}, "error": write_error_text(exc, log_path), "seconds": 0.0}
            t0 = time.perf_counter()
            future = self._start().schedule(_work, args=(job, str(log_path), given), timeout=time_limit)
            while not wait([future], timeout=0.2).done:
                if self.stopping:
                    return {"files": {}, "error": INTERRUPTED}
            try:
                result = future.result()
            except FutureTimeout:
                return None
            except CancelledError:
                return {"files": {}, "error": INTERRUPTED}
            except Exception as exc:  # the worker ended abnormally (killed, crashed)
                code = getattr(exc, "exitcode", None)
                return {"files": {}, "error": f"Tiến trình chạy báo cáo dừng bất thường (mã {code}); "
                                              f"xem nhật ký {log_path.name}."}
            if self.stopping:
                return {"files": {}, "error": INTERRUPTED}
            result["seconds"] = time.perf_counter() - t0
            return result

    def terminate(self) -> None:
        """Ctrl-C: no report starts any more, and every worker is stopped at once; the reports they ran end as
        interrupted, under their temporary names only."""
        self.stopping = True
        with self._started:
            if self._pool is not None:
                self._pool.stop()
        self.close()

    def close(self) -> None:
        """The workers end (each after its report), then the fork server when no other pool is open."""
        global _open
        with self._started:
            pool, self._pool, closed, self._closed = self._pool, None, self._closed, True
        if pool is not None:
            if not self.stopping:
                pool.close()
            pool.join()
        if not closed:
            with _open_lock:
                _open -= 1
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


def _work(job: Job, log: str, given) -> dict:
    from kpi.run.job import run_report

    try:
        _redirect(log)
    except OSError as exc:
        return {"files": {}, "error": write_error_text(exc, log)}
    try:
        return {**run_report(job, given), "worker": os.getpid()}
    finally:
        _redirect(None)


def run_in_subprocess(job: Job, log_path: Path, time_limit: float, given=None) -> dict:
    """Run one report in a worker process of its own, its output going to the report's log file; a report that
    passes its time limit is stopped and recorded as timed out. For one-off reports: the province report, a report
    on a Dask worker."""
    with Pool(1, log_path.parent / "workers.log") as pool:
        res = pool.run(job, log_path, time_limit, given)
    if res is None:
        return timed_out(job, log_path, time_limit)
    res.pop("seconds", None)
    return res

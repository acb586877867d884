"""Long-lived worker processes for the batch: each one imports the kit, papermill and nbconvert once and then
runs report after report (`kpi.run.job.run_report`), instead of one new Python process per report.

The batch talks to a worker over its standard input (one job per line, JSON) and standard output (one result
per line, after a marker). While a job runs, the worker's stdout and stderr (its own and those of the kernel
it starts) go to that report's log file. A report that passes its time limit is stopped with its worker and
kernel; the next report gets a fresh worker."""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kpi.core.files import write_error_text
from kpi.run.job import Job, timed_out

MARK = "\x1ekpi-result "  # starts the line that carries a job's result on a worker's standard output
_NUMBERS = itertools.count(1)  # names the threads that listen to each worker
INTERRUPTED = "Đã dừng (Ctrl-C): báo cáo chưa chạy xong nên không được tạo; chạy lại lệnh để tạo."


class Worker:
    """One worker process, seen from the batch; its output between reports goes to `log`."""

    def __init__(self, log: Path, forked: tuple | None = None):
        """A worker started with Popen, or one the pool forked (`forked`: kpi.run.forked's process and the batch's
        ends of its stdin, stdout and stderr)."""
        self.log = log
        if forked is None:
            from kpi.core import paths
            from kpi.run.job import kernel_name
            from kpi.run.zygote import worker_python

            self.proc = subprocess.Popen(
                [*worker_python(kernel_name()), "-m", "kpi.run.workers"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(paths.ROOT), text=True, encoding="utf-8",
                errors="replace", env={**os.environ, "PYTHONIOENCODING": "utf-8"})
            self.stdin, self.stdout, self.stderr = self.proc.stdin, self.proc.stdout, self.proc.stderr
        else:
            self.proc, self.stdin, self.stdout, self.stderr = forked
        self.results: queue.Queue = queue.Queue()
        name = f"kpi-worker-{next(_NUMBERS)}"
        threading.Thread(target=self._read, daemon=True, name=name).start()
        threading.Thread(target=self._drain, daemon=True, name=f"{name}-log").start()

    def _drain(self) -> None:
        """What the worker prints outside a report (normally nothing; an import error) goes to `log`, a file
        made only if there is something to write."""
        for line in self.stderr:
            try:
                self.log.parent.mkdir(parents=True, exist_ok=True)
                with open(self.log, "a", encoding="utf-8") as log:
                    log.write(line)
            except OSError:  # a full disk: the line is lost, the batch goes on (each report names its own fault)
                pass

    def _read(self) -> None:
        heard = getattr(self.proc, "heard", None)  # a forked worker's mother speaks on this pipe too
        for line in self.stdout:
            if line.startswith(MARK):
                self.results.put(json.loads(line[len(MARK):]))
            elif heard is not None:
                heard(line)
        if heard is not None:
            self.proc.closed()
        self.results.put(None)  # the worker has ended

    def run(self, job: Job, log_path: Path, time_limit: float) -> dict | None:
        """The report's result; None when it did not finish within time_limit (the worker is then stopped)."""
        try:
            self.stdin.write(json.dumps({"job": job.to_dict(), "log": str(log_path)}) + "\n")
            self.stdin.flush()
            result = self.results.get(timeout=time_limit)
        except queue.Empty:
            self.stop(kill=True)
            return None
        except OSError:  # the worker had already ended
            result = None
        if result is None:
            self.proc.wait()
            return {"files": {}, "error": f"Tiến trình chạy báo cáo dừng bất thường (mã {self.proc.returncode}); "
                                          f"xem nhật ký {log_path.name}."}
        return result

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def end(self) -> None:
        """Ask the worker to end (its input ends); stop() then waits for it."""
        try:
            self.stdin.close()
        except OSError:  # it had already ended
            pass

    def stop(self, kill: bool = False) -> None:
        from kpi.run.job import _kill_tree

        if kill:
            _kill_tree(self.proc)
        else:
            self.end()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _kill_tree(self.proc)
        self.proc.wait()


class Pool:
    """`size` workers, started at once (their imports overlap the batch's own work: reading and validating
    the data, the scorecard) and handed out to one report at a time. `log` takes what they print between
    reports (normally nothing; an import error would show there)."""

    def __init__(self, size: int, log: Path, lazy: bool = False):
        self.log, self.size = log, max(1, size)
        self.idle: queue.Queue[Worker] = queue.Queue()
        self._started = threading.Lock()
        self._pending = lazy  # lazy: the workers start with the first report, if there is one
        self.busy: set[Worker] = set()
        self._lock = threading.Lock()
        self.stopping = False  # set by terminate(): no new report starts
        self.mothers: list = []  # the processes the forked workers came from (kpi.run.forked), reaped at the end
        if not lazy:
            self._start()

    def _start(self) -> None:
        """The workers forked from this process when it can be forked safely (kpi.run.forked: their imports are
        done once, by their mother), else each started with Popen."""
        from kpi.run.forked import fork_workers

        forked = fork_workers(self.size, imports, serve)
        if forked is None:
            workers = [Worker(self.log) for _ in range(self.size)]
        else:
            mother, made = forked
            self.mothers.append(mother)
            workers = [Worker(self.log, one) for one in made]
        for worker in workers:
            self.idle.put(worker)
        self._pending = False

    def __enter__(self) -> "Pool":
        return self

    def __exit__(self, exc_type=None, *exc) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.terminate()
        self.close()

    def run(self, job: Job, log_path: Path, time_limit: float) -> dict | None:
        """Wait for a free worker, then run the report on it: worker.run's result, with "seconds" (the time
        from the worker taking the report, the wait for a free one not counted) when it finished. The worker
        goes back to the pool on every path (a log that cannot be written, a stopped batch); a report whose
        log cannot be written fails with that reason and the next report goes on."""
        from kpi.core.files import write_error_text
        from kpi.run.job import start_log

        if self.stopping:
            return {"files": {}, "error": INTERRUPTED}
        if self._pending:
            with self._started:
                if self._pending:
                    self._start()
        worker = self.idle.get()
        try:
            if self.stopping:  # Ctrl-C while this report waited for a worker: it does not start
                return {"files": {}, "error": INTERRUPTED}
            with self._lock:
                self.busy.add(worker)
            try:
                start_log(job, log_path)  # the report starts now, not when it was queued
            except OSError as exc:
                return {"files": {}, "error": write_error_text(exc, log_path), "seconds": 0.0}
            t0 = time.perf_counter()
            result = worker.run(job, log_path, time_limit)
            if self.stopping:
                return {"files": {}, "error": INTERRUPTED}
            if result is not None:
                result["seconds"] = time.perf_counter() - t0
            return result
        finally:
            with self._lock:
                self.busy.discard(worker)
            if self.stopping:
                worker.stop(kill=True)
                self.idle.put(worker)
            else:
                self.idle.put(worker if worker.alive else Worker(self.log))

    def terminate(self) -> None:
        """Ctrl-C: no report starts any more, and every worker (busy or idle) is stopped at once with its
        kernel; the reports they ran end as interrupted, under their temporary names only."""
        self.stopping = True
        with self._lock:
            busy = list(self.busy)
        for worker in busy + list(self.idle.queue):
            worker.stop(kill=True)
        self._reap()

    def close(self) -> None:
        """Every idle worker is told to end at once, then waited for: they end together, not one after another."""
        idle = []
        while not self.idle.empty():
            idle.append(self.idle.get_nowait())
        if not self.stopping:
            for worker in idle:
                worker.end()
        for worker in idle:
            worker.stop(kill=self.stopping)
        self._reap()

    def _reap(self) -> None:
        """Wait for the mothers of forked workers, which end with their last worker."""
        for mother in self.mothers:
            with contextlib.suppress(subprocess.TimeoutExpired):  # a worker that still runs is not waited for
                mother.wait(timeout=10)


def _redirect(path: str | None) -> None:
    """Point file descriptors 1 and 2 (this process's and any child's output) at a report's log file, or at
    the worker's own log between jobs (the stderr it was started with, kept as a duplicate)."""
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644) if path else os.dup(_BETWEEN)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


_BETWEEN = 2


def imports() -> None:
    """What a worker imports once, before its first report, for every report it runs (a forked worker's mother
    imports it for all of them, kpi.run.forked)."""
    import nbconvert  # noqa: F401
    import papermill  # noqa: F401

    from kpi.run import job  # noqa: F401


def serve() -> int:
    """The worker's loop: read a job per line, run it, answer with its result."""
    global _BETWEEN
    from kpi.run import zygote
    from kpi.run.job import kernel_name

    answer = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)  # the pipe to the batch
    _BETWEEN = os.dup(2)
    _redirect(None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle: it stops this worker
    imports()
    from kpi.run.job import run_report

    zygote.start(kernel_name())  # the kernels' fork server, forked from this worker before it has any thread

    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for line in sys.stdin:
        job = json.loads(line)
        try:
            _redirect(job["log"])
        except OSError as exc:
            result = {"files": {}, "error": write_error_text(exc, job["log"])}
        else:
            try:
                result = run_report(Job.from_dict(job["job"]))
            finally:
                _redirect(None)
        answer.write(MARK + json.dumps(result, ensure_ascii=False) + "\n")
    # The batch has no more reports: everything is written (each report's files, its answer on the pipe), and
    # tearing down the interpreter's modules (pandas, matplotlib, ...) would only make the batch wait for it.
    logging.shutdown()
    answer.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(serve())


def run_in_subprocess(job: Job, log_path: Path, time_limit: float) -> dict:
    """Run one report in a worker process of its own (kpi.run.workers, the batch's workers for a single report),
    its output going to the report's log file; a report that passes its time limit is stopped (with its
    kernel) and recorded as timed out. For one-off reports: the province report, a report on a Dask worker."""
    with Pool(1, log_path.parent / "workers.log") as pool:
        res = pool.run(job, log_path, time_limit)
    if res is None:
        return timed_out(job, log_path, time_limit)
    res.pop("seconds", None)
    return res


# --- manifest -------------------------------------------------------------------------------------------

# One report's record. An output is a bare file name of the period folder (no folder, no hidden name), so a
# tampered manifest can neither point index.html at another file nor make a report look up to date.

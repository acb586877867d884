"""Workers forked from the batch itself. A worker started as a process of its own spends 2–3 s of CPU before its
first report: Python, pandas and the kit (which the batch has already imported), then papermill, nbconvert and
what its kernels' fork server preloads. When the batch process can be forked safely (no thread but its own, and
the workers would run this very interpreter), the pool forks it once into a *mother* that imports the rest once,
then forks every worker from itself: each worker starts with all of it imported (shared, copy on write) and runs
the same loop as a worker started with Popen (`kpi.run.workers.serve`).

The batch talks to a forked worker as to any other (kpi.run.workers.Worker: a job per line on its standard
input, the results on its standard output, what it prints between reports on its standard error), through pipes
made before the fork. A forked worker is the mother's child, not the batch's: the mother writes each worker's
process id on that worker's output pipe as it forks it, reaps it when it ends, writes its exit code there and
closes the pipe, so the batch sees a forked worker end as it sees a Popen end. The mother ends with its last
worker, and the pool reaps it. `KPI_FORK_WORKERS=0` in the environment starts every worker with Popen (to compare)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback

PID_MARK = "\x1ekpi-pid "  # the mother's line on a worker's output pipe: the worker's process id
END_MARK = "\x1ekpi-exit "  # the mother's last line on it: the worker's exit code


class Forked:
    """A worker forked by the mother, as much of a Popen as kpi.run.workers.Worker uses. Its process id and its
    exit code come on its output pipe (`heard`); the end of that pipe (`closed`) is its end."""

    def __init__(self, mother):
        self.mother = mother  # kpi.run.zygote._Child: the batch's own child, reaped by the pool
        self.pid: int | None = None  # None until the mother has forked it
        self.returncode: int | None = None
        self.ended = threading.Event()

    def heard(self, line: str) -> bool:
        """Whether `line` (read from the worker's output) was the mother's, taking what it says."""
        if line.startswith(PID_MARK):
            self.pid = int(line[len(PID_MARK):])
        elif line.startswith(END_MARK):
            self.returncode = int(line[len(END_MARK):])
        else:
            return False
        return True

    def closed(self) -> None:
        """The worker's output pipe has ended: the worker has ended and the mother has reaped it (or the mother
        itself ended before forking it, e.g. an import that failed: said in the workers' log; exit code 1)."""
        if self.returncode is None:
            self.returncode = 1
        self.ended.set()

    def poll(self) -> int | None:
        return self.returncode if self.ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self.ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
        return self.returncode

    def kill(self) -> None:
        """Stop the worker; one the mother has not forked yet is stopped by stopping the mother."""
        try:
            if self.pid is not None:
                os.kill(self.pid, signal.SIGKILL)
            else:
                self.mother.kill()
        except ProcessLookupError:
            pass


def can_fork(kernel: str) -> bool:
    """Whether this process may fork its workers: Linux's fork, no Python thread but this one (a thread holding a
    lock at the fork would leave it held for ever in the child), the workers' interpreter is this one, and
    KPI_FORK_WORKERS is not 0."""
    from kpi.run.zygote import _forkable, same_interpreter, worker_python

    return (os.environ.get("KPI_FORK_WORKERS", "1") != "0" and hasattr(os, "fork") and sys.platform == "linux"
            and _forkable() and same_interpreter(worker_python(kernel)))


def fork_workers(size: int, imports, serve) -> tuple[object, list[tuple[Forked, object, object, object]]] | None:
    """Fork the mother of `size` workers: it runs `imports()` (what a worker imports before its first report),
    then forks each worker, which runs `serve()` (kpi.run.workers' loop, which ends the process). Returns (the
    mother, [(process, stdin, stdout, stderr) of each worker]), the streams being the batch's ends of the worker's
    pipes (text, UTF-8); None when this process cannot fork safely (`can_fork`): the caller then starts its
    workers with Popen."""
    from kpi.run.job import kernel_name
    from kpi.run.zygote import _Child

    if not can_fork(kernel_name()):
        return None
    made: list[int] = []  # every descriptor made here, to close if the fork cannot be made
    try:
        for _ in range(3 * size):
            made.extend(os.pipe())
        if min(made) < 3:  # this process has no standard streams: a pipe took their place
            raise OSError("no standard streams")
        sys.stdout.flush()
        sys.stderr.flush()
        # Ctrl-C is held back across the fork, so that the mother never runs the batch's handler: it ignores it
        held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
        except OSError:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            raise
    except OSError:  # no file descriptor or process to spare (a limit, memory): the workers start with Popen
        for fd in made:
            os.close(fd)
        return None
    pairs = [tuple(made[n:n + 2]) for n in range(0, len(made), 2)]
    pipes = [tuple(pairs[n:n + 3]) for n in range(0, len(pairs), 3)]  # each worker's stdin, stdout, stderr
    if pid == 0:
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch handles Ctrl-C: it stops the workers
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
            code = _mother([(i[0], o[1], e[1]) for i, o, e in pipes], imports, serve)
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    mother, workers = _Child(pid), []
    for (i_read, i_write), (o_read, o_write), (e_read, e_write) in pipes:
        for fd in (i_read, o_write, e_write):  # the worker's ends: the mother has them
            os.close(fd)
        workers.append((Forked(mother),
                        open(i_write, "w", encoding="utf-8", errors="replace"),
                        open(o_read, encoding="utf-8", errors="replace"),
                        open(e_read, encoding="utf-8", errors="replace")))
    return mother, workers


# --- the mother's side ----------------------------------------------------------------------------------


def _mother(ends: list[tuple[int, int, int]], imports, serve) -> int:
    """In the forked child: import what workers (`imports`) and their kernels' servers need, fork a worker per
    (stdin, stdout, stderr) of `ends`, then reap them one by one, telling the batch each one's exit code.
    Returns when all have ended."""
    from kpi.core import paths
    from kpi.run import zygote

    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(ends[0][2], 1)  # until the workers are forked, an import error goes to the workers' log
    os.dup2(ends[0][2], 2)
    zygote.close_fds_but({null, *(fd for end in ends for fd in end)})
    _standard_streams()
    os.chdir(paths.ROOT)  # where the batch starts a worker with Popen, with the same environment
    os.environ["PYTHONIOENCODING"] = "utf-8"
    if sys.path:
        sys.path[0] = str(paths.ROOT)  # as `python -m kpi.run.workers` started there has it
    imports()
    if zygote.forking():
        zygote._preload()  # what each worker's kernel server would import after forking from it
    children: dict[int, int] = {}
    for stdin, stdout, stderr in ends:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _worker(stdin, stdout, stderr, serve)
        children[pid] = stdout
        _say(stdout, f"{PID_MARK}{pid}")
        os.close(stdin)
        os.close(stderr)
    os.dup2(null, 1)
    os.dup2(null, 2)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        fd = children.pop(pid, None)
        if fd is not None:
            _say(fd, f"{END_MARK}{os.waitstatus_to_exitcode(status)}")
            os.close(fd)
    return 0


def _worker(stdin: int, stdout: int, stderr: int, serve) -> None:
    """In the worker forked from the mother: its pipes as standard streams, nothing else open, then the workers'
    loop, which ends the process."""
    code = 1
    try:
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        from kpi.run import zygote

        zygote.close_fds_but(set())
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # a worker waits for its own children
        _standard_streams()
        code = serve()
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _standard_streams() -> None:
    """sys.stdin, sys.stdout and sys.stderr anew on descriptors 0, 1 and 2, in UTF-8 as a worker started with
    PYTHONIOENCODING=utf-8 has them (the batch's may be a terminal's, or pytest's capture)."""
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)


def _say(fd: int, line: str) -> None:
    try:
        os.write(fd, (line + "\n").encode())
    except OSError:  # the batch has gone: nobody to tell
        pass

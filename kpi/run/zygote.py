"""A fork server for report kernels. A fresh kernel spends most of its CPU before the first cell: starting Python,
importing ipykernel, IPython, pandas, matplotlib, seaborn and the kit. Each worker starts one small process, the
fork server, that imports all of that once and then forks a kernel per report: the kernel starts with its
imports done (shared with the server, copy on write) and runs exactly the code a kernel started by
jupyter_client runs, `ipykernel.kernelapp` with the connection file jupyter_client wrote.

The server is single-threaded (a process with threads cannot be forked safely) and only imports: it creates no
figure, socket or event loop. The worker sends it a request over a Unix socket, with the worker's standard output
and error as file descriptors (the report's log, as a kernel started by Popen would inherit them); it answers
with the kernel's process id. The kernel is a child of the server, itself a child of the worker, so stopping a
worker's process tree stops its kernels too. Where there is no server (a report run outside a worker), or it
cannot fork, the kernel starts as jupyter_client starts it."""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

# What a report's kernel imports before its first cell (the notebooks' own imports and what they pull in).
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "zmq", "tornado.ioloop", "pandas",
           "matplotlib.pyplot", "seaborn", "kpi.report", "kpi.report.charts", "kpi.report.views",
           "kpi.report.period_views", "kpi.report.views_notes", "kpi.report.province_views",
           "pyarrow.parquet", "pyarrow.dataset")  # the last two: reading the batch's cache (kpi.intake.cache)
LAUNCHER = "ipykernel_launcher"
MAX_REQUEST = 1 << 20  # bytes: the request carries the kernel's environment
REPLY_WAIT = 120.0  # seconds the server may take to answer the first request (its imports) and each fork


# --- the worker's side ----------------------------------------------------------------------------------


class Server:
    """The fork server of this worker, seen from the worker: a process of its own (`python -m kpi.run.zygote`),
    or, when this worker runs the kernel spec's own interpreter, this worker forked (`Server.here`)."""

    def __init__(self, python: list[str], proc=None, sock: socket.socket | None = None):
        self.python = python  # the kernel spec's interpreter and its flags, before "-m ipykernel_launcher"
        if proc is None:
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            proc = subprocess.Popen([*python, "-m", "kpi.run.zygote", str(theirs.fileno())],
                                    pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
            theirs.close()
            sock = ours
        self.proc, self.sock = proc, sock
        self.broken = False

    @classmethod
    def here(cls, python: list[str]) -> "Server | None":
        """Fork this process (a worker that has imported papermill and nbconvert, and has no thread yet) into the
        server: it imports only what kernels need beyond the worker's own imports. None when this process has a
        thread (forking it would be unsafe); the caller then starts the server as a process of its own."""
        _preload()
        if not _forkable():
            return None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the server: nothing of the worker's but its standard error (the worker's log)
            code = 1
            try:
                ours.close()
                devnull = os.open(os.devnull, os.O_RDWR)
                os.dup2(devnull, 0)
                os.dup2(2, 1)
                close_fds_but({theirs.fileno()})  # the worker's pipes to the batch among them: its end must be seen
                code = _serve(theirs)
            finally:
                os._exit(code)
        theirs.close()
        return cls(python, _Child(pid), ours)

    def kernel_args(self, cmd: list[str]) -> list[str] | None:
        """The arguments after `python -m ipykernel_launcher` when `cmd` starts a kernel this server can fork."""
        n = len(self.python)
        if cmd[:n] == self.python and cmd[n:n + 2] == ["-m", LAUNCHER]:
            return cmd[n + 2:]
        return None

    def fork(self, args: list[str], env: dict, cwd: str) -> int | None:
        """Start a kernel with `args` (e.g. ["-f", connection_file]); its process id, or None when the server
        cannot (it ended, or did not answer): the caller then starts the kernel itself."""
        if self.broken or self.proc.poll() is not None:
            return None
        request = json.dumps({"args": args, "env": env, "cwd": cwd}).encode()
        try:
            socket.send_fds(self.sock, [request], [sys.stdout.fileno(), sys.stderr.fileno()])
            self.sock.settimeout(REPLY_WAIT)
            reply = json.loads(self.sock.recv(4096) or b"null")
        except (OSError, ValueError):
            reply = None
        if not isinstance(reply, dict) or not isinstance(reply.get("pid"), int):
            self.broken = True  # no second try: every later kernel starts the usual way
            self.proc.kill()
            return None
        return reply["pid"]


SERVER: Server | None = None


def start(kernel: str) -> None:
    """Start this worker's fork server for the kernel spec `kernel` (kpi.run.workers does, once, after its own
    imports). Nothing starts for a spec that does not run ipykernel_launcher, or with
    KPI_FORK_KERNELS=0 in the environment (every kernel then starts the usual way, e.g. to compare)."""
    global SERVER
    if not forking():
        return
    python = kernel_python(kernel)
    if python is not None:
        SERVER = (Server.here(python) if same_interpreter(python) else None) or Server(python)


def forking() -> bool:
    """Whether report kernels are forked from a server (not with KPI_FORK_KERNELS=0 in the environment)."""
    return os.environ.get("KPI_FORK_KERNELS", "1") != "0"


def close_fds_but(keep: set[int]) -> None:
    """In a forked child: close every file descriptor from 3 up but those in `keep` (the parent's files, sockets,
    locks and pipes, whose other ends must see this child's end)."""
    start = 3
    for fd in sorted(fd for fd in keep if fd >= 3):
        os.closerange(start, fd)
        start = fd + 1
    os.closerange(start, os.sysconf("SC_OPEN_MAX"))


@functools.lru_cache
def kernel_python(kernel: str) -> list[str] | None:
    """The kernel spec's interpreter and flags (its argv before `-m ipykernel_launcher`); None for a spec that
    does not start ipykernel that way."""
    from jupyter_client.kernelspec import KernelSpecManager

    try:
        argv = KernelSpecManager().get_kernel_spec(kernel).argv
    except Exception:  # no such spec: kernels start as jupyter_client starts them
        return None
    at = next((i for i in range(len(argv) - 1) if argv[i:i + 2] == ["-m", LAUNCHER]), None)
    return argv[:at] if at is not None else None


def same_interpreter(python: list[str]) -> bool:
    """Whether this process runs `python` (the same executable, the same -X options and no other flag)."""
    own = {f"-X{k}" if v is True else f"-X{k}={v}" for k, v in sys._xoptions.items()}
    return (bool(python) and os.path.realpath(python[0]) == os.path.realpath(sys.executable)
            and set(python[1:]) == own and len(python[1:]) == len(own))


def worker_python(kernel: str) -> list[str]:
    """How the batch starts a worker whose reports run on the kernel spec `kernel`: with that kernel's interpreter
    and flags when that is this Python (the worker can then fork its kernels' server from itself), else this
    Python."""
    python = kernel_python(kernel)
    if python and os.path.realpath(python[0]) == os.path.realpath(sys.executable) and \
            all(flag.startswith("-X") for flag in python[1:]):
        return list(python)
    return [sys.executable]


class _Process:
    """A process known by its id, as much of a Popen as its users need: `poll` says whether it has ended."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        raise NotImplementedError

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode


class _Child(_Process):
    """The server forked from this worker, as much of a Popen as Server uses."""

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                self.returncode = 0
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Forked(_Process):
    """A forked kernel as jupyter_client sees a process. It is the fork server's child, not ours, so it is
    watched by its process id (the server reaps it at once, so a pid that no longer answers has ended)."""

    stdin = stdout = stderr = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.returncode = 0  # its exit status went to the server
        return self.returncode

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, except that the kernel comes from this worker's fork server."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        server, args = SERVER, None
        if server is not None and not any(kwargs.get(k) is not None for k in ("stdin", "stdout", "stderr")):
            args = server.kernel_args(cmd)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = server.fork(args, dict(kwargs.get("env") or os.environ), cwd) if args is not None else None
        if pid is None:
            return await super().launch_kernel(cmd, **kwargs)
        self.process = Forked(pid)
        self.pid = self.pgid = pid  # the kernel leads a session of its own, as jupyter_client's kernels do
        self.cwd = cwd
        return self.connection_info


class ForkKernelManager(AsyncKernelManager):
    """The kernel manager papermill is given (kpi.run.job): its kernels come from ForkProvisioner."""

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = ForkProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


# --- the server's side ----------------------------------------------------------------------------------


def _kernel(request: dict, fds: list[int], sock: socket.socket) -> int:
    """In the forked child: become the kernel jupyter_client would have started, and run it to its end."""
    os.setsid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the kernel waits for its own children
    sock.close()
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(fds[0], 1)
    os.dup2(fds[1], 2)
    for fd in fds:
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["JPY_PARENT_PID"] = str(os.getppid())  # the kernel ends if the server does
    import ipykernel_launcher
    from ipykernel import kernelapp

    sys.argv = [ipykernel_launcher.__file__, *request["args"]]
    try:
        # parent_handle's default was read from the environment when the server imported ipykernel: given here
        kernelapp.IPKernelApp.launch_instance(argv=request["args"], parent_handle=os.getppid())
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    atexit._run_exitfuncs()  # the kernel's own (its connection file, its history), as a normal exit would
    return code


def _preload() -> None:
    """What a kernel has before its first cell, imported once: the modules, and the environment ipykernel sets."""
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel sets it
    for name in PRELOAD:
        importlib.import_module(name)
    from kpi.report.templates import compile_reports

    compile_reports()


def serve(fd: int) -> int:
    """`python -m kpi.run.zygote FD`: the server as a process of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the batch's to handle (it stops the worker's tree)
    _preload()
    if not _forkable():
        print(f"kpi.run.zygote: {threading.active_count()} luồng sau khi nạp thư viện; kernel khởi động bình thường.",
              file=sys.stderr)
        return 1
    return _serve(socket.socket(fileno=fd))


def _forkable() -> bool:
    """Whether this process can be forked safely: no thread but its own (an import may have started one)."""
    return threading.active_count() == 1


def _serve(sock: socket.socket) -> int:
    """The server's loop: a kernel forked per request, until the worker's end of the socket closes."""
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]  # as ipykernel_launcher does: IPython adds the kernel's folder back
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # ended kernels are reaped at once, never left as zombies
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, MAX_REQUEST, 2)
        except OSError:
            return 0
        if not message:  # the worker has ended
            return 0
        request = json.loads(message)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _kernel(request, fds, sock)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for f in fds:
            os.close(f)
        sock.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))

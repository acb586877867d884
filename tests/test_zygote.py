"""Kernels forked from a worker's fork server (kpi.run.zygote): they start with the kit imported, are the server's
children, end with their shutdown, and where the server cannot fork a kernel starts the usual way."""

import asyncio
import os
import time

import pytest

from kpi.run import zygote
from kpi.run.job import kernel_name

pytestmark = pytest.mark.slow

CELL = "import os, sys; print(os.getppid(), os.getpid(), 'kpi.report.charts' in sys.modules, os.getcwd())"


def run_cell(cwd, cell: str = CELL) -> tuple[list[str], int]:
    """Start a kernel with the kit's kernel manager, run `cell` (it prints the kernel's pid second) in it, shut it
    down: the printed words and the pid."""
    async def go():
        km = zygote.ForkKernelManager(kernel_name=kernel_name())
        await km.start_kernel(cwd=str(cwd))
        kc = km.client()
        kc.start_channels()
        try:
            await kc.wait_for_ready(timeout=60)
            printed = []
            await kc.execute_interactive(cell, timeout=60, output_hook=lambda m: printed.append(
                m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
        finally:
            kc.stop_channels()
            await km.shutdown_kernel()
        return "".join(printed).split(), km
    words, km = asyncio.run(go())
    return words, int(words[1])


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def server():
    zygote.start(kernel_name())
    yield zygote.SERVER
    zygote.SERVER.sock.close()  # the server ends when its worker's end of the socket closes
    zygote.SERVER.proc.wait(timeout=30)
    zygote.SERVER = None


def test_a_forked_kernel_has_the_kit_imported_and_is_the_servers_child(server, tmp_path):
    words, pid = run_cell(tmp_path)
    ppid, _, preloaded, cwd = words
    assert int(ppid) == server.proc.pid
    assert preloaded == "True"  # a kernel started by Popen has not imported the charts before its first cell
    assert cwd == str(tmp_path)
    assert gone(pid)  # shut down and reaped by the server: no process left behind
    assert server.proc.poll() is None  # the server waits for the next report


def test_a_forked_kernel_starts_with_the_report_templates_compiled_and_the_cache_reader_imported(server, tmp_path):
    from kpi.report.templates import ENV

    reports = len(ENV.list_templates(filter_func=lambda n: n.startswith("report/")))
    cell = ("import os, sys; t = sys.modules['kpi.report.templates']; "
            "print(os.getppid(), os.getpid(), len(t.ENV.cache), 'pyarrow.parquet' in sys.modules)")
    words, _ = run_cell(tmp_path, cell)
    assert int(words[0]) == server.proc.pid
    assert int(words[2]) == reports >= 20  # every report template, compiled before the fork
    assert words[3] == "True"


def test_the_server_forks_one_kernel_after_another(server, tmp_path):
    first = run_cell(tmp_path)[1]
    second = run_cell(tmp_path)[1]
    assert first != second and gone(first) and gone(second)


def test_a_dead_server_means_a_kernel_started_the_usual_way(server, tmp_path):
    server.proc.kill()
    server.proc.wait()
    words, pid = run_cell(tmp_path)
    assert int(words[0]) == os.getpid()  # Popen's child: this process started it
    assert words[2] == "False"
    assert gone(pid)


def test_without_a_server_kernels_start_the_usual_way(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_FORK_KERNELS", "0")
    zygote.start(kernel_name())
    assert zygote.SERVER is None
    words, _ = run_cell(tmp_path)
    assert int(words[0]) == os.getpid() and words[2] == "False"


def test_a_forked_kernel_writes_where_the_worker_does_and_watches_its_parent(server, tmp_path, capfd):
    """Its standard error is the worker's at the time of the fork (in a batch: the report's log), and it runs as a
    kernel jupyter_client started: told its parent, so no note about the `ipython kernel` entry point."""
    cell = ("import os; os.write(2, b'from-the-kernel\\n'); "
            "from ipykernel.kernelapp import IPKernelApp; print(0, os.getpid(), IPKernelApp.instance().parent_handle)")
    words, _ = run_cell(tmp_path, cell)
    assert int(words[2]) == server.proc.pid
    err = capfd.readouterr().err
    assert "from-the-kernel" in err
    assert "Ctrl-C will not work" not in err


def test_a_workers_kernel_comes_from_a_server_forked_from_that_worker(tmp_path):
    """In a batch worker (which runs the kernel spec's own interpreter) the server is the worker forked after its
    imports: the kernel's parent is the server, the server's parent the worker, and every one of them ends with
    the worker (nothing left behind)."""
    import json

    import nbformat
    import psutil

    from kpi.run import workers
    from kpi.run.job import Job

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import json, os, sys, psutil\n"
        "server = psutil.Process(os.getppid())\n"
        "json.dump({'kernel': os.getpid(), 'server': server.pid, 'worker': server.ppid(), "
        "'charts': 'kpi.report.charts' in sys.modules, 'leader': os.getsid(0) == os.getpid()}, "
        f"open({str(tmp_path / 'tree.json')!r}, 'w'))")]
    nbformat.write(nb, tmp_path / "tree.ipynb")
    from kpi.core import paths

    spec = Job(period="2026-11", unit="tree", data_dir=str(tmp_path), out=str(tmp_path),
               plan_path=str(paths.PLAN_FILE), notebook=str(tmp_path / "tree.ipynb"), title="tree", parameters={})
    pool = workers.Pool(1, tmp_path / "workers.log")
    try:
        worker = pool.idle.queue[0]
        result = pool.run(spec, tmp_path / "tree.log", time_limit=120)
        assert result["error"] == "", (tmp_path / "tree.log").read_text(encoding="utf-8")
        tree = json.loads((tmp_path / "tree.json").read_text(encoding="utf-8"))
        assert tree["worker"] == worker.proc.pid and tree["server"] != worker.proc.pid
        assert tree["charts"] and tree["leader"]
    finally:
        pool.close()
    assert gone(tree["kernel"]) and gone(tree["server"])
    assert not psutil.pid_exists(worker.proc.pid)

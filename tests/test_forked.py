"""Workers forked from the batch (kpi.run.forked): one mother, the batch's child, forks them all; each report's
kernel still comes from its worker's fork server; a worker killed mid-report, or a mother whose imports fail, is
named and the next report runs on a fresh worker; nothing is left behind. Each test runs its pool in a Python
process of its own, as `kpi run` does (pytest's own process may have threads, which rule the fork out)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from kpi.core import paths

pytestmark = pytest.mark.slow


def tree_notebook(folder: Path, kill_worker: bool = False) -> Path:
    """A notebook that writes its kernel's process tree (kernel, fork server, worker, mother, batch) as JSON to
    `<out>/<unit>.json`, then, with kill_worker, kills its worker (SIGKILL) and waits to be stopped."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("out = ''\nunit = ''")
    params.metadata["tags"] = ["parameters"]
    code = ("import json, os, signal, sys, time, psutil\n"
            "chain = [psutil.Process()]\n"
            "while len(chain) < 5 and chain[-1].ppid() > 1:\n"
            "    chain.append(psutil.Process(chain[-1].ppid()))\n"
            "json.dump({'pids': [p.pid for p in chain]}, "
            "open(os.path.join(out, unit + '.json'), 'w'))\n")
    if kill_worker:
        code += "os.kill(chain[2].pid, signal.SIGKILL)\ntime.sleep(60)\n"
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ("killer.ipynb" if kill_worker else "tree.ipynb")
    nbformat.write(nb, target)
    return target


def in_a_batch_process(script: str, tmp_path: Path) -> dict:
    """Run `script` (it prints one JSON line last) in a fresh Python process, as the batch runs: its result."""
    head = textwrap.dedent(f"""
        import json, os, sys
        from pathlib import Path
        import pandas  # the batch has it imported before its workers start
        from kpi.core import paths
        from kpi.run import forked, workers
        from kpi.run.job import Job
        tmp = Path({str(tmp_path)!r})

        def job(unit, notebook):
            return Job(period="2026-11", unit=unit, data_dir=str(tmp), out=str(tmp), plan_path=str(paths.PLAN_FILE),
                       notebook=str(notebook), title=unit, parameters={{"out": str(tmp), "unit": unit}})
        """)
    proc = subprocess.run([sys.executable, "-c", head + textwrap.dedent(script)], capture_output=True, text=True,
                          cwd=paths.ROOT, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_workers_come_from_one_mother_the_batch_reaps_and_their_kernels_from_their_own_servers(tmp_path):
    notebook = tree_notebook(tmp_path / "nb")
    res = in_a_batch_process(f"""
        import psutil
        pool = workers.Pool(2, tmp / "workers.log")
        first, second = list(pool.idle.queue)
        kinds = [type(w.proc).__name__ for w in (first, second)]
        a = pool.run(job("a", {str(notebook)!r}), tmp / "a.log", time_limit=120)
        b = pool.run(job("b", {str(notebook)!r}), tmp / "b.log", time_limit=120)
        pids = [first.proc.pid, second.proc.pid]
        pool.close()
        print(json.dumps({{"kinds": kinds, "errors": [a["error"], b["error"]], "workers": pids, "me": os.getpid(),
                          "mother": pool.mothers[0].pid, "mother_reaped": pool.mothers[0].poll(),
                          "left": [p.pid for p in psutil.Process().children(recursive=True)]}}))
        """, tmp_path)
    assert res["kinds"] == ["Forked", "Forked"] and res["errors"] == ["", ""]
    for unit in ("a", "b"):
        kernel, server, worker, mother, batch = json.loads((tmp_path / f"{unit}.json").read_text())["pids"]
        # the kernel is its worker's fork server's child; the worker the mother's; the mother the batch's
        assert worker in res["workers"] and server != worker and mother == res["mother"] and batch == res["me"]
    assert res["mother_reaped"] == 0 and res["left"] == []  # the mother ended with its workers; nothing is left


def test_a_forked_worker_killed_mid_report_is_named_and_the_next_report_runs_on_a_fresh_worker(tmp_path):
    killer, tree = tree_notebook(tmp_path / "nb", kill_worker=True), tree_notebook(tmp_path / "nb")
    res = in_a_batch_process(f"""
        pool = workers.Pool(1, tmp / "workers.log")
        first = pool.idle.queue[0]
        killed = pool.run(job("k", {str(killer)!r}), tmp / "k.log", time_limit=120)
        second = pool.idle.queue[0]
        after = pool.run(job("t", {str(tree)!r}), tmp / "t.log", time_limit=120)
        pool.close()
        print(json.dumps({{"killed": killed["error"], "after": after["error"], "first": type(first.proc).__name__,
                          "second": type(second.proc).__name__, "first_code": first.proc.returncode}}))
        """, tmp_path)
    assert res["first"] == "Forked" and res["first_code"] == -9  # SIGKILL, as the mother saw it end
    assert res["killed"] == "Tiến trình chạy báo cáo dừng bất thường (mã -9); xem nhật ký k.log."
    # this batch now has threads (each worker's listeners): the fresh worker is started with Popen
    assert res["second"] == "Popen" and res["after"] == ""


def test_a_mother_whose_imports_fail_leaves_a_located_error_and_the_next_report_runs(tmp_path):
    tree = tree_notebook(tmp_path / "nb")
    res = in_a_batch_process(f"""
        def broken():
            raise ImportError("thiếu thư viện nbconvert (giả lập)")
        workers.imports = broken
        pool = workers.Pool(1, tmp / "logs" / "workers.log")
        first = pool.idle.queue[0]
        failed = pool.run(job("f", {str(tree)!r}), tmp / "f.log", time_limit=120)
        after = pool.run(job("t", {str(tree)!r}), tmp / "t.log", time_limit=120)
        pool.close()
        print(json.dumps({{"failed": failed["error"], "after": after["error"], "pid": first.proc.pid,
                          "code": first.proc.returncode}}))
        """, tmp_path)
    assert res["pid"] is None and res["code"] == 1  # never forked: the mother ended first
    assert res["failed"] == "Tiến trình chạy báo cáo dừng bất thường (mã 1); xem nhật ký f.log."
    assert "thiếu thư viện nbconvert (giả lập)" in (tmp_path / "logs" / "workers.log").read_text(encoding="utf-8")
    assert res["after"] == "" and (tmp_path / "t.json").exists()


def test_no_fork_while_another_thread_runs_or_when_told_not_to(tmp_path):
    tree = tree_notebook(tmp_path / "nb")
    res = in_a_batch_process(f"""
        import threading
        from kpi.run.job import kernel_name
        alone = forked.can_fork(kernel_name())
        stop = threading.Event()
        thread = threading.Thread(target=stop.wait)
        thread.start()
        with_thread = forked.can_fork(kernel_name())
        pool = workers.Pool(1, tmp / "workers.log")
        kind = type(pool.idle.queue[0].proc).__name__
        pool.close()
        stop.set()
        thread.join()
        import time
        while threading.active_count() > 1:  # the last pool's listeners end with its worker
            time.sleep(0.05)
        could = forked.can_fork(kernel_name())
        def no_process_to_spare():
            raise BlockingIOError(11, "Resource temporarily unavailable")
        os.fork = no_process_to_spare
        fds = len(os.listdir("/proc/self/fd"))
        gave = forked.fork_workers(2, lambda: None, lambda: 0)
        fds_left = len(os.listdir("/proc/self/fd")) - fds
        pool = workers.Pool(1, tmp / "workers.log")
        when_fork_fails = type(pool.idle.queue[0].proc).__name__
        ran = pool.run(job("t", {str(tree)!r}), tmp / "t.log", time_limit=120)["error"]
        pool.close()
        os.environ["KPI_FORK_WORKERS"] = "0"
        print(json.dumps({{"alone": alone, "with_thread": with_thread, "kind": kind, "fork_fails": when_fork_fails,
                          "ran": ran, "could": could, "gave": gave, "fds_left": fds_left,
                          "told_not_to": forked.can_fork(kernel_name())}}))
        """, tmp_path)
    # a fork that cannot be made (no process to spare) leaves no pipe open and the workers start with Popen
    assert res == {"alone": True, "with_thread": False, "kind": "Popen", "could": True, "gave": None,
                   "fds_left": 0, "fork_fails": "Popen", "ran": "", "told_not_to": False}

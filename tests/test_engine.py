"""papermill's engine `kpi` (kpi/run/engine.py): a notebook's cells run in the worker, recorded as a kernel records
them, with nothing left from one report to the next; and `kpi run` leaves no process behind."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest

from kpi.core import paths
from kpi.run import job

CELLS = [
    "print('a'); print('b')\nimport sys; print('e', file=sys.stderr)\n"
    "from IPython.display import HTML, display\ndisplay(HTML('<b>x</b>'))\nx + 1",
    "import warnings; warnings.warn('careful')\n3;",
    "def f():\n    raise ValueError('bad ' + str(x))\nf()",
    "print('never reached')",
]


def _notebook(folder: Path, cells: list[str]) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# test"),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                *[nbformat.v4.new_code_cell(c) for c in cells]]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "t.ipynb")
    return folder / "t.ipynb"


def _run(notebook: Path, engine: str, **parameters):
    """The executed notebook and papermill's error (None when every cell ran)."""
    import papermill as pm

    target = notebook.with_name(f"out-{engine}.ipynb")
    try:
        pm.execute_notebook(str(notebook), str(target), parameters=parameters, engine_name=engine,
                            kernel_name="python3", progress_bar=False)
        error = None
    except pm.PapermillExecutionError as exc:
        error = exc
    return nbformat.read(target, as_version=4), error


def _run_apart(notebook: Path, engine: str, **parameters):
    """_run in a Python process of its own, as in a worker (pytest catches warnings in its own process): the
    executed notebook and papermill's error as (ename, evalue, exec_count), or None."""
    import subprocess
    import sys

    code = ("import json, sys; from pathlib import Path; from tests.test_engine import _run; nb, e = _run("
            "Path(sys.argv[1]), sys.argv[2], **json.loads("
            "sys.argv[3])); print(json.dumps(e and [e.ename, e.evalue, e.exec_count]))")
    done = subprocess.run([sys.executable, "-c", code, str(notebook), engine, json.dumps(parameters)],
                          capture_output=True, text=True, cwd=paths.ROOT, check=True)
    target = notebook.with_name(f"out-{engine}.ipynb")
    return nbformat.read(target, as_version=4), json.loads(done.stdout.strip().splitlines()[-1])


def test_the_engine_is_registered_by_its_entry_point():
    from papermill.engines import papermill_engines

    engine = papermill_engines.get_engine("kpi")
    assert engine.__module__ == "kpi.run.engine" and engine.__name__ == "InWorkerEngine"


@pytest.mark.slow
def test_outputs_are_recorded_as_a_kernel_records_them(tmp_path: Path):
    notebook = _notebook(tmp_path, CELLS)
    kernel, kernel_error = _run_apart(notebook, "nbclient", x=5)
    worker, worker_error = _run_apart(notebook, "kpi", x=5)

    def outputs(nb) -> list[str]:  # a kernel names a cell's file after its process id: the one thing that differs
        return [re.sub(r"ipykernel_\d+", "ipykernel_PID", json.dumps(c.get("outputs"))) for c in nb.cells]

    assert outputs(worker) == outputs(kernel)
    assert [c.get("execution_count") for c in worker.cells] == [c.get("execution_count") for c in kernel.cells]
    # written out by hand: streams merged per name, display data, the last value with its count, the warning on
    # stderr, the error with its traceback, and the cell after the error not run
    cells = [c for c in worker.cells if c.cell_type == "code"]  # papermill adds markdown around a failed cell
    assert [o["output_type"] for o in cells[2].outputs] == ["stream", "stream", "display_data", "execute_result"]
    assert cells[2].outputs[0]["text"] == "a\nb\n" and cells[2].outputs[1]["text"] == "e\n"
    assert cells[2].outputs[2]["data"]["text/html"] == "<b>x</b>"
    assert cells[2].outputs[3]["data"]["text/plain"] == "6" and cells[2].outputs[3]["execution_count"] == 3
    assert "UserWarning: careful" in cells[3].outputs[0]["text"] and len(cells[3].outputs) == 1  # "3;" is quiet
    error = cells[4].outputs[0]
    assert (error["ename"], error["evalue"]) == ("ValueError", "bad 5")
    assert "raise ValueError" in re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["traceback"]))
    assert cells[5].outputs == [] and cells[5].execution_count is None
    assert worker_error == kernel_error == ["ValueError", "bad 5", 5]
    assert worker.metadata["language_info"]["name"] == "python"


def test_a_report_leaves_nothing_behind_for_the_next(tmp_path: Path, monkeypatch):
    import matplotlib
    import matplotlib.pyplot as plt

    monkeypatch.delenv("KPI_TEST_LEFT", raising=False)
    cwd, size, main = os.getcwd(), matplotlib.rcParams["font.size"], sys.modules["__main__"]
    spoiler = _notebook(tmp_path / "a", [
        "import os, matplotlib, matplotlib.pyplot as plt\nos.chdir('/')\nos.environ['KPI_TEST_LEFT'] = 'yes'\n"
        "matplotlib.rcParams['font.size'] = 31\nfig = plt.figure()\nleft = 'here'"])
    _run(spoiler, "kpi")
    assert os.getcwd() == cwd and "KPI_TEST_LEFT" not in os.environ
    assert matplotlib.rcParams["font.size"] == size and plt.get_fignums() == [] and sys.modules["__main__"] is main
    looker = _notebook(tmp_path / "b", ["print('left' in dir(), 'fig' in dir())"])
    nb, error = _run(looker, "kpi")
    assert error is None and nb.cells[-1].outputs[0]["text"] == "False False\n"  # a fresh namespace


def _text(path: Path) -> list[str]:
    """The text and SVG a reader sees in a report (benchmarks/same_outputs.py compares runs the same way)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("same_outputs", paths.ROOT / "benchmarks" / "same_outputs.py")
    same = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(same)
    return same.html_text(path)


@pytest.mark.slow
def test_two_reports_in_one_worker_in_either_order_equal_reports_from_fresh_workers(tmp_path: Path):
    import psutil

    from kpi.run.workers import Pool

    made = {}
    for order in (("kt", "ca"), ("ca", "kt")):
        out = tmp_path / "-".join(order) / "2026-11"
        out.mkdir(parents=True)
        with Pool(1, out / "logs" / "workers.log") as pool:
            results = [pool.run(job.Job(period="2026-11", unit=u, data_dir=str(paths.DATA_DIR), out=str(out),
                                        formats=["html"], made_on="2026-12-11", plan_path=str(paths.PLAN_FILE)),
                                time_limit=300) for u in order]
            server = [p for p in psutil.Process().children() if "multiprocessing.forkserver" in " ".join(p.cmdline())]
            assert len(server) == 1 and server[0].num_threads() == 1  # its workers are forked from one thread
        assert [r["error"] for r in results] == ["", ""]
        assert results[0]["worker"] == results[1]["worker"]  # one worker ran both
        first, second = order
        made[(first, "fresh")] = _text(out / f"{first}.html")  # the first report of a new worker
        made[(second, "after " + first)] = _text(out / f"{second}.html")
    assert made[("kt", "fresh")] == made[("kt", "after ca")]
    assert made[("ca", "fresh")] == made[("ca", "after kt")]
    assert made[("kt", "fresh")] != made[("ca", "fresh")]


@pytest.mark.slow
def test_kpi_run_leaves_no_process_behind(tmp_path: Path):
    """Workers, their fork server, multiprocessing's resource tracker and the browser: all ended and waited for
    when `kpi run` returns (a process left unreaped would show here as a zombie child)."""
    import psutil

    from kpi import cli

    me = psutil.Process()
    before = {p.pid for p in me.children(recursive=True)}
    code = cli.main(["run", "--data", str(paths.DATA_DIR), "--out", str(tmp_path / "out"), "--period", "2026-11", "--unit",
                     "ca", "--format", "html,pdf", "--workers", "2"])
    assert code == 0
    assert (tmp_path / "out" / "2026-11" / "ca.pdf").is_file()
    left = [(p.pid, p.name(), p.status()) for p in me.children(recursive=True) if p.pid not in before]
    assert left == []

"""The parallel, resumable batch: periods, what feeds which report, lock, failures, skips, and a killed run."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kpi.core import errors, fingerprint, paths, periods
from kpi.intake.validate import load_submissions
from kpi.plan import load_plan
from kpi.report import ParameterError
from kpi.run import batch, inputs, job, summary, workers
from tests.conftest import failing_notebook, wait_for_report

PLAN = load_plan()


def kpi_run(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", "run", *args], capture_output=True, text=True,
                          cwd=paths.ROOT, env={**os.environ, **(env or {})}, **kw)


@pytest.fixture()
def data(demo_data: Path) -> Path:
    return demo_data  # `kpi demo-data` at tmp_path/data (a copy of the session's, tests/conftest.py)


def test_expand_periods():
    assert periods.expand_periods("2026-11") == ["2026-11"]
    assert periods.expand_periods("2026-01..2026-03") == ["2026-01", "2026-02", "2026-03"]
    assert periods.expand_periods("2025-11..2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert periods.expand_periods("last-month", today=dt.date(2026, 12, 11)) == ["2026-11"]
    assert periods.expand_periods("last-month", today=dt.date(2027, 1, 11)) == ["2026-12"]
    with pytest.raises(ParameterError, match="tháng đầu"):
        periods.expand_periods("2026-05..2026-02")


def test_feeding_units_rule():
    # VHXH divides by Công an's populations; the others read only their own elements.
    assert inputs.feeding_units(PLAN, "vhxh") == ["vhxh", "ca"]
    assert inputs.feeding_units(PLAN, "kt") == ["kt"]
    assert inputs.feeding_units(PLAN, "ttpvhcc") == ["ttpvhcc"]
    assert inputs.feeding_units(PLAN, "ca") == ["ca"]
    assert inputs.feeding_units(PLAN, "commune") == PLAN.unit_codes


def test_report_inputs_follow_the_rule(data: Path):
    subs, hashes = load_submissions(data, PLAN), fingerprint.take(data).files
    vhxh = inputs.report_inputs(PLAN, subs, "2026-03", "vhxh", hashes)
    # VHXH and Công an send the Excel template in these months (kpi/demo/__init__.py)
    assert set(vhxh) == {f"2026-0{m}/{u}.xlsx" for m in (1, 2, 3) for u in ("vhxh", "ca")}
    kt = inputs.report_inputs(PLAN, subs, "2026-11", "kt", hashes)
    assert set(kt) == {f"2026-{m:02d}/kt.csv" for m in range(1, 12) if m != 7}  # KT never sent July
    commune = inputs.report_inputs(PLAN, subs, "2026-02", "commune", hashes)
    assert len(commune) == 8


def test_the_commune_report_of_january_depends_on_last_years_files(tmp_path: Path):
    """January 2027's commune report shows 2026's final values: a December 2026 file sent (or corrected) in January
    must make it again. A unit's report shows no last year: its January depends on January only."""
    data = tmp_path / "data"
    shutil.copytree(paths.ROOT / "data" / "sample", data)
    (data / "submissions" / "2027-01").mkdir()
    (data / "submissions" / "2027-01" / "kt.csv").write_text(
        "period,unit,village,element,value,submitted_on\n2027-01,kt,,enterprises_total,40,2027-02-08\n", encoding="utf-8")
    plan = load_plan(paths.ROOT / "params" / "plan_2027.yml")
    subs, hashes = load_submissions(data, plan), fingerprint.take(data).files
    commune = inputs.report_inputs(plan, subs, "2027-01", "commune", hashes)
    sent_2026 = {f.relative_to(data / "submissions").as_posix() for f in (data / "submissions").glob("2026-*/*.*")}
    assert len(sent_2026) == 44 and set(commune) == sent_2026 | {"2027-01/kt.csv"}
    assert set(inputs.report_inputs(plan, subs, "2027-01", "kt", hashes)) == {"2027-01/kt.csv"}


def test_second_run_on_a_locked_folder_stops_or_waits(tmp_path: Path):
    with batch.OutputLock(tmp_path):
        with pytest.raises(errors.OutputLocked, match="--wait"):
            with batch.OutputLock(tmp_path):
                pass
        result = kpi_run("--out", str(tmp_path), "--format", "html", "--period", "2026-11")
        assert result.returncode == 3
        assert "đang được một lần chạy khác sử dụng" in result.stderr
    first = batch.OutputLock(tmp_path).__enter__()
    released = threading.Timer(0.5, first.__exit__, (None, None, None))
    released.start()
    t0 = time.monotonic()
    messages = []
    with batch.OutputLock(tmp_path, wait=True, poll=0.1, on_wait=messages.append):
        assert time.monotonic() - t0 >= 0.4
    assert messages and "đang chờ" in messages[0]


def _html_complete(path: Path) -> bool:
    text = path.read_text(encoding="utf-8")
    return text.rstrip().endswith("</html>")


@pytest.mark.slow
def test_failure_then_skip_then_remake_exactly_what_changed(data: Path, tmp_path: Path):
    out = tmp_path / "out"
    notebook, fail = failing_notebook(tmp_path / "nb", "kt")
    args = ("--data", str(data), "--out", str(out), "--period", "2026-11", "--format", "html", "--workers", "2",
            "--notebook", str(notebook))
    # 1. One report raises (the test's notebook fails for the units named in `fail`): the other four render,
    # exit code 1.
    first = kpi_run(*args)
    assert first.returncode == 1, first.stdout + first.stderr
    # the terminal says it in words with the log's place; the Python error itself is only in the log
    assert "lỗi khi chạy sổ tay báo cáo" in first.stdout and "kt" in first.stderr
    assert "InjectedFailure" not in first.stdout + first.stderr
    p = out / "2026-11"
    assert "InjectedFailure" in (p / "logs" / "kt.log").read_text(encoding="utf-8")
    for unit in ("commune", "vhxh", "ttpvhcc", "ca"):
        assert _html_complete(p / f"{unit}.html")
        assert (p / "logs" / f"{unit}.log").is_file()
    assert not (p / "kt.html").exists() and (p / "kt.error.txt").is_file()
    manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["reports"]) == {"commune", "vhxh", "ttpvhcc", "ca"}

    def made() -> set[str]:
        m = json.loads((p / "manifest.json").read_text(encoding="utf-8"))["reports"]
        return {u for u, e in m.items() if e["made_at"] != stamps.get(u)}

    def past(stamps: dict[str, str]) -> None:
        """Wait until the clock is past the second of every stamp (made_at has whole seconds): a report the next
        run makes cannot have an old stamp."""
        while dt.datetime.now().isoformat(timespec="seconds") <= max(stamps.values()):
            time.sleep(0.05)

    # 2. Re-run: only the failed report is made; the others are skipped as unchanged.
    fail.write_text("", encoding="utf-8")
    stamps = {u: e["made_at"] for u, e in manifest["reports"].items()}
    past(stamps)
    second = kpi_run(*args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert made() == {"kt"} and _html_complete(p / "kt.html")
    assert second.stdout.count("bỏ qua (không đổi)") == 4

    # 3. Change one unit's file (TT Phục vụ hành chính công, October): the commune report and that unit's
    # report are remade, nothing else.
    stamps = {u: e["made_at"] for u, e in json.loads((p / "manifest.json").read_text("utf-8"))["reports"].items()}
    f = data / "submissions" / "2026-10" / "ttpvhcc.csv"
    lines = f.read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("value")] = str(int(float(row[header.index("value")])) + 1)
    f.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    past(stamps)
    third = kpi_run(*args)
    assert third.returncode == 0, third.stdout + third.stderr
    assert made() == {"commune", "ttpvhcc"}


@pytest.mark.slow
def test_sigkill_then_rerun_leaves_complete_outputs(data: Path, tmp_path: Path):
    out = tmp_path / "out"
    args = ["--data", str(data), "--out", str(out), "--period", "2026-11", "--format", "html", "--unit", "ca,ttpvhcc",
            "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "kpi", "run", *args], cwd=paths.ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = out / "2026-11"
    assert wait_for_report(p), "the batch never started a notebook"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # Whatever is there under a final name is whole; the rest are hidden temporary names.
    for f in p.glob("*.html"):
        assert _html_complete(f)
    rerun = kpi_run(*args)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert not [f for f in p.iterdir() if ".part" in f.name]
    for unit in ("ca", "ttpvhcc"):
        assert _html_complete(p / f"{unit}.html")
        json.loads((p / f"{unit}.ipynb").read_text(encoding="utf-8"))
    manifest = json.loads((p / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["reports"]) == {"ca", "ttpvhcc"}


def test_a_report_past_its_time_limit_is_stopped_and_named(data: Path, tmp_path: Path):
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)
    spec = job.Job(period="2026-11", unit="kt", data_dir=str(data), out=str(out), formats=["html"],
                   made_on="2026-12-11", plan_path=str(paths.PLAN_FILE))
    t0 = time.monotonic()
    res = workers.run_in_subprocess(spec, time_limit=0.5)
    assert time.monotonic() - t0 < 30
    assert res["error"].startswith("Quá thời gian") and not res["files"]
    assert "Quá thời gian" in (out / "logs" / "kt.log").read_text(encoding="utf-8")
    assert not [f for f in out.iterdir() if ".part" in f.name]


def test_worker_pool_stops_a_report_past_its_limit_and_goes_on_with_a_fresh_worker(data: Path, tmp_path: Path):
    import psutil

    from kpi.run.workers import Pool

    notebook, _ = failing_notebook(tmp_path / "nb", "ttpvhcc")  # that report raises after its parameters
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)

    def spec(unit: str) -> job.Job:
        return job.Job(period="2026-11", unit=unit, data_dir=str(data), out=str(out), formats=["html"],
                       made_on="2026-12-11", plan_path=str(paths.PLAN_FILE), notebook=str(notebook))

    with Pool(1, out / "logs" / "workers.log") as pool:
        first = pool.run(spec("ttpvhcc"), time_limit=120)["worker"]
        assert pool.run(spec("kt"), time_limit=0.5) is None  # stopped, not waited for
        assert not psutil.pid_exists(first)  # that worker was stopped and waited for
        res = pool.run(spec("ttpvhcc"), time_limit=120)
        assert res["worker"] != first and psutil.pid_exists(res["worker"])  # a fresh worker took the next report
        assert res["error"].startswith("InjectedFailure") and res["files"] == {}
        log = (out / "logs" / "ttpvhcc.log").read_text(encoding="utf-8")
        # the worker's output went to that report's own log: its header, then the traceback
        assert log.startswith("kpi ") and "báo cáo 2026-11/ttpvhcc" in log and "Traceback" in log
        assert "ttpvhcc" not in (out / "logs" / "kt.log").read_text(encoding="utf-8").split("\n", 1)[1]
    assert not psutil.pid_exists(res["worker"])


def test_report_seconds_leave_out_the_wait_for_a_free_worker(data: Path, tmp_path: Path, monkeypatch):
    """Three reports (failing after their parameters) sent together to one worker: the one that ran last waited for the other
    two, and its seconds leave that wait out (the manifest's times order the next run; the summary shows them)."""
    from concurrent.futures import ThreadPoolExecutor

    from kpi.run.workers import Pool

    notebook, _ = failing_notebook(tmp_path / "nb", "kt,ttpvhcc,ca")
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)

    def run(pool, unit: str) -> tuple[dict, float, float]:
        spec = job.Job(period="2026-11", unit=unit, data_dir=str(data), out=str(out), formats=["html"],
                       made_on="2026-12-11", plan_path=str(paths.PLAN_FILE), notebook=str(notebook))
        t0 = time.monotonic()
        res = pool.run(spec, time_limit=120)
        return res, t0, time.monotonic()

    with Pool(1, out / "logs" / "workers.log") as pool, ThreadPoolExecutor(3) as threads:
        done = list(threads.map(lambda u: run(pool, u), ["kt", "ttpvhcc", "ca"]))
    assert all(res["error"].startswith("InjectedFailure") for res, _, _ in done)
    done.sort(key=lambda d: d[2])  # in the order they finished
    (first, _, end1), (second, _, end2), (last, start3, end3) = done
    assert end3 - start3 >= end2 - start3 > last["seconds"] > 0  # it was sent first thing, and waited
    assert last["seconds"] <= end3 - end2 + 0.05


def test_the_terminal_never_shows_a_python_error():
    ok = summary.ReportResult("kt", error="Ổ đĩa đầy: không ghi được /tmp/x/kt.html")
    bug = summary.ReportResult("ca", error="TypeError: Cannot cast DatetimeArray to dtype float64", log=Path("logs/ca.log"))
    table = summary.summary_table([summary.BatchResult("2026-12", Path("/tmp/x"), [ok, bug])])
    assert "Ổ đĩa đầy: không ghi được /tmp/x/kt.html" in table
    assert "TypeError" not in table and "lỗi khi chạy sổ tay báo cáo" in table and "logs/ca.log" in table

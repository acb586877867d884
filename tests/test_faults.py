"""The batch under faults: a full disk, no permission, Ctrl-C, a hung browser, a tampered manifest or cache.
Each fault is injected (an OSError from the writer, a fake browser that sleeps, SIGINT to a real batch)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from kpi.core import files, paths
from kpi.plan import load_plan
from kpi.run import batch, executor, inputs, job, manifest, summary, workers
from tests.conftest import failing_notebook, sleeping_notebook, wait_for_report

PLAN = load_plan()


@pytest.fixture()
def data(demo_data: Path) -> Path:
    return demo_data  # `kpi demo-data` at tmp_path/data (a copy of the session's, tests/conftest.py)


def _spec(unit: str, data: Path, out: Path, notebook: Path | None = None) -> job.Job:
    return job.Job(period="2026-11", unit=unit, data_dir=str(data), out=str(out), formats=["html"],
                   made_on="2026-12-11", plan_path=str(paths.PLAN_FILE), notebook=str(notebook) if notebook else None)


def test_a_log_on_a_full_disk_fails_its_report_and_the_pool_goes_on(data: Path, tmp_path: Path):
    from kpi.run.workers import Pool

    notebook, _ = failing_notebook(tmp_path / "nb", "ca")  # the second report fails early: a quick run
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)
    (out / "logs").mkdir()
    (out / "logs" / "kt.log").symlink_to("/dev/full")  # every write fails with ENOSPC, in whichever process writes
    got: dict = {}
    with Pool(1, out / "logs" / "workers.log") as pool:
        def both():
            got["kt"] = pool.run(_spec("kt", data, out), time_limit=60)
            got["ca"] = pool.run(_spec("ca", data, out, notebook), time_limit=60)

        t = threading.Thread(target=both, daemon=True)
        t.start()
        t.join(60)
        assert not t.is_alive(), "the second report waited for a worker that was never returned"
    assert got["kt"]["error"].startswith("Ổ đĩa đầy: không ghi được ")
    assert str(out / "logs" / "kt.log") in got["kt"]["error"] and "giải phóng chỗ trống" in got["kt"]["error"]
    assert got["kt"]["files"] == {}
    assert got["ca"]["error"].startswith("InjectedFailure")  # ran on the same worker, after the fault


def test_write_error_text_names_path_and_fix():
    no_space = files.write_error_text(OSError(errno.ENOSPC, "No space left on device", "/srv/out/x.html"))
    assert no_space == ("Ổ đĩa đầy: không ghi được /srv/out/x.html. Hãy giải phóng chỗ trống trên ổ đĩa (hoặc "
                        "chọn --out ở ổ khác) rồi chạy lại.")
    denied = files.write_error_text(OSError(errno.EACCES, "Permission denied", "/srv/out"))
    assert denied.startswith("Không có quyền ghi /srv/out. Hãy cấp quyền ghi")


def test_a_failed_notebook_never_replaces_the_good_one(tmp_path: Path, monkeypatch):
    import papermill

    out = tmp_path / "2026-11"
    out.mkdir()
    good = out / "kt.ipynb"
    good.write_text('{"good": true}', encoding="utf-8")
    asked = []

    def dies(_nb, output_path, **kw):
        asked.append(output_path)  # papermill writes nothing while the notebook runs
        raise RuntimeError("the worker's notebook failed half-way")

    monkeypatch.setattr(papermill, "execute_notebook", dies)
    with pytest.raises(RuntimeError, match="failed half-way"):
        job.execute(job.Job(period="2026-11", unit="kt", data_dir=str(tmp_path), out=str(out),
                            plan_path=str(paths.PLAN_FILE), made_on="2026-12-11"))
    assert asked == [None]
    assert good.read_text(encoding="utf-8") == '{"good": true}'
    assert sorted(p.name for p in out.iterdir()) == ["kt.ipynb"]  # nothing else, not even a temporary file


def test_a_manifest_on_a_full_disk_is_a_note_not_a_traceback(data: Path, tmp_path: Path, monkeypatch):
    from kpi.intake.validate import load_submissions

    notebook, _ = failing_notebook(tmp_path / "nb", "kt")  # the report fails early: the run is short

    def no_space(out, _manifest):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(Path(out) / manifest.MANIFEST))

    monkeypatch.setattr(executor, "save_manifest", no_space)
    res = batch.run_batch(batch.DataSet(PLAN, load_submissions(data, PLAN), data), "2026-11", ["kt"], tmp_path / "out",
                          batch.RunOptions(formats=("html",), made_on="2026-12-11", workers=1, progress=False,
                                           notebook=notebook))
    target = tmp_path / "out" / "2026-11" / "manifest.json"
    assert res.notes == [f"Ổ đĩa đầy: không ghi được {target}. Hãy giải phóng chỗ trống trên ổ đĩa (hoặc chọn "
                         f"--out ở ổ khác) rồi chạy lại."]
    assert [r.unit for r in res.failed] == ["kt"] and res.index is not None


@pytest.fixture()
def read_only(monkeypatch):
    """Folders (added to the returned set) where creating a file or a folder fails with EACCES, as for a
    user without write permission (the tests may run as root, for whom chmod does not forbid anything)."""
    folders: set[Path] = set()
    real_open, real_mkdir = os.open, os.mkdir

    def denied(path) -> bool:
        p = Path(os.fsdecode(path)).absolute()
        return any(p.parent == f or f in p.parents for f in folders)

    def fake_open(path, flags, *a, **kw):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and denied(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_open(path, flags, *a, **kw)

    def fake_mkdir(path, *a, **kw):
        if denied(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fsdecode(path))
        return real_mkdir(path, *a, **kw)

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    return folders


def _no_validation(monkeypatch):
    import kpi.intake.validate

    def refuse(*a, **kw):
        raise AssertionError("the data was validated before the output folder was checked")

    monkeypatch.setattr(kpi.intake.validate, "load_submissions", refuse)


@pytest.mark.parametrize("case", ["parent", "folder", "period"])
def test_kpi_run_into_a_folder_it_cannot_write_stops_before_any_work(data: Path, tmp_path: Path, read_only,
                                                                     monkeypatch, capsys, case):
    from kpi import cli

    root = tmp_path / "srv"
    root.mkdir()
    out = root / "outputs"
    if case == "parent":  # the folder does not exist and its parent is read-only
        read_only.add(root)
        named = out
    elif case == "folder":
        out.mkdir()
        read_only.add(out.absolute())
        named = out
    else:
        (out / "2026-11").mkdir(parents=True)
        read_only.add((out / "2026-11").absolute())
        named = out / "2026-11"
    _no_validation(monkeypatch)
    code = cli.main(["run", "--data", str(data), "--out", str(out), "--period", "2026-11", "--format", "html"])
    err = capsys.readouterr().err
    assert code == 2
    assert err == (f"kpi: Không có quyền ghi {named}. Hãy cấp quyền ghi cho thư mục đó (hoặc chọn --out là thư mục "
                   f"mình được ghi) rồi chạy lại.\n")


def test_template_and_demo_data_into_a_read_only_folder(tmp_path: Path, read_only, capsys):
    from kpi import cli

    ro = tmp_path / "ro"
    ro.mkdir()
    read_only.add(ro.absolute())
    assert cli.main(["template", "--unit", "kt", "--period", "2026-11", "--out", str(ro / "kt.xlsx")]) == 2
    assert f"Không có quyền ghi {ro}." in capsys.readouterr().err
    assert cli.main(["demo-data", "--out", str(ro / "demo")]) == 2
    assert f"Không có quyền ghi {ro / 'demo'}." in capsys.readouterr().err
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write a read-only folder")
def test_kpi_run_into_a_chmod_read_only_folder(data: Path, tmp_path: Path, capsys):
    from kpi import cli

    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert cli.main(["run", "--data", str(data), "--out", str(out), "--period", "2026-11"]) == 2
        assert f"Không có quyền ghi {out}." in capsys.readouterr().err
    finally:
        out.chmod(0o700)


@pytest.mark.slow
def test_ctrl_c_stops_a_real_batch_at_once_and_keeps_the_good_outputs(tmp_path: Path):
    import signal
    import subprocess
    import sys
    import time

    psutil = pytest.importorskip("psutil")
    out = tmp_path / "out"
    p = out / "2026-11"
    p.mkdir(parents=True)
    good = {"kt.ipynb": '{"good": "kt"}', "kt.html": "<html>good kt</html>", "ca.html": "<html>good ca</html>"}
    for name, text in good.items():
        (p / name).write_text(text, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kpi", "run", "--data", str(paths.ROOT / "data" / "sample"), "--out", str(out),
         "--period", "2026-11", "--unit", "kt,ca", "--format", "html", "--workers", "1", "--force",
         "--notebook", str(sleeping_notebook(tmp_path / "nb", 60))],  # a report certainly running at Ctrl-C
        cwd=paths.ROOT, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert wait_for_report(p), "the batch never started a notebook"
    time.sleep(1.0)  # the kernel is running the notebook
    children = [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
    assert children  # the worker (and its kernel)
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    stdout, stderr = proc.communicate(timeout=30)
    took = time.monotonic() - t0
    assert proc.returncode == 130, stdout + stderr
    assert took < 6, f"Ctrl-C took {took:.1f} s"
    assert "Traceback" not in stderr and "never retrieved" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("kpi: Đã dừng theo yêu cầu (Ctrl-C)")
    for name, text in good.items():  # nothing under a final name was replaced
        assert (p / name).read_text(encoding="utf-8") == text
    time.sleep(0.5)
    alive = [pid for pid in children if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
    assert alive == []


@pytest.mark.parametrize("value", ["-1", "0", "inf", "nan", "1e300"])
def test_timeout_must_be_a_finite_positive_number(data: Path, tmp_path: Path, value, capsys, monkeypatch):
    from kpi import cli

    _no_validation(monkeypatch)
    code = cli.main(["run", "--data", str(data), "--out", str(tmp_path / "out"), "--timeout", value])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("kpi: --timeout ") and "một số dương không quá 604800 (một tuần)" in err


def test_a_hung_browser_is_stopped_within_the_reports_time_limit(tmp_path: Path):
    import time

    from kpi.outputs import render

    psutil = pytest.importorskip("psutil")
    fake = tmp_path / "hung-chromium"
    fake.write_text("#!/bin/sh\nexec sleep 600\n", encoding="utf-8")  # a browser that never answers
    fake.chmod(0o755)
    html = tmp_path / "kt.html"
    html.write_text("<!DOCTYPE html><html><body>kt</body></html>", encoding="utf-8")
    log = tmp_path / "kt.log"
    files: dict = {}
    t0 = time.monotonic()
    printer = render.PdfPrinter(str(fake)).__enter__()
    try:
        error = workers.print_pdf(printer, html, tmp_path / "kt.pdf", files, log, time_limit=3)
        took = time.monotonic() - t0
    finally:
        printer.close()
    assert took < 3 + workers.PDF_GRACE, f"the PDF step took {took:.1f} s"
    assert error == "RenderError: Quá thời gian: in kt.html sang PDF chưa xong sau 3 giây nên bị dừng (trình duyệt bị treo?)."
    assert "pdf" not in files and not (tmp_path / "kt.pdf").exists()
    time.sleep(0.5)
    left = [p for p in psutil.Process().children(recursive=True)
            if str(fake) in " ".join(p.cmdline()) and p.status() != "zombie"]
    assert left == []
    assert time.monotonic() - t0 < 3 + 2 * workers.PDF_GRACE  # close() did not wait for the hung browser


def test_a_tampered_manifest_means_remake_never_a_traceback_or_an_outside_link(tmp_path: Path):
    import json

    out = tmp_path / "2026-11"
    out.mkdir()
    (out / "kt.html").write_text("<html></html>", encoding="utf-8")
    good = {"key": {"a": 1}, "outputs": {"html": "kt.html"}, "made_at": "2026-12-11T06:30:00", "seconds": 3.5}
    reports = {
        "kt": good,
        "ca": "hello",
        "vhxh": {**good, "seconds": "abc"},
        "ttpvhcc": {**good, "outputs": None},
        "commune": {**good, "outputs": {"html": "/etc/hostname"}},
        "x1": {**good, "outputs": {"html": "../kt.html"}},
        "x2": {**good, "outputs": {"html": ".kt.part.html"}},
        "x3": {**good, "outputs": {"csv": "kt.html"}},
        "x4": {"outputs": {"html": "kt.html"}},
    }
    (out / manifest.MANIFEST).write_text(json.dumps({"kit": "1", "reports": reports}), encoding="utf-8")
    got = manifest.load_manifest(out)
    assert got == {"kit": "1", "reports": {"kt": good}}
    assert manifest.is_current(good, {"a": 1}, out)
    assert not manifest.is_current({**good, "outputs": {"html": "/etc/hostname"}}, {"a": 1}, out)
    for broken in ('{"reports": {"kt": "hello"}}', '{"reports": []}', "[]", "not json"):
        (out / manifest.MANIFEST).write_text(broken, encoding="utf-8")
        assert manifest.load_manifest(out) == {"reports": {}}


def test_a_cache_of_the_wrong_type_or_tampered_is_ignored(data: Path, tmp_path: Path, caplog):
    import hashlib
    import io
    import json

    import pandas as pd

    from kpi.intake import cache
    from kpi.intake.validate import load_submissions

    out = tmp_path / "out"
    key = cache.data_key(data)
    target = cache.write(load_submissions(data, PLAN), out, key)
    assert cache.read(out, key) is not None
    meta = json.loads((target / "meta.json").read_text())

    def put(name: str, body: bytes, rehash: bool = True) -> None:
        (target / name).write_bytes(body)
        if rehash:
            meta["sha256"][name] = hashlib.sha256(body).hexdigest()
            (target / "meta.json").write_text(json.dumps(meta))

    # a valid Parquet frame of the wrong shape, with hashes that match it
    buf = io.BytesIO()
    pd.DataFrame({"data": ["hello"]}).to_parquet(buf)
    put("data.parquet", buf.getvalue())
    with caplog.at_level("WARNING", logger="kpi.intake.cache"):
        assert cache.read(out, key) is None
    assert "các cột" in caplog.text
    # content changed after it was written: the SHA-256 in meta.json no longer matches
    target = cache.write(load_submissions(data, PLAN), out, key)
    meta = json.loads((target / "meta.json").read_text())
    good = (target / "data.parquet").read_bytes()
    put("data.parquet", good[:-1] + bytes([good[-1] ^ 1]), rehash=False)
    assert cache.read(out, key) is None
    put("data.parquet", good, rehash=False)
    assert cache.read(out, key) is not None
    (target / "meta.json").write_text(json.dumps({**meta, "key": "0" * 64}))  # meta for another key
    assert cache.read(out, key) is None
    (target / "meta.json").write_text(json.dumps({**meta, "format": "kpi-submissions-cache-v2"}))  # the old pickle
    assert cache.read(out, key) is None


def test_force_never_reads_the_cache(data: Path, tmp_path: Path, monkeypatch):
    from kpi import cli
    from kpi.cli import run as cli_run

    monkeypatch.setattr(cli_run, "batch_cache", lambda *a: pytest.fail("--force read the cache"))
    _no_validation(monkeypatch)  # the run stops at validation: the cache was not read before it
    with pytest.raises(AssertionError, match="validated"):
        cli.main(["run", "--data", str(data), "--out", str(tmp_path / "out"), "--period", "2026-11",
                  "--format", "html", "--force", "--workers", "1"])


def test_a_run_refused_by_the_lock_reads_nothing_and_starts_no_worker(data: Path, tmp_path: Path, monkeypatch,
                                                                      capsys):
    from kpi import cli
    from kpi.run import workers

    out = tmp_path / "out"
    _no_validation(monkeypatch)
    monkeypatch.setattr(workers, "Pool", lambda *a, **kw: pytest.fail("a worker was started"))
    with batch.OutputLock(out):
        code = cli.main(["run", "--data", str(data), "--out", str(out), "--period", "2026-11", "--format", "html"])
    assert code == 3
    assert "đang được một lần chạy khác sử dụng" in capsys.readouterr().err


def test_write_atomic_on_a_full_disk_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch):

    target = tmp_path / "index.html"
    target.write_text("old", encoding="utf-8")
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fh):
            self.fh = fh

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

        def write(self, data):
            self.fh.write(data[:3])  # part of it reached the disk, then it was full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **kw: Full(real_fdopen(fd, *a, **kw)))
    with pytest.raises(OSError):
        files.write_atomic(target, "new content")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]


def test_a_file_changed_while_it_is_validated_is_read_again_and_hashed_as_read(data: Path, tmp_path: Path,
                                                                               monkeypatch):
    import hashlib

    import kpi.intake.validate
    from kpi import cli

    f = data / "submissions" / "2026-11" / "kt.csv"
    real = kpi.intake.validate.load_submissions
    calls = []

    def load(folder, plan):
        subs = real(folder, plan)
        if not calls:  # the unit overwrites its file while the first validation runs
            f.write_bytes(f.read_bytes() + b"\n")
        calls.append(f.read_bytes())  # the file as it is when this validation ends
        return subs

    got = {}

    def fake_batch(data, period, units, out_dir, opts, **kw):
        got["hashes"] = data.inputs.files
        return summary.BatchResult(period, Path(out_dir) / period, [])

    monkeypatch.setattr(kpi.intake.validate, "load_submissions", load)
    monkeypatch.setattr(batch, "run_batch", fake_batch)
    code = cli.main(["run", "--data", str(data), "--out", str(tmp_path / "out"), "--period", "2026-11",
                     "--format", "html", "--unit", "kt", "--workers", "1"])
    assert code == 0
    assert len(calls) == 2 and calls[0] == calls[1]  # read again, and the second read saw no change
    assert got["hashes"]["2026-11/kt.csv"] == hashlib.sha256(f.read_bytes()).hexdigest()


@pytest.mark.slow
def test_scorecard_excel_and_zip_on_a_full_disk_are_said_and_the_report_stands(data: Path, tmp_path: Path,
                                                                               monkeypatch, capsys):
    from kpi import cli

    full = {"scorecard.csv", "scorecard.xlsx", "package", "bao-cao-2026-11.zip"}
    real_replace = os.replace

    def replace(src, dst, *a, **kw):  # the disk is full when these files' last bytes are flushed
        if Path(dst).name in full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dst))
        return real_replace(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", replace)
    out = tmp_path / "out"
    code = cli.main(["run", "--data", str(data), "--out", str(out), "--period", "2026-11", "--unit", "kt",
                     "--format", "html", "--workers", "1", "--zip"])
    monkeypatch.setattr(os, "replace", real_replace)
    captured = capsys.readouterr()
    period = out / "2026-11"
    assert code == 1  # the month's outputs are incomplete
    assert "Traceback" not in captured.out + captured.err
    for name in ("scorecard.csv", "scorecard.xlsx", "bao-cao-2026-11.zip"):
        assert f"Ổ đĩa đầy: không ghi được {period / name}" in captured.out + captured.err
        assert not (period / name).exists()
    # the data package, put in place whole (kpi.core.files.write_folder), meets the same full disk: it is said
    # as not written too, and no temporary folder is left
    assert ("Chưa ghi được: 2026-11/scorecard.csv, 2026-11/scorecard.xlsx, 2026-11/package, "
            "2026-11/bao-cao-2026-11.zip" in captured.err)
    assert not (period / "package" / "datapackage.json").exists()  # no descriptor: never taken for a whole package
    assert not [p.name for p in period.iterdir() if p.name.startswith(".package")]
    assert "</html>" in (period / "kt.html").read_text(encoding="utf-8")  # the report itself stands, complete
    assert not [p.name for p in period.iterdir() if p.name.endswith(".part")]  # no temporary left behind


def _province(tmp_path: Path, communes: int = 2) -> Path:
    from kpi.demo.province import write_province_demo

    write_province_demo(tmp_path / "prov", PLAN, communes)
    return tmp_path / "prov"


@pytest.mark.parametrize("flag, value, words", [
    ("--unit", "kinhte", "Đơn vị 'kinhte' không hợp lệ"),
    ("--period", "2026-13", "không hợp lệ"),
])
def test_a_bad_unit_or_period_is_refused_alike_on_a_commune_and_a_province_root(data: Path, tmp_path: Path,
                                                                                 monkeypatch, capsys, flag, value,
                                                                                 words):
    from kpi import cli

    _no_validation(monkeypatch)
    said = []
    for root in (data, _province(tmp_path)):
        out = tmp_path / f"out-{root.name}"
        code = cli.main(["run", "--data", str(root), "--out", str(out), flag, value, "--format", "html"])
        err = capsys.readouterr().err
        said.append((code, err.replace(str(root), "<root>").replace(str(out), "<out>")))
        assert not out.exists() or not any(out.iterdir())  # refused before anything was made in --out
    assert said[0] == said[1]
    assert said[0][0] == 2 and words in said[0][1]


def test_a_province_run_refused_by_the_lock_reads_nothing(tmp_path: Path, monkeypatch, capsys):
    from kpi import cli, province
    from kpi.run import workers

    root, out = _province(tmp_path), tmp_path / "out"
    _no_validation(monkeypatch)
    monkeypatch.setattr(province, "load_province", lambda *a, **kw: pytest.fail("read before the lock"))
    monkeypatch.setattr(workers, "Pool", lambda *a, **kw: pytest.fail("a worker was started"))
    with batch.OutputLock(out):
        code = cli.main(["run", "--data", str(root), "--out", str(out), "--format", "html"])  # latest period
    assert code == 3
    assert "đang được một lần chạy khác sử dụng" in capsys.readouterr().err


@pytest.mark.slow
def test_province_tables_on_a_full_disk_and_a_file_edited_while_read(tmp_path: Path, monkeypatch, capsys):
    import json

    import kpi.intake.validate
    from kpi import cli
    from kpi.run import province_batch

    root, out = _province(tmp_path), tmp_path / "out"
    edited = sorted(paths.submissions_dir(root / "xa_001").rglob("2026-11/*.csv"))[0]
    real_load = kpi.intake.validate.load_submissions
    calls = []

    def load_submissions(folder, plan):  # a commune's officer saves a new version while the commune is read
        got = real_load(folder, plan)
        if Path(folder).name == "xa_001":
            calls.append(1)
            if len(calls) == 1:
                edited.write_bytes(edited.read_bytes() + b"\n")
        return got

    def write_tables(rep, folder):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(folder / "province_scorecard.csv"))

    monkeypatch.setattr(kpi.intake.validate, "load_submissions", load_submissions)
    monkeypatch.setattr(province_batch, "write_tables", write_tables)
    code = cli.main(["run", "--data", str(root), "--out", str(out), "--period", "2026-11", "--unit", "commune",
                     "--format", "html", "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.out + captured.err
    assert "Ổ đĩa đầy: không ghi được" in captured.out and "Chưa ghi được: tỉnh/2026-11/" in captured.err
    assert len(calls) == 2  # read again after the edit; the province rolls up what its communes read
    name = f"xa_001/{edited.relative_to(paths.submissions_dir(root / 'xa_001')).as_posix()}"
    for manifest in (out / "province" / "2026-11" / "manifest.json", out / "xa_001" / "2026-11" / "manifest.json"):
        entry = json.loads(manifest.read_text())["reports"]
        key = (entry.get("province") or entry["commune"])["key"]
        data = key["data"]
        # the hash of what was read, the new file, in the province's key and the commune's
        assert data.get(name, data.get(name.split("/", 1)[1])) == inputs.sha256_file(edited)


def test_a_notebook_that_is_not_there_is_refused_before_any_work(data: Path, tmp_path: Path, monkeypatch, capsys):
    from kpi import cli

    _no_validation(monkeypatch)
    out = tmp_path / "out"
    code = cli.main(["run", "--data", str(data), "--out", str(out), "--period", "2026-11", "--format", "html",
                     "--notebook", str(tmp_path / "khong-co.ipynb")])
    assert code == 2
    assert f"Không tìm thấy sổ tay báo cáo {tmp_path / 'khong-co.ipynb'}" in capsys.readouterr().err
    assert not out.exists()



def test_write_folder_on_a_full_disk_keeps_the_old_folder_and_leaves_no_temporary(tmp_path: Path, monkeypatch):
    target = files.write_folder(tmp_path / "package", {"a.csv": b"1\n", "b.csv": b"2\n"})
    real_open = os.open

    def full(path, flags, *a, **kw):  # the second file of the new folder hits a full disk
        if Path(os.fsdecode(path)).name == "b.csv" and ".part" in os.fsdecode(path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fsdecode(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", full)
    with pytest.raises(OSError):
        files.write_folder(tmp_path / "package", {"a.csv": b"new\n", "b.csv": b"new\n"})
    monkeypatch.setattr(os, "open", real_open)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["package"]  # no temporary folder left
    assert (target / "a.csv").read_bytes() == b"1\n" and (target / "b.csv").read_bytes() == b"2\n"
    files.write_folder(target, {"c.csv": b"3\n"})  # a whole new set replaces the old one
    assert sorted(p.name for p in target.iterdir()) == ["c.csv"]


def test_a_pdf_on_a_full_disk_is_said_as_a_full_disk_not_as_a_failed_notebook(tmp_path: Path):
    class FullDisk:  # the batch's printer, whose write of the PDF finds the disk full
        def print(self, html, target, time_limit=None):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))

    files: dict = {}
    error = workers.print_pdf(FullDisk(), tmp_path / "commune.html", tmp_path / "commune.pdf", files, tmp_path / "c.log")
    assert error.startswith("Ổ đĩa đầy: không ghi được") and "commune.pdf" in error
    assert summary.error_words(error) == error  # the summary says it as it is
    assert "pdf" not in files
    assert "Ổ đĩa đầy" in (tmp_path / "c.log").read_text(encoding="utf-8")

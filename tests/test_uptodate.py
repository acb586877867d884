"""A re-run with nothing changed is answered from the last run's record (kpi.run.uptodate): the same words as the
usual way, no pandas, nothing rewritten; anything changed, missing or asked differently goes the usual way."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.core import fingerprint, paths
from kpi.run import uptodate

# kpi's main in a process that says afterwards whether pandas was imported
PROBE = ("import sys\nfrom kpi.cli import main\ncode = main(sys.argv[1:])\nsys.stdout.flush()\n"
         "print('pandas imported:', 'pandas' in sys.modules, file=sys.stderr)\nraise SystemExit(code)\n")


def kpi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=paths.ROOT,
                          env={**os.environ, "KPI_TODAY": "2026-12-10"})


def stamps(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def first_run(tmp_path_factory, demo_template: Path):
    """The first run on `kpi demo-data` (made once), and a copy of its folders as it left them."""
    base = tmp_path_factory.mktemp("uptodate")
    data, out = Path(shutil.copytree(demo_template, base / "data")), base / "out"
    args = ("run", "--data", str(data), "--out", str(out), "--period", "2026-11", "--unit", "commune,ca",
            "--format", "html", "--workers", "2")
    first = kpi(*args)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "Tổng: 2 báo cáo tạo mới, 0 bỏ qua vì không đổi, 0 lỗi." in first.stdout
    kept = tmp_path_factory.mktemp("uptodate_kept")
    for folder in (data, out):
        shutil.copytree(folder, kept / folder.name)
    return data, out, args, kept


@pytest.fixture()
def run(first_run):
    """The data and output folders exactly as the first run left them (put back at the same paths, with the same
    sizes, times and modes, before each test: a test changes them)."""
    data, out, args, kept = first_run
    for folder in (data, out):
        shutil.rmtree(folder)
        shutil.copytree(kept / folder.name, folder)
    return data, out, args


@pytest.mark.slow
def test_nothing_changed_is_said_as_the_usual_way_says_it_without_pandas(run):
    data, out, args = run
    record = json.loads((out / uptodate.RECORD).read_text(encoding="utf-8"))
    assert record["units"] == ["commune", "ca"] and [p["period"] for p in record["periods"]] == ["2026-11"]
    assert "2026-11/commune.html" in record["periods"][0]["outputs"]
    assert not any("/logs/" in name or "/." in name for name in record["periods"][0]["outputs"])
    # one fingerprint of the inputs: the record's hashes are those of the files, the manifest's keys take theirs
    # from it, and the cache's key is made from it
    f = sorted(paths.submissions_dir(data).rglob("*.*"))[0]
    name = f.relative_to(paths.submissions_dir(data)).as_posix()
    assert record["inputs"][f"submissions/{name}"] == hashlib.sha256(f.read_bytes()).hexdigest()
    entries = json.loads((out / "2026-11" / "manifest.json").read_text(encoding="utf-8"))["reports"]
    assert entries["commune"]["key"]["data"][name] == record["inputs"][f"submissions/{name}"]
    for unit in ("commune", "ca"):
        key = entries[unit]["key"]
        assert all(record["inputs"][f"submissions/{n}"] == h for n, h in key["data"].items())
        assert [key[k] for k in ("kit", "plan", "notebook")] == [record["inputs"][k] for k in ("kit", "plan", "notebook")]
    assert [p.name for p in (out / "2026-11" / ".cache").iterdir()] == [f"submissions-{fingerprint.take(data).cache_key()}"]

    before = stamps(out / "2026-11")
    quick = kpi(*args)
    assert quick.returncode == 0, quick.stdout + quick.stderr
    assert "pandas imported: False" in quick.stderr
    assert stamps(out / "2026-11") == before  # nothing rewritten, not even the index or the scorecard

    # the usual way, for the same outputs (no record): word for word what the quick answer said
    (out / uptodate.RECORD).unlink()
    usual = kpi(*args)
    assert usual.returncode == 0 and "pandas imported: True" in usual.stderr
    assert quick.stdout == usual.stdout
    assert "Tổng: 0 báo cáo tạo mới, 2 bỏ qua vì không đổi, 0 lỗi." in quick.stdout
    assert quick.stdout.count("bỏ qua (không đổi)") == 2
    # the data's errors are said before the table, as the usual way said them the first time
    assert "Lưu ý:" in quick.stdout and "Kỳ báo cáo 2026-11: 2 báo cáo (commune, ca)" in quick.stdout
    assert (out / uptodate.RECORD).is_file()  # the usual way, ending with everything made, recorded again


@pytest.mark.slow
def test_what_changed_goes_the_usual_way(run):
    data, out, args = run

    def said(result) -> str:
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout + result.stderr

    # a report deleted by hand: made again
    (out / "2026-11" / "ca.html").unlink()
    assert "Tổng: 1 báo cáo tạo mới, 1 bỏ qua vì không đổi" in said(kpi(*args))
    assert (out / "2026-11" / "ca.html").is_file()
    # a file saved again with the same bytes changes nothing: the quick answer
    f = data / "submissions" / "2026-10" / "ttpvhcc.csv"
    f.write_bytes(f.read_bytes())
    assert "pandas imported: False" in said(kpi(*args))
    # one number of TT Phục vụ hành chính công's October file changed: the commune report reads it, Công an's not
    lines = f.read_text(encoding="utf-8").splitlines()
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("value")] = str(int(float(row[header.index("value")])) + 1)
    f.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")
    assert "Tổng: 1 báo cáo tạo mới, 1 bỏ qua vì không đổi" in said(kpi(*args))
    assert "pandas imported: False" in said(kpi(*args))
    # asked something else (one report of the two): the usual way, which keeps it
    other = kpi(*args[:-6], "--unit", "ca", "--format", "html", "--workers", "2")
    assert "pandas imported: True" in said(other) and "Tổng: 0 báo cáo tạo mới, 1 bỏ qua" in other.stdout
    # the record of another day (the reports' date, `last-month`, the send-date checks move with it)
    assert "pandas imported: False" in said(kpi(*args[:-6], "--unit", "ca", "--format", "html", "--workers", "2"))
    record = json.loads((out / uptodate.RECORD).read_text(encoding="utf-8"))
    record["request"]["day"] = "2026-12-02"
    (out / uptodate.RECORD).write_text(json.dumps(record), encoding="utf-8")
    assert "pandas imported: True" in said(kpi(*args[:-6], "--unit", "ca", "--format", "html", "--workers", "2"))
    # --force trusts no record, and leaves one: everything it made is as it says
    forced = kpi(*args[:-6], "--unit", "ca", "--format", "html", "--workers", "2", "--force")
    assert "Tổng: 1 báo cáo tạo mới" in said(forced)
    assert "pandas imported: False" in said(kpi(*args[:-6], "--unit", "ca", "--format", "html", "--workers", "2"))


def test_a_damaged_or_foreign_record_is_ignored(tmp_path: Path):
    import argparse

    out = tmp_path / "out"
    out.mkdir()
    args = argparse.Namespace(data=str(tmp_path), out=str(out), period="2026-11", unit="all", lang="vi",
                              format="html", plan=None, notebook=None, force=False, packages=None, scheduler=None,
                              zip=False, wait=False)
    assert uptodate.check(args)[0] is None  # no record
    for text in ("{not json", "[]", json.dumps({"request": uptodate.request(args)}), "\x00\x01"):
        (out / uptodate.RECORD).write_text(text, encoding="utf-8")
        assert uptodate.check(args)[0] is None
    # the right request and inputs, but an output the record names is missing
    record = {"request": uptodate.request(args), "inputs": uptodate.inputs(args).record(), "lines": [], "units": ["ca"],
              "periods": [{"period": "2026-11", "notes": [], "pdf_engine": "", "outputs": {"2026-11/ca.html": "0"}}]}
    (out / uptodate.RECORD).write_text(json.dumps(record), encoding="utf-8")
    assert uptodate.check(args)[0] is None
    # --force never takes a record, and a run of another kind neither takes nor leaves one
    args.force = True
    assert uptodate.check(args)[0] is None and uptodate.eligible(args)
    args.force, args.zip = False, True
    assert not uptodate.eligible(args)

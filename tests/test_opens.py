"""Each submission file is opened at most twice in one `kpi run` (issue 30): the intake reads a file's bytes once
(kpi.core.safety.read_submission), hashes them and hands the same bytes to the zip check, openpyxl, the formula scan
and the notes, and to the validation under last year's plan (the commune report's last-year values); the run
hashes the files once more only before the data is read, to find the batch's cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kpi.core import paths

# Installed in every Python process of the run (the batch, the fork server, the workers) through PYTHONPATH: an
# audit hook that writes down each open() of a path under KPI_OPENS_UNDER (io.open, os.open, zipfile, pandas).
HOOK = '''import os, sys

_under, _log = os.environ.get("KPI_OPENS_UNDER"), os.environ.get("KPI_OPENS_LOG")


def _opened(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path.startswith(_under):
            fd = os.open(_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (path + "\\n").encode("utf-8", "surrogateescape"))
            finally:
                os.close(fd)


if _under and _log:
    sys.addaudithook(_opened)
'''


def counting_opens(tmp_path: Path, under: Path, args: list[str], today: str) -> Counter:
    """Run `python -m kpi *args` with the audit hook: each file under `under` (relative name) -> how often the run's
    processes opened it."""
    hook, log = tmp_path / "hook", tmp_path / "opens.log"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    root = under.resolve()
    env = {**os.environ, "KPI_TODAY": today, "KPI_OPENS_UNDER": str(root) + os.sep, "KPI_OPENS_LOG": str(log),
           "PYTHONPATH": os.pathsep.join([str(hook), str(paths.ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, "-m", "kpi", *args], capture_output=True, text=True, cwd=paths.ROOT, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return Counter(Path(line).relative_to(root).as_posix()
                   for line in log.read_text(encoding="utf-8").splitlines()) if log.exists() else Counter()


def opens_in_a_run(tmp_path: Path) -> tuple[Counter, list[str]]:
    """Each submission file of a copy of data/sample with a January 2027 file added (relative name) -> how often
    one `kpi run` of January 2027's commune report opened it: the sample's 2026 files are read under both plans."""
    data = tmp_path / "data"
    shutil.copytree(paths.ROOT / "data" / "sample", data)
    (data / "submissions" / "2027-01").mkdir()
    (data / "submissions" / "2027-01" / "kt.csv").write_text(
        "period,unit,village,element,value,submitted_on\n2027-01,kt,,enterprises_total,40,2027-02-08\n", encoding="utf-8")
    root = (data / "submissions").resolve()
    opened = counting_opens(tmp_path, root, ["--plan", str(paths.ROOT / "params" / "plan_2027.yml"), "run", "--data",
                                             str(data), "--out", str(tmp_path / "out"), "--period", "2027-01", "--unit",
                                             "commune", "--format", "html", "--workers", "1"], "2027-02-10")
    assert "giá trị cuối năm 2026" in (tmp_path / "out" / "2027-01" / "commune.html").read_text(encoding="utf-8")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return opened, files


@pytest.mark.slow
def test_each_submission_is_opened_at_most_twice_in_a_run(tmp_path):
    opened, files = opens_in_a_run(tmp_path)
    assert len(files) == 45 and set(opened) == set(files)  # every file was read, and only submission files
    assert {name: n for name, n in opened.items() if n > 2} == {}
    # the November workbook: hashed for the batch's cache, then read once for its values, formulas and notes under
    # 2027's plan and for last year's values under 2026's
    assert opened["2026-11/vhxh.xlsx"] == 2


@pytest.mark.slow
def test_a_province_run_without_a_period_reads_each_commune_once(tmp_path):
    """Without --period the province run finds the latest month from the communes' data it reads for their reports
    (not from a reading of its own before): each file is hashed for the caches, then read once."""
    root, out = tmp_path / "tinh", tmp_path / "out"
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "province3", root)
    opened = counting_opens(tmp_path, root, ["run", "--data", str(root), "--out", str(out), "--unit", "kt", "--format",
                                             "html", "--workers", "1"], "2026-03-10")
    files = sorted(p.relative_to(root.resolve()).as_posix() for p in root.rglob("*.csv"))
    assert len(files) == 14 and set(files) <= set(opened)  # xa_a 4 in January and 4 in February, xa_b 4, xa_c 2
    assert {name: n for name, n in opened.items() if name.endswith(".csv") and n > 2} == {}
    # the latest month with data is February 2026: each commune's kt report and the province's were made for it
    assert all((out / c / "2026-02" / "kt.html").is_file() for c in ("xa_a", "xa_b", "xa_c"))
    assert (out / "province" / "2026-02" / "province.html").is_file()

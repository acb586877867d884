"""The route's own figures for benchmarks/run.py (issue 30): how often one `kpi run` opens each submission file
(strace -f -e trace=openat over the whole process tree), the lines in kpi/run/, and the test suite's wall time.

    python benchmarks/route.py          # the opens and the lines (the suite is part t of run.py: long)"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GOALS = {"opens": 2, "run_lines": 1300, "test_s": 300}


def run_lines() -> int:
    """Lines of kpi/run/*.py, as `wc -l` counts them."""
    return sum(len(p.read_bytes().splitlines()) for p in sorted((ROOT / "kpi" / "run").glob("*.py")))


def opens(period: str, workers: int, env: dict | None = None) -> dict:
    """One `kpi run --force` (HTML and PDF) of a copy of data/sample under strace: each submission file's opens
    (openat calls naming it, successful or not) over every process of the run."""
    strace = shutil.which("strace")
    if strace is None:
        return {"error": "strace is not installed (apt-get install strace): opens not counted"}
    work = Path(tempfile.mkdtemp(prefix="kpi-opens-"))
    try:
        data = work / "data"
        shutil.copytree(ROOT / "data" / "sample", data)
        trace = work / "trace.txt"
        cmd = [strace, "-f", "-qq", "-e", "trace=openat", "-o", str(trace), sys.executable, "-m", "kpi", "run",
               "--data", str(data), "--out", str(work / "out"), "--period", period, "--format", "html,pdf",
               "--workers", str(workers), "--force"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
        if proc.returncode != 0:
            return {"error": f"kpi run under strace failed ({proc.returncode}): {proc.stderr.strip()[-300:]}"}
        root = data / "submissions"
        names = {p.resolve().as_posix(): p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
        counted: Counter = Counter({n: 0 for n in names.values()})
        pattern = re.compile(r'openat\([^,]+, "([^"]+)"')
        for line in trace.read_text(encoding="utf-8", errors="replace").splitlines():
            m = pattern.search(line)
            if m and m.group(1) in names:
                counted[names[m.group(1)]] += 1
        by_kind: dict[str, list[int]] = {}
        for name, n in counted.items():
            by_kind.setdefault(Path(name).suffix.lower() or "(none)", []).append(n)
        return {"files": len(counted), "max": max(counted.values(), default=0), "per_file": dict(counted),
                "by_kind": {k: (min(v), max(v)) for k, v in sorted(by_kind.items())}}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_suite() -> dict:
    """`make test` once, timed from outside (wall)."""
    t0 = time.perf_counter()
    proc = subprocess.run(["make", "test"], capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    tail = proc.stdout.strip().splitlines()[-1:] or [""]
    return {"wall_s": wall, "ok": proc.returncode == 0, "last_line": tail[0]}


def goal(value, limit) -> str:
    return f"(goal <= {limit}: {'met' if value <= limit else 'not met'})"


def print_route(res: dict) -> None:
    print("\n(g) the route of one run: opens of each submission file (strace -f -e trace=openat over one "
          "`kpi run --force`, HTML + PDF), lines in kpi/run/")
    o = res.get("opens") or {}
    if "error" in o:
        print(f"    opens: {o['error']}")
    elif o:
        kinds = "   ".join(f"{k} {lo}-{hi}" for k, (lo, hi) in o["by_kind"].items())
        print(f"    opens per submission file, {o['files']} files: most {o['max']} {goal(o['max'], GOALS['opens'])}"
              f"   by kind: {kinds}")
    print(f"    lines in kpi/run/: {res['run_lines']} {goal(res['run_lines'], GOALS['run_lines'])}")
    t = res.get("test")
    if t:
        print(f"    make test: {t['wall_s']:.0f} s wall {goal(round(t['wall_s']), GOALS['test_s'])}"
              f"{'' if t['ok'] else '  FAILED'}  ({t['last_line']})")


if __name__ == "__main__":
    print_route({"opens": opens("2026-11", 2), "run_lines": run_lines()})

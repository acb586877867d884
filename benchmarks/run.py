"""Benchmarks of the batch at scale, each measured side by side in the same run (figures, not tests).

a. the month's batch (`kpi run`, 5 reports of 2026-11 of a copy of data/sample, HTML and PDF, --force) against
   the two fixed baselines of issue 16, run as they are from ../shared/bench beside the repository: bare_batch.py (5 bare papermill
   runs of a notebook that imports pandas and seaborn and draws one chart, W worker processes) and naive_batch.sh
   (papermill CLI, nbconvert CLI and Chromium per report on the kit's own notebook, W at a time, in ROOT, which
   must hold .venv); --rounds alternated rounds, wall and CPU (cgroup: the whole process tree) of each, the
   medians and the ratios with their goals; the batch's CPU per report beside the essential work's
   (benchmarks/essential.py: the notebook's code cells for the 5 units in one process, no kernel/HTML/PDF);
b. the scorecard of all communes for 12 months at province size (166 communes) and national size (3,321
   communes, ~30 million long rows): kpi/province/__init__.py (pandas) and kpi/province/on_dask.py (dask.dataframe on a
   LocalCluster of --workers processes) against the same aggregation in DuckDB SQL, with the peak memory of
   each (max RSS; for Dask the sum over its process tree, sampled), each in its own process;
c. a re-run with nothing changed (no --force, after each round's full batch), median, as a share of the full
   batch's median;
d. the size of each report's HTML for November of the committed sample (data/sample), against the bounds of
   issue 13 (commune <= 350 KB, a unit <= 200 KB: leadership opens them on a phone over a slow line), with
   what the bytes are (the stylesheet, the SVG charts, the rest); and the commune page's height at 360 px wide
   (the machine's Chromium through playwright), against the goal of issue 26: <= 12 screens of 800 px;
g. the route (benchmarks/route.py): how often one `kpi run` opens each submission file (strace -f -e
   trace=openat, printed per kind of file) and the lines in kpi/run/;
t. (only with --parts t: long) `make test`, wall;
e. (only with --parts e: long) a synthetic province of --communes N communes (kpi demo-data --communes N), `kpi
   run` on it for its latest month: every commune's reports and the province report; wall, CPU (cgroup), the
   number of reports (manifests), CPU per report against part a's batch.

f. the province's inbox with one hostile package of each kind (zip bombs of 2 GB, 200 000 members, traversal, a
   link, a forged id, a re-signed edit, unsigned...) against the same inbox without them: the peak memory of `kpi
   scorecard --packages` and `kpi run --packages` on each (goal: at most 300 MB above), and whether the good
   communes give the same tables (benchmarks/hostile_inbox.py, issue 27).

Usage: python benchmarks/run.py [--parts a,b,c,d,e,f,g,t] [--sizes province,national] [--workers N] [--rounds N]
                                [--communes N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

SIZES = {"province": (166, 22), "national": (3321, 55)}  # communes, villages per commune (≈ 30 M rows nationally)
PERIOD = "2026-12"

SHARED_BENCH = ROOT.parent / "shared" / "bench"  # issue 16's fixed baselines beside the repository, run as they are
BARE_BATCH = SHARED_BENCH / "bare_batch.py"
NAIVE_BATCH = SHARED_BENCH / "naive_batch.sh"
BATCH_PERIOD = "2026-11"  # part a: the November month of the committed sample (data/sample)
REPORTS = 5  # commune + 4 units
GOALS = {"batch_per_bare": 1.0, "batch_per_naive": 0.25, "cpu_per_report": 1.5, "rerun_share": 0.05,
         "province_s": 400}  # issue 30


def kpi_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kpi", *args]


CGROUP_ROOT = Path("/sys/fs/cgroup/cpuacct")  # cgroup v1 CPU accounting (needs root); else CPU is not shown


class Accounted:
    """CPU seconds of a command and everything it starts (workers, kernels, Chromium's helpers that a
    parent's rusage never sees), from a cgroup of its own; None where cgroups cannot be made."""

    def __init__(self, name: str):
        self.group = CGROUP_ROOT / f"kpi-bench-{os.getpid()}-{name}"
        try:
            self.group.mkdir()
        except OSError:
            self.group = None

    def preexec(self):
        if self.group is not None:
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    def cpu(self) -> float | None:
        if self.group is None:
            return None
        seconds = int((self.group / "cpuacct.usage").read_text()) / 1e9
        for _ in range(50):  # the group can be removed once its last process is gone
            try:
                self.group.rmdir()
                break
            except OSError:
                time.sleep(0.1)
        return seconds


def timed(cmd: list[str], cwd: Path = ROOT, **kw) -> tuple[float, subprocess.CompletedProcess, float | None]:
    acct = Accounted(f"cmd{time.monotonic_ns()}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, preexec_fn=acct.preexec, **kw)
    return time.perf_counter() - t0, proc, acct.cpu()


def bench_env() -> dict:
    """The environment of every measured command: the kit of this tree first on the path (the kernels inherit it),
    and CHROMIUM for naive_batch.sh set to the kit's browser when `chromium` is not on PATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    if not shutil.which("chromium") and "CHROMIUM" not in env:
        from kpi.outputs import pdf

        engine = pdf.choose()
        if engine.name == "chromium" and engine.path:
            env["CHROMIUM"] = engine.path
    return env


def _last_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


def _failed(what: str, proc: subprocess.CompletedProcess) -> str:
    tail = (proc.stderr.strip() or proc.stdout.strip())[-400:]
    return f"{what} exited {proc.returncode}: {tail}"


def part_a_c(workers: int, rounds: int) -> dict:
    """`rounds` alternated rounds, each in turn: the kit's batch (--force) on a copy of data/sample, the re-run with
    nothing changed (no --force), ../shared/bench/bare_batch.py 5 W, ../shared/bench/naive_batch.sh ROOT 2026-11 W
    OUT; each command in a cgroup of its own (CPU of its whole process tree). Then the essential work
    (benchmarks/essential.py) on the last batch's output folder, as the kernels were given it."""
    env = bench_env()
    work = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    data = work / "data"
    naive_skip = None if (ROOT / ".venv" / "bin" / "papermill").exists() else (
        f"{ROOT} has no .venv (naive_batch.sh runs $CLONE/.venv/bin/papermill): naive baseline skipped")
    res: dict = {"rounds": [], "naive_skipped": naive_skip, "chromium_env": env.get("CHROMIUM")}
    try:
        shutil.copytree(ROOT / "data" / "sample", data)
        for k in range(rounds):
            out = work / f"out-{k}"
            if k:
                shutil.rmtree(work / f"out-{k - 1}", ignore_errors=True)
            args = ["run", "--data", str(data), "--out", str(out), "--period", BATCH_PERIOD, "--format", "html,pdf",
                    "--workers", str(workers)]
            r: dict = {"load": os.getloadavg()[0]}
            r["batch_s"], proc, r["batch_cpu"] = timed(kpi_cmd(*args, "--force"), env=env)
            if proc.returncode != 0 or f"{REPORTS} báo cáo tạo mới" not in proc.stdout:
                raise SystemExit(f"batch failed:\n{proc.stdout}\n{proc.stderr}")
            r["rerun_s"], proc, r["rerun_cpu"] = timed(kpi_cmd(*args), env=env)
            if proc.returncode != 0 or "0 báo cáo tạo mới" not in proc.stdout:
                raise SystemExit(f"re-run did not skip every report:\n{proc.stdout}\n{proc.stderr}")
            r["bare_s"], proc, r["bare_cpu"] = timed([sys.executable, str(BARE_BATCH), str(REPORTS), str(workers)],
                                                     cwd=SHARED_BENCH, env=env)
            if proc.returncode != 0:  # a failed run is no figure: its times leave the medians
                r["bare_error"] = _failed("bare_batch.py", proc)
                r["bare_failed_s"], r["bare_s"], r["bare_cpu"] = r["bare_s"], None, None
            else:
                r["bare_own_s"] = float(_last_line(proc.stdout))
            if naive_skip is None:
                naive_out = work / f"naive-{k}"
                r["naive_s"], proc, r["naive_cpu"] = timed(
                    [str(NAIVE_BATCH), str(ROOT), BATCH_PERIOD, str(workers), str(naive_out)], cwd=SHARED_BENCH,
                    env=env)
                if proc.returncode != 0:
                    r["naive_error"] = _failed("naive_batch.sh", proc)
                    r["naive_failed_s"], r["naive_s"], r["naive_cpu"] = r["naive_s"], None, None
                else:
                    r["naive_own_s"] = float(_last_line(proc.stdout))
                shutil.rmtree(naive_out, ignore_errors=True)
            res["rounds"].append(r)
            print(f"  measured a/c round {k + 1}: {r}", file=sys.stderr, flush=True)
        period_dir = work / f"out-{rounds - 1}" / BATCH_PERIOD
        wall, proc, group_cpu = timed([sys.executable, str(HERE / "essential.py"), "--data", str(data), "--out",
                                       str(period_dir), "--period", BATCH_PERIOD,
                                       "--made-on", time.strftime("%Y-%m-%d")], env=env)
        if proc.returncode != 0:
            res["essential"] = {"error": _failed("essential.py", proc)}
        else:
            res["essential"] = {**json.loads(_last_line(proc.stdout)), "wall": wall, "cgroup_cpu": group_cpu}
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _median(rounds: list[dict], key: str) -> float | None:
    values = [r[key] for r in rounds if r.get(key) is not None]
    return statistics.median(values) if values else None


def summarize_a_c(res: dict) -> dict:
    """The medians over the rounds, the ratios to the baselines and to the essential work, each with its goal."""
    rounds = res["rounds"]
    med = {key: _median(rounds, key) for key in ("batch_s", "batch_cpu", "rerun_s", "bare_s", "bare_own_s",
                                                 "bare_cpu", "naive_s", "naive_own_s", "naive_cpu")}
    out: dict = {"median": med}

    def ratio(a, b):
        return a / b if a is not None and b else None

    out["batch_per_bare"] = ratio(med["batch_s"], med["bare_s"])
    out["batch_per_naive"] = ratio(med["batch_s"], med["naive_s"])
    out["batch_per_bare_own"] = ratio(med["batch_s"], med["bare_own_s"])
    out["batch_per_naive_own"] = ratio(med["batch_s"], med["naive_own_s"])
    out["cpu_per_report"] = ratio(med["batch_cpu"], REPORTS)
    ess = res.get("essential") or {}
    if "reports" in ess:
        per = [x["cpu"] for x in ess["reports"].values()]
        out["essential_cpu_per_report"] = sum(per) / len(per)
        out["essential_imports_cpu"] = ess["imports_cpu"]
        out["essential_cpu_per_report_with_imports"] = (sum(per) + ess["imports_cpu"]) / len(per)
        out["overhead"] = ratio(out["cpu_per_report"], out["essential_cpu_per_report"])
    out["rerun_share"] = ratio(med["rerun_s"], med["batch_s"])
    return out


def _goal(value: float | None, goal: float, fmt: str = "{:.2f}x", le: str = "<=") -> str:
    if value is None:
        return "n/a"
    return f"{fmt.format(value)}  (goal {le} {fmt.format(goal)}: {'met' if value <= goal else 'not met'})"


def print_a_c(res: dict, summary: dict, parts: set[str], workers: int) -> None:
    rounds, med = res["rounds"], summary["median"]

    def s(x):
        return "-" if x is None else f"{x:.1f}"

    if "a" in parts:
        print(f"\n(a) month's batch {BATCH_PERIOD} of data/sample (5 reports, HTML + PDF, --force, {workers} workers) "
              f"vs {BARE_BATCH} 5 {workers} and {NAIVE_BATCH}; wall s / CPU s of the whole process tree (cgroup)")
        if res.get("naive_skipped"):
            print(f"    NOTE: {res['naive_skipped']}")
        if res.get("chromium_env"):
            print(f"    CHROMIUM={res['chromium_env']} (no 'chromium' on PATH)")
        for k, r in enumerate(rounds, 1):
            bare = r.get("bare_error") or (f"bare {s(r['bare_s'])} / {s(r['bare_cpu'])} "
                                           f"(its own figure {r['bare_own_s']:.2f})")
            naive = (res.get("naive_skipped") and "naive skipped") or r.get("naive_error") or (
                f"naive {s(r['naive_s'])} / {s(r['naive_cpu'])} (its own figure {r['naive_own_s']:.2f})")
            print(f"    round {k}: batch {s(r['batch_s'])} / {s(r['batch_cpu'])}   {bare}   {naive}   "
                  f"load {r['load']:.1f}")
        print(f"    median over {len(rounds)} round(s): batch {s(med['batch_s'])} / {s(med['batch_cpu'])}   "
              f"bare {s(med['bare_s'])} / {s(med['bare_cpu'])}   naive {s(med['naive_s'])} / {s(med['naive_cpu'])}")
        print(f"    batch / bare   {_goal(summary['batch_per_bare'], GOALS['batch_per_bare'])}"
              + (f"   (on the script's own figure: {summary['batch_per_bare_own']:.2f}x)"
                 if summary["batch_per_bare_own"] else ""))
        print(f"    batch / naive  {_goal(summary['batch_per_naive'], GOALS['batch_per_naive'])}"
              + (f"   (on the script's own figure: {summary['batch_per_naive_own']:.2f}x)"
                 if summary["batch_per_naive_own"] else ""))
        print(f"    CPU per report (batch cgroup CPU / {REPORTS}, median) "
              f"{_goal(summary['cpu_per_report'], GOALS['cpu_per_report'], '{:.2f} s')}")
        ess = res.get("essential") or {}
        if "error" in ess:
            print(f"    essential work: {ess['error']}")
        elif "reports" in ess:
            per = "  ".join(f"{u} {x['cpu']:.2f}" for u, x in ess["reports"].items())
            print(f"    essential work (benchmarks/essential.py: the master notebook's code cells, one process, no "
                  f"kernel/HTML/PDF): imports {ess['imports_cpu']:.2f} s once, then per report {per} s")
            batch = ("batch CPU not measured (no cgroup)" if summary["cpu_per_report"] is None else
                     f"batch {summary['cpu_per_report']:.2f} s   overhead ratio {summary['overhead']:.2f}x")
            print(f"    essential CPU per report {summary['essential_cpu_per_report']:.2f} s "
                  f"({summary['essential_cpu_per_report_with_imports']:.2f} s with the imports shared by the 5)   "
                  + batch)
    if "c" in parts:
        print("\n(c) re-run with nothing changed (kpi run without --force, after a full batch) vs the full batch")
        for k, r in enumerate(rounds, 1):
            print(f"    round {k}: re-run {r['rerun_s']:.1f} s   full {r['batch_s']:.1f} s   "
                  f"share {100 * r['rerun_s'] / r['batch_s']:.1f} %")
        share = summary["rerun_share"]
        print(f"    median re-run {med['rerun_s']:.1f} s / median full {med['batch_s']:.1f} s = "
              + _goal(share and 100 * share, 100 * GOALS["rerun_share"], "{:.1f} %"))


def _manifest_reports(out: Path) -> int:
    """Reports recorded in the run's manifests (<out>/<commune or province>/<P>/manifest.json)."""
    n = 0
    for m in out.glob("*/*/manifest.json"):
        n += len(json.loads(m.read_text(encoding="utf-8")).get("reports", {}))
    return n


def part_e(communes: int, workers: int) -> dict:
    """A synthetic province of `communes` communes (kpi demo-data --communes N), then `kpi run` on it for its latest
    month: every commune's reports and the province report, HTML + PDF, in one cgroup."""
    import re

    env = bench_env()
    work = Path(tempfile.mkdtemp(prefix="kpi-bench-province-"))
    try:
        root, out = work / "province", work / "out"
        made, proc, _ = timed(kpi_cmd("demo-data", "--out", str(root), "--communes", str(communes)), env=env)
        if proc.returncode != 0:
            raise SystemExit(_failed("kpi demo-data", proc))
        wall, proc, cpu = timed(kpi_cmd("run", "--data", str(root), "--out", str(out), "--format", "html,pdf",
                                        "--workers", str(workers)), env=env)
        res = {"communes": communes, "demo_data_s": made, "wall_s": wall, "cpu": cpu, "exit": proc.returncode}
        periods_made = sorted(p.name for p in (out / "province").glob("*") if p.is_dir())
        res["period"] = periods_made[-1] if periods_made else None
        res["reports"] = _manifest_reports(out)
        res["html_reports"] = sum(1 for h in out.glob("*/*/*.html") if h.name != "index.html")
        res["pdf_reports"] = sum(1 for _ in out.glob("*/*/*.pdf"))
        total = re.search(r"Tổng: (\d+) báo cáo tạo mới, (\d+) bỏ qua vì không đổi, (\d+) lỗi", proc.stdout)
        if total:
            res["made"], res["skipped"], res["errors"] = (int(g) for g in total.groups())
        if proc.returncode != 0:
            res["error"] = _failed("kpi run", proc)
            res["failed_logs"] = _keep_failures(out)
        res["cpu_per_report"] = cpu / res["reports"] if cpu is not None and res["reports"] else None
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _keep_failures(out: Path) -> list[str]:
    """A failed report's traceback and log, copied out of the province's temporary folder (removed after the
    run) so that the failure can be read: the copies' folder, and each traceback's last line."""
    kept = Path(tempfile.mkdtemp(prefix="kpi-bench-failed-"))
    lines = []
    for error in sorted(out.glob("*/*/*.error.txt")):
        commune, period = error.parent.parent.name, error.parent.name
        target = kept / commune / period
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(error, target / error.name)
        log = error.parent / "logs" / error.name.replace(".error.txt", ".log")
        if log.is_file():
            shutil.copy2(log, target / log.name)
        text = error.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        lines.append(f"{commune}/{period}/{error.name}: {text[-1] if text else ''} (kept in {target})")
    return lines


def print_e(res: dict, batch_cpu_per_report: float | None) -> None:
    print(f"\n(e) province of {res['communes']} communes (kpi demo-data --communes {res['communes']}, made in "
          f"{res['demo_data_s']:.1f} s), kpi run on it for its latest month ({res['period']}), HTML + PDF")
    if res.get("error"):
        print(f"    {res['error']}")
        for line in res.get("failed_logs", []):
            print(f"      {line}")
    print(f"    wall {res['wall_s']:.1f} s   CPU {res['cpu']:.1f} s (cgroup)   reports {res['reports']} (manifests; "
          f"{res['html_reports']} HTML, {res['pdf_reports']} PDF; summary: {res.get('made')} made, "
          f"{res.get('errors')} failed)" if res["cpu"] is not None else f"    wall {res['wall_s']:.1f} s")
    print(f"    wall {_goal(res['wall_s'], GOALS['province_s'], '{:.0f} s')}")
    per = res.get("cpu_per_report")
    if per is not None:
        cmp = ("part a not run" if batch_cpu_per_report is None else
               f"part a's batch {batch_cpu_per_report:.2f} s (goal: not more: "
               f"{'met' if per <= batch_cpu_per_report else 'not met'})")
        print(f"    CPU per report {per:.2f} s   vs {cmp}")

BLOCK = 100  # communes per block of synthetic data (and per partition of the Dask engine)


def _one_commune(villages: int):
    """(village code, element index, month index) of every row of one commune: village elements per village,
    then commune elements; with the element names and the period texts."""
    import numpy as np

    from kpi.plan import load_plan

    plan = load_plan()
    vil = [e.code for e in plan.elements if e.level == "village" and e.code != "ehealth_books"]
    com = [e.code for e in plan.elements if e.level == "commune"]
    v1 = np.repeat(np.arange(1, villages + 1, dtype=np.int16), len(vil) * 12)
    e1 = np.tile(np.repeat(np.arange(len(vil), dtype=np.int8), 12), villages)
    m1 = np.tile(np.arange(12, dtype=np.int8), villages * len(vil))
    v2 = np.zeros(len(com) * 12, dtype=np.int16)
    e2 = (len(vil) + np.repeat(np.arange(len(com), dtype=np.int8), 12)).astype(np.int8)
    m2 = np.tile(np.arange(12, dtype=np.int8), len(com))
    periods = [f"{plan.year}-{m:02d}" for m in range(1, 13)]
    return plan, (np.concatenate([v1, v2]), np.concatenate([e1, e2]), np.concatenate([m1, m2])), vil + com, periods


def _block_codes(start: int, k: int, one: tuple, seed: int) -> tuple:
    """Communes start..start+k-1: their rows' codes and values, from the block's own random stream, so that a
    block is the same whether it is made alone (on a Dask worker) or within the whole table."""
    import numpy as np

    rng = np.random.default_rng([seed, start])
    v_one, e_one, m_one = one
    per = len(v_one)
    keep = rng.random(per * k) > 0.02
    return (np.repeat(np.arange(start, start + k, dtype=np.int16), per)[keep], np.tile(v_one, k)[keep],
            np.tile(e_one, k)[keep], np.tile(m_one, k)[keep], rng.integers(50, 900, int(keep.sum())).astype("float64"))


def _frame(codes: tuple, communes: int, villages: int, elements: list[str], periods: list[str]):
    import pandas as pd

    c, v, e, m, x = codes
    return pd.DataFrame({
        "commune": pd.Categorical.from_codes(c, [f"xa_{i:04d}" for i in range(communes)]),
        "period": pd.Categorical.from_codes(m, periods),
        "village": pd.Categorical.from_codes(v, [""] + [f"Thôn {i}" for i in range(1, villages + 1)]),
        "element": pd.Categorical.from_codes(e, elements),
        "value": x,
    })


def synthetic_block(start: int, communes: int, villages: int, seed: int = 7):
    """One block of synthetic_long (BLOCK communes from `start`), made where it is called: a Dask partition."""
    _, one, elements, periods = _one_commune(villages)
    return _frame(_block_codes(start, max(0, min(BLOCK, communes - start)), one, seed), communes, villages, elements,
                  periods)


def synthetic_long(communes: int, villages: int, seed: int = 7):
    """A national-shaped long table: every commune, 12 months, every supplied element (village-level ones
    per village), about 2 % of values missing; text columns categorical, as a loader would keep them at this
    size. Built in blocks of communes with small integer codes, so that making it costs little more memory
    than holding it (the peak measured afterwards is the computation's)."""
    import numpy as np

    plan, one, elements, periods = _one_commune(villages)
    blocks = [_block_codes(start, min(BLOCK, communes - start), one, seed) for start in range(0, communes, BLOCK)]
    codes = tuple(np.concatenate([b[i] for b in blocks]) for i in range(5))
    del blocks
    return plan, _frame(codes, communes, villages, elements, periods)


class TreeMemory:
    """Peak resident memory of this process and all its descendants (a LocalCluster's nanny and worker
    processes), sampled every `every` seconds in a thread: the peak of the sum over the tree (shared pages
    counted once per process) and the peak of the largest single process."""

    def __init__(self, every: float = 0.1):
        import threading

        self.every, self.tree, self.single = every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        import psutil

        me = psutil.Process()
        total = single = 0
        for p in [me, *me.children(recursive=True)]:
            try:
                rss = p.memory_info().rss
            except psutil.Error:  # a process that ended between listing and reading
                continue
            total += rss
            single = max(single, rss)
        self.tree, self.single = max(self.tree, total), max(self.single, single)
        return total

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.now()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.now()


def dask_child(size: str, threads: int) -> dict:
    """kpi/province/on_dask.py on a LocalCluster of `threads` worker processes (one thread each) started here: the
    synthetic table is made on the workers, one partition per block of communes (so no shuffle), held in their
    memory before the clock starts (as the other engines hold theirs); then every commune's history and the
    roll-up sums in one computation, the history and the sums coming back here."""
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster, wait

    from kpi.plan import load_plan
    from kpi.province import on_dask as province_dask

    communes, villages = SIZES[size]
    plan = load_plan()
    with TreeMemory() as mem, LocalCluster(n_workers=threads, threads_per_worker=1, processes=True,
                                           host="127.0.0.1", dashboard_address=None) as cluster, \
            Client(cluster) as client:
        ddf = dd.from_map(synthetic_block, list(range(0, communes, BLOCK)), args=(communes, villages),
                          meta=synthetic_block(communes, communes, villages), enforce_metadata=False)
        ddf = client.persist(ddf)
        wait(ddf)
        rows = int(client.compute(ddf.map_partitions(len).sum()).result())
        data_mib = mem.now() / 2**20
        per = pd.Series(villages, index=pd.Index([f"xa_{i:04d}" for i in range(communes)], name="commune"))
        t0 = time.perf_counter()
        hist = province_dask.commune_history(ddf, plan, PERIOD, per)
        h, sums = client.gather(client.compute([hist, province_dask.rollup_sums(hist)]))
        roll = province_dask.finish_sums(sums, plan, PERIOD)
        secs = time.perf_counter() - t0
    return {"size": size, "engine": "dask", "rows": rows, "seconds": secs, "peak_mib": mem.tree / 2**20,
            "data_mib": data_mib, "largest_process_mib": mem.single / 2**20, "result_rows": len(h),
            "province_value_1": float(roll.loc[(roll["indicator"] == "1") & (roll["month"] == 12), "value"].iloc[0])}


def part_b_child(size: str, engine: str, threads: int) -> dict:
    """Measured in its own process so that max RSS belongs to one engine and one size."""
    import pandas as pd

    from kpi import province

    communes, villages = SIZES[size]
    plan, data = synthetic_long(communes, villages)
    rows = len(data)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    if engine == "pandas":
        per = pd.Series(villages, index=pd.Index([f"xa_{i:04d}" for i in range(communes)], name="commune"))
        hist = province.commune_history(data, plan, PERIOD, per)
        roll = province.rollup(hist, plan)
        n = len(hist)
    else:
        from duckdb_scorecard import duckdb_history

        hist, roll = duckdb_history(data, plan, PERIOD, threads=threads)
        n = len(hist)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"size": size, "engine": engine, "rows": rows, "seconds": secs, "peak_mib": peak,
            "data_mib": base_rss, "result_rows": n, "province_value_1": float(roll.loc[
                (roll["indicator"] == "1") & (roll["month"] == 12), "value"].iloc[0])}


ENGINES = ("pandas", "duckdb", "dask")


def part_b(sizes: list[str], threads: int, limit: float) -> list[dict]:
    out = []
    for size in sizes:
        for engine in ENGINES:
            try:
                proc = subprocess.run([sys.executable, __file__, "--child", f"{size}:{engine}", "--workers", str(threads)],
                                      capture_output=True, text=True, cwd=ROOT, timeout=limit)
                if proc.returncode != 0:
                    out.append({"size": size, "engine": engine, "error": proc.stderr.strip()[-300:]})
                else:
                    out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            except subprocess.TimeoutExpired:
                out.append({"size": size, "engine": engine, "error": f"did not finish in {limit:.0f} s"})
            print(f"  measured b {size}/{engine}: {out[-1]}", file=sys.stderr, flush=True)
    return out


HTML_BOUNDS_KB = {"commune": 350, "unit": 200}  # issue 13


def part_d() -> list[dict]:
    """Each report of 2026-11 from data/sample as HTML only, its size in KB (1 KB = 1000 bytes) and its parts."""
    import re

    with tempfile.TemporaryDirectory(prefix="kpi-bench-html-") as work:
        proc = subprocess.run(kpi_cmd("run", "--data", str(ROOT / "data" / "sample"), "--out", work, "--period",
                                      "2026-11", "--format", "html", "--force"), capture_output=True, text=True,
                              cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"batch failed:\n{proc.stdout}\n{proc.stderr}")
        out = []
        for html in sorted(Path(work, "2026-11").glob("*.html")):
            if html.name == "index.html":
                continue
            text = html.read_bytes()
            head = re.search(rb"<head>.*?</head>", text, re.S)
            css = sum(len(m) for m in re.findall(rb"<style>.*?</style>", head.group() if head else b"", re.S))
            svg = sum(len(m) for m in re.findall(rb"<svg\b.*?</svg>", text, re.S))
            out.append({"report": html.stem, "kb": len(text) / 1000, "css_kb": css / 1000, "svg_kb": svg / 1000,
                        "png": text.count(b"data:image/png"), "script": text.count(b"<script")})
        commune = next(x for x in out if x["report"] == "commune")
        commune["phone_px"] = phone_height(Path(work, "2026-11", "commune.html"))
        return out


PHONE = (360, 800)  # a phone's viewport, CSS px; the goal: the commune page within PHONE_SCREENS of its screens
PHONE_SCREENS = 12


def phone_height(html: Path) -> int | None:
    """The page's full height at a PHONE-wide viewport (CSS px), in the machine's Chromium through the kit's
    playwright, as tests/test_phone.py opens it; None when there is no browser."""
    from kpi.outputs.pdf import find_chromium

    browser = find_chromium()
    if browser is None:
        return None
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=browser, args=["--no-sandbox", "--disable-gpu"], headless=True)
        try:
            page = b.new_page(viewport={"width": PHONE[0], "height": PHONE[1]}, device_scale_factor=1)
            page.goto(html.resolve().as_uri())
            return int(page.evaluate("document.documentElement.scrollHeight"))
        finally:
            b.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="a,b,c,d,f,g", help="a,b,c,d,e,f,g,t (e, the province, and t, the test "
                    "suite, are long: not in the default)")
    ap.add_argument("--sizes", default="province,national")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", "--repeat", dest="rounds", type=int, default=5,
                    help="alternated rounds of part a/c (batch, re-run, bare, naive); the medians are printed")
    ap.add_argument("--communes", type=int, default=166, help="communes of part e's synthetic province")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    ap.add_argument("--limit", type=float, default=900, help="seconds allowed per part-b measurement")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        size, engine = args.child.split(":")
        print(json.dumps(dask_child(size, args.workers) if engine == "dask" else part_b_child(size, engine, args.workers)))
        return
    parts = set(args.parts.split(","))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "kpi", "notebooks", "benchmarks"],
                           capture_output=True, text=True, cwd=ROOT).stdout.strip()
    figures: dict = {"commit": commit.stdout.strip() or None, "uncommitted_changes": bool(dirty),
                     "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "cores": os.cpu_count(), "workers": args.workers,
                     "load_before": os.getloadavg()}
    print(f"kpi-kit benchmarks at {figures['commit']}{' (with uncommitted changes)' if dirty else ''}, "
          f"{figures['date']}, on {os.cpu_count()} cores, workers = {args.workers}, "
          f"load average {' '.join(f'{x:.2f}' for x in figures['load_before'])}")
    batch_cpu_per_report = None
    if parts & {"a", "c"}:
        res = part_a_c(args.workers, args.rounds)
        summary = summarize_a_c(res)
        figures["a_c"] = {**res, "summary": summary}
        batch_cpu_per_report = summary["cpu_per_report"]
        print_a_c(res, summary, parts, args.workers)
    if "b" in parts:
        res = part_b(args.sizes.split(","), args.workers, args.limit)
        figures["b"] = res
        print("\n(b) scorecard of all communes, 12 months (per-commune history + province roll-up)")
        print("    peak: pandas and duckdb max RSS of their process; dask the sum over its process tree (client, "
              "nanny and worker processes), sampled every 0.1 s, with the largest single process")
        by = {(x["size"], x["engine"]): x for x in res}

        def show(x: dict) -> str:
            return x.get("error") or f"{x['seconds']:.1f} s (peak {x['peak_mib']:.0f} MiB)"

        for size in args.sizes.split(","):
            p, d, k = by[(size, "pandas")], by[(size, "duckdb")], by[(size, "dask")]
            if "error" in p or "error" in d:
                print(f"    {size}: pandas {show(p)}; duckdb {show(d)}; dask {show(k)}")
                continue
            agree = abs(p["province_value_1"] - d["province_value_1"]) < 1e-9
            print(f"    {size:<9} {SIZES[size][0]} communes, {p['rows']:,} rows: pandas {p['seconds']:.2f} s "
                  f"(peak {p['peak_mib']:.0f} MiB, data alone {p['data_mib']:.0f} MiB)   duckdb {d['seconds']:.2f} s "
                  f"(peak {d['peak_mib']:.0f} MiB)   ratio {p['seconds'] / d['seconds']:.2f}x (goal <= 2x)   "
                  f"same province value: {agree}")
            if "error" in k:
                print(f"    {'':<9} dask: {k['error']}")
                continue
            agree_k = abs(k["province_value_1"] - d["province_value_1"]) < 1e-9 and k["rows"] == p["rows"]
            print(f"    {'':<9} dask, {args.workers} worker processes: {k['seconds']:.2f} s (peak {k['peak_mib']:.0f} MiB "
                  f"over the process tree, largest process {k['largest_process_mib']:.0f} MiB, data alone "
                  f"{k['data_mib']:.0f} MiB)   ratio to duckdb {k['seconds'] / d['seconds']:.2f}x (goal <= 2x)   "
                  f"same rows and province value: {agree_k}")

    if "d" in parts:
        print("\n(d) report HTML size, 2026-11 of data/sample (bound: commune <= 350 KB, each unit <= 200 KB)")
        figures["d"] = part_d()
        for x in sorted(figures["d"], key=lambda x: x["report"] != "commune"):
            bound = HTML_BOUNDS_KB["commune" if x["report"] == "commune" else "unit"]
            print(f"    {x['report']:<8} {x['kb']:7.1f} KB  (report.css {x['css_kb']:.1f} KB, SVG charts "
                  f"{x['svg_kb']:.1f} KB, PNG {x['png']}, script {x['script']})   bound {bound} KB: "
                  f"{'within' if x['kb'] <= bound else 'OVER'}")
        px = next(x for x in figures["d"] if x["report"] == "commune").get("phone_px")
        goal = PHONE_SCREENS * PHONE[1]
        print(f"    commune page at {PHONE[0]} px wide: " + ("no Chromium to measure it" if px is None else
              f"{px:,} px = {px / PHONE[1]:.1f} screens of {PHONE[1]} px   goal <= {PHONE_SCREENS} screens "
              f"({goal:,} px): {'within' if px <= goal else 'OVER'}"))

    if "e" in parts:
        res_e = part_e(args.communes, args.workers)
        figures["e"] = res_e
        print_e(res_e, batch_cpu_per_report)
    if "f" in parts:
        from hostile_inbox import part_f, print_f

        figures["f"] = part_f()
        print_f(figures["f"])
    if parts & {"g", "t"}:
        import route

        figures["g"] = {"run_lines": route.run_lines()}
        if "g" in parts:
            figures["g"]["opens"] = route.opens(BATCH_PERIOD, args.workers, bench_env())
        if "t" in parts:
            figures["g"]["test"] = route.test_suite()
        route.print_route(figures["g"])
    figures["load_after"] = os.getloadavg()
    print(f"\nload average at the end {' '.join(f'{x:.2f}' for x in figures['load_after'])}")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False, default=str) + "\n",
                                   encoding="utf-8")


if __name__ == "__main__":
    main()

"""Benchmarks of the batch at scale, each measured side by side in the same run (figures, not tests).

a. the month's batch (5 reports, HTML and PDF) against the same number of bare papermill runs of a notebook
   that only imports pandas and seaborn and draws one chart, same parallelism;
b. the scorecard of all communes for 12 months at province size (166 communes) and national size (3,321
   communes, ~30 million long rows): kpi/province/__init__.py (pandas) and kpi/province/on_dask.py (dask.dataframe on a
   LocalCluster of --workers processes) against the same aggregation in DuckDB SQL, with the peak memory of
   each (max RSS; for Dask the sum over its process tree, sampled), each in its own process;
c. a re-run with nothing changed, as a share of the full batch;
d. the size of each report's HTML for November of the committed sample (data/sample), against the bounds of
   issue 13 (commune <= 350 KB, a unit <= 200 KB: leadership opens them on a phone over a slow line), with
   what the bytes are (the stylesheet, the SVG charts, the rest).

Usage: python benchmarks/run.py [--parts a,b,c,d] [--sizes province,national] [--workers N] [--repeat N]
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

BARE_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "bare-0", "metadata": {}, "outputs": [],
         "source": "import pandas as pd\nimport seaborn as sns\n"
                   "df = pd.DataFrame({'x': range(10), 'y': range(10)})\nsns.barplot(data=df, x='x', y='y')"},
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


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


def timed(cmd: list[str], **kw) -> tuple[float, subprocess.CompletedProcess, float | None]:
    acct = Accounted(f"cmd{time.monotonic_ns()}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, preexec_fn=acct.preexec, **kw)
    return time.perf_counter() - t0, proc, acct.cpu()


BARE_RUNNER = """
import sys
from concurrent.futures import ThreadPoolExecutor
sys.path.insert(0, sys.argv[1])
from run import bare_run
from pathlib import Path
nb, n, workers = Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
with ThreadPoolExecutor(max_workers=workers) as pool:
    list(pool.map(lambda k: bare_run(nb, nb.with_name(f"bare-{k}.ipynb")), range(n)))
"""


def bare_run(nb: Path, out: Path) -> None:
    """One bare report: a worker process running papermill on the bare notebook (as the batch does)."""
    code = ("import papermill as pm, sys; from kpi.run.job import kernel_name; "
            "pm.execute_notebook(sys.argv[1], sys.argv[2], kernel_name=kernel_name(), progress_bar=False)")
    subprocess.run([sys.executable, "-c", code, str(nb), str(out)], check=True, capture_output=True, cwd=ROOT)


def part_a_c(workers: int, repeat: int = 1) -> list[dict]:
    """`repeat` rounds, each: the batch (--force), the re-run with nothing changed, then the 5 bare runs."""
    from kpi.demo import write_demo
    from kpi.plan import load_plan

    work = Path(tempfile.mkdtemp(prefix="kpi-bench-"))
    rounds = []
    try:
        write_demo(work / "data", load_plan())
        nb = work / "bare.ipynb"
        nb.write_text(json.dumps(BARE_NOTEBOOK), encoding="utf-8")
        for k in range(repeat):
            out = work / f"out-{k}"
            args = ["run", "--data", str(work / "data"), "--out", str(out), "--period", "2026-11",
                    "--format", "html,pdf", "--workers", str(workers)]
            full, proc, full_cpu = timed(kpi_cmd(*args, "--force"))
            if proc.returncode != 0:
                raise SystemExit(f"batch failed:\n{proc.stdout}\n{proc.stderr}")
            rerun, proc2, _ = timed(kpi_cmd(*args))
            assert "0 báo cáo tạo mới" in proc2.stdout, proc2.stdout
            bare, proc3, bare_cpu = timed([sys.executable, "-c", BARE_RUNNER, str(HERE), str(nb), "5", str(workers)])
            if proc3.returncode != 0:
                raise SystemExit(f"bare runs failed:\n{proc3.stderr}")
            rounds.append({"batch_s": full, "bare_s": bare, "rerun_s": rerun, "batch_cpu": full_cpu,
                           "bare_cpu": bare_cpu, "load": os.getloadavg()[0]})
            print(f"  measured a/c round {k + 1}: {rounds[-1]}", file=sys.stderr, flush=True)
        return rounds
    finally:
        shutil.rmtree(work, ignore_errors=True)


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
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parts", default="a,b,c,d")
    ap.add_argument("--sizes", default="province,national")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--repeat", type=int, default=1, help="rounds of part a/c (batch, re-run, bare), one after another")
    ap.add_argument("--limit", type=float, default=900, help="seconds allowed per part-b measurement")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        size, engine = args.child.split(":")
        print(json.dumps(dask_child(size, args.workers) if engine == "dask" else part_b_child(size, engine, args.workers)))
        return
    parts = set(args.parts.split(","))
    print(f"kpi-kit benchmarks on {os.cpu_count()} cores, workers = {args.workers}")
    if parts & {"a", "c"}:
        rounds = part_a_c(args.workers, args.repeat)
        print("\n(a) month's batch, 5 reports, HTML + PDF, vs 5 bare papermill runs (pandas + seaborn, one chart)")
        for r in rounds:
            cpu = (f"   CPU {r['batch_cpu']:.1f} s vs {r['bare_cpu']:.1f} s ({r['batch_cpu'] / r['bare_cpu']:.2f}x)"
                   if r["batch_cpu"] and r["bare_cpu"] else "")
            print(f"    batch {r['batch_s']:.1f} s   bare {r['bare_s']:.1f} s   ratio {r['batch_s'] / r['bare_s']:.2f}x"
                  f"{cpu}   load {r['load']:.1f}")
        ratios = sorted(r["batch_s"] / r["bare_s"] for r in rounds)
        print(f"    median ratio {statistics.median(ratios):.2f}x over {len(rounds)} round(s), "
              f"range {ratios[0]:.2f}-{ratios[-1]:.2f}x  (goal <= 1.5x)")
        print("\n(c) re-run with nothing changed vs the full batch")
        for r in rounds:
            print(f"    re-run {r['rerun_s']:.1f} s   full {r['batch_s']:.1f} s   share {100 * r['rerun_s'] / r['batch_s']:.1f} %"
                  f"  (goal <= 10 %)")
    if "b" in parts:
        res = part_b(args.sizes.split(","), args.workers, args.limit)
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
        for x in sorted(part_d(), key=lambda x: x["report"] != "commune"):
            bound = HTML_BOUNDS_KB["commune" if x["report"] == "commune" else "unit"]
            print(f"    {x['report']:<8} {x['kb']:7.1f} KB  (report.css {x['css_kb']:.1f} KB, SVG charts "
                  f"{x['svg_kb']:.1f} KB, PNG {x['png']}, script {x['script']})   bound {bound} KB: "
                  f"{'within' if x['kb'] <= bound else 'OVER'}")


if __name__ == "__main__":
    main()

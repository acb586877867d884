"""The benchmark's DuckDB yardstick computes the same numbers as kpi/province/__init__.py (pins: test_environment.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from kpi import province
from kpi.core import paths
from kpi.plan import load_plan

PLAN = load_plan()
ROOT = Path(__file__).parent / "fixtures" / "province3"


def test_duckdb_agrees_with_pandas():
    duckdb = pytest.importorskip("duckdb")  # noqa: F841 - the `bench` extra
    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    from duckdb_scorecard import duckdb_history

    pdata = province.load_province(ROOT, PLAN)
    hist = province.commune_history(pdata.data, PLAN, "2026-02", pdata.villages)
    roll = province.rollup(hist, PLAN)
    communes, prov = duckdb_history(pdata.data, PLAN, "2026-02")
    key = ["commune", "indicator", "month"]
    ours = hist[hist["villages_reported"] > 0].sort_values(key).reset_index(drop=True)
    theirs = communes.sort_values(key).reset_index(drop=True)
    assert len(ours) == len(theirs) > 0
    for col in ("numerator", "denominator", "value", "villages_reported"):
        np.testing.assert_allclose(ours[col].astype(float), theirs[col].astype(float), equal_nan=True)
    ours_p = roll[roll["communes_reported"] > 0].sort_values(["indicator", "month"]).reset_index(drop=True)
    theirs_p = prov.sort_values(["indicator", "month"]).reset_index(drop=True)
    for col in ("numerator", "denominator", "value", "communes_reported"):
        np.testing.assert_allclose(ours_p[col].astype(float), theirs_p[col].astype(float), equal_nan=True)


def _bench_module():
    """benchmarks/run.py as a module (it is a script, not part of the kit)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("kpi_benchmarks_run", paths.ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_dask_engine_computes_the_pandas_numbers_on_the_synthetic_blocks():
    """Part b's Dask engine: the synthetic table made block by block where each partition is computed (a block
    made alone is the table's rows of its communes), every commune's history with province_dask without a
    shuffle, and the roll-up, equal the pandas path on the whole table."""
    dask = pytest.importorskip("dask")
    dd = pytest.importorskip("dask.dataframe")
    import pandas as pd

    from kpi.province import on_dask as province_dask

    bench = _bench_module()
    communes, villages = 150, 3  # two blocks: 100 and 50 communes
    plan, data = bench.synthetic_long(communes, villages)
    ddf = dd.from_map(bench.synthetic_block, [0, bench.BLOCK], args=(communes, villages),
                      meta=bench.synthetic_block(communes, communes, villages), enforce_metadata=False)
    per = pd.Series(villages, index=pd.Index([f"xa_{i:04d}" for i in range(communes)], name="commune"))
    with dask.config.set(scheduler="sync"):
        second = ddf.partitions[1].compute()
        hist = province_dask.commune_history(ddf, plan, "2026-12", per).compute()
        roll = province_dask.rollup(province_dask.commune_history(ddf, plan, "2026-12", per),
                                    plan, "2026-12")
    pd.testing.assert_frame_equal(second.reset_index(drop=True),
                                  data[data["commune"].cat.codes >= bench.BLOCK].reset_index(drop=True))
    expected = province.commune_history(data, plan, "2026-12", per)
    pd.testing.assert_frame_equal(hist.reset_index(drop=True), expected, check_dtype=False)
    pd.testing.assert_frame_equal(roll, province.rollup(expected, plan), check_dtype=False)


def _essential_module():
    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    import essential

    return essential


def test_essential_runner_injects_the_notebook_parameters():
    """benchmarks/essential.py gives the master notebook's cells every parameter of its parameters cell, as
    kpi/run/job.py `execute` hands them to papermill."""
    import ast
    import json

    essential = _essential_module()
    params, cells = essential.code_cells(paths.MASTER_NOTEBOOK)
    names = {t.id for node in ast.parse(params).body if isinstance(node, (ast.Assign, ast.AnnAssign))
             for t in (node.targets if isinstance(node, ast.Assign) else [node.target])}
    given = essential.injected("2026-11", "kt", "data/sample", paths.PLAN_FILE, "outputs/2026-11", "vi", "2026-12-01")
    assert set(given) == names
    nb = json.loads(paths.MASTER_NOTEBOOK.read_text(encoding="utf-8"))
    assert len(cells) == sum(c["cell_type"] == "code" for c in nb["cells"]) - 1  # every code cell but the parameters


def test_part_a_summary_takes_medians_and_ratios():
    bench = _bench_module()
    rounds = [{"batch_s": 20.0, "batch_cpu": 30.0, "rerun_s": 1.0, "bare_s": 10.0, "bare_own_s": 8.0, "bare_cpu": 9.0,
               "naive_s": 40.0, "naive_own_s": 40.0, "naive_cpu": 50.0},
              {"batch_s": 30.0, "batch_cpu": 10.0, "rerun_s": 3.0, "bare_s": 20.0, "bare_own_s": 8.0, "bare_cpu": 9.0,
               "naive_s": 60.0, "naive_own_s": 40.0, "naive_cpu": 50.0},
              {"batch_s": 10.0, "batch_cpu": 20.0, "rerun_s": 2.0, "bare_s": 30.0, "bare_own_s": 8.0, "bare_cpu": 9.0,
               "naive_s": 50.0, "naive_own_s": 40.0, "naive_cpu": 50.0}]
    ess = {"imports_cpu": 1.0, "reports": {u: {"cpu": 2.0} for u in ("commune", "vhxh", "kt", "ttpvhcc", "ca")}}
    out = bench.summarize_a_c({"rounds": rounds, "essential": ess})
    assert out["batch_per_bare"] == pytest.approx(1.0)
    assert out["batch_per_naive"] == pytest.approx(0.4)
    assert out["cpu_per_report"] == pytest.approx(4.0)
    assert out["overhead"] == pytest.approx(2.0)
    assert out["rerun_share"] == pytest.approx(0.1)


@pytest.mark.slow
def test_essential_runner_encodes_the_charts(tmp_path):
    """The essential work really runs the notebook's cells for a unit and encodes its charts (SVG)."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, str(paths.ROOT / "benchmarks" / "essential.py"), "--data",
                           str(paths.ROOT / "data" / "sample"), "--out", str(tmp_path), "--units", "kt"],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["imports_cpu"] > 0
    kt = got["reports"]["kt"]
    assert kt["cpu"] > 0 and kt["outputs"] > 10 and kt["svg_bytes"] > 10_000

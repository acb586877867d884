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


@pytest.mark.slow
def test_bare_baseline_runs_the_bare_notebook(tmp_path):
    """Part a's yardstick really runs papermill on the bare notebook: its one cell ends with a chart."""
    import json
    import subprocess

    sys.path.insert(0, str(paths.ROOT / "benchmarks"))
    import run as bench

    nb = tmp_path / "bare.ipynb"
    nb.write_text(json.dumps(bench.BARE_NOTEBOOK), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", bench.BARE_RUNNER, str(paths.ROOT / "benchmarks"), str(nb), "2", "2"],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stderr
    for k in range(2):
        done = json.loads((tmp_path / f"bare-{k}.ipynb").read_text(encoding="utf-8"))
        outputs = done["cells"][0]["outputs"]
        assert any("image/png" in o.get("data", {}) for o in outputs)

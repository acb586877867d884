"""The benchmark's DuckDB yardstick computes the same numbers as kpi/province.py (pins: test_environment.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from kpi import paths, province
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

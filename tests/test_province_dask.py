"""The province roll-up with dask.dataframe on a Dask LocalCluster (loopback, started here) equals the pandas
roll-up of kpi/province.py on the three-commune fixture, and the hand-worked numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi import province
from kpi.plan import load_plan

distributed = pytest.importorskip("distributed")  # the `dask` extra
dd = pytest.importorskip("dask.dataframe")

from kpi import province_dask  # noqa: E402

PLAN = load_plan()
ROOT = Path(__file__).parent / "fixtures" / "province3"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as c:
            yield c


@pytest.mark.parametrize("period", ["2026-01", "2026-02"])
def test_dask_rollup_equals_the_pandas_rollup(client, period):
    pdata = province.load_province(ROOT, PLAN)
    expected = province.province_report(pdata, PLAN, period).scorecard
    # three partitions that each mix communes: the shuffle must bring every commune's rows together
    ddf = dd.from_pandas(pdata.data.sample(frac=1, random_state=3).reset_index(drop=True), npartitions=3)
    got = province_dask.province_scorecard(ddf, PLAN, period, pdata.villages, len(pdata.communes), client=client)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_dask_rollup_numbers_by_hand(client):
    pdata = province.load_province(ROOT, PLAN)
    ddf = dd.from_pandas(pdata.data, npartitions=2)
    p = province_dask.province_scorecard(ddf, PLAN, "2026-02", pdata.villages, client=client).set_index("indicator")
    # (150 + 90 + 30) / (300 + 100 + 300): a ratio of sums over communes, not the mean of 50, 90 and 10
    assert p.loc["1", "value"] == pytest.approx(100 * 270 / 700)
    assert (p.loc["1", "numerator"], p.loc["1", "denominator"], p.loc["1", "communes_reported"]) == (270, 700, 3)
    assert p.loc["10", "value"] == pytest.approx(100 * 34 / 40)
    assert p.loc["7", "value"] == 3
    assert pd.isna(p.loc["15", "value"]) and p.loc["15", "status"] == "no_data"
    assert (p["communes_expected"] == 3).all()


def test_commune_history_on_dask_equals_pandas(client):
    pdata = province.load_province(ROOT, PLAN)
    expected = province.commune_history(pdata.data, PLAN, "2026-02", pdata.villages)
    ddf = dd.from_pandas(pdata.data, npartitions=3)
    got = client.compute(province_dask.commune_history(ddf, PLAN, "2026-02", pdata.villages)).result()
    keys = ["commune", "indicator", "month"]
    got = got.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)

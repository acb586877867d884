"""The province roll-up with dask.dataframe on a Dask LocalCluster (loopback, started here) equals the pandas
roll-up of kpi/province/__init__.py on the three-commune fixture, and the hand-worked numbers: from long data in any
partitioning of whole communes (the rows in any order), and from the commune folders read by the workers (one partition each)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpi import province
from kpi.core import paths
from kpi.core.fingerprint import sha256_file
from kpi.plan import load_plan

distributed = pytest.importorskip("distributed")  # the `dask` extra
dd = pytest.importorskip("dask.dataframe")
dask = pytest.importorskip("dask")

from kpi.province import on_dask as province_dask  # noqa: E402

PLAN = load_plan()
ROOT = Path(__file__).parent / "fixtures" / "province3"


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        with distributed.Client(cluster.scheduler_address, set_as_default=False) as c:
            yield c


def by_communes(data: pd.DataFrame, npartitions: int):
    """The long data as a dask DataFrame whose partitions each hold whole communes (blocks of communes)."""
    communes = sorted(data["commune"].unique())
    blocks = [communes[i::npartitions] for i in range(npartitions)]
    return dd.from_delayed([dask.delayed(data[data["commune"].isin(b)].reset_index(drop=True)) for b in blocks],
                           meta=data.iloc[:0])


def dask_scorecard(ddf, period: str, villages, communes: int, client) -> pd.DataFrame:
    history = province_dask.commune_history(ddf, PLAN, period, villages)
    return province.province_scorecard(province_dask.rollup(history, PLAN, period, client), PLAN, period, communes)


@pytest.mark.parametrize("period", ["2026-01", "2026-02"])
def test_dask_rollup_equals_the_pandas_rollup(client, period):
    pdata = province.load_province(ROOT, PLAN)
    expected = province.province_report(pdata, PLAN, period).scorecard
    # the rows in a shuffled order, each partition a block of whole communes
    ddf = by_communes(pdata.data.sample(frac=1, random_state=3).reset_index(drop=True), 2)
    got = dask_scorecard(ddf, period, pdata.villages, len(pdata.communes), client)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_dask_rollup_numbers_by_hand(client):
    pdata = province.load_province(ROOT, PLAN)
    ddf = by_communes(pdata.data, 2)
    p = dask_scorecard(ddf, "2026-02", pdata.villages, 3, client).set_index("indicator")
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
    ddf = by_communes(pdata.data, 3)
    got = client.compute(province_dask.commune_history(ddf, PLAN, "2026-02", pdata.villages)).result()
    keys = ["commune", "indicator", "month"]
    got = got.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


# --- a province root read on the cluster, one partition per commune folder (what `kpi run --scheduler` uses) --

def totals_of(root: Path, client) -> province_dask.ProvinceTotals:
    return province_dask.province_totals(province_dask.read_province(root, paths.PLAN_FILE), PLAN, paths.PLAN_FILE,
                                         client)


@pytest.mark.parametrize("period", ["2026-01", "2026-02"])
def test_folders_read_on_the_cluster_give_the_pandas_report(client, period):
    """Every frame of the province report, from the folders read by the workers, equals the pandas path's
    (province.load_province + province_report, computed here independently)."""
    got = province_dask.province_report(totals_of(ROOT, client), PLAN, period)
    expected = province.province_report(province.load_province(ROOT, PLAN), PLAN, period)
    for name in province.REPORT_FRAMES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), check_dtype=False, obj=name)


def test_folders_read_on_the_cluster_numbers_by_hand(client):
    totals = totals_of(ROOT, client)
    assert totals.latest == "2026-02"
    assert totals.villages.to_dict() == {"xa_a": 2, "xa_b": 1, "xa_c": 2}  # from each commune.yml
    rep = province_dask.province_report(totals, PLAN, "2026-02")
    p = rep.scorecard.set_index("indicator")
    # (150 + 90 + 30) / (300 + 100 + 300): a ratio of sums over communes, not the mean of 50, 90 and 10
    assert (p.loc["1", "numerator"], p.loc["1", "denominator"], p.loc["1", "communes_reported"]) == (270, 700, 3)
    assert p.loc["1", "value"] == pytest.approx(100 * 270 / 700)
    assert p.loc["10", "value"] == pytest.approx(100 * 34 / 40)  # (14 + 20) / (20 + 20), C sent nothing
    assert p.loc["7", "value"] == 3  # 1 + 2
    c = rep.communes.set_index(["commune", "indicator"])
    assert c.loc[("xa_c", "1"), "value"] == pytest.approx(10.0)  # 30 / 300, one village of two
    assert (c.loc[("xa_c", "1"), "villages_reported"], c.loc[("xa_c", "1"), "villages_expected"]) == (1, 2)
    assert [c.loc[(x, "1"), "rank"] for x in ("xa_b", "xa_a", "xa_c")] == [1, 2, 3]
    assert rep.not_reported.to_dict("records") == [{"commune": "xa_c", "missing_units": "kt, ttpvhcc", "missing": 2}]


def test_each_commune_folder_is_read_once(client, monkeypatch):
    """One pass: the history, the roll-up sums, the received files and the villages all come from one read
    of each folder (the workers are threads of this process, so the count is seen here)."""
    import kpi.intake.validate

    read = []
    real = kpi.intake.validate.load_submissions
    monkeypatch.setattr(kpi.intake.validate, "load_submissions", lambda d, plan: read.append(Path(d).name) or real(d, plan))
    totals_of(ROOT, client)
    assert sorted(read) == ["xa_a", "xa_b", "xa_c"]


def test_a_commune_that_sent_nothing(client, tmp_path):
    """A commune folder with an empty submissions/ still has its rows (no data, its villages expected) and is
    listed as not reported, as on the pandas path."""
    root = tmp_path / "province"
    shutil.copytree(ROOT, root)
    (root / "xa_d" / "submissions").mkdir(parents=True)
    got = province_dask.province_report(totals_of(root, client), PLAN, "2026-02")
    expected = province.province_report(province.load_province(root, PLAN), PLAN, "2026-02")
    for name in province.REPORT_FRAMES:
        pd.testing.assert_frame_equal(getattr(got, name), getattr(expected, name), check_dtype=False, obj=name)
    d = got.communes[got.communes["commune"] == "xa_d"]
    assert len(d) == len(PLAN.indicators) and (d["status"] == "no_data").all() and d["rank"].isna().all()
    assert (d.loc[d["indicator"] == "1", "villages_expected"] == len(PLAN.villages)).all()  # no commune.yml
    assert got.not_reported.set_index("commune").loc["xa_d", "missing"] == 4
    assert (got.scorecard["communes_expected"] == 4).all()
    assert got.scorecard.set_index("indicator").loc["1", "communes_reported"] == 3


def test_a_worker_that_does_not_see_the_folder_says_so(tmp_path):
    sha = sha256_file(paths.PLAN_FILE)
    with pytest.raises(province_dask.NotOnWorker, match="cùng đường dẫn trên mọi worker"):
        province_dask.read_commune(str(tmp_path / "xa_khong_co"), str(paths.PLAN_FILE), sha)
    other = tmp_path / "plan.yml"
    other.write_text(paths.PLAN_FILE.read_text(encoding="utf-8") + "\n# sửa\n", encoding="utf-8")
    with pytest.raises(province_dask.NotOnWorker, match="tệp kế hoạch"):
        province_dask.read_commune(str(ROOT / "xa_a"), str(other), sha)

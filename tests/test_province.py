"""Province roll-up on a three-commune fixture, numbers worked out by hand (tests/fixtures/province3)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi import province
from kpi.core import paths
from kpi.plan import load_plan

PLAN = load_plan()
ROOT = Path(__file__).parent / "fixtures" / "province3"


@pytest.fixture(scope="module")
def report() -> province.ProvinceReport:
    return province.province_report(province.load_province(ROOT, PLAN), PLAN, "2026-02")


def test_the_root_is_a_province():
    assert paths.is_province_root(ROOT)
    assert [d.name for d in paths.commune_dirs(ROOT)] == ["xa_a", "xa_b", "xa_c"]
    assert province.commune_plan(PLAN, ROOT / "xa_a").village_names == ["Thôn Đông", "Thôn Tây"]


def test_commune_values_by_hand(report):
    c = report.communes.set_index(["commune", "indicator"])
    # Indicator 1 (pop_4g5g / pop_total), February stock: A (50+100)/(100+200) = 50 %; B 90/100 = 90 %;
    # C only Thôn Một has both: 30/300 = 10 %, 1 of 2 villages.
    assert c.loc[("xa_a", "1"), "value"] == pytest.approx(50.0)
    assert c.loc[("xa_b", "1"), "value"] == pytest.approx(90.0)
    assert c.loc[("xa_c", "1"), "value"] == pytest.approx(10.0)
    assert (c.loc[("xa_c", "1"), "villages_reported"], c.loc[("xa_c", "1"), "villages_expected"]) == (1, 2)
    # Indicator 10 (flows, Jan+Feb): A (5+9)/(10+10) = 70 %; B 20/20 = 100 %; C sent nothing.
    assert c.loc[("xa_a", "10"), "value"] == pytest.approx(70.0)
    assert c.loc[("xa_b", "10"), "value"] == pytest.approx(100.0)
    assert pd.isna(c.loc[("xa_c", "10"), "value"])
    # Indicator 7 (count, year to date): A 1+0 = 1, B 2.
    assert c.loc[("xa_a", "7"), "value"] == 1 and c.loc[("xa_b", "7"), "value"] == 2


def test_province_is_a_ratio_of_sums_over_communes(report):
    p = report.scorecard.set_index("indicator")
    # (150 + 90 + 30) / (300 + 100 + 300) = 270 / 700, not the mean of 50, 90, 10 (= 50).
    assert p.loc["1", "value"] == pytest.approx(100 * 270 / 700)
    assert (p.loc["1", "numerator"], p.loc["1", "denominator"], p.loc["1", "communes_reported"]) == (270, 700, 3)
    assert p.loc["10", "value"] == pytest.approx(100 * 34 / 40)  # (14 + 20) / (20 + 20)
    assert p.loc["10", "communes_reported"] == 2
    assert p.loc["7", "value"] == 3  # 1 + 2
    assert p.loc["11", "value"] == pytest.approx(100 * 37 / 40)  # (19 + 18) / (20 + 20)
    assert p.loc["1", "status"] == "achieved"  # 38.6 ≥ 30
    assert p.loc["10", "status"] == "achieved"  # 85 ≥ 80
    assert p.loc["11", "status"] == "behind"  # 92.5 < 95, continuous
    # Indicator 7: A and B reported (C's kt sent nothing), so the province target is 2 + 2 = 4 (docs/rules.md §9), not one
    # commune's 2: 3 applications are below it (deadline 30/11 not passed in February: the forecast decides).
    assert p.loc["7", "communes_reported"] == 2 and p.loc["7", "target"] == 4
    assert p.loc["7", "target_rule"] == "sum_of_communes" and p.loc["7", "status"] != "achieved"
    assert p.loc["1", "target"] == 30 and p.loc["1", "target_rule"] == "commune_target"
    assert pd.isna(p.loc["4", "target"]) and p.loc["4", "target_rule"] == "encouraged"
    assert pd.isna(p.loc["15", "value"]) and p.loc["15", "status"] == "no_data"


def test_ranks_and_statuses_per_commune(report):
    c = report.communes.set_index(["commune", "indicator"])
    assert [c.loc[(x, "1"), "rank"] for x in ("xa_b", "xa_a", "xa_c")] == [1, 2, 3]
    assert pd.isna(c.loc[("xa_c", "10"), "rank"])
    assert c.loc[("xa_c", "1"), "status"] == "behind"  # 10 < 30, one month of data: no forecast
    assert c.loc[("xa_a", "11"), "status"] == "achieved"  # 19/20 = 95 ≥ 95
    assert c.loc[("xa_c", "10"), "status"] == "no_data"


def test_communes_that_have_not_reported(report):
    nr = report.not_reported
    assert nr.to_dict("records") == [{"commune": "xa_c", "missing_units": "kt, ttpvhcc", "missing": 2}]


def test_one_commune_alone_gives_its_rows_of_the_province_history():
    """A commune computed alone (as a Dask partition computes it) has the same history as within the
    province, even when it lacks elements that other communes report."""
    pdata = province.load_province(ROOT, PLAN)
    full = province.commune_history(pdata.data, PLAN, "2026-02", pdata.villages)
    for name in pdata.communes:
        alone = province.commune_history(pdata.data[pdata.data["commune"] == name], PLAN, "2026-02",
                                         pdata.villages[[name]])
        pd.testing.assert_frame_equal(alone.reset_index(drop=True),
                                      full[full["commune"] == name].reset_index(drop=True))


def test_a_written_report_reads_back_for_its_period_only(report, tmp_path):
    """The hand-over of `kpi run --scheduler` to the province notebook: the report the batch computed is what
    the notebook's build() returns, without reading the data root (which here does not exist)."""
    pytest.importorskip("pyarrow")  # the `dask` extra
    from kpi.report import province_views

    province.write_report(report, tmp_path / "results")
    plan, back = province_views.build("2026-02", tmp_path / "no-such-root", paths.PLAN_FILE, tmp_path / "results")
    assert back.period == "2026-02"
    for name in province.REPORT_FRAMES:
        pd.testing.assert_frame_equal(getattr(back, name), getattr(report, name), check_dtype=False, obj=name)
    assert back.scorecard.set_index("indicator").loc["1", "value"] == pytest.approx(100 * 270 / 700)
    with pytest.raises(ValueError, match="không phải kỳ 2026-03"):
        province.read_report(tmp_path / "results", "2026-03")


@pytest.mark.slow
def test_a_province_run_works_on_several_communes_at_once(tmp_path):
    """`kpi run` on a province root: the communes' reports share the workers, so with 2 workers two communes'
    reports run at the same time (not one commune after another); the province index lists all three."""
    import datetime as dt
    import re
    import shutil
    import subprocess
    import sys

    from tests.conftest import sleeping_notebook

    root = tmp_path / "tinh"
    shutil.copytree(ROOT, root)
    out = tmp_path / "out"
    # each commune's report sleeps 4 s after its parameters (a report of the in-worker engine takes about 1 s):
    # run side by side, two spans overlap by at least 2 s; one after another, they would not overlap at all
    notebook = sleeping_notebook(tmp_path, 4)
    proc = subprocess.run([sys.executable, "-m", "kpi", "run", "--data", str(root), "--out", str(out), "--period",
                           "2026-02", "--unit", "kt", "--format", "html", "--workers", "2", "--notebook", str(notebook)],
                          capture_output=True, text=True, cwd=paths.ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    def span(log: Path) -> tuple[dt.datetime, dt.datetime]:
        text = log.read_text(encoding="utf-8")
        start = dt.datetime.strptime(re.search(r"bắt đầu (\S+ \S+)", text).group(1), "%Y-%m-%d %H:%M:%S")
        stamps = re.findall(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", text, flags=re.M)
        return start, dt.datetime.strptime(stamps[-1], "%Y-%m-%d %H:%M:%S")

    spans = sorted(span(out / c / "2026-02" / "logs" / "kt.log") for c in ("xa_a", "xa_b", "xa_c"))
    overlap = max((min(e1, e2) - s2).total_seconds() for (s1, e1), (s2, e2) in zip(spans, spans[1:]))
    assert overlap >= 2, spans  # the second commune's report began well before the first one's ended
    index = (out / "province" / "2026-02" / "index.html").read_text(encoding="utf-8")
    assert index.count("Trang của xã</a>") == 3

    # The run's tables are the roll-up of the communes' folders, byte for byte (tests/test_distributed.py compares
    # the cluster's tables with this roll-up).
    from kpi.run.province_batch import write_tables

    tables = [out / "province" / "2026-02" / n for n in ("province_scorecard.csv", "communes.csv")]
    (tmp_path / "rollup").mkdir()
    write_tables(province.province_report(province.load_province(root, PLAN), PLAN, "2026-02"), tmp_path / "rollup")
    assert [t.read_bytes() for t in tables] == [(tmp_path / "rollup" / t.name).read_bytes() for t in tables]

    # Nothing changed: the re-run remakes nothing, and does not even rewrite the province tables.
    before = [t.stat().st_mtime_ns for t in tables]
    again = subprocess.run(proc.args, capture_output=True, text=True, cwd=paths.ROOT)
    assert again.returncode == 0 and "Tổng: 0 báo cáo tạo mới, 4 bỏ qua vì không đổi" in again.stdout, again.stdout
    assert [t.stat().st_mtime_ns for t in tables] == before


def test_a_province_of_one_commune_is_that_communes_own_scorecard():
    """docs/rules.md §3 has one implementation: each commune of the fixture, rolled up as a province of its own, has the
    values, numerators, denominators, forecasts and statuses of the commune scorecard (kpi.indicators.compute)."""
    from kpi.indicators import compute
    from kpi.intake.validate import load_submissions

    for d in paths.commune_dirs(ROOT):
        cplan = province.commune_plan(PLAN, d)
        own = compute.scorecard(load_submissions(d, cplan).data, cplan, "2026-02").set_index("indicator")
        pdata = province.load_province(ROOT, PLAN)
        pdata.data = pdata.data[pdata.data["commune"] == d.name]
        pdata.villages, pdata.communes = pdata.villages[[d.name]], [d.name]
        prov = province.province_report(pdata, PLAN, "2026-02").scorecard.set_index("indicator")
        for col in ("value", "numerator", "denominator", "forecast"):
            pd.testing.assert_series_equal(prov[col].astype("float64"), own[col].astype("float64"),
                                           check_names=False, obj=f"{d.name} {col}")
        assert list(prov["status"]) == list(own["status"]), d.name

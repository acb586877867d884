"""The batch's validated-data cache: used only when its key matches, ignored when any input changed or when
the file is not the user's own plain file; written atomically."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi import report
from kpi.core import fingerprint, paths
from kpi.intake import cache
from kpi.intake.validate import load_submissions
from kpi.plan import load_plan
from kpi.plan.model import Village
from kpi.run import inputs

PLAN = load_plan()


@pytest.fixture()
def data(demo_data: Path) -> Path:
    return demo_data  # `kpi demo-data` at tmp_path/data (a copy of the session's, tests/conftest.py)


def _without(subs, element: str):
    """A copy of Submissions with one element's rows gone: a cache a report can be seen to have used."""
    return dataclasses.replace(subs, data=subs.data[subs.data["element"] != element].reset_index(drop=True))


def _value(r: report.MonthReport, ind: str) -> float:
    return float(r.scorecard.set_index("indicator").loc[ind, "value"])


def test_build_uses_a_matching_cache_and_ignores_a_stale_one(data: Path, tmp_path: Path):
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)
    fresh = report.build("2026-11", "commune", data, made_on="2026-12-05")
    assert _value(fresh, "4") >= 0  # the demo data has a count for indicator 4

    subs = load_submissions(data, PLAN)
    cache.write(_without(subs, "st_enterprises"), out, cache.data_key(data))
    cached = report.build("2026-11", "commune", data, made_on="2026-12-05", output_dir=out)
    assert pd.isna(_value(cached, "4"))  # the report read the cache, not the files
    assert fresh.scorecard.set_index("indicator").loc["4", "status"] != "no_data"
    assert cached.scorecard.set_index("indicator").loc["4", "status"] == "no_data"
    # every other indicator is the same number either way
    a = fresh.scorecard.set_index("indicator").drop(index="4")["value"]
    b = cached.scorecard.set_index("indicator").drop(index="4")["value"]
    pd.testing.assert_series_equal(a, b)

    # A unit's file changes after the batch wrote the cache: the key differs, the report validates anew.
    f = next(p for p in sorted(paths.submissions_dir(data).rglob("*.csv")))
    f.write_bytes(f.read_bytes() + b"\n")  # same rows, different bytes
    again = report.build("2026-11", "commune", data, made_on="2026-12-05", output_dir=out)
    assert _value(again, "4") == _value(fresh, "4")


def test_key_follows_data_plan_and_kit(data: Path, tmp_path: Path):
    k = cache.data_key(data)
    assert k == cache.data_key(data)
    plan_copy = tmp_path / "plan.yml"
    plan_copy.write_text(paths.PLAN_FILE.read_text(encoding="utf-8") + "\n# sửa\n", encoding="utf-8")
    assert cache.data_key(data, plan_copy) != k
    assert cache.data_key(data, kit="0+other") != k
    (data / "README.md").write_text("real data now", encoding="utf-8")
    assert cache.data_key(data) != k


def test_cache_file_is_private_atomic_and_single(data: Path, tmp_path: Path):
    out = tmp_path / "p"
    out.mkdir()
    (paths.submissions_dir(data) / "ghi_chu_kt.csv").write_text(  # a units' note, and one naming no unit
        "unit,period,indicator,field,text\nkt,2026-11,,highlights,Hỗ trợ 3 doanh nghiệp.\nxyz,2026-11,,highlights,x\n",
        encoding="utf-8")
    subs = load_submissions(data, PLAN)
    first = cache.write(subs, out, "a" * 64)
    killed = cache.cache_dir(out) / f".{cache.PREFIX}{'a' * 64}.99999.part"  # a killed run's leftover
    killed.mkdir()
    (killed / "data.parquet").write_bytes(b"half a file")
    second = cache.write(subs, out, "b" * 64)
    assert not first.exists() and second.exists()  # one cache per folder
    assert sorted(p.name for p in cache.cache_dir(out).iterdir()) == [second.name]  # no temporary left
    assert second.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in second.iterdir()} == {0o600}
    # nothing in it can run code when read: Parquet frames and JSON
    assert sorted(p.name for p in second.iterdir()) == ["data.parquet", "facts.json", "files.parquet",
                                                         "meta.json", "notes.parquet", "received.parquet",
                                                         "rejected.parquet", "revisions.parquet"]
    got = cache.read(out, "b" * 64)
    pd.testing.assert_frame_equal(got.data, subs.data)
    pd.testing.assert_frame_equal(got.files, subs.files)
    pd.testing.assert_frame_equal(got.revisions, subs.revisions)
    pd.testing.assert_frame_equal(got.received, subs.received)
    assert got.problems == subs.problems and got.file_periods == subs.file_periods
    # the units' notes as they were read: a report from the cache does not open the files again for them
    assert got.notes.to_dict("records") == subs.notes.to_dict("records") and got.note_messages == subs.note_messages
    assert list(got.notes["text"]) == ["Hỗ trợ 3 doanh nghiệp."]
    assert [(f, "đơn vị 'xyz'" in m) for f, m in got.note_messages] == [("ghi_chu_kt.csv", True)]
    assert list(got.rejected["error"]) == list(subs.rejected["error"])
    assert cache.read(out, "c" * 64) is None


def test_untrusted_cache_files_are_never_read(data: Path, tmp_path: Path):
    subs = load_submissions(data, PLAN)
    src = tmp_path / "src"
    src.mkdir()
    real = cache.write(subs, src, "k" * 64)

    linked = tmp_path / "linked"
    cache.cache_dir(linked).mkdir(parents=True)
    cache.cache_file(linked, "k" * 64).symlink_to(real)
    assert cache.read(linked, "k" * 64) is None

    hard = tmp_path / "hard"
    cache.cache_file(hard, "k" * 64).mkdir(parents=True, mode=0o700)
    for part in real.iterdir():
        os.link(part, cache.cache_file(hard, "k" * 64) / part.name)
    assert cache.read(hard, "k" * 64) is None
    assert cache.read(src, "k" * 64) is None  # the original is now hard-linked too

    shared = tmp_path / "shared"
    target = cache.write(subs, shared, "s" * 64)
    (target / "data.parquet").chmod(0o666)
    assert cache.read(shared, "s" * 64) is None
    target2 = cache.write(subs, tmp_path / "shared2", "s" * 64)
    target2.chmod(0o777)
    assert cache.read(tmp_path / "shared2", "s" * 64) is None

    folder_link = tmp_path / "folder-link"
    folder_link.mkdir()
    good = tmp_path / "good"
    cache.write(subs, good, "g" * 64)
    (folder_link / cache.CACHE_DIR).symlink_to(cache.cache_dir(good))
    assert cache.read(folder_link, "g" * 64) is None
    assert cache.read(good, "g" * 64) is not None


def test_damaged_cache_falls_back_to_validation(data: Path, tmp_path: Path):
    out = tmp_path / "out"
    target = cache.write(load_submissions(data, PLAN), out, cache.data_key(data))
    (target / "data.parquet").write_bytes(b"not parquet")
    assert cache.read(out, cache.data_key(data)) is None
    r = report.build("2026-11", "commune", data, made_on="2026-12-05", output_dir=out)
    assert _value(r, "4") == _value(report.build("2026-11", "commune", data, made_on="2026-12-05"), "4")


def test_batch_writes_the_cache_only_for_the_plan_it_validated_with(data: Path, tmp_path: Path):
    subs = load_submissions(data, PLAN)
    out = tmp_path / "out"
    out.mkdir()
    key = cache.data_key(data, paths.PLAN_FILE)
    written = inputs.write_cache(PLAN, subs, load_plan(paths.PLAN_FILE), out, key)
    assert written == cache.cache_file(out, key)
    assert cache.read(out, cache.data_key(data)).data.equals(subs.data)

    other = dataclasses.replace(PLAN, villages=(Village("t01", "Thôn Khác"),))
    assert inputs.write_cache(other, subs, load_plan(paths.PLAN_FILE), tmp_path / "out2", key) is None
    assert not (tmp_path / "out2").exists()


def test_plan_import_skips_the_slow_iri_helper_but_leaves_it_importable():
    pytest.importorskip("rfc3987_syntax")
    code = ("import sys; import kpi.plan; print('rfc3987_syntax' in sys.modules); "
            "kpi.plan.load_plan(); import rfc3987_syntax; print(hasattr(rfc3987_syntax, 'is_valid_syntax'))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.ROOT, check=True)
    assert proc.stdout.split() == ["False", "True"]


def test_kpi_run_reuses_the_batch_cache_of_the_requested_period(data: Path, tmp_path: Path):
    import argparse


    from kpi.cli import run as cli_run

    out = tmp_path / "out"
    subs = load_submissions(data, PLAN)
    cache.write(_without(subs, "st_enterprises"), out / "2026-11", cache.data_key(data))
    args = argparse.Namespace(period="2026-10..2026-11", out=str(out), plan=None)
    got = cli_run.batch_cache(args, fingerprint.take(data))
    assert got is not None and "st_enterprises" not in set(got.data["element"])  # the cached copy
    for period in ("2026-09", None, "tháng 11"):
        assert cli_run.batch_cache(argparse.Namespace(period=period, out=str(out), plan=None), fingerprint.take(data)) is None
    (data / "README.md").write_text("changed", encoding="utf-8")  # any input changed: validate again
    assert cli_run.batch_cache(args, fingerprint.take(data)) is None


def test_a_province_commune_gets_the_cache_too(tmp_path: Path):
    """A province batch validates each commune with the commune's plan and hands the notebooks the plan file
    it wrote (same plan, the commune's name and villages): the cache is written and used."""
    from kpi import province

    commune = Path(__file__).parent / "fixtures" / "province3" / "xa_a"
    cplan = province.commune_plan(PLAN, commune)
    plan_file = tmp_path / "plan.yml"
    plan_file.write_text(province.commune_plan_yaml(paths.PLAN_FILE, cplan), encoding="utf-8")
    subs = load_submissions(commune, cplan)
    out = tmp_path / "out" / "2026-02"
    assert inputs.write_cache(cplan, subs, load_plan(plan_file), out, cache.data_key(commune, plan_file)) is not None
    assert cache.read(out, cache.data_key(commune, plan_file)).data.equals(subs.data)
    cached = report.build("2026-02", "commune", commune, plan_file, made_on="2026-03-05", output_dir=out)
    direct = report.build("2026-02", "commune", commune, plan_file, made_on="2026-03-05")
    pd.testing.assert_frame_equal(cached.scorecard, direct.scorecard)
    assert cached.scorecard.set_index("indicator").loc["1", "value"] == pytest.approx(50.0)  # 150 / 300


def test_the_batchs_scorecard_is_read_back_exactly_and_used_only_for_its_period_and_language(data: Path,
                                                                                          tmp_path: Path):
    """The batch leaves the period's scorecard with the cache (kpi.run.batch); a report of that period and
    language reads it instead of computing it, and gets the very frame the batch computed, dtypes included."""
    from kpi.indicators import compute

    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)
    subs = load_submissions(data, PLAN)
    card = compute.scorecard(subs.data, PLAN, "2026-11", "vi")
    marked = card.assign(status_label="ĐÁNH DẤU")  # a mark no computation writes: seen when the table is used
    key = cache.data_key(data)
    cache.write(subs, out, key, {cache.scorecard_name("2026-11", "vi"): marked})
    back = cache.read_table(out, key, cache.scorecard_name("2026-11", "vi"))
    pd.testing.assert_frame_equal(back, marked, check_exact=True)  # same values, same dtypes
    assert cache.read_table(out, key, cache.scorecard_name("2026-10", "vi")) is None

    used = report.build("2026-11", "vhxh", data, made_on="2026-12-05", output_dir=out)
    assert set(used.scorecard["status_label"]) == {"ĐÁNH DẤU"}
    other_period = report.build("2026-10", "vhxh", data, made_on="2026-12-05", output_dir=out)
    assert "ĐÁNH DẤU" not in set(other_period.scorecard["status_label"])
    english = report.build("2026-11", "vhxh", data, lang="en", made_on="2026-12-05", output_dir=out)
    assert "ĐÁNH DẤU" not in set(english.scorecard["status_label"])

"""kpi.core.paths: which plan a notebook reads a data folder under."""

from __future__ import annotations

from kpi.core import paths


def test_a_notebook_reads_a_folder_under_the_plan_of_its_year(tmp_path):
    for year in (2026, 2027):
        (tmp_path / f"plan_{year}.yml").write_text("year: %d\n" % year, encoding="utf-8")
    (tmp_path / "submissions" / "2026-12").mkdir(parents=True)
    # no period: the latest year of the submissions that has a plan (2026), not the latest plan (2027)
    assert paths.plan_file_of(tmp_path) == tmp_path / "plan_2026.yml"
    assert paths.plan_file_of(tmp_path, "2027-01") == tmp_path / "plan_2027.yml"  # the period's own year
    (tmp_path / "submissions" / "2027-01").mkdir()
    assert paths.plan_file_of(tmp_path, "") == tmp_path / "plan_2027.yml"
    empty = tmp_path / "new"
    empty.mkdir()
    (empty / "plan_2027.yml").write_text("year: 2027\n", encoding="utf-8")
    assert paths.plan_file_of(empty) == empty / "plan_2027.yml"  # no submissions yet: the folder's latest plan

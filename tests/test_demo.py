"""The synthetic sample: units' real file forms, the November mistakes, and the statuses the report shows."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from kpi.demo import write_demo
from kpi.indicators import compute
from kpi.intake.validate import load_submissions

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="module")
def sample(plan):
    return load_submissions(SAMPLE, plan)


def test_sample_is_marked_synthetic(sample):
    assert sample.synthetic
    assert "synthetic" in (SAMPLE / "README.md").read_text(encoding="utf-8")


def test_sample_file_forms():
    nov = sorted(p.name for p in (SAMPLE / "submissions" / "2026-11").iterdir())
    assert nov == ["ca.csv", "kt.csv", "ttpvhcc.csv", "ttpvhcc_v2.csv", "vhxh.xlsx"]
    assert (SAMPLE / "submissions" / "2026-10" / "ca.xlsx").is_file()
    raw = (SAMPLE / "submissions" / "2026-11" / "kt.csv").read_bytes()
    raw.decode("cp1258")  # Vietnamese Windows code page
    assert raw.startswith("Kỳ báo cáo".encode("utf-8")) is False


def test_november_mistakes(sample):
    nov = sorted((p.code, p.file, p.row) for p in sample.errors)
    # Công an's hand-typed CSV (header row 1; Thôn 10's pop_adult sent twice at rows 37-38, the extra
    # hamlet appended at the end) and one TT PVHCC row in Kinh tế's file.
    assert [c for c, _, _ in nov] == ["E_DUPLICATE", "E_FILE_OTHER_UNIT", "E_VALUE_NEGATIVE", "E_VALUE_NOT_NUMBER",
                                      "E_VILLAGE_UNKNOWN"]
    assert all(f.startswith("2026-11/") for _, f, _ in nov)
    files = sample.files.set_index("file")
    assert files.loc["2026-11/ca.csv", ["rows_read", "accepted", "rejected"]].tolist() == [184, 180, 4]
    fall = [p for p in sample.problems if p.code == "W_STOCK_FALL"]
    assert [(p.file, p.sheet, p.row, p.column) for p in fall] == [("2026-11/vhxh.xlsx", "Số liệu", 22, "C")]
    assert sample.data.query("period == '2026-11' and village == 'Thôn 15' and element == 'pop_4g5g'").shape[0] == 1
    # The tolerated spellings made it in: 'thôn 07', '  THÔN  12 ', '1.234'-style population.
    ca = sample.data[(sample.data["period"] == "2026-11") & (sample.data["unit"] == "ca")]
    assert {"Thôn 7", "Thôn 12"} <= set(ca["village"])


def test_statuses_and_timeliness(sample, plan):
    nov = compute.scorecard(sample.data, plan, "2026-11")
    assert {"achieved", "behind", "missed", "encouraged", "no_data"} <= set(nov["status"])
    assert "on_track" in set(compute.scorecard(sample.data, plan, "2026-09")["status"])
    # every unit sent November by the 5th (TT PVHCC first on the 3rd); Công an sent October on 14/11: 4 days after
    # the 10th; VHXH March on 12/04: 2 days
    tl = compute.timeliness(sample.received, plan, "2026-11").set_index("unit")
    assert set(tl["status"]) == {"on_time"}
    assert tl.loc["ttpvhcc", "submitted_on"] == pd.Timestamp("2026-12-03")
    tl = compute.timeliness(sample.received, plan, "2026-10").set_index("unit")
    assert tl.loc["ca", "status"] == "late" and tl.loc["ca", "days_late"] == 4
    tl = compute.timeliness(sample.received, plan, "2026-03").set_index("unit")
    assert tl.loc["vhxh", "status"] == "late" and tl.loc["vhxh", "days_late"] == 2
    assert compute.timeliness(sample.received, plan, "2026-07").set_index("unit").loc["kt", "status"] == "missing"
    comp = compute.completeness(sample.data, plan, "2026-11").set_index("element")
    assert comp.loc["adult_digital_signature", "reported"] == 24  # Thôn 7 and 19 left blank


def test_demo_data_regenerates_the_sample(tmp_path, plan, sample):
    write_demo(tmp_path, plan, seed=2026)
    for csv in sorted((SAMPLE / "submissions").rglob("*.csv")):
        assert (tmp_path / "submissions" / csv.relative_to(SAMPLE / "submissions")).read_bytes() == csv.read_bytes()
    again = load_submissions(tmp_path, plan)
    cols = ["period", "unit", "village", "element", "value"]
    assert again.data[cols].sort_values(cols).reset_index(drop=True).equals(
        sample.data[cols].sort_values(cols).reset_index(drop=True))


def test_sample_covers_january_to_november(sample, plan):
    assert sorted(sample.data["period"].unique()) == [f"2026-{m:02d}" for m in range(1, 12)]
    assert compute.latest_period(sample.data, plan) == "2026-11"


def test_magnitudes_are_those_of_a_real_commune(plan):
    from kpi.demo import demo_frame

    frame = demo_frame(plan)
    nov = frame[frame["period"] == "2026-11"].groupby("element")["value"].sum()
    assert 28_000 <= nov["pop_total"] <= 32_000
    assert 0.72 <= nov["pop_adult"] / nov["pop_total"] <= 0.78
    assert 25 <= nov["officials_total"] <= 40
    assert 20 <= nov["enterprises_total"] <= 80
    assert 200 <= nov["records_total"] <= 900


def test_same_seed_same_data(plan):
    from kpi.demo import demo_frame

    assert demo_frame(plan, seed=5).equals(demo_frame(plan, seed=5))
    assert not demo_frame(plan, seed=5).equals(demo_frame(plan, seed=6))


def test_validate_on_the_sample_reports_its_deliberate_problems_only(sample):
    """data/sample/README.md lists each problem put in the sample on purpose; those, and nothing else, are what
    the kit finds: 5 errors of Công an's and Kinh tế's November files, 3 villages left blank (Thôn 22 in October,
    Thôn 7 and 19 in November), Thôn 15's 4G/5G fall, TT PVHCC's 2 corrected values and its one re-send line."""
    found = Counter(p.code for p in sample.problems)
    assert found == {"E_DUPLICATE": 1, "E_FILE_OTHER_UNIT": 1, "E_VALUE_NEGATIVE": 1, "E_VALUE_NOT_NUMBER": 1,
                     "E_VILLAGE_UNKNOWN": 1, "W_VILLAGE_MISSING": 3, "W_STOCK_FALL": 1, "W_REVISED": 2,
                     "W_RESENT_SAME": 1}
    readme = (SAMPLE / "README.md").read_text(encoding="utf-8")
    assert all(code in readme for code in found)
    # the re-send: old values 12 and 5 below the new ones, both files and both dates
    rev = sample.revisions.set_index("element")
    assert (rev.loc["records_online", "new_value"] - rev.loc["records_online", "old_value"],
            rev.loc["payments_online", "new_value"] - rev.loc["payments_online", "old_value"]) == (12, 5)
    assert set(rev["old_file"]) == {"2026-11/ttpvhcc.csv"} and set(rev["new_file"]) == {"2026-11/ttpvhcc_v2.csv"}
    assert set(rev["old_date"]) == {pd.Timestamp("2026-12-03")} and set(rev["new_date"]) == {pd.Timestamp("2026-12-05")}
    (same,) = [p for p in sample.problems if p.code == "W_RESENT_SAME"]
    assert same.found == "5"  # TT PVHCC's 7 elements, 2 of them corrected


def test_no_warning_of_the_sample_depends_on_the_day_it_is_run(plan, monkeypatch):
    """The folder is as on 5 December 2026: no report date after it, so a run on that day or any later one finds
    no date after 'today' (W_DATE_FUTURE)."""
    monkeypatch.setenv("KPI_TODAY", "2026-12-05")
    subs = load_submissions(SAMPLE, plan)
    assert subs.received["submitted_on"].max() == pd.Timestamp("2026-12-05")
    assert not [p for p in subs.problems if p.code.startswith("W_DATE")]


def test_kpi_validate_on_the_sample_prints_its_deliberate_problems(capsys):
    """What the analyst sees: TT PVHCC's first file, 7 rows (its 7 elements), all replaced: 2 corrected and 5 sent
    again unchanged; 5 errors and 7 warnings (3 villages left blank, 1 fall, 2 corrections, 1 re-send line)."""
    from kpi.cli import main

    assert main(["validate", "--data", str(SAMPLE)]) == 1
    out = capsys.readouterr().out
    assert ("2026-11/ttpvhcc.csv: đọc 7 dòng, nhận 0, loại 7 (trong đó 2 giá trị đã được bản gửi sau sửa, 5 giá trị "
            "được gửi lại không đổi)") in out
    assert out.rstrip().endswith("Kết quả: 5 lỗi, 7 cảnh báo.")
    assert "W_DATE" not in out and "W_JUMP" not in out

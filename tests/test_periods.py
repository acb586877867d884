"""docs/rules.md §7, periods other than the month: the period arithmetic (kpi.core.periods), the period view with numbers
worked out by hand (a flow summed over Q2, a stock at the end of H1, the year's completed indicators, a
quarter against the quarter before), the refusal of a period not ended yet, and one real half-year run."""

from __future__ import annotations

import datetime as dt
import math
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi import cli
from kpi.core import paths, periods
from kpi.indicators import compute
from kpi.report import ParameterError, build, check_parameters
from tests.conftest import long_frame

# --- the arithmetic -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, kind, first, last, previous, words", [
    ("2026-11", "month", 11, 11, "2026-10", "tháng 11 năm 2026"),
    ("2026-01", "month", 1, 1, None, "tháng 1 năm 2026"),
    ("2026-Q1", "quarter", 1, 3, None, "quý I năm 2026"),
    ("2026-Q2", "quarter", 4, 6, "2026-Q1", "quý II năm 2026"),
    ("2026-Q3", "quarter", 7, 9, "2026-Q2", "quý III năm 2026"),
    ("2026-Q4", "quarter", 10, 12, "2026-Q3", "quý IV năm 2026"),
    ("2026-H1", "half", 1, 6, None, "6 tháng đầu năm 2026"),
    ("2026-9T", "nine", 1, 9, None, "9 tháng năm 2026"),
    ("2026", "year", 1, 12, None, "năm 2026"),
])
def test_each_kind_of_period(text, kind, first, last, previous, words):
    p = periods.parse(text)
    assert (p.kind, p.first, p.last, p.year) == (kind, first, last, 2026)
    assert periods.months(text) == [f"2026-{m:02d}" for m in range(first, last + 1)]
    assert periods.last_month(text) == f"2026-{last:02d}"
    assert periods.previous(text) == previous
    assert periods.period_words(text) == words


def test_end_dates_and_labels():
    assert periods.end_date("2026-Q1") == dt.date(2026, 3, 31)
    assert periods.end_date("2026-H1") == dt.date(2026, 6, 30)
    assert periods.end_date("2026-9T") == dt.date(2026, 9, 30)
    assert periods.end_date("2026") == dt.date(2026, 12, 31)
    assert periods.label("2026-11") == "tháng 11/2026"  # a month's heading keeps its short form
    assert periods.label("2026-H1") == "6 tháng đầu năm 2026"


@pytest.mark.parametrize("typed, written", [
    ("11/2026", "2026-11"), ("5/2026", "2026-05"), ("2026-q2", "2026-Q2"), ("2026-h1", "2026-H1"),
    ("2026-9t", "2026-9T"), ("2026", "2026"), ("2026-Q5", "2026-Q5"),
])
def test_typed_forms(typed, written):
    assert periods.normalize(typed) == written
    assert cli.period_arg(typed) == written


@pytest.mark.parametrize("bad", ["2026-Q5", "2026-Q0", "2026-H2", "2026-13", "2026-00", "26-Q1", "2026-9", "Q2",
                                 "2026-10T", " 2026-Q1", ""])
def test_unreadable_periods_are_refused_in_vietnamese(bad):
    with pytest.raises(periods.PeriodError, match="không hợp lệ: dùng một tháng"):
        periods.parse(bad)


def test_month_range():
    assert periods.month_range("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    with pytest.raises(periods.PeriodError, match="từ tháng đến tháng"):
        periods.month_range("2026-Q1", "2026-Q2")


# --- refusals: plan year, a period not ended, a month-only command -------------------------------------------

def test_a_period_not_ended_on_the_run_day_is_refused(plan, monkeypatch):
    monkeypatch.setenv("KPI_TODAY", "2026-06-30")  # the half-year's last day: June has not ended yet
    with pytest.raises(ParameterError, match=r"6 tháng đầu năm 2026.*chưa kết thúc.*30/06/2026"):
        check_parameters(plan, "2026-H1", "commune")
    check_parameters(plan, "2026-Q1", "commune")  # ended on 31/03
    check_parameters(plan, "2026-06", "commune")  # a month in progress stays allowed (templates, reminders)
    monkeypatch.setenv("KPI_TODAY", "2026-07-01")
    check_parameters(plan, "2026-H1", "commune")


def test_cli_refuses_with_exit_2(plan, monkeypatch, capsys):
    monkeypatch.setenv("KPI_TODAY", "2026-12-02")
    assert cli.main(["scorecard", "--period", "2026", "--data", str(paths.DATA_DIR)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "Kỳ báo cáo '2026' (năm 2026) chưa kết thúc" in err and "Traceback" not in err
    assert cli.main(["scorecard", "--period", "2025-Q1", "--data", str(paths.DATA_DIR)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err  # no plan of 2025 beside the sample's: the message says how to make one
    assert "không hợp lệ: chưa có kế hoạch năm 2025" in err and "(có kế hoạch các năm 2026, 2027)" in err
    assert "kpi init --data" in err and "--year 2025" in err and "Traceback" not in err
    assert cli.main(["template", "--unit", "ca", "--period", "2026-Q1"]) == cli.EXIT_USAGE  # a template is monthly
    assert "Kỳ báo cáo '2026-Q1' không hợp lệ: cần một tháng NNNN-TT trong năm 2026" in capsys.readouterr().err


def test_kpi_run_refuses_an_unended_quarter_before_making_anything(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kpi", "run", "--period", "2026-q4", "--data", str(paths.DATA_DIR),
                           "--out", str(out)], capture_output=True, text=True, cwd=paths.ROOT,
                          env={**os.environ, "KPI_TODAY": "2026-12-02"}, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Kỳ báo cáo '2026-Q4' (quý IV năm 2026) chưa kết thúc" in proc.stderr
    assert "hết vào ngày 31/12/2026, hôm nay là 02/12/2026" in proc.stderr and "Traceback" not in proc.stderr
    assert not (out / "2026-Q4").exists()


def test_scorecard_xlsx_names_the_period_columns(plan, tmp_path):
    import openpyxl

    from kpi.outputs.excel import write_scorecard_xlsx

    card = compute.scorecard(long_frame(YEAR_ROWS), plan, "2026-Q2")
    write_scorecard_xlsx(card, plan, "2026-Q2", tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx").active
    assert ws["A1"].value.endswith("xã Quảng Ngọc, quý II năm 2026")
    assert ws["A2"].value.startswith("Lũy kế từ tháng 1 đến hết tháng 6/2026")
    assert {"Trong quý", "So quý trước"} <= {c.value for c in ws[4]}


# --- the period view, by hand ---------------------------------------------------------------------------------

def test_a_flow_summed_over_q2_against_q1(plan):
    data = long_frame([
        # indicator 8, records digitised / records received (flows)
        ("2026-01", "ttpvhcc", "", "records_total", 100), ("2026-01", "ttpvhcc", "", "records_digitized", 100),
        ("2026-04", "ttpvhcc", "", "records_total", 50), ("2026-04", "ttpvhcc", "", "records_digitized", 40),
        ("2026-05", "ttpvhcc", "", "records_total", 30), ("2026-05", "ttpvhcc", "", "records_digitized", 30),
        ("2026-06", "ttpvhcc", "", "records_total", 20), ("2026-06", "ttpvhcc", "", "records_digitized", 10),
        ("2026-07", "ttpvhcc", "", "records_total", 999), ("2026-07", "ttpvhcc", "", "records_digitized", 1),
        # indicator 6, new start-ups (a flow count)
        ("2026-02", "kt", "", "startups_new", 1), ("2026-04", "kt", "", "startups_new", 2),
        ("2026-06", "kt", "", "startups_new", 1),
    ])
    card = compute.scorecard(data, plan, "2026-Q2").set_index("indicator")
    # Q2 alone: (40 + 30 + 10) / (50 + 30 + 20) = 80 / 100 = 80 %; July lies after the quarter.
    assert card.loc["8", "month_value"] == pytest.approx(80.0)
    # year to date at June (docs/rules.md §3 at E): (100 + 80) / (100 + 100) = 90 %, below 100 %: continuous, behind
    assert (card.loc["8", "numerator"], card.loc["8", "denominator"]) == (180, 200)
    assert card.loc["8", "value"] == pytest.approx(90.0) and card.loc["8", "status"] == "behind"
    # against Q1 (January alone: 100 / 100 = 100 %): 80 − 100 = −20 points
    assert card.loc["8", "previous_month_value"] == pytest.approx(100.0)
    assert card.loc["8", "change"] == pytest.approx(-20.0)
    # start-ups: Q2 2 + 1 = 3, Q1 1, change +2; year to date at June 1 + 2 + 1 = 4
    assert (card.loc["6", "month_value"], card.loc["6", "previous_month_value"], card.loc["6", "change"]) == (3, 1, 2)
    assert card.loc["6", "value"] == 4
    # Q1 has no earlier quarter in the year
    q1 = compute.scorecard(data, plan, "2026-Q1").set_index("indicator")
    assert q1.loc["8", "month_value"] == pytest.approx(100.0) and math.isnan(q1.loc["8", "previous_month_value"])


def test_a_stock_at_the_end_of_h1(plan):
    data = long_frame([
        # indicator 5, innovating / all enterprises (stocks): March 10/40, May 11/44, June 12/48
        ("2026-03", "kt", "", "enterprises_innovating", 10), ("2026-03", "kt", "", "enterprises_total", 40),
        ("2026-05", "kt", "", "enterprises_innovating", 11), ("2026-05", "kt", "", "enterprises_total", 44),
        ("2026-06", "kt", "", "enterprises_innovating", 12), ("2026-06", "kt", "", "enterprises_total", 48),
        # indicator 1 by village (stocks): April's high value is not June's; June: (30 + 20) / (100 + 100)
        ("2026-04", "vhxh", "Thôn 1", "pop_4g5g", 90), ("2026-04", "ca", "Thôn 1", "pop_total", 100),
        ("2026-06", "vhxh", "Thôn 1", "pop_4g5g", 30), ("2026-06", "ca", "Thôn 1", "pop_total", 100),
        ("2026-06", "vhxh", "Thôn 2", "pop_4g5g", 20), ("2026-06", "ca", "Thôn 2", "pop_total", 100),
    ])
    card = compute.scorecard(data, plan, "2026-H1").set_index("indicator")
    # at June, never summed over the half-year: 12 / 48 = 25 % ≥ 15 %
    assert (card.loc["5", "numerator"], card.loc["5", "denominator"]) == (12, 48)
    assert card.loc["5", "value"] == pytest.approx(25.0) == card.loc["5", "month_value"]
    assert card.loc["5", "status"] == "achieved"
    # 50 / 200 = 25 % < 30 %, and 30/06 is after the deadline 20/06: missed; 2 of 26 villages
    assert card.loc["1", "value"] == pytest.approx(25.0) and card.loc["1", "status"] == "missed"
    assert card.loc["1", "villages_reported"] == 2
    # a half-year has no earlier period of its kind: no comparison
    assert card["previous_month_value"].isna().all() and card["change"].isna().all()


YEAR_ROWS = [
    ("2026-12", "vhxh", "Thôn 1", "pop_4g5g", 40), ("2026-12", "ca", "Thôn 1", "pop_total", 100),  # 1: 40 % ≥ 30
    ("2026-12", "vhxh", "", "officials_trained", 31), ("2026-12", "vhxh", "", "officials_total", 31),  # 2: 100 %
    ("2026-12", "ca", "Thôn 1", "pop_adult", 100),
    ("2026-12", "vhxh", "Thôn 1", "adult_digital_health", 90),  # 3a 90 %
    ("2026-12", "vhxh", "Thôn 1", "adult_digital_education", 85),  # 3b 85 %
    ("2026-12", "vhxh", "Thôn 1", "adult_digital_insurance", 80),  # 3c 80 %
    ("2026-12", "ca", "Thôn 1", "adult_digital_transport", 50),  # 3d 50 %: group 3 not completed
    ("2026-12", "kt", "", "st_enterprises", 3),  # 4: encouraged
    ("2026-03", "kt", "", "ip_applications_new", 1), ("2026-09", "kt", "", "ip_applications_new", 1),  # 7: 2
    ("2026-12", "ttpvhcc", "", "satisfaction_points", 20),  # 11: 100 %
]


def test_the_year_counts_completed_indicators(plan):
    card = compute.scorecard(long_frame(YEAR_ROWS), plan, "2026")
    done = compute.completion(card)
    # completed: 1, 2, 7, 11; group 3 is not (3d 50 % < 80 %) although 3a–3c are; 4 and 6 are apart
    assert done["completed"] == ["1", "2", "7", "11"]
    assert done["encouraged"] == ["4", "6"]
    assert done["not_completed"] == ["3", "5", "8", "9", "10", "12", "13", "14", "15", "16"]
    by_id = card.set_index("indicator")
    assert list(by_id.loc[["3a", "3b", "3c", "3d"], "status"]) == ["achieved", "achieved", "achieved", "missed"]
    assert by_id.loc["7", "value"] == 2  # flows summed over the year


# --- a report built from files: the year's sentence, timeliness by month --------------------------------------

def _write_long(folder: Path, rows: list[tuple]) -> Path:
    frame = pd.DataFrame(rows, columns=["period", "unit", "village", "element", "value", "submitted_on"])
    sub = folder / "submissions"
    sub.mkdir(parents=True)
    for (unit, period), part in frame.groupby(["unit", "period"]):
        (sub / period).mkdir(exist_ok=True)
        part.to_csv(sub / period / f"{unit}.csv", index=False)
    return folder


def test_year_report_says_the_count_and_the_period(plan, tmp_path):
    from kpi.report import period_views, views

    data = _write_long(tmp_path, [(*row, f"{row[0]}-28") for row in YEAR_ROWS])
    r = build("2026", data_dir=data, made_on="2027-01-12")
    html = period_views.overview(r).data
    assert "Kỳ báo cáo: năm 2026 (từ tháng 1 đến hết tháng 12/2026)" in html
    assert "Không so sánh với kỳ trước" in html
    assert "Hoàn thành 4/16 chỉ tiêu của kế hoạch năm 2026" in html
    assert "Chưa hoàn thành: 3, 5, 8, 9, 10, 12, 13, 14, 15, 16." in html
    assert ("Chỉ tiêu khuyến khích, tính riêng (không tính là hoàn thành hay chưa): 4. Doanh nghiệp KH&amp;CN; "
            "6. DN khởi nghiệp sáng tạo.") in html
    assert "<b>Năm 2026</b>" in views.header(r).data
    assert "So kỳ trước" in views.scorecard_table(r).data


def test_timeliness_for_each_month_of_the_quarter(plan, tmp_path):
    from kpi.report import views

    data = _write_long(tmp_path, [
        ("2026-04", "vhxh", "", "officials_total", 31, "2026-05-08"),  # April: on time (due 10/05)
        ("2026-05", "vhxh", "", "officials_total", 31, "2026-06-15"),  # May: 5 days late (due 10/06)
    ])
    r = build("2026-Q2", data_dir=data, made_on="2026-07-20")
    tl = r.timeliness.set_index(["unit", "period"])
    assert len(tl) == 3 * 4  # each unit, each month of the quarter
    assert tl.loc[("vhxh", "2026-04"), "status"] == "on_time"
    assert tl.loc[("vhxh", "2026-05"), "status"] == "late" and tl.loc[("vhxh", "2026-05"), "days_late"] == 5
    assert tl.loc[("vhxh", "2026-06"), "status"] == "missing"
    assert (tl.xs("kt", level="unit")["status"] == "missing").all()
    block = views.summary(r).data
    assert "Chưa gửi đủ số liệu các tháng của kỳ (4/4 đơn vị)" in block
    assert "Chưa gửi tháng 6" in block and "Chưa gửi tháng 4, 5, 6" in block
    quality = views.data_quality(r).data
    assert "Quý II năm 2026: 2 tệp" in quality and "Muộn 5 ngày" in quality


# --- one real run ----------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_kpi_run_half_year_on_the_sample(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kpi", "run", "--period", "2026-H1", "--unit", "commune",
                           "--data", str(paths.DATA_DIR), "--out", str(out), "--workers", "1"],
                          capture_output=True, text=True, cwd=paths.ROOT,
                          env={**os.environ, "KPI_TODAY": "2027-01-15"}, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    folder = out / "2026-H1"
    html = (folder / "commune.html").read_text(encoding="utf-8")
    assert "6 tháng đầu năm 2026" in html and "Không so sánh với kỳ trước" in html
    assert (folder / "commune.pdf").stat().st_size > 10_000
    assert "6 tháng đầu năm 2026" in (folder / "index.html").read_text(encoding="utf-8")


# --- KPI_TODAY: every use of "today" ---------------------------------------------------------------------------

def test_last_month_is_the_month_before_kpi_today(plan, monkeypatch):
    """`kpi run --period last-month` on 11 January 2027 reports on December 2026, whatever the machine's clock says;
    on 3 August 2026, on July."""
    from argparse import Namespace

    from kpi.cli.run import _run_periods
    from kpi.core.periods import run_day

    monkeypatch.setenv("KPI_TODAY", "2027-01-11")
    assert run_day() == dt.date(2027, 1, 11)
    assert _run_periods(Namespace(period="last-month"), plan, None) == ["2026-12"]
    monkeypatch.setenv("KPI_TODAY", "2026-08-03")
    assert _run_periods(Namespace(period="last-month"), plan, None) == ["2026-07"]


def test_an_unreadable_kpi_today_is_said_not_ignored(monkeypatch):
    from kpi.core.periods import run_day

    monkeypatch.setenv("KPI_TODAY", "2027-13-01")
    with pytest.raises(ParameterError, match=r"KPI_TODAY='2027-13-01' không phải một ngày dạng NNNN-TT-NN"):
        run_day()


def test_no_use_of_the_clock_bypasses_kpi_today():
    """The kit's day comes from kpi.core.periods.run_day; the clock is read elsewhere only for times of day (logs,
    lock holders, file stamps), never for a date."""
    found = [f"{p.relative_to(paths.ROOT)}:{n}" for p in sorted((paths.ROOT / "kpi").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
             if "date.today()" in line and p.name != "periods.py"]
    assert found == []

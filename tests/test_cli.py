"""The command line on data sets made in the test (not the repository's sample), numbers by hand."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi.core import fingerprint
from kpi.cli import main
from kpi.run.executor import Executor
from tests.conftest import FILES

HEADER = "period,unit,village,element,value,submitted_on\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / "submissions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """Three units, March 2026. Indicator 1: (120 + 30) / (200 + 100) = 50%. Indicator 2: 10 / 40 = 25%.
    Indicator 8 (flow): (90 + 100) / (100 + 100) = 95% year to date. Indicator 11: 18.5 / 20 = 92.5%."""
    write(tmp_path, "ca.csv", HEADER
          + "2026-03,ca,Thôn 1,pop_total,200,2026-04-03\n2026-03,ca,Thôn 2,pop_total,100,2026-04-03\n")
    write(tmp_path, "vhxh.csv", HEADER
          + "2026-03,vhxh,Thôn 1,pop_4g5g,120,2026-04-12\n2026-03,vhxh,Thôn 2,pop_4g5g,30,2026-04-12\n"
          + "2026-03,vhxh,,officials_trained,10,2026-04-12\n2026-03,vhxh,,officials_total,40,2026-04-12\n")
    write(tmp_path, "ttpvhcc.csv", HEADER
          + "2026-02,ttpvhcc,,records_total,100,2026-03-05\n2026-02,ttpvhcc,,records_digitized,90,2026-03-05\n"
          + "2026-03,ttpvhcc,,records_total,100,2026-04-05\n2026-03,ttpvhcc,,records_digitized,100,2026-04-05\n"
          + "2026-03,ttpvhcc,,satisfaction_points,\"18,5\",2026-04-05\n")
    return tmp_path


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_scorecard_csv(data, capsys):
    code, out, _ = run(capsys, "scorecard", "--data", str(data), "--format", "csv")
    assert code == 0
    card = pd.read_csv(io.StringIO(out), dtype={"indicator": str}).set_index("indicator")
    assert len(card) == 19
    assert {"indicator", "value", "numerator", "denominator", "target", "status", "villages_reported",
            "villages_expected"} <= set(card.reset_index().columns)
    assert card.loc["1", "value"] == pytest.approx(50.0)
    assert (card.loc["1", "numerator"], card.loc["1", "denominator"]) == (150, 300)
    assert (card.loc["1", "villages_reported"], card.loc["1", "villages_expected"]) == (2, 26)
    assert card.loc["1", "status"] == "achieved"
    assert card.loc["2", "value"] == pytest.approx(25.0)
    assert card.loc["2", "status"] == "behind"  # one month of data, deadline 30/05: no forecast line
    assert card.loc["8", "value"] == pytest.approx(95.0) and card.loc["8", "status"] == "behind"
    assert card.loc["11", "value"] == pytest.approx(92.5) and card.loc["11", "denominator"] == 20
    assert pd.isna(card.loc["4", "target"]) and card.loc["7", "target"] == 2
    assert pd.isna(card.loc["15", "value"]) and card.loc["15", "status"] == "no_data"
    assert pd.isna(card.loc["6", "denominator"])


def test_scorecard_json_unrounded(data, capsys):
    code, out, _ = run(capsys, "scorecard", "--data", str(data), "--period", "2026-03", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    rows = {r["indicator"]: r for r in doc["indicators"]}
    assert doc["period"] == "2026-03"
    # 3 of ... : 100 × 190 / 200 = 95 exactly; indicator 2 is 25 exactly; nothing rounded away
    assert rows["8"]["value"] == 95.0 and rows["8"]["numerator"] == 190
    assert rows["15"]["value"] is None


def test_plan_json(capsys):
    code, out, _ = run(capsys, "plan", "--format", "json")
    doc = json.loads(out)
    assert code == 0
    assert {"commune", "year", "villages", "units", "elements", "indicators"} <= set(doc)
    assert len(doc["indicators"]) == 19 and doc["commune"] == "Quảng Ngọc"


def test_validate_clean_and_with_errors(data, capsys):
    code, out, _ = run(capsys, "validate", "--data", str(data))
    assert code == 0 and "0 lỗi" in out
    write(data, "bad.csv", HEADER + "2026-03,ca,Thôn 99,pop_total,10,2026-04-03\n")
    code, out, _ = run(capsys, "validate", "--data", str(data))
    assert code == 1
    assert "bad.csv, dòng 2, cột 'Thôn' (village)" in out and "E_VILLAGE_UNKNOWN" in out


def test_bad_period_is_refused_in_vietnamese(data, capsys):
    code, _, err = run(capsys, "scorecard", "--data", str(data), "--period", "2025-13")
    assert code == 2 and "Kỳ báo cáo '2025-13' không hợp lệ" in err


def test_demo_data_writes_a_marked_data_set(tmp_path, capsys):
    code, _, _ = run(capsys, "demo-data", "--out", str(tmp_path), "--seed", "7")
    assert code == 0
    assert "synthetic" in (tmp_path / "README.md").read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "submissions" / "2026-11").iterdir()) == [
        "ca.csv", "kt.csv", "ttpvhcc.csv", "ttpvhcc_v2.csv", "vhxh.xlsx"]


def test_python_dash_m_kpi(data):
    proc = subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--data", str(data)], capture_output=True,
                          text=True, encoding="utf-8")
    assert proc.returncode == 0 and proc.stdout.startswith("indicator,")


# --- validate accounting and templates -----------------------------------------------------------------

def _folder(tmp_path, *names):
    sub = tmp_path / "submissions" / "2026-11"
    sub.mkdir(parents=True)
    for n in names:
        shutil.copy(FILES / n, sub / n)
    return tmp_path


def test_validate_prints_accounting_and_fails_on_errors(tmp_path, capsys):
    data = _folder(tmp_path, "combo.csv", "ok_utf8.csv", "empty.csv")
    assert main(["validate", "--data", str(data)]) == 1
    out = capsys.readouterr().out
    assert "2026-11/combo.csv: đọc 6 dòng, nhận 2, loại 4" in out
    assert "2026-11/ok_utf8.csv: đọc 3 dòng, nhận 3, loại 0" in out
    assert "2026-11/empty.csv: đọc 0 dòng, nhận 0, loại 0" in out
    assert "Tổng: đọc 9 dòng, nhận 5, loại 4" in out
    # combo: 4 errors and its unreadable date 2026-02-30 a warning (W_DATE_INVALID: the date decides timeliness
    # only); empty.csv: 1 error (E_FILE_EMPTY). Công an sent pop_total for Thôn 1-3 (ok_utf8) and Thôn 5, 6, 8, 9
    # (combo; Thôn 7's row names no known element): 26 - 7 = 19 villages missing (W_VILLAGE_MISSING)
    assert "Kết quả: 5 lỗi, 20 cảnh báo." in out
    assert "[LỖI E_VALUE_NEGATIVE]" in out and "cột 'Giá trị' (value)" in out
    assert "Traceback" not in out


def test_validate_clean_exits_zero(tmp_path, capsys):
    data = _folder(tmp_path, "ok_utf8.csv", "semicolon_crlf.csv")
    assert main(["validate", "--data", str(data)]) == 0
    # no error; pop_total came for Thôn 1-3 only: 23 villages missing are warnings, which do not fail
    assert "Kết quả: 0 lỗi, 23 cảnh báo." in capsys.readouterr().out


def test_template_command(tmp_path, capsys):
    out = tmp_path / "t" / "ca.xlsx"
    assert main(["template", "--unit", "ca", "--period", "2026-11", "--out", str(out), "--data", str(tmp_path)]) == 0
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["Hướng dẫn", "Số liệu"]
    assert "Công an xã" in capsys.readouterr().out


def test_template_refuses_bad_values(tmp_path, capsys):
    assert main(["template", "--unit", "xyz", "--period", "2026-11", "--out", str(tmp_path / "a.xlsx")]) == 2
    assert "Đơn vị 'xyz' không có trong kế hoạch" in capsys.readouterr().err
    assert main(["template", "--unit", "ca", "--period", "2025-11", "--out", str(tmp_path / "a.xlsx")]) == 2
    assert "Kỳ báo cáo '2025-11' không hợp lệ" in capsys.readouterr().err


def test_validate_one_period_and_missing_folder(tmp_path, capsys):
    data = _folder(tmp_path, "ok_utf8.csv")
    (tmp_path / "submissions" / "2026-10").mkdir()
    shutil.copy(FILES / "value_negative.csv", tmp_path / "submissions" / "2026-10" / "neg.csv")  # period 2026-11
    (tmp_path / "submissions" / "2026-09").mkdir()
    (tmp_path / "submissions" / "2026-09" / "ca.csv").write_text(
        "period,unit,village,element,value,submitted_on\n2026-09,ca,Thôn 1,pop_total,-1,2026-10-08\n", encoding="utf-8")
    assert main(["validate", "--data", str(data), "--period", "2026-11"]) == 1
    out = capsys.readouterr().out
    assert "Tổng: đọc 4 dòng, nhận 3, loại 1" in out and "2026-09/ca.csv" not in out
    # neg.csv names 2026-11 inside 2026-10/: listed with November, its row negative (E_VALUE_NEGATIVE) and in
    # the wrong period's folder (E_PERIOD_FOLDER_MISMATCH); November's pop_total: Thôn 1-3 only, 23 missing
    assert "Kết quả: 2 lỗi, 23 cảnh báo." in out and "[LỖI E_PERIOD_FOLDER_MISMATCH]" in out
    assert main(["validate", "--data", str(tmp_path / "none")]) == 2
    assert "Không có thư mục" in capsys.readouterr().err


def test_validate_period_shows_last_months_rows_in_this_months_folder(tmp_path, capsys):
    write(tmp_path, "2026-11/ca.csv", HEADER + "2026-11,ca,Thôn 1,pop_total,1200,2026-12-08\n")
    write(tmp_path, "2026-12/ca.csv", HEADER + "2026-11,ca,Thôn 1,pop_total,1250,2027-01-07\n"
                                               "2026-11,ca,Thôn 2,pop_total,990,2027-01-07\n")
    assert main(["validate", "--data", str(tmp_path), "--period", "2026-12"]) == 1
    out = capsys.readouterr().out
    assert "2026-12/ca.csv: đọc 2 dòng, nhận 0, loại 2" in out
    assert ("2026-12/ca.csv, dòng 2, cột 'Kỳ báo cáo' (period): [LỖI E_PERIOD_FOLDER_MISMATCH] Tệp nằm trong thư mục "
            "kỳ 2026-12 nhưng 2 dòng ghi kỳ báo cáo 2026-11 (dùng lại mẫu tháng trước?)") in out
    assert "2026-11/ca.csv" not in out  # November's own file is not December's
    assert "Kết quả: 1 lỗi, 0 cảnh báo." in out  # the refused rows leave December with nothing to call missing


def test_validate_lists_corrections(tmp_path, capsys):
    write(tmp_path, "2026-11/ca.csv", HEADER + "2026-11,ca,Thôn 1,pop_total,1200,2026-12-08\n")
    write(tmp_path, "2026-11/ca_sua.csv", HEADER + "2026-11,ca,Thôn 1,pop_total,1210,12/12/2026\n")
    assert main(["validate", "--data", str(tmp_path), "--period", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert "2026-11/ca.csv: đọc 1 dòng, nhận 0, loại 1 (trong đó 1 giá trị đã được bản gửi sau sửa)" in out
    assert "Số liệu được sửa: 1 giá trị được thay bằng bản gửi sau" in out
    assert ("[CẢNH BÁO W_REVISED] Số liệu được sửa: Tổng dân số, Thôn 1, kỳ 2026-11: giá trị cũ 1200 ở 2026-11/ca.csv "
            "dòng 2 (ngày báo cáo 08/12/2026) được thay bằng giá trị mới 1210 ở 2026-11/ca_sua.csv dòng 2 (ngày báo "
            "cáo 12/12/2026)") in out
    # Thôn 1 only of 26: 25 villages missing
    assert "Kết quả: 0 lỗi, 26 cảnh báo." in out


def test_run_summary_counts_only_the_periods_run(tmp_path, capsys, monkeypatch):
    """A December run does not open with November's errors (the batch itself is not the point here: it stops
    at its first call)."""
    import argparse


    from kpi.cli import run as cli_run
    from kpi.intake.validate import load_submissions
    from kpi.plan import load_plan
    from kpi.run import batch

    write(tmp_path, "2026-11/ca.csv", HEADER + "2026-11,ca,Thôn 1,pop_total,-1,2026-12-08\n"
                                               "2026-11,ca,Thôn 2,pop_total,abc,2026-12-08\n")
    write(tmp_path, "2026-12/ttpvhcc.csv", HEADER + "2026-12,ttpvhcc,,records_total,-4,2027-01-05\n"
                                                    "2026-12,ttpvhcc,,records_online,3,2027-01-05\n")

    class Stop(Exception):
        pass

    def stop(*a, **k):
        raise Stop

    monkeypatch.setattr(batch, "run_batch", stop)
    plan = load_plan()
    subs = load_submissions(tmp_path, plan)
    assert len(subs.errors) == 3  # 2 in November, 1 in December
    args = argparse.Namespace(period="2026-12", unit="all", lang="vi", out=str(tmp_path / "out"), wait=False,
                              data=str(tmp_path), force=False, timeout=60, plan=None, scheduler=None, workers=1)
    ex = Executor(cli_run.run_options(args, ["html"]))
    with pytest.raises(Stop):
        cli_run._run_loaded(args, plan, tmp_path, subs, ex, fingerprint.take(tmp_path))
    out = capsys.readouterr().out
    assert "Lưu ý: 1 lỗi trong số liệu gửi lên của 2026-12" in out
    args.period = "2026-11..2026-12"
    with pytest.raises(Stop):
        cli_run._run_loaded(args, plan, tmp_path, subs, ex, fingerprint.take(tmp_path))
    assert "Lưu ý: 3 lỗi trong số liệu gửi lên của 2026-11, 2026-12" in capsys.readouterr().out


# --- the command line speaks Vietnamese and takes what people type ------------------------------------------

def test_argparse_errors_are_vietnamese(capsys):
    with pytest.raises(SystemExit) as no_command:
        main([])
    assert no_command.value.code == 2
    err = capsys.readouterr().err
    assert "cách dùng: kpi" in err and "lỗi: thiếu tham số bắt buộc: LỆNH" in err
    assert "usage" not in err and "error" not in err and "required" not in err

    with pytest.raises(SystemExit) as unknown:
        main(["validate", "--bogus"])
    assert unknown.value.code == 2
    assert "tham số không hiểu được: --bogus" in capsys.readouterr().err

    with pytest.raises(SystemExit):
        main(["scorecard", "--format", "xml"])
    assert "tham số --format: giá trị 'xml' không hợp lệ (chọn một trong: 'csv', 'json')" in capsys.readouterr().err


def test_unit_codes_and_slash_periods(tmp_path, capsys):
    from kpi.cli.common import period_arg

    assert period_arg("11/2026") == "2026-11"
    assert period_arg("1/2026") == "2026-01"
    assert period_arg("01/2026..11/2026") == "2026-01..2026-11"
    assert period_arg("13/2026") == "13/2026"  # left for the period check to refuse with its own message
    out = tmp_path / "mau.xlsx"
    assert main(["template", "--unit", "CA", "--period", "11/2026", "--out", str(out)]) == 0
    ws = openpyxl.load_workbook(out)["Số liệu"]
    assert (ws["A2"].value, ws["A3"].value) == ("unit=ca", "period=2026-11")
    assert main(["template", "--unit", "ca\n", "--period", "2026-11", "--out", str(out)]) == 2  # not mended


def test_missing_data_folder_says_so(tmp_path, capsys):
    missing = tmp_path / "khong-co"
    for command in (["run"], ["validate"], ["scorecard", "--period", "2026-11"]):
        assert main([*command, "--data", str(missing)]) == 2
        err = capsys.readouterr().err
        assert f"Không có thư mục dữ liệu {missing}" in err and "--data" in err and "KPI_DATA" in err
        assert "--period" not in err


def test_closed_pipe_and_c_locale_give_no_traceback(tmp_path):
    folder = tmp_path / "Số liệu xã Quảng Ngọc"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "sample" / "submissions", folder / "submissions")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C", "PYTHONUTF8": "0"}
    piped = subprocess.run(f"'{sys.executable}' -m kpi validate --data '{folder}' | head -1", shell=True,
                           capture_output=True, env=env, cwd=Path(__file__).resolve().parents[1])
    assert piped.stdout.decode("utf-8").startswith("Kiểm tra số liệu trong ")
    assert b"Traceback" not in piped.stderr and b"BrokenPipe" not in piped.stderr
    whole = subprocess.run([sys.executable, "-m", "kpi", "validate", "--data", str(folder)], capture_output=True,
                           env=env, cwd=Path(__file__).resolve().parents[1])
    assert b"Traceback" not in whole.stderr
    assert "Kết quả:" in whole.stdout.decode("utf-8")


def test_scorecard_says_which_units_have_not_sent(data, capsys):
    # the fixture's March has files from ca and vhxh; Phòng Kinh tế sent nothing
    assert main(["scorecard", "--data", str(data), "--period", "2026-03"]) == 0
    captured = capsys.readouterr()
    assert "kpi: kỳ 2026-03: " in captured.err and "Kinh tế (chưa gửi)" in captured.err
    assert "Công an (chưa gửi)" not in captured.err and "VHXH (chưa gửi)" not in captured.err
    assert captured.out.startswith("indicator,")  # the table itself stays clean on stdout


def test_validate_caps_each_code_per_file_and_writes_every_problem_to_csv(tmp_path, capsys):
    # 30 negative values in one file: 30 E_VALUE_NEGATIVE; the terminal shows 20 and says how many more
    rows = "".join(f"2026-11,ca,Thôn {i},pop_total,-{i},2026-12-08\n" for i in range(1, 27))
    rows += "".join(f"2026-11,ca,Thôn {i},pop_adult,-{i},2026-12-08\n" for i in range(1, 5))
    write(tmp_path, "2026-11/ca.csv", HEADER + rows)
    assert main(["validate", "--data", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert out.count("[LỖI E_VALUE_NEGATIVE]") == 20
    assert "… và 10 vấn đề E_VALUE_NEGATIVE khác trong 2026-11/ca.csv" in out and "Kết quả: 30 lỗi" in out
    assert main(["validate", "--data", str(tmp_path), "--all"]) == 1
    assert capsys.readouterr().out.count("[LỖI E_VALUE_NEGATIVE]") == 30
    target = tmp_path / "problems.csv"
    assert main(["validate", "--data", str(tmp_path), "--max-per-code", "1", "--problems-csv", str(target)]) == 1
    assert capsys.readouterr().out.count("[LỖI E_VALUE_NEGATIVE]") == 1
    table = pd.read_csv(target, encoding="utf-8-sig")
    negative = table[table["code"] == "E_VALUE_NEGATIVE"]
    assert len(negative) == 30 and set(negative["row"]) == set(range(2, 32))


def test_a_month_nobody_has_sent_is_said_before_the_reports(tmp_path, capsys, monkeypatch):
    """December with only TTPVHCC's file: the run says which units have sent nothing, and how to remind them."""
    import argparse

    from kpi.cli import run as cli_run
    from kpi.intake.validate import load_submissions
    from kpi.plan import load_plan
    from kpi.run import batch

    write(tmp_path, "2026-12/ttpvhcc.csv", HEADER + "2026-12,ttpvhcc,,records_total,40,2027-01-05\n")

    def stop(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", stop)
    plan = load_plan()
    args = argparse.Namespace(period="2026-12", unit="all", lang="vi", out=str(tmp_path / "out"), wait=False,
                              data=str(tmp_path), force=False, timeout=60, plan=None, scheduler=None, workers=1)
    with pytest.raises(KeyboardInterrupt):
        cli_run._run_loaded(args, plan, tmp_path, load_submissions(tmp_path, plan),
                            Executor(cli_run.run_options(args, ["html"])), fingerprint.take(tmp_path))
    out = capsys.readouterr().out
    assert (f"Lưu ý: tháng 12/2026 chưa có số liệu của 3/4 đơn vị (vhxh, kt, ca); báo cáo ghi các đơn vị này là chưa "
            f"gửi (nhắc các đơn vị: `kpi remind --period 2026-12 --data {tmp_path}`).") in out

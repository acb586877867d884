"""`kpi validate` accounting and exit codes, `kpi template`; bad input never gives a traceback."""

from __future__ import annotations

import shutil

import openpyxl

from conftest import FILES
from kpi.cli import main


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
    # combo: 5 errors; empty.csv: 1 error (E_FILE_EMPTY)
    assert "Kết quả: 6 lỗi, 0 cảnh báo." in out
    assert "[LỖI E_VALUE_NEGATIVE]" in out and "cột 'Giá trị' (value)" in out
    assert "Traceback" not in out


def test_validate_clean_exits_zero(tmp_path, capsys):
    data = _folder(tmp_path, "ok_utf8.csv", "semicolon_crlf.csv")
    assert main(["validate", "--data", str(data)]) == 0
    assert "Kết quả: 0 lỗi, 0 cảnh báo." in capsys.readouterr().out


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
    assert "Kết quả: 1 lỗi, 0 cảnh báo." in out
    assert main(["validate", "--data", str(tmp_path / "none")]) == 2
    assert "Không có thư mục" in capsys.readouterr().err

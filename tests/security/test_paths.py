"""Issue 6.3: --unit, --period, --out, file names inside the data folder and notebook parameters are checked, and a
refusal comes with a Vietnamese message before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kpi import report
from kpi.cli import main
from kpi.cli.common import EXIT_USAGE
from kpi.intake.validate import load_submissions
from kpi.report import ParameterError
from tests.security.conftest import HEADER

GOOD = HEADER + "\n2026-04,ca,Thôn 1,pop_total,200,2026-05-03\n"


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "submissions" / "2026-04").mkdir(parents=True)
    (data / "submissions" / "2026-04" / "ca.csv").write_text(GOOD, encoding="utf-8")
    return data


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.mark.parametrize("out", ["{tmp}/a/../escaped", "../escaped", "{tmp}/ra\nngoai", "{tmp}/x\x1b[31m"])
def test_out_with_dotdot_or_control_characters_is_refused(tmp_path, capsys, out):
    # Catches: --out climbing out of the named folder with '..', or a name carrying newlines/terminal escapes.
    data = _data(tmp_path)
    before = _files(tmp_path)
    code = main(["run", "--data", str(data), "--out", out.format(tmp=tmp_path), "--period", "2026-04",
                 "--unit", "commune", "--format", "html"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "không hợp lệ" in err or "'..'" in err
    assert _files(tmp_path) == before, "something was written before the refusal"


def test_out_inside_the_data_folder_is_refused(tmp_path, capsys):
    # Catches: reports written among the units' submissions (inputs are read-only).
    data = _data(tmp_path)
    before = _files(tmp_path)
    code = main(["run", "--data", str(data), "--out", str(data / "submissions"), "--period", "2026-04",
                 "--unit", "commune", "--format", "html"])
    assert code == EXIT_USAGE
    assert "chỉ được đọc" in capsys.readouterr().err
    assert _files(tmp_path) == before


@pytest.mark.parametrize("period", ["../2026-04", "2026-13", "2025-04", "2026-04\n", "2026-4", "2026-04/../x"])
def test_period_outside_the_plan_year_is_refused(tmp_path, capsys, period):
    # Catches: a period used to build <out>/<period>/ that is not a month of the plan year.
    data = _data(tmp_path)
    out = tmp_path / "out"
    code = main(["run", "--data", str(data), "--out", str(out), "--period", period, "--unit", "commune",
                 "--format", "html"])
    assert code == EXIT_USAGE
    assert "Kỳ báo cáo" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("unit", ["../ca", "ca/../../x", "xa", "commune;rm", "ca\n"])
def test_unit_not_in_the_plan_is_refused(tmp_path, capsys, unit):
    # Catches: a unit used to build <unit>.html that is not one of the plan's codes.
    data = _data(tmp_path)
    out = tmp_path / "out"
    code = main(["run", "--data", str(data), "--out", str(out), "--period", "2026-04", "--unit", unit,
                 "--format", "html"])
    assert code == EXIT_USAGE
    assert "Đơn vị" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("kwargs", [
    {"unit": "../ca"}, {"period": "2026-04/../../x"}, {"lang": "vi\n"}, {"data_dir": "data/../../../etc"},
    {"plan_path": "../../plan.yml"}, {"made_on": "2026-13-40"}, {"made_on": "2026-05-02\n<script>"},
    {"period": 202604},
])
def test_report_build_rechecks_notebook_parameters(tmp_path, kwargs):
    # Catches: papermill called directly with parameters the CLI would have refused.
    args = {"period": "2026-04", "unit": "commune", "data_dir": str(_data(tmp_path)), "lang": "vi", **kwargs}
    with pytest.raises(ParameterError):
        report.build(**args)


def test_symlinks_leading_outside_the_data_folder_are_not_read(tmp_path, plan):
    # Catches: a submission symlinked to a file (or folder) elsewhere on disk being read into the report.
    data = _data(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(HEADER + "\n2026-04,ca,Thôn 2,pop_total,555,2026-05-03\n", encoding="utf-8")
    sub = data / "submissions" / "2026-04"
    os.symlink(outside / "secret.csv", sub / "kt.csv")
    os.symlink(outside, data / "submissions" / "2026-05")
    subs = load_submissions(data, plan)
    assert 555 not in subs.data["value"].tolist()
    assert subs.data["value"].tolist() == [200.0]  # the rest of the month is still read
    refused = [p for p in subs.problems if p.code == "E_FILE_OUTSIDE_DATA"]
    assert "2026-04/kt.csv" in {p.file for p in refused}
    assert "symlink" in refused[0].message


@pytest.mark.parametrize("name", ["ca\x1b[31m.csv", "ca\nLỖI GIẢ.csv", "ca\r.csv", 'a<b>|"c".csv'])
def test_odd_file_names_are_refused_and_shown_safely(tmp_path, plan, capsys, name):
    # Catches: a file name carrying terminal escapes or markup read and echoed raw (terminal/report injection).
    data = _data(tmp_path)
    (data / "submissions" / "2026-04" / name).write_text(GOOD.replace("Thôn 1", "Thôn 3"), encoding="utf-8")
    subs = load_submissions(data, plan)
    assert subs.data["value"].tolist() == [200.0]
    bad = [p for p in subs.problems if p.code == "E_FILE_NAME_INVALID"]
    assert len(bad) == 1 and "Đổi tên tệp" in bad[0].fix
    assert not any(ch in bad[0].file for ch in "\x1b\n\r")
    main(["validate", "--data", str(data)])
    printed = capsys.readouterr().out
    assert "\x1b" not in printed and "LỖI GIẢ" not in printed.split("\n", 3)[-1].split("ca")[0]


def test_validate_prints_no_control_characters_from_cells(tmp_path, capsys):
    # Catches: a cell carrying terminal escapes (ESC sequences, CR overwriting the line) echoed by `kpi validate`.
    data = _data(tmp_path)
    (data / "submissions" / "2026-04" / "kt.csv").write_text(
        HEADER + '\n2026-04,kt,,"startups_new\x1b]0;PWNED\x07\x1b[2J",1,2026-05-03\n', encoding="utf-8")
    main(["validate", "--data", str(data)])
    printed = capsys.readouterr().out
    assert "E_ELEMENT_UNKNOWN" in printed
    assert "\x1b" not in printed and "\x07" not in printed

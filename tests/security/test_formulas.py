"""Issue 6.2: no formula from data. Text starting with = + - @ tab or CR is stored as text in scorecard.csv and
in any workbook written through kpi.core.safety (scorecard.xlsx, templates)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pandas as pd
import pytest

from kpi.core import paths
from kpi.core.safety import FORMULA_START, set_text_cell, spreadsheet_frame, spreadsheet_text
from tests.security.conftest import FORMULA


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", FORMULA])
def test_spreadsheet_text_neutralises_formula_starts(text):
    # Catches: a cell a spreadsheet would evaluate (CSV/formula injection).
    assert spreadsheet_text(text) == "'" + text


@pytest.mark.parametrize("value", ["Thôn 1", "30%", "", " =1", 12.5, -3, None])
def test_spreadsheet_text_leaves_other_values(value):
    assert spreadsheet_text(value) == value or (value is None and spreadsheet_text(value) is None)


def test_spreadsheet_frame_only_touches_text():
    frame = pd.DataFrame({"name": ["=A1", "ok"], "value": [-1.5, 2.0]})
    out = spreadsheet_frame(frame)
    assert out["name"].tolist() == ["'=A1", "ok"] and out["value"].tolist() == [-1.5, 2.0]
    assert frame["name"].tolist() == ["=A1", "ok"]  # the input frame is not changed


def test_openpyxl_cells_keep_formula_text_as_text(tmp_path):
    # Catches: openpyxl storing any string that starts with '=' as a formula (<f> element) in the workbook.
    book = openpyxl.Workbook()
    set_text_cell(book.active["A1"], FORMULA)
    set_text_cell(book.active["A2"], 42)
    book.save(tmp_path / "t.xlsx")
    again = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert again.active["A1"].data_type == "s" and again.active["A1"].value == FORMULA
    assert again.active["A2"].value == 42
    import zipfile

    sheet = zipfile.ZipFile(tmp_path / "t.xlsx").read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet


@pytest.mark.slow
def test_scorecard_csv_has_no_formula_cells(hostile):
    # Catches: the plan's indicator name '=HYPERLINK(...)' written to scorecard.csv as a live formula.
    _, _, out, _ = hostile
    rows = list(csv.reader(io.StringIO((out / "scorecard.csv").read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    numeric = {"value", "numerator", "denominator", "target", "forecast", "villages_reported", "villages_expected",
               "month_value", "previous_month_value", "change"}
    for row in body:
        for col, cell in zip(header, row):
            if col not in numeric:
                assert not cell.startswith(FORMULA_START), (col, cell)
    names = {r[header.index("indicator")]: r[header.index("name")] for r in body}
    assert names["1"] == "'" + FORMULA  # still readable: the text, shown as text


@pytest.mark.slow
def test_scorecard_xlsx_has_no_formula_cells(hostile):
    # Catches: plan text becoming a formula in scorecard.xlsx (written by the publish step of issue 4).
    _, _, out, _ = hostile
    path = out / "scorecard.xlsx"
    if not path.exists():
        pytest.skip("this build does not write scorecard.xlsx yet")
    book = openpyxl.load_workbook(path)
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


def test_scorecard_command_csv_has_no_formula_cells(tmp_path, monkeypatch, capsys):
    # Catches: `kpi scorecard > file.csv` carrying the plan's '=HYPERLINK(...)' as a live formula.
    from kpi.cli import main
    from tests.security.conftest import hostile_data, hostile_plan

    plan = hostile_plan(tmp_path / "plan.yml")
    data = hostile_data(tmp_path / "data")
    assert main(["--plan", str(plan), "scorecard", "--data", str(data), "--period", "2026-04"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    names = {r[0]: (r[2], r[3]) for r in rows[1:]}
    assert names["1"][0] == "'" + FORMULA and names["2"][1].startswith("'-2+3")


def test_province_tables_keep_a_formula_like_commune_name_as_text(tmp_path):
    """A commune folder named like a formula reaches communes.csv as text, not as a formula."""
    import shutil

    from kpi import province
    from kpi.plan import load_plan
    from kpi.run.province_batch import write_tables

    root = tmp_path / "tinh"
    shutil.copytree(paths.ROOT / "tests" / "fixtures" / "province3", root)
    (root / "xa_a").rename(root / "=1+2")
    plan = load_plan()
    rep = province.province_report(province.load_province(root, plan), plan, "2026-02")
    write_tables(rep, tmp_path)
    rows = (tmp_path / "communes.csv").read_text(encoding="utf-8-sig").splitlines()
    names = {line.split(",")[0] for line in rows[1:]}
    assert names == {"'=1+2", "xa_b", "xa_c"}
    assert (tmp_path / "province_scorecard.csv").read_bytes().startswith(b"\xef\xbb\xbf")

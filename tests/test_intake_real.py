"""Templates as officers really send them: a column inserted, the date cell moved, every date form, saved as
.xls or .ods, and an unreadable file that still says who sent it. Numbers typed in the test, read back exactly."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from kpi.indicators.compute import timeliness
from kpi.intake import notes
from kpi.intake.cells import parse_dates
from kpi.intake.template import build_template, data_sheet, input_cells
from kpi.intake.validate import load_submissions

# Công an xã (ca) sends pop_total per village: Thôn 1 = 1200, Thôn 2 = 950, Thôn 3 = 870 (typed below).
TYPED = {"Thôn 1": 1200, "Thôn 2": 950, "Thôn 3": 870}


def _filled(plan, date: object = dt.date(2026, 12, 8)):
    wb = build_template(plan, "ca", "2026-11")
    ws = data_sheet(wb)
    cells = input_cells(ws)
    codes = {v.name: v.code for v in plan.villages}
    for village, value in TYPED.items():
        ws[cells[(codes[village], "pop_total")]] = value
    ws["C4"] = date
    return wb, ws


def _save(wb, tmp_path: Path, name: str = "ca.xlsx") -> Path:
    folder = tmp_path / "submissions" / "2026-11"
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / name)
    return folder / name


def _values(subs) -> dict[str, float]:
    rows = subs.data[subs.data["element"] == "pop_total"]
    return dict(zip(rows["village"], rows["value"]))


def test_an_inserted_column_and_a_moved_date_cell_read_exactly(tmp_path, plan):
    wb, ws = _filled(plan)
    ws.protection.sheet = False
    ws.insert_cols(3)  # the officer's "STT" column at C: the date moves to D4, the villages' values one right
    ws["C7"] = "STT"
    date = ws["D4"].value
    ws["D4"] = None
    ws["F4"] = date  # ... and then types the date two cells further right
    ws.title = "Công an"  # and renames the sheet
    _save(wb, tmp_path)
    subs = load_submissions(tmp_path, plan)
    assert _values(subs) == TYPED
    assert [p.code for p in subs.problems if p.code.startswith(("E_", "W_DATE"))] == []
    assert set(subs.received["submitted_on"]) == {pd.Timestamp("2026-12-08")}


def test_a_blank_date_keeps_every_value_and_names_its_cell(tmp_path, plan):
    wb, ws = _filled(plan, date=None)
    ws.protection.sheet = False
    ws.insert_cols(3)
    _save(wb, tmp_path)
    subs = load_submissions(tmp_path, plan)
    assert _values(subs) == TYPED and subs.rejected.empty
    (p,) = [p for p in subs.problems if p.code.startswith("W_DATE")]
    assert (p.code, p.sheet, p.row, p.column) == ("W_DATE_MISSING", "Số liệu", 4, "D")  # moved from C4 to D4
    assert p.severity == "warning" and "08/12/2026" in p.fix and "2026-12-08" in p.fix
    # the unit did send: its date is unknown, not missing
    state = timeliness(subs.received, plan, "2026-11", subs.problems).set_index("unit")["status"]
    assert state["ca"] == "date_unknown" and state["kt"] == "missing"


@pytest.mark.parametrize("typed, day", [
    ("08/12/2026", dt.date(2026, 12, 8)), ("8/12/2026", dt.date(2026, 12, 8)), ("08-12-2026", dt.date(2026, 12, 8)),
    ("08.12.2026", dt.date(2026, 12, 8)), ("2026-12-08", dt.date(2026, 12, 8)), ("05-01-2027", dt.date(2027, 1, 5)),
    ("5/1/2027", dt.date(2027, 1, 5)), (dt.datetime(2026, 12, 8), dt.date(2026, 12, 8)),
    (" 08/12/2026 ", dt.date(2026, 12, 8)),
])
def test_every_date_form(typed, day):
    assert parse_dates(pd.Series([typed], dtype=object)).iloc[0] == pd.Timestamp(day)


@pytest.mark.parametrize("typed", ["30/02/2026", "12/31/2026", "2026/12/08", "tháng 12", "08122026", ""])
def test_not_a_date(typed):
    assert pd.isna(parse_dates(pd.Series([typed], dtype=object)).iloc[0])


def test_the_template_instruction_names_the_same_forms(plan):
    from kpi.core.problems import CATALOG, DATE_FORMS

    wb = build_template(plan, "ca", "2026-11")
    help_text = " ".join(str(c.value) for row in wb.worksheets[0].iter_rows() for c in row if c.value)
    validation = [dv.error for dv in data_sheet(wb).data_validations.dataValidation if dv.type == "date"]
    assert DATE_FORMS in help_text and validation and DATE_FORMS in validation[0]
    assert DATE_FORMS in CATALOG["W_DATE_MISSING"][2] and DATE_FORMS in CATALOG["W_DATE_INVALID"][2]


def test_a_date_after_the_day_of_the_run_is_a_warning(tmp_path, plan, monkeypatch):
    monkeypatch.setenv("KPI_TODAY", "2026-12-05")
    wb, _ = _filled(plan, date=dt.date(2026, 12, 8))
    _save(wb, tmp_path)
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "W_DATE_FUTURE"]
    assert (p.row, p.column, p.found) == (4, "C", "08/12/2026") and _values(subs) == TYPED


def _soffice() -> str:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if not exe:
        pytest.skip("LibreOffice is not installed (CI installs it)")
    return exe


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["xls", "ods"])
def test_xls_and_ods_templates_read_back(tmp_path, plan, kind):
    exe = _soffice()
    wb, ws = _filled(plan)
    ws.protection.sheet = False
    ws.insert_cols(3)  # a converted file has no defined names: the labels still place every cell
    keys = {ws.cell(i, 1).value: i for i in range(1, ws.max_row + 1) if isinstance(ws.cell(i, 1).value, str)}
    ws.cell(keys["note=highlights"], 3).value = "Rà soát 3 thôn; 12 hộ mới."  # the merged note cell's first
    source = tmp_path / "src" / "ca.xlsx"
    source.parent.mkdir()
    wb.save(source)
    folder = tmp_path / "submissions" / "2026-11"
    folder.mkdir(parents=True)
    profile = tmp_path / "lo-profile"
    subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", kind,
                    "--outdir", str(folder), str(source)], check=True, capture_output=True, timeout=120)
    assert (folder / f"ca.{kind}").exists()
    subs = load_submissions(tmp_path, plan)
    assert _values(subs) == TYPED
    assert [p.code for p in subs.problems if p.severity == "error"] == []
    assert set(subs.received["submitted_on"]) == {pd.Timestamp("2026-12-08")}
    # the note, taken from the sheet the values were read from, as the notes' own reading of the file gives it
    taken, said = notes.of_submissions(subs, tmp_path, plan, "2026-11")
    assert taken[["unit", "period", "field", "text"]].values.tolist() == [["ca", "2026-11", "highlights",
                                                                          "Rà soát 3 thôn; 12 hộ mới."]]
    again, said_again = notes.read_notes(tmp_path, plan, "2026-11")
    assert taken.to_dict("records") == again.to_dict("records") and said == said_again == []


def test_an_unreadable_file_marks_its_unit_as_sent(tmp_path, plan):
    folder = tmp_path / "submissions" / "2026-11"
    folder.mkdir(parents=True)
    (folder / "kt.xls").write_bytes(b"not really a workbook")
    (folder / "vhxh.docx").write_bytes(b"PK\x03\x04")
    subs = load_submissions(tmp_path, plan)
    by_file = {p.file: p for p in subs.problems}
    assert (by_file["2026-11/kt.xls"].code, by_file["2026-11/kt.xls"].unit) == ("E_FILE_UNREADABLE", "kt")
    assert "Excel 97-2003 (.xls)" in by_file["2026-11/kt.xls"].message and ".xlsx" in by_file["2026-11/kt.xls"].fix
    assert (by_file["2026-11/vhxh.docx"].code, by_file["2026-11/vhxh.docx"].period) == ("E_FILE_TYPE", "2026-11")
    state = timeliness(subs.received, plan, "2026-11", subs.problems).set_index("unit")["status"]
    assert (state["kt"], state["vhxh"], state["ca"]) == ("unreadable", "unreadable", "missing")


def test_a_formula_saved_without_its_value_is_named(tmp_path, plan):
    wb, ws = _filled(plan)
    cells = input_cells(ws)
    codes = {v.name: v.code for v in plan.villages}
    ws[cells[(codes["Thôn 4"], "pop_total")]] = "=C8+C9"  # openpyxl saves the formula, never its result
    _save(wb, tmp_path)
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "W_FORMULA_NO_VALUE"]
    row, col = cells[(codes["Thôn 4"], "pop_total")][1:], cells[(codes["Thôn 4"], "pop_total")][0]
    assert (p.sheet, p.row, p.column) == ("Số liệu", int(row), col) and "lưu lại" in p.fix
    assert _values(subs) == TYPED  # the three typed values stay; Thôn 4 is not taken as a number


def test_a_subtotal_row_an_officer_inserts_is_said_and_not_counted(tmp_path, plan):
    """A row inserted inside the village block ("Cộng thôn 1-4", 4000) has no row key: it is not data, and the
    file's problems name its row and cell instead of dropping it silently."""
    wb, ws = _filled(plan)
    ws.protection.sheet = False
    cells = input_cells(ws)
    codes = {v.name: v.code for v in plan.villages}
    below = int(cells[(codes["Thôn 4"], "pop_total")][1:]) + 1
    column = cells[(codes["Thôn 4"], "pop_total")][0]
    ws.insert_rows(below)
    ws[f"B{below}"] = "Cộng thôn 1-4"
    ws[f"{column}{below}"] = 4000
    _save(wb, tmp_path)
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "W_ROW_NOT_IN_TEMPLATE"]
    assert (p.sheet, p.row, p.column, p.found) == ("Số liệu", below, column, "4000")
    assert "không được tính" in p.message and "kit tự cộng" in p.fix
    assert _values(subs) == TYPED  # the villages' values as typed; the subtotal is not a village's

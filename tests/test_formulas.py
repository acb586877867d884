"""Formulas in a unit's workbook (kpi.intake.formulas): one that takes its number from outside the workbook is
refused whatever value it shows; one within the workbook is read at the value Excel saved and noted once per file."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest

from kpi.intake.formulas import refers_outside
from kpi.intake.template import build_template, data_sheet, input_cells
from kpi.intake.validate import load_submissions


@pytest.mark.parametrize("formula, outside", [
    ("=[1]Sheet1!A1", True),  # an external link as Excel stores it (link 1 of xl/externalLinks)
    ("='[book.xlsx]Số liệu'!C8", True),
    ("=SUM('C:\\ban cu\\[ca_10.xlsx]Số liệu'!C8:C9)", True),
    ("=[1]!Tong", True),  # a defined name of another workbook
    ("=cmd|'/c calc'!A1", True),  # DDE
    ("=WEBSERVICE(\"http://example.org/so-lieu\")", True),
    ("=C8+C9", False),
    ("=SUM('Số liệu'!C8:C33)", False),
    ("=Table1[Dân số]+Sheet2!A1", False),  # a table column, then a sheet of this workbook
    ('="[1]x!"&A1', False),  # brackets inside a text constant are text
])
def test_what_refers_outside_the_workbook(formula, outside):
    assert refers_outside(formula) is outside


def _with_cached_values(path: Path, cached: dict[str, str]) -> None:
    """Give formula cells the value Excel would have saved with them (openpyxl saves a formula without one)."""
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    for name, body in members.items():
        if name.startswith("xl/worksheets/sheet"):
            text = body.decode("utf-8")
            for cell, value in cached.items():
                text = re.sub(rf'(<c r="{cell}"[^>]*>)<f>(.*?)</f><v\s*/?>(?:</v>)?', rf"\1<f>\2</f><v>{value}</v>", text)
            members[name] = text.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, body in members.items():
            z.writestr(name, body)


def _template(plan, tmp_path: Path, formulas: dict[str, str], cached: dict[str, str]) -> tuple[Path, dict]:
    wb = build_template(plan, "ca", "2026-11")
    ws = data_sheet(wb)
    cells = input_cells(ws)
    codes = {v.name: v.code for v in plan.villages}
    at = {name: cells[(codes[name], "pop_total")] for name in ("Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4")}
    ws[at["Thôn 1"]] = 1200
    ws[at["Thôn 2"]] = 950
    for village, formula in formulas.items():
        ws[at[village]] = formula
    ws["C4"] = dt.date(2026, 12, 8)
    folder = tmp_path / "submissions" / "2026-11"
    folder.mkdir(parents=True)
    wb.save(folder / "ca.xlsx")
    _with_cached_values(folder / "ca.xlsx", {at[v]: value for v, value in cached.items()})
    return folder / "ca.xlsx", at


def _pop_total(subs) -> dict[str, float]:
    rows = subs.data[subs.data["element"] == "pop_total"]
    return dict(zip(rows["village"], rows["value"]))


def test_an_external_link_and_dde_are_refused_whatever_they_show(tmp_path, plan):
    """Thôn 3's cell links to last month's file and shows 1300; Thôn 4's is a DDE formula showing 870. Neither
    number was typed: both are refused, each with its cell, its formula and the number it showed."""
    _, at = _template(plan, tmp_path, {"Thôn 3": "='[ca_thang10.xlsx]Số liệu'!C10", "Thôn 4": "=cmd|'/c calc'!A1"},
                      {"Thôn 3": "1300", "Thôn 4": "870"})
    subs = load_submissions(tmp_path, plan)
    assert _pop_total(subs) == {"Thôn 1": 1200, "Thôn 2": 950}
    refused = {(p.row, p.column): p for p in subs.problems if p.code == "E_FORMULA_EXTERNAL"}
    assert set(refused) == {(int(at[v][1:]), at[v][0]) for v in ("Thôn 3", "Thôn 4")}
    p3 = refused[(int(at["Thôn 3"][1:]), at["Thôn 3"][0])]
    assert p3.found == "='[ca_thang10.xlsx]Số liệu'!C10" and p3.expected == "1300"
    assert "ngoài tệp" in p3.message and "Paste Values" in p3.fix and p3.severity == "error"
    assert not [p for p in subs.problems if p.code == "W_FORMULA_CACHED"]


def test_a_formula_within_the_workbook_is_read_at_its_saved_value_and_noted_once(tmp_path, plan):
    """Thôn 3 = C8+C9 (saved as 2150 = 1200 + 950) and Thôn 4 = C8 (1200): both read at their saved values, and one
    warning for the file names how many cells are formulas and the first of them."""
    _, at = _template(plan, tmp_path, {"Thôn 3": "=C8+C9", "Thôn 4": "=C8"}, {"Thôn 3": "2150", "Thôn 4": "1200"})
    subs = load_submissions(tmp_path, plan)
    assert _pop_total(subs) == {"Thôn 1": 1200, "Thôn 2": 950, "Thôn 3": 2150, "Thôn 4": 1200}
    (p,) = [p for p in subs.problems if p.code == "W_FORMULA_CACHED"]
    assert (p.row, p.column, p.found) == (int(at["Thôn 3"][1:]), at["Thôn 3"][0], "2")
    assert f"ô {at['Thôn 3']}: =C8+C9" in p.message and p.severity == "warning"
    assert not [p for p in subs.problems if p.code in ("E_FORMULA_EXTERNAL", "W_FORMULA_NO_VALUE")]


def test_an_external_formula_in_a_long_file_refuses_its_row(tmp_path, plan):
    """A long-format workbook: the row whose value links to another file is not read; the others are."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["period", "unit", "village", "element", "value", "submitted_on"])
    ws.append(["2026-11", "ca", "Thôn 1", "pop_total", 1200, "08/12/2026"])
    ws.append(["2026-11", "ca", "Thôn 2", "pop_total", "=[1]Sheet1!E3", "08/12/2026"])
    folder = tmp_path / "submissions" / "2026-11"
    folder.mkdir(parents=True)
    wb.save(folder / "ca.xlsx")
    _with_cached_values(folder / "ca.xlsx", {"E3": "990"})
    subs = load_submissions(tmp_path, plan)
    assert _pop_total(subs) == {"Thôn 1": 1200}
    (p,) = [p for p in subs.problems if p.code == "E_FORMULA_EXTERNAL"]
    assert (p.row, p.column, p.expected) == (3, "E", "990")

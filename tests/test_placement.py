"""A template's cells are read for the village and element their visible row and column show: the hidden keys are
checked against the names, a partial sort is read by the names and said once, a row or column whose name identifies
nothing is refused with the cause and the fix (kpi.intake.placement, kpi.intake.filled). Figures worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl.utils import column_index_from_string

from kpi.indicators.compute import scorecard
from kpi.intake.template import build_template, data_sheet, input_cells
from kpi.intake.validate import load_submissions

# Công an (ca), November: pop_total, pop_adult and pop_14plus for five villages; Thôn 2 and 4 left blank.
CA = {"Thôn 1": (1000, 700, 800), "Thôn 3": (3000, 2000, 2400), "Thôn 5": (2000, 1500, 1600),
      "Thôn 6": (500, 400, 420), "Thôn 7": (1500, 1000, 1100)}
# Văn hóa - Xã hội (vhxh): pop_4g5g for the same five villages.
VHXH = {"Thôn 1": 900, "Thôn 3": 2400, "Thôn 5": 1000, "Thôn 6": 500, "Thôn 7": 1200}
CA_ELEMENTS = ("pop_total", "pop_adult", "pop_14plus")


def _filled(plan, unit: str, values: dict[str, tuple]) -> tuple:
    wb = build_template(plan, unit, "2026-11")
    ws = data_sheet(wb)
    cells = input_cells(ws)
    codes = {v.name: v.code for v in plan.villages}
    elements = CA_ELEMENTS if unit == "ca" else ("pop_4g5g",)
    for village, figures in values.items():
        for element, value in zip(elements, figures if isinstance(figures, tuple) else (figures,)):
            ws[cells[(codes[village], element)]] = value
    ws["C4"] = dt.date(2026, 12, 8)
    return wb, ws, cells, codes


def _save(wb, root: Path, name: str) -> None:
    folder = root / "submissions" / "2026-11"
    folder.mkdir(parents=True, exist_ok=True)
    wb.save(folder / name)


def _village_rows(ws) -> range:
    rows = [c.row for c in ws["A"] if isinstance(c.value, str) and c.value.startswith("village=")]
    return range(min(rows), max(rows) + 1)


def _sort_block(ws, columns: str, by: str, descending: bool = True) -> None:
    """Data > Sort on the selection only ("Continue with the current selection"): the cells of `columns` (e.g. "B:I")
    in the village rows are reordered by column `by`, blanks last; column A (the keys) stays."""
    first, last = (column_index_from_string(c) for c in columns.split(":"))
    rows = _village_rows(ws)
    block = [[ws.cell(i, j).value for j in range(first, last + 1)] for i in rows]
    k = column_index_from_string(by) - first
    block.sort(key=lambda cells: (cells[k] is None, -(cells[k] or 0) if descending else (cells[k] or 0)))
    for i, cells in zip(rows, block):
        for j, v in zip(range(first, last + 1), cells):
            ws.cell(i, j).value = v


def _values(subs, element: str) -> dict[str, float]:
    rows = subs.data[subs.data["element"] == element]
    return dict(zip(rows["village"], rows["value"]))


def test_the_issue_case_a_sort_of_b_to_i_is_read_by_the_village_names(tmp_path, plan):
    """The officer unprotects the sheet and sorts B:I by pop_total, largest first: the hidden keys stay, so read by
    the keys Thôn 1's row would carry Thôn 3's figures. Read by the names in column B, every figure stays with its
    village, the sheet says once that it was sorted, and the villages left blank are the ones named missing."""
    wb, ws, cells, codes = _filled(plan, "ca", CA)
    _filled_vhxh, *_ = _filled(plan, "vhxh", VHXH)
    ws.protection.sheet = False
    _sort_block(ws, "B:I", by="C")
    assert ws["B8"].value == "Thôn 3" and ws["A8"].value == "village=t01"  # the sort did move the names
    _save(wb, tmp_path, "ca.xlsx")
    _save(_filled_vhxh, tmp_path, "vhxh.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {v: f[0] for v, f in CA.items()}
    assert _values(subs, "pop_adult") == {v: f[1] for v, f in CA.items()}
    assert _values(subs, "pop_14plus") == {v: f[2] for v, f in CA.items()}
    (note,) = [p for p in subs.problems if p.code == "W_ROWS_REORDERED"]
    assert "Các dòng thôn đã bị sắp xếp lại; số liệu được đọc theo tên thôn ở cột B" in note.message
    assert (note.file, note.row, note.column) == ("2026-11/ca.xlsx", 8, "B")
    assert "'Thôn 3'" in note.detail and "'Thôn 1'" in note.detail
    assert [p for p in subs.problems if p.severity == "error"] == []
    # Indicator 1 (vhxh pop_4g5g / ca pop_total, ratio of sums over the villages with both):
    # (900 + 2400 + 1000 + 500 + 1200) / (1000 + 3000 + 2000 + 500 + 1500) = 6000 / 8000 = 75 %.
    card = scorecard(subs.data, plan, "2026-11").set_index("indicator")
    assert card.loc["1", "value"] == pytest.approx(75.0)
    assert (card.loc["1", "numerator"], card.loc["1", "denominator"]) == (6000, 8000)
    # Indicator 14's denominator pop_14plus: 800 + 2400 + 1600 + 420 + 1100 = 6320 over the five villages.
    assert subs.data.loc[subs.data["element"] == "pop_14plus", "value"].sum() == 6320
    missing = {p.found for p in subs.problems if p.code == "W_VILLAGE_MISSING" and p.file == "2026-11/ca.xlsx"}
    assert missing == {f"Thôn {n}" for n in range(1, 27)} - set(CA)  # Thôn 2, 4 and 8..26: those left blank


def test_a_sort_of_the_names_alone_reads_each_figure_for_the_name_beside_it(tmp_path, plan):
    """Sorting column B alone moves the names away from their figures: what the officer now sees is Thôn 7's name
    beside Thôn 1's figures. The kit reads what the sheet shows (it cannot know better) and says the rows moved."""
    wb, ws, cells, codes = _filled(plan, "ca", {"Thôn 1": (1000, 700, 800), "Thôn 2": (950, 600, 700)})
    ws.protection.sheet = False
    ws["B8"], ws["B9"] = "Thôn 2", "Thôn 1"
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {"Thôn 2": 1000, "Thôn 1": 950}
    assert [p.code for p in subs.problems if p.code == "W_ROWS_REORDERED"] == ["W_ROWS_REORDERED"]


def test_a_name_that_identifies_no_village_is_refused_with_the_fix(tmp_path, plan):
    """A row whose name was retyped into something no village is called ("Xóm Đông") is not read by its hidden key:
    its three figures are refused with one located error that says what probably happened and the fix; a name
    retyped in another case, spacing or without diacritics is still its village."""
    wb, ws, cells, codes = _filled(plan, "ca", CA)
    ws.protection.sheet = False
    row_1 = int(cells[(codes["Thôn 1"], "pop_total")][1:])
    row_3 = int(cells[(codes["Thôn 3"], "pop_total")][1:])
    ws[f"B{row_1}"] = "Xóm Đông"
    ws[f"B{row_3}"] = "  THON   03 "
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {v: f[0] for v, f in CA.items() if v != "Thôn 1"}
    (p,) = [p for p in subs.problems if p.code == "E_ROW_UNPLACED"]
    assert (p.row, p.column, p.found, p.expected) == (row_1, "B", "Xóm Đông", "3")
    assert "3 số trên dòng không được nhận" in p.message and "kpi template" in p.fix
    assert not [p for p in subs.problems if p.code == "W_ROWS_REORDERED"]  # nothing was sorted


def test_a_blank_name_after_a_sort_is_refused_not_guessed(tmp_path, plan):
    """After a sort the hidden keys no longer say which village a row is: a row whose name was erased cannot be
    placed, and its figures are refused (read by its key, they would go to whichever village was there first)."""
    wb, ws, cells, codes = _filled(plan, "ca", CA)
    ws.protection.sheet = False
    _sort_block(ws, "B:I", by="C", descending=False)  # smallest first: Thôn 6 (500), Thôn 1 (1000), ...
    assert ws["B8"].value == "Thôn 6"
    ws["B9"] = None  # Thôn 1's name erased
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {v: f[0] for v, f in CA.items() if v != "Thôn 1"}
    (p,) = [p for p in subs.problems if p.code == "E_ROW_UNPLACED"]
    assert (p.row, p.column, p.expected) == (9, "B", "3") and "để trống" in p.detail


def test_columns_swapped_with_their_headers_are_read_by_the_headers(tmp_path, plan):
    """The officer swaps the visible cells of columns C and D (header and figures); the hidden codes in row 6 stay.
    Each figure is read for the header above it, and the sheet says once that the columns moved."""
    wb, ws, cells, codes = _filled(plan, "ca", CA)
    ws.protection.sheet = False
    for i in range(7, max(_village_rows(ws)) + 1):
        ws[f"C{i}"], ws[f"D{i}"] = ws[f"D{i}"].value, ws[f"C{i}"].value
    assert ws["C6"].value == "pop_total" and ws["C7"].value == "Dân số trưởng thành (từ 18 tuổi)"
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {v: f[0] for v, f in CA.items()}
    assert _values(subs, "pop_adult") == {v: f[1] for v, f in CA.items()}
    (p,) = [p for p in subs.problems if p.code == "W_COLUMNS_MOVED"]
    assert (p.row, p.column) == (7, "C") and "theo tiêu đề cột ở dòng 7" in p.message


def test_an_inserted_numbered_column_is_said_once_and_not_read(tmp_path, plan):
    """An "STT" column the officer inserts and numbers 1..26 holds figures that are no element's: one warning for the
    column (26 figures not counted), and every village figure read as typed."""
    wb, ws, cells, codes = _filled(plan, "ca", CA)
    ws.protection.sheet = False
    ws.insert_cols(3)
    ws["C7"] = "STT"
    for n, i in enumerate(_village_rows(ws), start=1):
        ws[f"C{i}"] = n
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {v: f[0] for v, f in CA.items()}
    (p,) = [p for p in subs.problems if p.code == "W_COLUMN_NOT_IN_TEMPLATE"]
    assert (p.row, p.column, p.found, p.expected) == (8, "C", "STT", "26")


def test_a_copied_row_block_without_its_keys_is_read_by_the_names(tmp_path, plan):
    """Copying Thôn 1's visible cells (B:I) over Thôn 2's row: the sheet now shows Thôn 1 twice with the same
    figures and no Thôn 2. Thôn 1 is read once (the copy is a same-value duplicate), Thôn 2 is named missing."""
    wb, ws, cells, codes = _filled(plan, "ca", {"Thôn 1": (1000, 700, 800), "Thôn 2": (950, 600, 700)})
    ws.protection.sheet = False
    for col in "BCDEFGHI":
        ws[f"{col}9"] = ws[f"{col}8"].value
    _save(wb, tmp_path, "ca.xlsx")
    subs = load_submissions(tmp_path, plan)
    assert _values(subs, "pop_total") == {"Thôn 1": 1000}
    assert "Thôn 2" in {p.found for p in subs.problems if p.code == "W_VILLAGE_MISSING"}
    assert not [p for p in subs.problems if p.severity == "error"]


def test_the_commune_block_sorted_alone_is_read_by_its_names(tmp_path, plan):
    """vhxh's commune block (CBCC trained 5, CBCC total 9): its names and values swapped as a block, the keys left:
    each value stays with its name."""
    wb, ws, cells, codes = _filled(plan, "vhxh", VHXH)
    ws[cells[("", "officials_trained")]] = 5
    ws[cells[("", "officials_total")]] = 9
    ws.protection.sheet = False
    a, b = int(cells[("", "officials_trained")][1:]), int(cells[("", "officials_total")][1:])
    for col in "BC":
        ws[f"{col}{a}"], ws[f"{col}{b}"] = ws[f"{col}{b}"].value, ws[f"{col}{a}"].value
    _save(wb, tmp_path, "vhxh.xlsx")
    subs = load_submissions(tmp_path, plan)
    commune = subs.data[subs.data["village"] == ""].set_index("element")["value"].to_dict()
    assert commune == {"officials_trained": 5, "officials_total": 9}
    (p,) = [p for p in subs.problems if p.code == "W_ROWS_REORDERED"]
    assert p.found == "Các dòng số liệu cấp xã"

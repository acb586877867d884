"""Reading a filled template back into raw rows: each value for the village and element its visible row and column
show. A row's place is known twice (the hidden key in column A, the village name in column B) and so is a column's
(the hidden code in row 6, the header in row 7); where they disagree the visible one decides (kpi.intake.placement)."""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from kpi.core.problems import Problem
from kpi.intake.placement import Placement, place
from kpi.intake.template import DATE_ROW
from kpi.plan.model import Plan


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _label_column(row: list[object], label: str, default: int) -> int:
    """The 0-based column of the cell in `row` that reads `label` (an officer may have inserted columns)."""
    for j, v in enumerate(row):
        if isinstance(v, str) and v.strip().casefold() == label.casefold():
            return j
    return default


def _date_cell(row: list[object], period_col: int) -> tuple[object, int]:
    """The report date and its 0-based column: the first filled cell right of the 'Ngày báo cáo' label (the
    deadline note 'Hạn gửi: …' is not it), else the blank cell under the period's value column."""
    label = _label_column(row, "Ngày báo cáo", 1)
    for j in range(label + 1, len(row)):
        v = row[j]
        if not _blank(v) and not (isinstance(v, str) and v.strip().startswith("Hạn gửi")):
            return v, j
    return None, period_col


def _value_column(table: list[list[object]], keys: dict[str, int]) -> int:
    """The commune block's value column: 'Giá trị' in the row that reads 'Số liệu cấp xã' (cells an officer shifted
    move away from their key), else in the row keyed 'commune', else C."""
    head = next((r for r in table if any(isinstance(v, str) and v.strip() == "Số liệu cấp xã" for v in r[1:3])),
                table[keys["commune"]] if "commune" in keys else [])
    return _label_column(head, "Giá trị", 2)


@dataclass
class Filled:
    """What a template sheet gave: one raw record per value read, and the problems of placing its cells."""

    records: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _keys(table: list[list[object]]) -> dict[str, int]:
    """Key in column A -> its first row (0-based)."""
    keys: dict[str, int] = {}
    for i, r in enumerate(table):
        if r and isinstance(r[0], str) and r[0].strip():
            keys.setdefault(r[0].strip(), i)
    return keys


def read_template(table: list[list[object]], plan: Plan | None = None) -> Filled:
    """Raw rows from a template sheet: one per filled input cell, with its Excel row and column letter. Without a
    plan the hidden keys and codes place the cells (as the template wrote them); with the plan each cell is read
    for the village and element its visible row and column name (kpi.intake.placement). Blank input cells are not
    rows: a blank means 'not reported' (completeness shows it), not zero."""
    keys = _keys(table)
    period_key = next((k for k in keys if k.startswith("period=")), None)
    unit_key = next((k for k in keys if k.startswith("unit=")), None)
    period_row = table[keys[period_key]] if period_key else []
    period_col = next((j for j, v in enumerate(period_row) if j >= 2 and not _blank(v)), 2)
    date_value, date_col, date_row = None, period_col, DATE_ROW
    if "submitted_on" in keys:
        date_row = keys["submitted_on"] + 1
        date_value, date_col = _date_cell(table[keys["submitted_on"]], period_col)
    value_col = _value_column(table, keys)
    placement = place(table, keys, value_col, plan)
    base = {"period": period_key.split("=", 1)[1] if period_key else None,
            "unit": unit_key.split("=", 1)[1] if unit_key else None, "submitted_on": date_value,
            "date_row": date_row, "date_col": get_column_letter(date_col + 1)}
    return Filled(_records(table, placement, base), placement.problems)


def _records(table: list[list[object]], placement: Placement, base: dict) -> list[dict]:
    out = []
    for i, village in placement.village_rows.items():
        r = table[i]
        for j, element in placement.columns.items():
            value = r[j] if j < len(r) else None
            if not _blank(value):
                out.append({**base, "row": i + 1, "village": village, "element": element, "value": value,
                            "value_col": get_column_letter(j + 1)})
    for i, element in placement.commune_rows.items():
        r = table[i]
        value = r[placement.value_col] if len(r) > placement.value_col else None
        if not _blank(value):
            out.append({**base, "row": i + 1, "village": None, "element": element, "value": value,
                        "value_col": get_column_letter(placement.value_col + 1)})
    return sorted(out, key=lambda rec: (rec["row"], len(rec["value_col"]), rec["value_col"]))

"""scorecard.xlsx: the plan's Phụ lục I columns plus the month's numbers, formatted to file with a report."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kpi.core import formats, periods, safety
from kpi.core.errors import ExcelError  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.core.i18n import PERIOD_COLUMNS, STATUS_COLORS, STATUS_LABELS, STATUS_TEXT_COLORS, WORDS, target_words
from kpi.plan.model import Plan

# (key, width in characters); the headers are the word table's (kpi.core.i18n, section 'excel')
COLUMNS = (
    ("stt", 6),
    ("name", 38),
    ("target_text", 13),
    ("lead", 20),
    ("partners", 24),
    ("method", 40),
    ("note", 30),
    ("deadline", 12),
    ("value", 13),
    ("numerator", 11),
    ("denominator", 11),
    ("month_value", 11),
    ("change", 12),
    ("status", 15),
    ("villages_reported", 11),
    ("villages_expected", 10),
)
NUMBER_KEYS = ("value", "numerator", "denominator", "month_value", "change", "villages_reported",
               "villages_expected")


def _title(plan: Plan, period: str, lang: str) -> str:
    return WORDS[lang]["excel"]["title"].format(c=plan.commune, p=periods.label(period, lang))


def _period_header(key: str, period: str, lang: str) -> str | None:
    """For a quarter, half-year, nine months or year, the period columns say which period they are about."""
    if periods.is_month(period) or key not in ("month_value", "change"):
        return None
    value, change = PERIOD_COLUMNS[lang][periods.kind(period)]
    return value if key == "month_value" else change


def _deadline_text(value: str, lang: str) -> str:
    if not value:
        return WORDS[lang]["excel"]["continuous"]
    return formats.date(value)


def scorecard_workbook(card: pd.DataFrame, plan: Plan, period: str, lang: str = "vi") -> Workbook:
    """One sheet: a title, what the numbers cover, a header row (frozen, filterable) and one row per indicator.
    It carries no date made, so the same data always gives the same bytes (the HTML report carries the date).

    Numbers are stored unrounded (rounding is only the display format); the status cell holds the status in
    words on its colour."""
    wb = Workbook()
    ws = wb.active
    ws.title = WORDS[lang]["excel"]["sheet"]
    thin = Side(style="thin", color="A0A0A0")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    ncols = len(COLUMNS)

    ws.cell(row=1, column=1).value = None
    safety.set_text_cell(ws.cell(row=1, column=1), _title(plan, period, lang))
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    m, y = periods.month_number(period), periods.year_of(period)
    basis = WORDS[lang]["excel"]["basis"].format(m=m, y=y)
    safety.set_text_cell(ws.cell(row=2, column=1), basis)
    ws.cell(row=2, column=1).font = Font(italic=True, color="444444")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)

    header_row = 4
    for j, (_key, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=j)
        safety.set_text_cell(cell, _period_header(_key, period, lang) or WORDS[lang]["excel"]["columns"][_key])
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF5")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = border
        ws.column_dimensions[get_column_letter(j)].width = width
    ws.row_dimensions[header_row].height = 48

    for i, row in enumerate(card.itertuples(index=False), start=header_row + 1):
        ind = plan.indicator(row.indicator)
        texts = {
            "stt": row.indicator, "name": ind.name, "target_text": target_words(ind.target_text, ind.target, ind.kind, lang),
            "lead": plan.unit(ind.lead).name, "partners": ind.partners, "method": ind.method, "note": ind.note,
            "deadline": _deadline_text(row.deadline, lang), "status": STATUS_LABELS[lang][row.status],
        }
        for j, (key, *_rest) in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=i, column=j)
            cell.border = border
            if key in NUMBER_KEYS:
                value = getattr(row, key)
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    cell.value = float(value) if key not in ("villages_reported", "villages_expected") else int(value)
                cell.number_format = formats.excel_number_format(key, row.kind)
                cell.alignment = Alignment(vertical="top", horizontal="right")
            else:
                safety.set_text_cell(cell, str(texts[key] or ""))
                cell.alignment = wrap_top
        status_cell = ws.cell(row=i, column=[c[0] for c in COLUMNS].index("status") + 1)
        status_cell.fill = PatternFill("solid", fgColor=STATUS_COLORS[row.status].lstrip("#").upper())
        status_cell.font = Font(bold=True, color=STATUS_TEXT_COLORS[row.status].lstrip("#"))
        status_cell.alignment = Alignment(vertical="top", horizontal="center", wrap_text=True)

    last = header_row + len(card)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)  # header rows and STT/name stay in view
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{last}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{header_row}:{header_row}"
    return wb


def write_scorecard_xlsx(card: pd.DataFrame, plan: Plan, period: str, target: Path, lang: str = "vi") -> Path:
    """scorecard.xlsx beside scorecard.csv, written atomically."""
    try:
        return safety.save_workbook(scorecard_workbook(card, plan, period, lang), Path(target))
    except OSError:  # a full disk or no permission: the caller says it with the path and the fix
        raise
    except Exception as exc:  # openpyxl raises assorted errors; name the file
        raise ExcelError(f"Không ghi được {target.name}: {exc}") from exc

"""scorecard.xlsx: the plan's Phụ lục I columns plus the month's numbers, formatted to file with a report."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from kpi.core import formats, periods, safety
from kpi.core.errors import ExcelError  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.core.i18n import PERIOD_COLUMNS, STATUS_COLORS, STATUS_LABELS, STATUS_TEXT_COLORS, WORDS, target_words
from kpi.plan.model import Plan

# (key, width in characters of the default font's digits). Every column prints across A4 landscape at 10 pt or more
# even where a wider font stands in for Calibri: LibreOffice without Calibri's metrics (Carlito) draws Noto Sans,
# about 6.6 pt of paper for a character of width, so the 132 characters take 871 pt, scaled to the 813 pt between
# the margins (MARGINS_IN): 0.93 × 11 pt = 10.3 pt. With Calibri (Excel, WPS; 7 px a character, 5 px a column's
# padding) they take 132 × 7 + 16 × 5 = 1004 px of the 1084 px: no scaling, 11 pt. The long texts (name, method,
# note) wrap, each row as tall as its longest cell (text_lines).
COLUMNS = (
    ("stt", 4),
    ("name", 12),
    ("target_text", 8),
    ("lead", 8),
    ("partners", 9),
    ("method", 16),
    ("note", 12),
    ("deadline", 10),
    ("value", 7),
    ("numerator", 7),
    ("denominator", 7),
    ("month_value", 6),
    ("change", 6),
    ("status", 8),
    ("villages_reported", 6),
    ("villages_expected", 6),
)
FONT = "Calibri"  # named on every cell: a cell with a bold font but no name falls back to a serif in LibreOffice
FONT_PT = 11  # every cell's text; the title 13
LINE_PT = 15  # one line of 11 pt text (Excel's row for Calibri 11; Noto Sans draws 15.0)
MARGINS_IN = {"left": 0.2, "right": 0.2, "top": 0.5, "bottom": 0.5, "header": 0.3, "footer": 0.3}
NUMBER_KEYS = ("value", "numerator", "denominator", "month_value", "change", "villages_reported",
               "villages_expected")


def text_lines(text: str, width: float, bold: bool = False) -> int:
    """How many lines `text` takes wrapped at spaces in a column `width` characters wide, measured against a digit
    (the unit of a column's width) of the font that draws it: a small letter, a digit or a sign 1.0, a capital
    1.15, a space 0.45 (Noto Sans, which LibreOffice draws where Calibri's metrics are missing, is about that wide;
    Calibri is narrower), bold 8 % wider, 0.7 kept for the cell's padding; a word longer than the column is broken.
    Rows are made that tall because LibreOffice does not fit a row's height to wrapped text when it opens a file."""
    room = width - 0.7
    total = 0
    for paragraph in str(text).split("\n"):
        lines, line = 1, 0.0
        for word in paragraph.split():
            w = sum(1.15 if c.isupper() else 1.0 for c in word) * (1.08 if bold else 1)
            if line and line + 0.45 + w > room:
                lines, line = lines + 1, 0.0
            broken = int(w // room) if w > room else 0
            lines, w = lines + broken, w - broken * room
            line = line + 0.45 + w if line else w
        total += lines
    return total


def _fit_row(ws, row: int, texts: dict[int, tuple[str, bool]]) -> None:
    """Make row `row` tall enough for its wrapped texts ({column: (text, bold)})."""
    widths = {j: w for j, (_key, w) in enumerate(COLUMNS, start=1)}
    lines = max((text_lines(t, widths[j], bold) for j, (t, bold) in texts.items()), default=1)
    ws.row_dimensions[row].height = lines * LINE_PT + 3


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
    ws.cell(row=1, column=1).font = Font(name=FONT, bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    m, y = periods.month_number(period), periods.year_of(period)
    basis = WORDS[lang]["excel"]["basis"].format(m=m, y=y)
    safety.set_text_cell(ws.cell(row=2, column=1), basis)
    ws.cell(row=2, column=1).font = Font(name=FONT, size=FONT_PT, italic=True, color="444444")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)

    header_row = 4
    for j, (_key, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=j)
        safety.set_text_cell(cell, _period_header(_key, period, lang) or WORDS[lang]["excel"]["columns"][_key])
        cell.font = Font(name=FONT, size=FONT_PT, bold=True)
        cell.fill = PatternFill("solid", fgColor="E8EEF5")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = border
        ws.column_dimensions[get_column_letter(j)].width = width
    _fit_row(ws, header_row, {j: (ws.cell(row=header_row, column=j).value, True) for j in range(1, ncols + 1)})

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
            cell.font = Font(name=FONT, size=FONT_PT)
            if key in NUMBER_KEYS:
                value = getattr(row, key)
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    cell.value = float(value) if key not in ("villages_reported", "villages_expected") else int(value)
                cell.number_format = formats.excel_number_format(key, row.kind)
                cell.alignment = Alignment(vertical="top", horizontal="right")
            else:
                safety.set_text_cell(cell, str(texts[key] or ""))
                cell.alignment = wrap_top
        _fit_row(ws, i, {j: (str(texts[key] or ""), key == "status") for j, (key, _w) in enumerate(COLUMNS, start=1)
                         if key in texts})
        status_cell = ws.cell(row=i, column=[c[0] for c in COLUMNS].index("status") + 1)
        status_cell.fill = PatternFill("solid", fgColor=STATUS_COLORS[row.status].lstrip("#").upper())
        status_cell.font = Font(name=FONT, size=FONT_PT, bold=True, color=STATUS_TEXT_COLORS[row.status].lstrip("#"))
        status_cell.alignment = Alignment(vertical="top", horizontal="center", wrap_text=True)

    last = header_row + len(card)
    ws.freeze_panes = ws.cell(row=header_row + 1, column=3)  # header rows and STT/name stay in view
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(ncols)}{last}"
    _print_setup(ws, header_row)
    return wb


def _print_setup(ws, header_row: int) -> None:
    """A4 landscape, all the columns on the page's width (as many pages down as needed), the header row on every
    page, page numbers at the foot: the sheet prints whole, at about 10 pt (see COLUMNS)."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(**MARGINS_IN)
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.oddFooter.center.text = "&P/&N"


def write_scorecard_xlsx(card: pd.DataFrame, plan: Plan, period: str, target: Path, lang: str = "vi") -> Path:
    """scorecard.xlsx beside scorecard.csv, written atomically."""
    try:
        return safety.save_workbook(scorecard_workbook(card, plan, period, lang), Path(target))
    except OSError:  # a full disk or no permission: the caller says it with the path and the fix
        raise
    except Exception as exc:  # openpyxl raises assorted errors; name the file
        raise ExcelError(f"Không ghi được {target.name}: {exc}") from exc

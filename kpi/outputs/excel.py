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
from kpi.core.i18n import PERIOD_COLUMNS, STATUS_COLORS, STATUS_LABELS, STATUS_TEXT_COLORS, target_words
from kpi.plan import Plan

SHEET = {"vi": "Bảng tổng hợp", "en": "Scorecard"}

# (key, Vietnamese header, English header, width in characters)
COLUMNS = (
    ("stt", "STT", "No.", 6),
    ("name", "Tên chỉ tiêu", "Indicator", 38),
    ("target_text", "Chỉ tiêu giao", "Target", 13),
    ("lead", "Cơ quan chủ trì theo dõi, đánh giá/tổng hợp, báo cáo", "Lead unit", 20),
    ("partners", "Cơ quan, đơn vị phối hợp", "Partners", 24),
    ("method", "Phương pháp tính/Nguồn thu thập số liệu", "Method / data source", 40),
    ("note", "Ghi chú", "Note (legal basis)", 30),
    ("deadline", "Hạn hoàn thành", "Deadline", 12),
    ("value", "Giá trị lũy kế (% hoặc số lượng)", "Year-to-date value (% or count)", 13),
    ("numerator", "Tử số", "Numerator", 11),
    ("denominator", "Mẫu số", "Denominator", 11),
    ("month_value", "Giá trị tháng", "Month value", 11),
    ("change", "Thay đổi so tháng trước", "Change from last month", 12),
    ("status", "Trạng thái", "Status", 15),
    ("villages_reported", "Số thôn/xã đã báo cáo", "Places reported", 11),
    ("villages_expected", "Số thôn/xã cần có", "Places expected", 10),
)
NUMBER_KEYS = ("value", "numerator", "denominator", "month_value", "change", "villages_reported",
               "villages_expected")


def _title(plan: Plan, period: str, lang: str) -> str:
    if lang == "en":
        return (f"Science, technology, innovation and digital transformation indicators: {plan.commune} commune, "
                f"{periods.label(period, lang)}")
    return (f"Kết quả thực hiện các chỉ tiêu Khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số "
            f"xã {plan.commune}, {periods.label(period, lang)}")


def _period_header(key: str, period: str, lang: str) -> str | None:
    """For a quarter, half-year, nine months or year, the period columns say which period they are about."""
    if periods.is_month(period) or key not in ("month_value", "change"):
        return None
    value, change = PERIOD_COLUMNS[lang][periods.kind(period)]
    return value if key == "month_value" else change


def _deadline_text(value: str, lang: str) -> str:
    if not value:
        return "Thường xuyên" if lang == "vi" else "Continuous"
    return formats.date(value)


def scorecard_workbook(card: pd.DataFrame, plan: Plan, period: str, lang: str = "vi") -> Workbook:
    """One sheet: a title, what the numbers cover, a header row (frozen, filterable) and one row per indicator.
    It carries no date made, so the same data always gives the same bytes (the HTML report carries the date).

    Numbers are stored unrounded (rounding is only the display format); the status cell holds the status in
    words on its colour."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET[lang]
    thin = Side(style="thin", color="A0A0A0")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap_top = Alignment(wrap_text=True, vertical="top")
    ncols = len(COLUMNS)

    ws.cell(row=1, column=1).value = None
    safety.set_text_cell(ws.cell(row=1, column=1), _title(plan, period, lang))
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=ncols)
    m, y = periods.month_number(period), periods.year_of(period)
    basis = (f"Lũy kế từ tháng 1 đến hết tháng {m}/{y}, theo số liệu các đơn vị gửi" if lang == "vi"
             else f"Year to date, January to the end of {m:02d}/{y}, from the units' submissions")
    safety.set_text_cell(ws.cell(row=2, column=1), basis)
    ws.cell(row=2, column=1).font = Font(italic=True, color="444444")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=ncols)

    header_row = 4
    for j, (_key, vi, en, width) in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=j)
        safety.set_text_cell(cell, _period_header(_key, period, lang) or (vi if lang == "vi" else en))
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
        decimals = "#,##0.0" if row.kind == "ratio" else "#,##0"
        for j, (key, *_rest) in enumerate(COLUMNS, start=1):
            cell = ws.cell(row=i, column=j)
            cell.border = border
            if key in NUMBER_KEYS:
                value = getattr(row, key)
                if value is not None and not (isinstance(value, float) and math.isnan(value)):
                    cell.value = float(value) if key not in ("villages_reported", "villages_expected") else int(value)
                cell.number_format = ("0" if key in ("villages_reported", "villages_expected")
                                      else "#,##0.##" if key == "numerator"
                                      else "#,##0" if key == "denominator"
                                      else ('+#,##0.0;-#,##0.0;0' if row.kind == "ratio" else "+#,##0;-#,##0;0")
                                      if key == "change" else decimals)
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

"""A unit's monthly Excel template (write) and reading a filled one back into raw rows (read)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

from kpi.core import safety
from kpi.core.problems import DATE_FORMS
from kpi.intake.notes_form import (
    add_note_cells,  # the unit's notes below its figures (kpi.intake.notes reads them back)
)
from kpi.plan.model import Element, Plan

# The hidden column A of the data sheet carries machine keys; A1 holds this marker, so the loader finds the
# sheet by its content whatever the sheet is called (officers rename sheets).
MARKER = "KPI_TEMPLATE:1"
DEFINED_NAME = "KPI_TEMPLATE"
DATA_SHEET = "Số liệu"
HELP_SHEET = "Hướng dẫn"
KEY_CODES = "codes"
DATE_ROW, DATE_COL = 4, "C"
FIRST_INPUT_COL = 3  # C

NUMBER_RULE = (
    "Cách ghi số: ô Excel kiểu số được lấy nguyên giá trị. Nếu số được gõ dạng chữ thì dấu chấm là dấu ngăn cách "
    "hàng nghìn khi mọi nhóm sau nó đủ 3 chữ số (1.234 = một nghìn hai trăm ba mươi tư; 1.234.567), còn lại dấu "
    "chấm là dấu thập phân; dấu phẩy luôn là dấu thập phân (18,5 = mười tám phẩy năm); khoảng trắng bị bỏ qua.")

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
_REF_FILL = PatternFill("solid", fgColor="EEEEEE")
_UNLOCKED = Protection(locked=False)


def needed_denominators(plan: Plan, unit: str) -> list[Element]:
    """Village-level elements of other units that are denominators of this unit's ratio numerators
    (VHXH needs Công an's pop_total, pop_adult, pop_15plus and vneid_level2): shown read-only in the template."""
    own = {e.code for e in plan.elements_of(unit)}
    codes: list[str] = []
    for ind in plan.indicators:
        if ind.numerator in own and ind.denominator and ind.denominator not in own and ind.denominator not in codes:
            den = plan.element(ind.denominator)
            if den.level == "village" and plan.element(ind.numerator).level == "village":
                codes.append(den.code)
    return [plan.element(c) for c in codes]


def _validation(element: Element) -> DataValidation:
    if element.decimals:
        top = element.max if element.max is not None else 1e12
        dv = DataValidation(type="decimal", operator="between", formula1="0", formula2=f"{top:g}", allow_blank=True)
        dv.error = f"Nhập số từ 0 đến {top:g} (có thể có phần thập phân, ví dụ 18,5)."
    elif element.max is not None:
        dv = DataValidation(type="whole", operator="between", formula1="0", formula2=f"{element.max:g}",
                            allow_blank=True)
        dv.error = f"Nhập số nguyên từ 0 đến {element.max:g}."
    else:
        dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
        dv.error = "Nhập số nguyên lớn hơn hoặc bằng 0 (số người, số hồ sơ...), không ghi chữ."
    dv.errorTitle = "Giá trị không hợp lệ"
    dv.showErrorMessage = True
    return dv


def _head(cell, text: str) -> None:
    cell.value = text
    cell.font = Font(bold=True)
    cell.fill = _HEAD_FILL
    cell.border = _BORDER
    cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _input(cell) -> None:
    cell.protection = _UNLOCKED
    cell.fill = _INPUT_FILL
    cell.border = _BORDER


def _help_sheet(ws, plan: Plan, unit: str, period: str) -> None:
    u = plan.unit(unit)
    due = plan.due_date(period)
    focal = plan.focal_point or {}
    lines = [
        f"MẪU BÁO CÁO SỐ LIỆU CHỈ TIÊU KHCN, ĐMST VÀ CHUYỂN ĐỔI SỐ — XÃ {plan.commune.upper()}",
        f"Đơn vị báo cáo: {u.name}    Kỳ báo cáo: tháng {int(period[5:])}/{period[:4]}",
        "",
        "Cách điền:",
        f"1. Mở trang '{DATA_SHEET}'. Chỉ điền vào các ô màu vàng nhạt; các ô khác bị khóa.",
        f"2. Ghi ngày gửi báo cáo vào ô 'Ngày báo cáo', dạng {DATE_FORMS}.",
        "3. Số liệu theo thôn: mỗi thôn một dòng. Số liệu cấp xã: điền ở khối 'Số liệu cấp xã' bên dưới.",
        "4. Số liệu lũy kế (dân số, số người có tài khoản...) ghi số tại ngày cuối tháng; số liệu phát sinh "
        "(hồ sơ, đơn đăng ký, doanh nghiệp mới) ghi số phát sinh trong tháng.",
        "5. Số đếm (người, hồ sơ, doanh nghiệp) là số nguyên ≥ 0. Điểm hài lòng ghi từ 0 đến 20, được có phần thập phân.",
        "6. Thôn chưa có số liệu thì để trống ô (không ghi 0 nếu chưa thống kê). Nếu số liệu bằng không thì ghi 0.",
        "7. Cột màu xám 'Tham khảo' là mẫu số do đơn vị khác báo cáo, chỉ để đối chiếu: "
        "số của đơn vị mình không được lớn hơn mẫu số tương ứng.",
        f"8. {NUMBER_RULE}",
        "9. Không đổi tên, thêm hay xóa dòng, cột; không dán đè lên ô bị khóa.",
        "10. Khối 'Ý kiến của đơn vị' cuối trang (không bắt buộc): với chỉ tiêu chậm tiến độ hoặc không đạt, ghi "
        "nguyên nhân và giải pháp; ghi kết quả nổi bật trong tháng và nhiệm vụ tháng tới. Các ý kiến được đưa vào "
        "báo cáo của xã; ý kiến tháng trước không tự chuyển sang tháng này.",
        "",
        f"Hạn gửi: trước hoặc đúng ngày {due:%d/%m/%Y} (ngày {plan.report_due_day} tháng sau kỳ báo cáo), "
        f"gửi về Phòng Văn hóa - Xã hội.",
    ]
    if focal.get("name"):
        lines.append(f"Chuyên viên đầu mối: {focal['name']}, điện thoại {focal.get('phone', '')}.")
    lines.append("Sau khi nhận, phòng Văn hóa - Xã hội chạy `kpi validate`; mọi lỗi được báo lại kèm vị trí và cách sửa.")
    for i, text in enumerate(lines, start=1):
        ws.cell(i, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(bold=True, size=13)
    ws.column_dimensions["A"].width = 120
    ws.protection.sheet = True


def reference_values(data: pd.DataFrame | None, elements: list[Element], period: str) -> dict[tuple[str, str], float]:
    """(village, element) -> accepted value for the month, for the read-only denominator columns."""
    if data is None or data.empty or not elements:
        return {}
    part = data[(data["period"] == period) & data["element"].isin([e.code for e in elements])]
    return {(v, e): float(x) for v, e, x in zip(part["village"], part["element"], part["value"])}


def build_template(plan: Plan, unit: str, period: str, data: pd.DataFrame | None = None) -> Workbook:
    """The unit's workbook for one month: an instruction sheet and a protected data sheet where only the
    input cells (values, submission date) are unlocked; whole numbers ≥ 0 are enforced by Excel data
    validation, points 0–20 with decimals. `data` (accepted long data) fills the reference columns."""
    u = plan.unit(unit)
    elements = plan.elements_of(unit)
    village_els = [e for e in elements if e.level == "village"]
    commune_els = [e for e in elements if e.level == "commune"]
    refs = needed_denominators(plan, unit)
    known = reference_values(data, refs, period)

    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET
    _help_sheet(help_ws, plan, unit, period)
    ws = wb.create_sheet(DATA_SHEET)
    wb.active = 1
    ws["A1"] = MARKER
    ws["B1"] = f"BÁO CÁO SỐ LIỆU THÁNG {int(period[5:])}/{period[:4]} — {u.name.upper()} — XÃ {plan.commune.upper()}"
    ws["B1"].font = Font(bold=True, size=13)
    for row, key, label, value in ((2, f"unit={unit}", "Đơn vị báo cáo", u.name),
                                   (3, f"period={period}", "Kỳ báo cáo (tháng)", period),
                                   (DATE_ROW, "submitted_on", "Ngày báo cáo", None)):
        ws.cell(row, 1, key)
        ws.cell(row, 2, label).font = Font(bold=True)
        c = ws.cell(row, 3, value)
        c.border = _BORDER
    date_cell = ws[f"{DATE_COL}{DATE_ROW}"]
    _input(date_cell)
    date_cell.number_format = "DD/MM/YYYY"
    dv_date = DataValidation(type="date", operator="greaterThanOrEqual",
                             formula1=f"DATE({period[:4]},{int(period[5:])},1)", allow_blank=True)
    dv_date.errorTitle = "Ngày không hợp lệ"
    dv_date.error = f"Ghi ngày gửi báo cáo dạng {DATE_FORMS}, không trước ngày đầu kỳ báo cáo."
    dv_date.showErrorMessage = True
    ws.add_data_validation(dv_date)
    dv_date.add(date_cell)
    ws.cell(DATE_ROW, 4, f"Hạn gửi: {plan.due_date(period):%d/%m/%Y}").font = Font(italic=True)

    row = 6
    if village_els:
        ws.cell(row, 1, KEY_CODES)
        for j, e in enumerate(village_els + refs, start=FIRST_INPUT_COL):
            ws.cell(row, j, e.code if e in village_els else f"ref:{e.code}")
        ws.row_dimensions[row].hidden = True
        head = row + 1
        ws.cell(head, 1, "header")
        _head(ws.cell(head, 2), "Thôn")
        for j, e in enumerate(village_els, start=FIRST_INPUT_COL):
            _head(ws.cell(head, j), e.label)
        for j, e in enumerate(refs, start=FIRST_INPUT_COL + len(village_els)):
            _head(ws.cell(head, j), f"Tham khảo: {e.label} ({plan.unit(e.unit).short})")
            ws.cell(head, j).fill = _REF_FILL
        ws.row_dimensions[head].height = 75
        for i, v in enumerate(plan.villages, start=head + 1):
            ws.cell(i, 1, f"village={v.code}")
            ws.cell(i, 2, v.name).border = _BORDER
            for j, e in enumerate(village_els, start=FIRST_INPUT_COL):
                _input(ws.cell(i, j))
            for j, e in enumerate(refs, start=FIRST_INPUT_COL + len(village_els)):
                c = ws.cell(i, j, known.get((v.name, e.code)))
                c.fill, c.border = _REF_FILL, _BORDER
        last = head + len(plan.villages)
        for j, e in enumerate(village_els, start=FIRST_INPUT_COL):
            dv = _validation(e)
            ws.add_data_validation(dv)
            col = get_column_letter(j)
            dv.add(f"{col}{head + 1}:{col}{last}")
        if refs and not known:
            ws.cell(last + 1, FIRST_INPUT_COL + len(village_els),
                    "Chưa có số liệu của đơn vị khác cho tháng này.").font = Font(italic=True, size=9)
        row = last + 3
    if commune_els:
        ws.cell(row, 1, "commune")
        _head(ws.cell(row, 2), "Số liệu cấp xã")
        _head(ws.cell(row, 3), "Giá trị")
        for i, e in enumerate(commune_els, start=row + 1):
            ws.cell(i, 1, f"element={e.code}")
            label = ws.cell(i, 2, e.label)
            label.border = _BORDER
            label.alignment = Alignment(wrap_text=True)
            c = ws.cell(i, 3)
            _input(c)
            dv = _validation(e)
            ws.add_data_validation(dv)
            dv.add(c)

    add_note_cells(ws, plan, unit, ws.max_row + 3)
    ws.column_dimensions["A"].hidden = True
    ws.column_dimensions["B"].width = 42
    for j in range(FIRST_INPUT_COL, FIRST_INPUT_COL + max(len(village_els) + len(refs), 1)):
        ws.column_dimensions[get_column_letter(j)].width = 18
    ws.freeze_panes = "C8" if village_els else None
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "7:7" if village_els else None
    ws.protection.sheet = True
    ws.protection.formatCells = False
    ws.protection.formatColumns = False
    wb.defined_names[DEFINED_NAME] = DefinedName(DEFINED_NAME, attr_text=f"'{DATA_SHEET}'!$A$1")
    return wb


def write_template(plan: Plan, unit: str, period: str, out: str | Path, data: pd.DataFrame | None = None) -> Path:
    """Write the template to `out` (parent folders made as needed)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    safety.save_workbook(build_template(plan, unit, period, data), out)
    return out


def default_name(unit: str, period: str) -> str:
    return f"mau_bao_cao_{unit}_{period}.xlsx"


# --- finding a template (reading one back: kpi.intake.filled) ---------------------------------------------

def is_template(table: list[list[object]]) -> bool:
    """A sheet is a kit template when its A1 holds the marker (the sheet's name does not matter)."""
    return bool(table) and bool(table[0]) and str(table[0][0] or "").strip() == MARKER


def input_cells(ws) -> dict[tuple[str, str], str]:
    """(village code or '' for the commune, element code) -> the input cell's coordinate in a template's data
    sheet; for filling a template from code (the synthetic sample, tests)."""
    table = [[c.value for c in row[:1]] for row in ws.iter_rows(max_col=1)]
    codes_row = next((i + 1 for i, r in enumerate(table) if r[0] == KEY_CODES), None)
    columns = {}
    if codes_row:
        for cell in ws[codes_row][2:]:
            if isinstance(cell.value, str) and not cell.value.startswith("ref:"):
                columns[cell.value] = cell.column_letter
    out = {}
    for i, r in enumerate(table, start=1):
        key = r[0]
        if isinstance(key, str) and key.startswith("village="):
            for element, col in columns.items():
                out[(key.split("=", 1)[1], element)] = f"{col}{i}"
        elif isinstance(key, str) and key.startswith("element="):
            out[("", key.split("=", 1)[1])] = f"C{i}"
    return out


def data_sheet(wb: Workbook):
    """The template's data sheet, found by its marker, whatever it is called."""
    return next(ws for ws in wb.worksheets if ws["A1"].value == MARKER)

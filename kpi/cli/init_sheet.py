"""The spreadsheet a commune fills to make its plan (`kpi init --sheet-form`, then `kpi init --sheet`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kpi.core.errors import PlanError

SHEETS = {"Xã": ("Mục", "Giá trị"), "Thôn": ("Tên thôn (tổ dân phố, xóm…)",),
          "Chỉ tiêu": ("Mã", "Chỉ tiêu", "Giao cho xã (có/không)", "Chỉ tiêu giao (số, % hoặc khuyến khích)",
                       "Hạn (ngày/tháng/năm hoặc thường xuyên)"),
          "Cán bộ": ("Mã đơn vị", "Đơn vị", "Họ tên", "Điện thoại", "Email"),
          "Nơi nhận": ("Nơi nhận Báo cáo (mỗi dòng một nơi)",)}
FIELDS = ("Tên xã", "Tỉnh", "Năm", "Người ký")


def _target_default(d: dict) -> str:
    return "khuyến khích" if d["target"] == "encouraged" else f"{d['target']['value']:g}".replace(".", ",")


def _deadline_default(d: dict, year: int) -> str:
    from kpi.plan.setup import _moved_year

    text = _moved_year(str(d["deadline"]), year)
    return "thường xuyên" if text == "continuous" else "/".join(reversed(text.split("-")))


def write_form(raw: dict, target: Path) -> None:
    """One sheet per part of the plan, filled with the base plan's values where it has them."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from kpi.core import safety

    wb = Workbook()
    wb.remove(wb.active)
    for name, header in SHEETS.items():
        ws = wb.create_sheet(name)
        ws.append(list(header))
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for column, width in zip("ABCDE", (18, 44, 24, 40, 42)):
            ws.column_dimensions[column].width = width
        ws.page_setup.orientation = "landscape"  # printed to fill in by hand: every column on one page wide
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    year = raw["year"]
    for field, value in zip(FIELDS, ("", raw.get("province", ""), year, raw.get("signed_by", ""))):
        wb["Xã"].append([field, value])
    for d in raw["indicators"]:
        wb["Chỉ tiêu"].append([str(d["id"]), d["short"], "có", _target_default(d), _deadline_default(d, year)])
    for u in raw["units"]:
        wb["Cán bộ"].append([u["code"], u["name"], "", "", ""])
    for r in raw.get("report_recipients", []):
        wb["Nơi nhận"].append([r])
    safety.save_workbook(wb, target)


def _text(v: object) -> str:
    if isinstance(v, (dt.datetime, dt.date)):
        return v.strftime("%d/%m/%Y")
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return "" if v is None else str(v).strip()


def read_form(path: Path, raw: dict, base_year: int):
    """The commune's answers from a filled form; a missing sheet or field is named with its sheet and row."""
    from openpyxl import load_workbook

    from kpi.plan.setup import Answers

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 (any reason the file is not a workbook)
        raise PlanError(f"{path}: không đọc được bảng tính ({type(exc).__name__}); lưu lại dạng .xlsx.") from None
    missing = [s for s in SHEETS if s not in wb.sheetnames]
    if missing:
        raise PlanError(f"{path}: thiếu trang {', '.join(missing)}; lấy mẫu bằng kpi init --sheet-form TỆP.xlsx.")

    def rows(sheet: str) -> list[tuple[int, list[str]]]:
        out = []
        for n, row in enumerate(wb[sheet].iter_rows(min_row=2, max_row=5000, values_only=True), start=2):
            cells = [_text(v) for v in row]
            if any(cells):
                out.append((n, cells + [""] * 5))
        return out

    fields = {cells[0]: (n, cells[1]) for n, cells in rows("Xã")}
    commune = fields.get("Tên xã", (0, ""))[1]
    if not commune:
        raise PlanError(f"{path}, trang Xã: chưa ghi Tên xã (cột Giá trị).")
    year_text = fields.get("Năm", (0, str(base_year)))[1] or str(base_year)
    if not year_text.isdigit():
        raise PlanError(f"{path}, trang Xã, dòng {fields['Năm'][0]}: năm '{year_text}' phải là một số, ví dụ 2027.")
    a = Answers(commune=commune, year=int(year_text), province=fields.get("Tỉnh", (0, ""))[1] or None,
                villages=[cells[0] for _, cells in rows("Thôn")], signed_by=fields.get("Người ký", (0, ""))[1] or None,
                recipients=[cells[0] for _, cells in rows("Nơi nhận")])
    for n, cells in rows("Chỉ tiêu"):
        i, assigned, target, deadline = cells[0], cells[2].lower(), cells[3], cells[4]
        if assigned.startswith("k"):
            a.not_assigned.add(i)
            continue
        if target:
            a.targets[i] = target
        if deadline:
            a.deadlines[i] = deadline
    for n, cells in rows("Cán bộ"):
        if cells[2]:
            a.officers.setdefault(cells[0], []).append({"name": cells[2], "phone": cells[3], "email": cells[4]})
    return a

"""scorecard.xlsx: Phụ lục I columns, the scorecard's numbers unrounded, status in words, text never a formula."""

from __future__ import annotations

import dataclasses

import openpyxl
import pandas as pd
import pytest

from kpi.indicators import compute
from kpi.outputs import excel


def _long(rows: list[tuple]) -> pd.DataFrame:
    """Long data (schema.LONG) from (period, unit, village, element, value) tuples."""
    frame = pd.DataFrame(rows, columns=["period", "unit", "village", "element", "value"])
    return frame.assign(value=frame["value"].astype("float64"),
                        submitted_on=pd.to_datetime("2026-12-05").as_unit("ns"), file="test.csv", sheet="",
                        row=range(2, len(frame) + 2)).astype({"row": "int64"})


@pytest.fixture
def small_card(plan):
    """November 2026, worked by hand:
    - indicator 1 (village level): Thôn 1 has 30 of 100 people covered, Thôn 2 has 10 of 100, Thôn 3 sent only
      its population (no numerator, so it does not count): 100 × 40 / 200 = 20.0 %, 2 of 26 villages; target
      30 % with deadline 20/06/2026, passed: missed (Không đạt).
    - indicator 7 (count, flow): 1 application in October and 2 in November: year to date 3 ≥ 2: achieved;
      month value 2, change against October +1.
    - indicator 11: 19 satisfaction points of the constant 20 = 95.0 % ≥ 95: achieved, denominator 20."""
    data = _long([
        ("2026-11", "vhxh", "Thôn 1", "pop_4g5g", 30), ("2026-11", "ca", "Thôn 1", "pop_total", 100),
        ("2026-11", "vhxh", "Thôn 2", "pop_4g5g", 10), ("2026-11", "ca", "Thôn 2", "pop_total", 100),
        ("2026-11", "ca", "Thôn 3", "pop_total", 100),
        ("2026-10", "kt", "", "ip_applications_new", 1), ("2026-11", "kt", "", "ip_applications_new", 2),
        ("2026-11", "ttpvhcc", "", "satisfaction_points", 19),
    ])
    return compute.scorecard(data, plan, "2026-11")


def _rows(path) -> tuple[list[str], dict[str, dict]]:
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[4]]
    rows = {}
    for values in ws.iter_rows(min_row=5, values_only=True):
        rec = dict(zip(header, values))
        rows[rec["STT"]] = rec
    return header, rows


def test_xlsx_columns_follow_phu_luc_I(tmp_path, plan, small_card):
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    header, rows = _rows(path)
    assert header[:7] == ["STT", "Tên chỉ tiêu", "Chỉ tiêu giao",
                          "Cơ quan chủ trì theo dõi, đánh giá/tổng hợp, báo cáo", "Cơ quan, đơn vị phối hợp",
                          "Phương pháp tính/Nguồn thu thập số liệu", "Ghi chú"]
    assert {"Giá trị lũy kế (% hoặc số lượng)", "Giá trị tháng", "Thay đổi so tháng trước", "Trạng thái",
            "Số thôn, xã đã báo cáo"} <= set(header)
    assert list(rows) == [i.id for i in plan.indicators]  # all 19, in plan order
    assert rows["1"]["Tên chỉ tiêu"] == "Tỷ lệ phủ sóng mạng di động băng rộng 4G/5G trên dân số"
    assert rows["1"]["Cơ quan chủ trì theo dõi, đánh giá/tổng hợp, báo cáo"] == "Phòng Văn hóa - Xã hội"


def test_xlsx_numbers_worked_by_hand(tmp_path, plan, small_card):
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    _, rows = _rows(path)
    one = rows["1"]
    assert one["Giá trị lũy kế (% hoặc số lượng)"] == pytest.approx(20.0)
    assert (one["Tử số"], one["Mẫu số"]) == (40, 200)
    assert (one["Số thôn, xã đã báo cáo"], one["Số thôn, xã cần có"]) == (2, 26)
    assert one["Trạng thái"] == "Không đạt"
    seven = rows["7"]
    assert seven["Giá trị lũy kế (% hoặc số lượng)"] == 3
    assert seven["Giá trị tháng"] == 2 and seven["Thay đổi so tháng trước"] == 1
    assert seven["Mẫu số"] is None and seven["Trạng thái"] == "Đạt"
    eleven = rows["11"]
    assert eleven["Giá trị lũy kế (% hoặc số lượng)"] == pytest.approx(95.0)
    assert eleven["Mẫu số"] == 20 and eleven["Trạng thái"] == "Đạt"
    assert rows["15"]["Giá trị lũy kế (% hoặc số lượng)"] is None  # no data: an empty cell, not 0
    assert rows["15"]["Trạng thái"] == "Chưa có số liệu"
    assert rows["8"]["Hạn hoàn thành"] == "Thường xuyên"


def test_xlsx_formatting(tmp_path, plan, small_card):
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert ws.freeze_panes == "C5"
    assert ws.auto_filter.ref.startswith("A4:")
    status_col = [c.value for c in ws[4]].index("Trạng thái") + 1
    cell = ws.cell(row=5, column=status_col)  # indicator 1, missed
    assert cell.fill.fgColor.rgb.endswith("D55E00")
    assert ws.cell(row=5, column=2).alignment.wrap_text
    assert ws.row_dimensions[5].height > 15  # names wrap in a row grown to hold them (see the page setup test)
    assert ws.cell(row=5, column=9).number_format == "#,##0.0"


def test_text_starting_like_a_formula_stays_text(tmp_path, plan, small_card):
    tricky = {"1": "=HYPERLINK(\"http://x\",\"y\")", "2": "+84 778 540 708", "3a": "-mục a", "3b": "@đơn vị"}
    indicators = tuple(dataclasses.replace(i, partners=tricky.get(i.id, i.partners)) for i in plan.indicators)
    evil = dataclasses.replace(plan, indicators=indicators)
    path = excel.write_scorecard_xlsx(small_card, evil, "2026-11", tmp_path / "scorecard.xlsx")
    ws = openpyxl.load_workbook(path).active
    col = [c.value for c in ws[4]].index("Cơ quan, đơn vị phối hợp") + 1
    for row in range(5, 9):
        cell = ws.cell(row=row, column=col)
        assert cell.data_type == "s"
        assert cell.value == tricky[ws.cell(row=row, column=1).value]
        assert cell.quotePrefix


def test_xlsx_in_english(tmp_path, plan, small_card):
    card = small_card.assign(status_label=small_card["status"])
    path = excel.write_scorecard_xlsx(card, plan, "2026-11", tmp_path / "s.xlsx", lang="en")
    ws = openpyxl.load_workbook(path).active
    assert ws.title == "Scorecard" and ws["A2"].value == "Year to date, January to the end of 11/2026, from the units' submissions"
    header = [c.value for c in ws[4]]
    assert header[:2] == ["No.", "Indicator"]
    assert ws.cell(row=5, column=header.index("Status") + 1).value == "Missed"
    targets = {ws.cell(row=i, column=1).value: ws.cell(row=i, column=3).value for i in range(5, 24)}
    assert (targets["1"], targets["4"], targets["7"], targets["16"]) == ("30%", "Encouraged", "≥ 2 a year", "35.4%")


def test_batch_xlsx_matches_scorecard_csv(rendered):
    """The batch's Excel file gives back the scorecard's numbers, unrounded (csv read independently)."""
    csv = pd.read_csv(rendered.out / "scorecard.csv", dtype={"indicator": str}, encoding="utf-8-sig")
    _, rows = _rows(rendered.out / "scorecard.xlsx")
    for rec in csv.itertuples():
        got = rows[rec.indicator]
        for col, header in (("value", "Giá trị lũy kế (% hoặc số lượng)"), ("numerator", "Tử số"),
                            ("denominator", "Mẫu số"), ("month_value", "Giá trị tháng"),
                            ("change", "Thay đổi so tháng trước")):
            want = getattr(rec, col)
            if pd.isna(want):
                assert got[header] is None, (rec.indicator, col)
            else:
                assert got[header] == pytest.approx(want, rel=1e-12), (rec.indicator, col)
        assert got["Số thôn, xã đã báo cáo"] == rec.villages_reported
        assert got["Trạng thái"] == rec.status_label


def test_xlsx_page_setup_for_a4_landscape(tmp_path, plan, small_card):
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    ws = openpyxl.load_workbook(path).active
    setup = ws.page_setup
    assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9)  # 9: A4
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0)  # one page wide, as many down as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == "4:4"  # the header row on every page
    # every text at 11 pt or more, each cell naming its font (LibreOffice draws a nameless bold one as a serif)
    cells = [c for row in ws.iter_rows(min_row=1, max_row=23) for c in row if c.value is not None]
    assert all(c.font.sz >= 11 and c.font.name == "Calibri" for c in cells)
    assert all(ws.cell(row=r, column=j).alignment.wrap_text for r in range(5, 24) for j in (2, 4, 5, 6, 7, 8))
    # printed across 297 mm less two 0.2 in margins = 813.5 pt: a character of width takes 6.6 pt in the widest
    # font that stands in for Calibri here (Noto Sans), so 10 pt from 11 needs at most 813.5 / (6.6 × 10 / 11)
    # = 135 characters in all
    widths = [ws.column_dimensions[openpyxl.utils.get_column_letter(j)].width for j in range(1, 17)]
    assert (ws.page_margins.left, ws.page_margins.right) == (0.2, 0.2)
    assert sum(widths) <= 813.5 / (6.6 * 10 / 11)
    # rows tall enough for their wrapped text: indicator 1's note is the tallest cell of its row; by hand, in a
    # 12-wide column (room 11.3; a small letter, digit or sign 1.0, a capital 1.15, a space 0.45): Công văn số
    # (10.05) | 01-CV/BCĐTW is 12.05, broken: 11.3 | 0.75 ngày (5.2) | 25/3/2025 | của BCĐ TW; (10.65) | Nghị
    # quyết (9.6) | số 71/NQ-CP (11.05) | ngày | 01/4/2025 | của Chính (8.6) | phủ; Kế (6.6) | hoạch số | 266-KH/TU
    # | ngày | 26/4/2024 | của Ban (6.6) | Thường vụ (8.6) | Tỉnh ủy: 18 lines of 15 pt, and 3 pt of padding
    note = plan.indicator("1").note
    assert excel.text_lines(note, 12) == 18 and ws.row_dimensions[5].height == 18 * 15 + 3


def test_text_lines_worked_by_hand():
    # room = 10 − 0.7 = 9.3 widths; a small letter 1.0, a capital 1.15, a space 0.45
    assert excel.text_lines("abcd", 10) == 1  # 4
    assert excel.text_lines("abcd abcd", 10) == 1  # 4 + 0.45 + 4 = 8.45 fits
    assert excel.text_lines("abcd abcdef", 10) == 2  # 4 + 0.45 + 6 = 10.45 > 9.3: a second line
    assert excel.text_lines("ABCDEFGHI", 10) == 2  # 10.35 widths, broken: 9.3 then 1.05
    assert excel.text_lines("Abcdefghi", 10) == 1 and excel.text_lines("Abcdefghi", 10, bold=True) == 2  # 9.15, 9.88
    assert excel.text_lines("a\nb", 10) == 2


def _column_edges(png) -> tuple[list[int], int, int]:
    """The x of each vertical rule of the header row (its grey borders) and the header's top and bottom rows, on a
    page rendered at 72 dpi (1 px = 1 pt)."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(png).convert("L")).astype(int)
    fill = (np.abs(grey - 236) <= 6).mean(axis=1) > 0.5  # rows of the header's E8EEF5 fill
    rows = np.flatnonzero(fill)
    top, bottom = int(rows.min()), int(rows.max())
    dark = (grey[top:bottom + 1] < 200).mean(axis=0) > 0.95
    xs = np.flatnonzero(dark)
    edges = [int(x) for i, x in enumerate(xs) if i == 0 or x > xs[i - 1] + 1]
    return edges, top, bottom


def test_libreoffice_prints_every_text_whole(tmp_path, plan, small_card, pdftotext, pdftoppm):
    """LibreOffice Calc's PDF of the sheet: A4 landscape pages, the header on each, text at 10 pt or more, and in
    each column every indicator's text whole (read column by column, so wrapped lines come back in order)."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    assert soffice, "LibreOffice (soffice) is needed: apt-get install libreoffice-calc"
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    done = subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path / 'lo'}", "--headless", "--convert-to",
                           "pdf", "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=300)
    pdf = tmp_path / "scorecard.pdf"
    assert done.returncode == 0 and pdf.is_file(), done.stderr
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(pdf)], capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    sizes = [line.split(":", 1)[1].split("pts")[0].split() for line in info.splitlines()
             if line.startswith("Page ") and " size:" in line and line.split()[1].isdigit()]
    assert len(sizes) == pages >= 2 and all(abs(float(w) - 841.89) < 1 and abs(float(h) - 595.28) < 1
                                            for w, _x, h in sizes)
    ws = openpyxl.load_workbook(path).active
    header_pt = ws.row_dimensions[4].height
    columns = {key: [] for key, _w in excel.COLUMNS}
    for page in range(1, pages + 1):
        subprocess.run([pdftoppm, "-r", "72", "-png", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
                        str(tmp_path / "page")], check=True)
        edges, top, bottom = _column_edges(tmp_path / "page.png")
        assert len(edges) == 17, edges  # every page repeats the header row, its 16 cells between 17 rules
        scale = (bottom - top + 1) / header_pt  # the printed header's height against the sheet's
        assert 11 * scale >= 10, scale  # 11 pt text printed at 10 pt or more
        for (key, _w), left, right in zip(excel.COLUMNS, edges, edges[1:]):
            text = subprocess.run([pdftotext, "-f", str(page), "-l", str(page), "-r", "72", "-x", str(left + 1),
                                   "-y", str(bottom + 2), "-W", str(right - left - 2), "-H", "600", str(pdf), "-"],
                                  capture_output=True, text=True).stdout
            columns[key].append(text)
    def bare(text: str) -> str:  # without the spaces and line ends of wrapping, nor a hyphen it broke a line at
        return "".join(text.replace("-", "").split())  # (pdftotext joins '266-' + 'KH/TU' as '266KH/TU')

    flat = {key: bare("".join(texts)) for key, texts in columns.items()}
    for ind in plan.indicators:  # every text whole, in its own column
        for key, text in (("name", ind.name), ("partners", ind.partners), ("method", ind.method), ("note", ind.note),
                          ("lead", plan.unit(ind.lead).name)):
            assert bare(text) in flat[key], (ind.id, key)
    names = [ind.name for ind in plan.indicators if ind.id in ("3a", "3b", "3c", "3d")]
    assert len(set(names)) == 4  # 3a–3d read apart
    assert flat["deadline"].count("Thườngxuyên") == sum(1 for i in plan.indicators if i.deadline is None) == 4

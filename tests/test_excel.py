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
            "Số thôn/xã đã báo cáo"} <= set(header)
    assert list(rows) == [i.id for i in plan.indicators]  # all 19, in plan order
    assert rows["1"]["Tên chỉ tiêu"] == "Tỷ lệ phủ sóng mạng di động băng rộng 4G/5G trên dân số"
    assert rows["1"]["Cơ quan chủ trì theo dõi, đánh giá/tổng hợp, báo cáo"] == "Phòng Văn hóa - Xã hội"


def test_xlsx_numbers_worked_by_hand(tmp_path, plan, small_card):
    path = excel.write_scorecard_xlsx(small_card, plan, "2026-11", tmp_path / "scorecard.xlsx")
    _, rows = _rows(path)
    one = rows["1"]
    assert one["Giá trị lũy kế (% hoặc số lượng)"] == pytest.approx(20.0)
    assert (one["Tử số"], one["Mẫu số"]) == (40, 200)
    assert (one["Số thôn/xã đã báo cáo"], one["Số thôn/xã cần có"]) == (2, 26)
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
    assert ws.column_dimensions["B"].width >= 30
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
        assert got["Số thôn/xã đã báo cáo"] == rec.villages_reported
        assert got["Trạng thái"] == rec.status_label

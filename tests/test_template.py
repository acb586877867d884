"""The unit's Excel template: layout, protection, validation, reference denominators, and an exact round trip."""

from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pytest

from kpi.intake.template import (
    DATA_SHEET,
    HELP_SHEET,
    MARKER,
    build_template,
    data_sheet,
    input_cells,
    needed_denominators,
    write_template,
)
from kpi.intake.validate import load_submissions


def test_layout_vhxh(plan):
    wb = build_template(plan, "vhxh", "2026-11")
    assert wb.sheetnames == [HELP_SHEET, DATA_SHEET]
    ws = data_sheet(wb)
    assert ws["A1"].value == MARKER and ws.column_dimensions["A"].hidden
    assert ws["C2"].value == "Phòng Văn hóa - Xã hội" and ws["C3"].value == "2026-11"
    assert ws["B4"].value == "Ngày báo cáo"
    cells = input_cells(ws)
    # VHXH: 7 village-level elements (pop_4g5g, 3 x adult_digital_*, bank_account_15plus, ehealth_books,
    # adult_digital_signature) x 26 villages + 2 commune-level elements (officials_trained, officials_total).
    assert len(cells) == 7 * 26 + 2
    assert ws["B7"].value == "Thôn" and ws["C7"].value == "Dân số trong vùng phủ sóng 4G/5G"
    assert ws["B8"].value == "Thôn 1" and ws["B33"].value == "Thôn 26"
    assert ws[cells[("", "officials_total")]].offset(column=-1).value == "Tổng số CBCC, VC"


def test_protection_and_validation(plan):
    ws = data_sheet(build_template(plan, "ttpvhcc", "2026-11"))
    assert ws.protection.sheet
    cells = input_cells(ws)
    assert all(not ws[c].protection.locked for c in cells.values())
    assert not ws["C4"].protection.locked  # Ngày báo cáo
    assert ws["B7"].protection.locked and ws["C3"].protection.locked
    rules = {(dv.type, dv.operator, dv.formula1, dv.formula2): str(dv.sqref) for dv in ws.data_validations.dataValidation}
    assert rules[("decimal", "between", "0", "20")] == cells[("", "satisfaction_points")]
    assert ("whole", "greaterThanOrEqual", "0", None) in rules
    assert ("date", "greaterThanOrEqual", "DATE(2026,11,1)", None) in rules


def test_instructions_say_when_and_how(plan):
    ws = build_template(plan, "kt", "2026-11")[HELP_SHEET]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    assert "Phòng Kinh tế" in text and "10/12/2026" in text
    assert "1.234" in text and "18,5" in text  # the number rule
    assert "Ngày báo cáo" in text


def test_needed_denominators(plan):
    assert [e.code for e in needed_denominators(plan, "vhxh")] == ["pop_total", "pop_adult", "pop_15plus",
                                                                   "vneid_level2"]
    assert needed_denominators(plan, "ca") == [] and needed_denominators(plan, "kt") == []


def test_reference_columns_show_other_units_figures(plan, tmp_path):
    sub = tmp_path / "submissions" / "2026-11"
    sub.mkdir(parents=True)
    (sub / "ca.csv").write_text("period,unit,village,element,value,submitted_on\n"
                                "2026-11,ca,Thôn 1,pop_adult,812,2026-12-09\n"
                                "2026-10,ca,Thôn 1,pop_adult,700,2026-11-09\n", encoding="utf-8")
    data = load_submissions(tmp_path, plan).data
    ws = data_sheet(build_template(plan, "vhxh", "2026-11", data))
    header = [c.value for c in ws[7]]
    col = header.index("Tham khảo: Dân số trưởng thành (từ 18 tuổi) (Công an)")
    assert ws.cell(8, col + 1).value == 812  # Thôn 1, November only
    assert ws.cell(9, col + 1).value is None  # Thôn 2 not yet sent
    assert ws.cell(8, col + 1).protection.locked


def test_round_trip_exact(plan, tmp_path):
    """Fill every input cell of every unit's template with a distinct known value, load, get them back."""
    expected = {}
    for unit in plan.unit_codes:
        path = write_template(plan, unit, "2026-11", tmp_path / "submissions" / "2026-11" / f"{unit}.xlsx")
        wb = openpyxl.load_workbook(path)
        ws = data_sheet(wb)
        for n, ((village, element), cell) in enumerate(sorted(input_cells(ws).items())):
            value = 18.5 if element == "satisfaction_points" else 5000 + n  # stays below every denominator
            if element in ("pop_total", "pop_adult", "pop_15plus", "pop_14plus", "vneid_level2", "officials_total",
                           "records_total", "records_dvc_total", "payments_total", "enterprises_total"):
                value = 90000 + n
            ws[cell] = value
            name = next((v.name for v in plan.villages if v.code == village), "")
            expected[(unit, name, element)] = float(value)
        ws["C4"] = "07/12/2026"
        wb.save(path)
    subs = load_submissions(tmp_path, plan)
    assert subs.problems == []
    got = {(u, v, e): x for u, v, e, x in zip(subs.data["unit"], subs.data["village"], subs.data["element"],
                                              subs.data["value"])}
    assert got == expected
    assert len(got) == 26 * 7 + 26 * 7 + 2 + 6 + 7  # ca 7 village elements, vhxh 7 + 2, kt 6, ttpvhcc 7
    assert set(subs.data["submitted_on"].dt.strftime("%Y-%m-%d")) == {"2026-12-07"}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("libreoffice") is None, reason="LibreOffice not installed")
def test_opens_in_libreoffice(plan, tmp_path):
    path = write_template(plan, "vhxh", "2026-11", tmp_path / "vhxh.xlsx")
    subprocess.run(["libreoffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,2",
                    "--outdir", str(tmp_path), str(path)], check=True, capture_output=True, timeout=120)
    text = (tmp_path / f"vhxh-{DATA_SHEET}.csv").read_text(encoding="utf-8")
    assert "Ngày báo cáo" in text and "Thôn 26" in text and "Dân số trong vùng phủ sóng 4G/5G" in text

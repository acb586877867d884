"""What the units explain (kpi.intake.notes): the template's note cells, the long form's notes CSV, bounds, escaping in
the HTML and the DOCX, and no carrying over from one month to the next."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest

from kpi import report
from kpi.core import safety
from kpi.intake import notes, template
from kpi.intake.validate import load_submissions
from kpi.outputs import docx_report
from kpi.report import views, views_notes

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
HOSTILE = '=cmd|"/c calc"!A1 <script>alert(1)</script> & chưa có đơn'
KT_VALUES = {"st_enterprises": 1, "enterprises_total": 42, "enterprises_innovating": 7, "startups_new": 0,
             "ip_applications_new": 0, "sme_digital": 23}


def note_rows(ws) -> dict[str, int]:
    return {ws.cell(i, 1).value: i for i in range(1, ws.max_row + 1) if isinstance(ws.cell(i, 1).value, str)}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, plan) -> Path:
    """The sample, with Phòng Kinh tế's November sent as its template (values and notes) instead of its CSV, and
    a notes CSV of TT PVHCC for October and November."""
    root = tmp_path_factory.mktemp("notes")
    shutil.copytree(SAMPLE / "submissions", root / "submissions")
    nov = root / "submissions" / "2026-11"
    (nov / "kt.csv").unlink()
    wb = template.build_template(plan, "kt", "2026-11")
    ws = template.data_sheet(wb)
    cells = template.input_cells(ws)
    for element, value in KT_VALUES.items():
        ws[cells[("", element)]] = value
    ws["C4"] = "08/12/2026"
    keys = note_rows(ws)
    # an officer types into the cells; text typed as text (what Excel keeps in an '@' cell)
    safety.set_text_cell(ws.cell(keys["note=7:reason"], 3), HOSTILE)
    safety.set_text_cell(ws.cell(keys["note=highlights"], 3), "Hỗ trợ 3 doanh nghiệp OCOP lên sàn thương mại điện tử.")
    safety.set_text_cell(ws.cell(keys["note=next_tasks"], 3), "x" * 1500)
    wb.save(nov / "kt.xlsx")
    (root / "submissions" / "ghi_chu_ttpvhcc.csv").write_text(
        "unit,period,indicator,field,text\n"
        "ttpvhcc,2026-10,10,reason,Lý do của tháng 10\n"
        "ttpvhcc,2026-11,10,Nguyên nhân / giải pháp,Nhiều người nộp phí bằng tiền mặt; đặt mã QR tại quầy.\n"
        "ttpvhcc,2026-11,99,reason,chỉ tiêu không có\n"
        "xyz,2026-11,10,reason,đơn vị không có\n", encoding="utf-8")
    return root


def test_template_has_a_note_cell_per_indicator_the_unit_leads(plan):
    ws = template.data_sheet(template.build_template(plan, "kt", "2026-11"))
    keys = note_rows(ws)
    assert [k for k in keys if k.startswith("note=")] == ["note=4:reason", "note=5:reason", "note=6:reason",
                                                          "note=7:reason", "note=13:reason", "note=highlights",
                                                          "note=next_tasks"]
    cell = ws.cell(keys["note=7:reason"], 3)
    assert cell.number_format == "@" and cell.protection.locked is False  # typed as text, unlocked
    assert ws.cell(keys["note=7:reason"], 2).value == "Chỉ tiêu 7 (Đơn đăng ký sở hữu trí tuệ): Nguyên nhân / giải pháp"
    assert ws.cell(keys["note=highlights"], 2).value == "Kết quả nổi bật trong tháng"
    assert ws.cell(keys["note=next_tasks"], 2).value == "Nhiệm vụ tháng tới"


def test_notes_read_back_and_the_values_still_load(data_dir, plan):
    frame, messages = notes.read_notes(data_dir, plan)
    got = {(r.unit, r.period, r.indicator, r.field): r.text for r in frame.itertuples()}
    assert got[("kt", "2026-11", "7", "reason")] == HOSTILE  # kept as text, never evaluated
    assert got[("kt", "2026-11", "", "highlights")] == "Hỗ trợ 3 doanh nghiệp OCOP lên sàn thương mại điện tử."
    assert len(got[("kt", "2026-11", "", "next_tasks")]) == 1000 and got[("kt", "2026-11", "", "next_tasks")].endswith("…")
    assert got[("ttpvhcc", "2026-11", "10", "reason")].startswith("Nhiều người nộp phí")
    assert got[("ttpvhcc", "2026-10", "10", "reason")] == "Lý do của tháng 10"
    assert len(got) == 5
    assert any("kt.xlsx, ô C" in m and "dài 1500 ký tự, chỉ giữ 1000" in m for m in messages)
    assert any("ghi_chu_ttpvhcc.csv, dòng 4" in m and "chỉ tiêu '99'" in m for m in messages)
    assert any("ghi_chu_ttpvhcc.csv, dòng 5" in m and "đơn vị 'xyz'" in m for m in messages)
    subs = load_submissions(data_dir, plan)
    kt = subs.data[(subs.data["unit"] == "kt") & (subs.data["period"] == "2026-11")]
    assert dict(zip(kt["element"], kt["value"])) == KT_VALUES  # the template's values, as the CSV had them
    assert not [p for p in subs.problems if p.file == "ghi_chu_ttpvhcc.csv"]  # the notes CSV is not value rows


@pytest.mark.parametrize("period", [None, "2026-11", "2026-10"])
def test_the_data_reading_takes_the_same_notes_as_the_notes_reader(data_dir, plan, period):
    """load_submissions takes the notes from the tables it read (each file opened once); read_notes opens the
    files for them: the same notes, texts and messages, in the same order, for any period."""
    subs = load_submissions(data_dir, plan)
    taken, said = notes.of_submissions(subs, data_dir, plan, period)
    read, told = notes.read_notes(data_dir, plan, period)
    assert taken.to_dict("records") == read.to_dict("records") and said == told
    # worked out from the fixture: November's four notes (the long one cut), October's one; both for all periods
    assert len(taken) == {None: 5, "2026-11": 5, "2026-10": 2}[period]
    assert any("dòng 4" in m and "chỉ tiêu '99'" in m for m in said)
    assert ("kt.xlsx" in " ".join(said)) == (period != "2026-10")


def test_notes_are_not_carried_to_the_next_month(data_dir):
    nov = report.build("2026-11", "commune", data_dir, made_on="2026-12-10")
    assert "Lý do của tháng 10" not in set(nov.notes["text"])
    oct_ = report.build("2026-10", "commune", data_dir, made_on="2026-11-10")
    assert list(oct_.notes["text"]) == ["Lý do của tháng 10"]
    assert notes.reason(oct_.notes, "7") == ""  # Kinh tế wrote its reason for November only


def test_html_shows_the_notes_escaped_under_the_item(data_dir):
    r = report.build("2026-11", "commune", data_dir, made_on="2026-12-10")
    html = views_notes.notes(r).data
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; chưa có đơn" in html and "<script>" not in html
    assert "Nguyên nhân / giải pháp (Kinh tế):" in html
    assert "chỉ giữ 1000 ký tự đầu" in html  # the cut is said where the analyst reads
    actions = views.actions(r).data  # indicator 7 is behind in the sample: its reason under its item
    item = actions[actions.index("7. Số lượng đơn đăng ký"):].split("<h3>")[0]  # up to the next item
    assert "Nguyên nhân / giải pháp (Kinh tế):</b> =cmd|&quot;/c calc&quot;!A1 &lt;script&gt;" in item
    assert "<script>" not in actions


def test_docx_sections_two_and_three_carry_the_notes_escaped(data_dir, tmp_path):
    r = report.build("2026-11", "commune", data_dir, made_on="2026-12-10")
    path = docx_report.write_docx(r, tmp_path / "bao-cao-2026-11.docx", r.notes)
    xml = zipfile.ZipFile(path).read("word/document.xml").decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; chưa có đơn" in xml and "<script>" not in xml
    assert "instrText" not in xml  # the '=cmd|…' note is text, not a field
    paras = [p.text for p in docx.Document(path).paragraphs]
    ii = paras.index("II. ĐÁNH GIÁ CHUNG")
    iii = next(i for i, p in enumerate(paras) if p.startswith("III. NHIỆM VỤ TRỌNG TÂM"))
    iv = paras.index("IV. ĐỀ XUẤT, KIẾN NGHỊ")
    section2, section3 = paras[ii:iii], paras[iii:iv]
    assert any(p.startswith("- Chỉ tiêu 7 (") and f"Nguyên nhân, giải pháp (Kinh tế): {HOSTILE}" in p for p in section2)
    assert "- Phòng Kinh tế: Hỗ trợ 3 doanh nghiệp OCOP lên sàn thương mại điện tử." in section2
    assert f"- Giải pháp của đơn vị: {HOSTILE}" in section3
    assert any(p.startswith("- Phòng Kinh tế: xxx") for p in section3)  # its next month's tasks


def test_clean_removes_controls_and_bounds_length():
    messages: list[str] = []
    assert notes.clean("  a\u202eb\x07  c \r\n\r\n d ", "x", messages) == "a b c\nd"
    assert messages == []
    long = notes.clean("é" * 1001, "tệp.xlsx, ô C40", messages)
    assert len(long) == 1000 and messages == ["tệp.xlsx, ô C40: ghi chú dài 1001 ký tự, chỉ giữ 1000 ký tự đầu; "
                                              "viết ngắn lại nếu cần giữ phần sau."]


def test_hostile_note_stays_text_when_the_template_is_opened(data_dir):
    book = openpyxl.load_workbook(data_dir / "submissions" / "2026-11" / "kt.xlsx")
    ws = template.data_sheet(book)
    cell = ws.cell(note_rows(ws)["note=7:reason"], 3)
    assert cell.data_type == "s" and cell.value == HOSTILE


def test_kpi_validate_says_which_notes_were_cut_or_left_out(data_dir, capsys):
    from kpi.cli import main

    main(["validate", "--data", str(data_dir), "--period", "2026-11"])
    out = capsys.readouterr().out
    assert "  Ghi chú: 2026-11/kt.xlsx, ô C" in out and "ghi chú dài 1500 ký tự, chỉ giữ 1000 ký tự đầu" in out
    assert "  Ghi chú: ghi_chu_ttpvhcc.csv, dòng 4: bỏ qua ghi chú vì chỉ tiêu '99' không có trong kế hoạch" in out
    assert "E_COLUMNS_MISSING" not in out  # the notes CSV is not taken for a values file

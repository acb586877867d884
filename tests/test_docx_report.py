"""The Báo cáo DOCX (kpi.outputs.docx_report, kpi.outputs.docx_form): the form of docs/rules.md §6 read back with python-docx, its numbers
against scorecard.csv, and LibreOffice's PDF of it."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
import subprocess
import zipfile
from pathlib import Path

import docx
import pytest
from docx.shared import Pt

from kpi import report
from kpi.outputs import docx_report, tables
from kpi.core.periods import next_words as next_period_words
from kpi.core.periods import words as period_words
from kpi.outputs.docx_report import comparison, place_date
from kpi.run import manifest

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def month():
    return report.build("2026-11", "commune", SAMPLE, made_on="2026-12-05")


@pytest.fixture(scope="module")
def written(month, tmp_path_factory):
    out = tmp_path_factory.mktemp("docx")
    path = docx_report.write_docx(month, out / "bao-cao-2026-11.docx", month.notes)
    tables.write_scorecard_csv(month.scorecard, out / "scorecard.csv")
    return path


def texts(element) -> str:
    """The text of every w:t under an element, content controls included (python-docx's paragraph.text
    skips them)."""
    return "".join(t.text or "" for t in element.iter(docx.oxml.ns.qn("w:t")))


def body_text(document) -> str:
    return texts(document.element.body)


def test_period_words_for_every_kind():
    assert period_words("2026-11") == "tháng 11 năm 2026"
    assert period_words("2026-01") == "tháng 1 năm 2026"
    assert period_words("2026-Q2") == "quý II năm 2026"
    assert period_words("2026-H1") == "6 tháng đầu năm 2026"
    assert period_words("2026-9T") == "9 tháng năm 2026"
    assert period_words("2026") == "năm 2026"
    assert next_period_words("2026-11") == "tháng 12 năm 2026"
    assert next_period_words("2026-12") == "tháng 1 năm 2027"
    assert next_period_words("2026-H1") == "6 tháng cuối năm 2026"
    assert next_period_words("2026-Q4") == "quý I năm 2027"
    assert next_period_words("2026") == "năm 2027"


def test_place_date_leading_zero_rule():
    # NĐ 30: a day below 10 and a month below 3 are written with a leading zero; others are not
    assert place_date("Quảng Ngọc", dt.date(2026, 12, 5)) == "Quảng Ngọc, ngày 05 tháng 12 năm 2026"
    assert place_date("Quảng Ngọc", dt.date(2027, 2, 15)) == "Quảng Ngọc, ngày 15 tháng 02 năm 2027"
    assert place_date("Quảng Ngọc", dt.date(2027, 1, 9)) == "Quảng Ngọc, ngày 09 tháng 01 năm 2027"
    assert place_date("Quảng Ngọc", dt.date(2026, 3, 9)) == "Quảng Ngọc, ngày 09 tháng 3 năm 2026"


def test_comparison_words():
    ratio = {"kind": "ratio", "target": 30.0}
    assert comparison({**ratio, "value": 89.44}) == "+59,4 điểm %"  # 89.44 − 30 = 59.44
    assert comparison({**ratio, "value": 23.5}) == "−6,5 điểm %"
    assert comparison({**ratio, "value": 30.0}) == "Bằng chỉ tiêu"
    assert comparison({"kind": "count", "target": 2.0, "value": 1.0}) == "1/2"
    assert comparison({"kind": "count", "target": float("nan"), "value": 3.0}) == "—"  # encouraged


def test_page_margins_and_page_numbers(written):
    d = docx.Document(written)
    sec = d.sections[0]
    assert (sec.page_width.twips, sec.page_height.twips) == (11906, 16838)  # A4 portrait, 210 × 297 mm
    mm = {k: round(getattr(sec, f"{k}_margin").mm, 1) for k in ("top", "bottom", "left", "right")}
    assert 20 <= mm["top"] <= 25 and 20 <= mm["bottom"] <= 25
    assert 30 <= mm["left"] <= 35 and 15 <= mm["right"] <= 20
    assert sec.different_first_page_header_footer  # no number on page 1
    assert texts(sec.first_page_header._element).strip() == ""
    header = sec.header._element.xml
    assert "PAGE" in header and 'w:fldCharType="begin"' in header
    assert sec.header.paragraphs[0].alignment == 1  # centred
    assert all(r.font.size == Pt(13) for r in sec.header.paragraphs[0].runs)


def test_fonts_and_sizes_in_the_xml(written):
    d = docx.Document(written)
    normal = d.styles["Normal"]
    assert normal.font.name == "Times New Roman" and normal.font.size == Pt(14)
    fonts = normal.element.rPr.rFonts
    assert {fonts.get(f"{{{fonts.nsmap['w']}}}{k}") for k in ("ascii", "hAnsi", "eastAsia", "cs")} == {"Times New Roman"}
    xml = zipfile.ZipFile(written).read("word/document.xml").decode()
    names = set(__import__("re").findall(r'w:ascii="([^"]+)"', xml))
    assert names == {"Times New Roman"}
    heading = d.tables[0].rows[0].cells
    agency = heading[0].paragraphs[:2]
    assert [p.text for p in agency] == ["ỦY BAN NHÂN DÂN", "XÃ QUẢNG NGỌC"]
    assert all(r.bold and r.font.size == Pt(13) for p in agency for r in p.runs)
    title, motto = heading[1].paragraphs[:2]
    assert title.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" and title.runs[0].bold and title.runs[0].font.size == Pt(13)
    assert motto.text == "Độc lập - Tự do - Hạnh phúc" and motto.runs[0].bold and motto.runs[0].font.size == Pt(14)
    date_line = heading[1].paragraphs[3]
    assert date_line.text == "Quảng Ngọc, ngày 05 tháng 12 năm 2026"
    assert date_line.runs[0].italic and date_line.runs[0].font.size == Pt(14)
    # the heading block is a table without borders
    assert 'w:val="nil"' in d.tables[0]._tbl.tblPr.xml
    body = [p for p in d.paragraphs if p.text.strip()]
    kind = next(p for p in body if p.text == "BÁO CÁO")
    assert kind.alignment == 1 and kind.runs[0].bold and kind.runs[0].font.size == Pt(14)
    summary = body[body.index(kind) + 1]
    assert summary.text == ("Kết quả thực hiện các chỉ tiêu về khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi "
                            "số tháng 11 năm 2026")
    assert summary.runs[0].bold and summary.alignment == 1
    sentence = next(p for p in body if p.text.startswith("Đến hết tháng 11 năm 2026"))
    assert sentence.alignment == 3 and sentence.paragraph_format.first_line_indent == docx.shared.Cm(1.27)


def test_number_signature_recipients_and_places_to_fill(written):
    d = docx.Document(written)
    text = body_text(d)
    number = d.tables[0].rows[0].cells[0].paragraphs[-1]
    assert texts(number._p).replace(" ", "") == "Số:/BC-UBND"
    assert number.runs[0].font.size == Pt(13) and not number.runs[0].bold
    for heading in ("I. KẾT QUẢ THỰC HIỆN THÁNG 11 NĂM 2026", "II. ĐÁNH GIÁ CHUNG",
                    "III. NHIỆM VỤ TRỌNG TÂM THÁNG 12 NĂM 2026", "IV. ĐỀ XUẤT, KIẾN NGHỊ", "PHỤ LỤC"):
        assert heading in text
    # the places only people write: yellow-highlighted runs (w:highlight, which LibreOffice and WPS show as Word
    # does), in the placeholder style, and no content control or field whose look LibreOffice drops
    assert d.element.body.findall(".//" + docx.oxml.ns.qn("w:sdt")) == []
    style_id = d.styles["Chỗ cần điền"].style_id
    marked = [r for r in d.element.body.iter(docx.oxml.ns.qn("w:r")) if r.find(".//" + docx.oxml.ns.qn("w:highlight")) is not None]
    assert [r.find(".//" + docx.oxml.ns.qn("w:highlight")).get(docx.oxml.ns.qn("w:val")) for r in marked] == ["yellow"] * 4
    assert [r.find(".//" + docx.oxml.ns.qn("w:rStyle")).get(docx.oxml.ns.qn("w:val")) for r in marked] == [style_id] * 4
    # the number (heading, then annex), I.1 and IV; the plan names the signer, so no place for the name
    assert [texts(r) for r in marked] == ["      ", "[Chỗ cần điền: công tác lãnh đạo, chỉ đạo, tuyên truyền trong kỳ]",
                                          "[Chỗ cần điền: đề xuất, kiến nghị với cấp trên]", "      "]
    assert "[Chỗ cần điền: công tác lãnh đạo, chỉ đạo, tuyên truyền trong kỳ]" in text
    signature = [t for t in d.tables if "KT. CHỦ TỊCH" in texts(t._tbl)][0].rows[0].cells
    recipients = [p.text for p in signature[0].paragraphs]
    assert recipients[0] == "Nơi nhận:"
    assert signature[0].paragraphs[0].runs[0].bold and signature[0].paragraphs[0].runs[0].italic
    assert recipients[1:] == ["- Thường trực Đảng ủy xã (b/c);", "- Thường trực HĐND xã (b/c);",
                              "- Chủ tịch, các Phó Chủ tịch UBND xã;", "- Các phòng, Trung tâm thuộc UBND xã;",
                              "- Lưu: VT, VHXH."]
    assert all(p.runs[0].font.size == Pt(11) for p in signature[0].paragraphs[1:])
    right = [p.text for p in signature[1].paragraphs if p.text]
    assert right[:2] == ["KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"] and right[-1] == "Lê Văn Trường"


def test_every_value_in_the_table_equals_scorecard_csv_as_shown(written):
    d = docx.Document(written)
    table = next(t for t in d.tables if t.rows[0].cells[0].text == "STT")
    assert [c.text for c in table.rows[0].cells] == ["STT", "Chỉ tiêu", "Chỉ tiêu giao", "Kết quả (lũy kế)",
                                                     "So với chỉ tiêu", "Đánh giá", "Đơn vị chủ trì"]
    shown = {row.cells[0].text: row.cells for row in table.rows[1:]}
    with open(Path(written).parent / "scorecard.csv", encoding="utf-8-sig") as fh:
        card = list(csv.DictReader(fh))
    assert len(shown) == len(card) == 19
    words = {"achieved": "Đạt", "on_track": "Đúng tiến độ", "behind": "Chậm tiến độ", "missed": "Không đạt",
             "encouraged": "Khuyến khích", "no_data": "Chưa có số liệu"}
    for row in card:
        cells = shown[row["indicator"]]
        if row["value"] == "":
            expected = "—"
        elif row["kind"] == "ratio":  # one decimal, decimal comma, percent sign
            expected = f"{float(row['value']):.1f}".replace(".", ",") + "%"
        else:
            expected = f"{float(row['value']):.0f}"
        assert cells[3].text == expected, row["indicator"]
        assert cells[5].text == words[row["status"]]
        assert cells[1].text == row["name"]
    assert shown["1"][6].text == "VHXH" and shown["14"][6].text == "Công an"


def test_annex_has_every_village(written, month):
    d = docx.Document(written)
    annex = d.tables[-1]
    assert annex.rows[0].cells[0].text == "Thôn"
    assert "(Kèm theo Báo cáo số       /BC-UBND ngày 05/12/2026 của UBND xã Quảng Ngọc)" in body_text(d)
    assert [r.cells[0].text for r in annex.rows[1:]] == [f"Thôn {n}" for n in range(1, 27)]
    # village-level ratio indicators: 1, 3a-3d, 12, 14, 15, 16
    assert [c.text for c in annex.rows[0].cells[1:]] == [f"CT {i}" for i in
                                                        ("1", "3a", "3b", "3c", "3d", "12", "14", "15", "16")]


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed; CI installs "
                    "libreoffice-writer")
def test_libreoffice_converts_it_to_an_a4_pdf_with_the_names_intact(written_pdf, month, pdftotext):
    pdf = written_pdf
    assert pdf.name == "bao-cao-2026-11.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "(A4)" in info
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True).stdout
    flat = " ".join(text.split())
    for name in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "BÁO CÁO",
                 "Quảng Ngọc, ngày 05 tháng 12 năm 2026"):
        assert name in flat
    for ind in month.plan.indicators:  # wrapped in table cells: compare without line breaks
        assert ind.short in flat or ind.name.replace(" ", "") in flat.replace(" ", ""), ind.id


def test_the_batch_makes_it_beside_the_commune_report(rendered):
    out = rendered.out
    assert (out / "bao-cao-2026-11.docx").is_file()
    got = manifest.load_manifest(out)
    assert got["reports"]["commune"]["outputs"]["docx"] == "bao-cao-2026-11.docx"
    assert "docx" not in got["reports"]["ttpvhcc"]["outputs"]  # a unit's report has no Báo cáo
    assert 'href="bao-cao-2026-11.docx"' in (out / "index.html").read_text(encoding="utf-8")
    assert "bao-cao-2026-11/bao-cao-2026-11.docx" in zipfile.ZipFile(rendered.zip_path).namelist()
    d = docx.Document(out / "bao-cao-2026-11.docx")
    assert "Quảng Ngọc, ngày 05 tháng 12 năm 2026" in body_text(d)


def test_counts_sentence_of_the_sample(written):
    # The sample's November statuses (the table above, checked against scorecard.csv): achieved 1, 3a, 5, 9, 11,
    # 13, 14; missed 2, 3b, 3c, 3d, 12, 16; behind 7, 8, 10; encouraged 4, 6; no data 15. Over the plan's 16
    # indicators group 3 counts once and is missed (3b-3d are): achieved 1, 5, 9, 11, 13, 14 = 6; missed 2, 3,
    # 12, 16 = 4; behind 7, 8, 10 = 3; on track 0; encouraged 2; no data 1 (6 + 4 + 3 + 2 + 1 = 16).
    text = body_text(docx.Document(written))
    assert ("Đến hết tháng 11 năm 2026, trong 16 chỉ tiêu của Kế hoạch: 6/16 chỉ tiêu đạt, 0/16 chỉ tiêu đúng "
            "tiến độ, 3/16 chỉ tiêu chậm tiến độ, 4/16 chỉ tiêu không đạt, 2 chỉ tiêu khuyến khích, 1 chỉ tiêu chưa "
            "có số liệu") in text


def test_rules_under_the_agency_the_motto_and_the_summary(written):
    d = docx.Document(written)
    left, right = d.tables[0].rows[0].cells

    def rule_mm(p, column_mm: float, pad_mm: float = 0) -> float:
        assert "<w:pBdr>" in p._p.xml and "<w:top " in p._p.xml  # a real paragraph border, no drawing
        fmt = p.paragraph_format
        assert fmt.space_before == Pt(3)  # off the letters of the line above (they touched before)
        return round(column_mm - 2 * pad_mm - fmt.left_indent.mm - fmt.right_indent.mm)

    # in a heading cell the rule stands between the cell's margins (108 twips = 1.905 mm on each side)
    margins = d.styles.element.xpath('./w:style[@w:styleId="TableNormal"]/w:tblPr/w:tblCellMar/*')
    assert {m.tag.split("}")[1]: m.get(docx.oxml.ns.qn("w:w")) for m in margins}["left"] == "108"
    # 'ỦY BAN NHÂN DÂN' in Times New Roman Bold 13 pt: 9.415 em (AFM widths) = 122.4 pt = 43.2 mm, so 1/3 to 1/2 is
    # 14.4 to 21.6 mm; 'Độc lập - Tự do - Hạnh phúc' in Bold 14 pt: 12.197 em = 170.8 pt = 60.2 mm
    assert rule_mm(left.paragraphs[2], 62, 1.905) == 18
    assert rule_mm(right.paragraphs[2], 103, 1.905) == 61
    summary = next(i for i, p in enumerate(d.paragraphs) if p.text.startswith("Kết quả thực hiện các chỉ tiêu"))
    assert rule_mm(d.paragraphs[summary + 1], 165) == 40


SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")  # CI installs libreoffice-writer


def to_pdf(paths: list[Path], outdir: Path) -> list[Path]:
    """LibreOffice's PDF of each document, in one run with its own profile (no clash with another soffice)."""
    assert SOFFICE, "LibreOffice (soffice) is needed: apt-get install libreoffice-writer"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(outdir), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    pdfs = [outdir / f"{p.stem}.pdf" for p in paths]
    assert done.returncode == 0 and all(p.is_file() for p in pdfs), done.stderr
    return pdfs


@pytest.fixture(scope="module")
def written_pdf(written, tmp_path_factory) -> Path:
    """LibreOffice's PDF of the written DOCX, converted once for the tests that read it."""
    return to_pdf([written], tmp_path_factory.mktemp("docx_pdf"))[0]


def words_at(pdf: Path, pdftotext: str) -> list[tuple[int, float, str]]:
    """Every word of the PDF as (page from 1, top in pt, text), in reading order."""
    import html

    out = subprocess.run([pdftotext, "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    words, page = [], 0
    for m in __import__("re").finditer(r'<page |<word xMin="[^"]+" yMin="([^"]+)"[^>]*>([^<]*)</word>', out):
        if m.group(0) == "<page ":
            page += 1
        else:
            words.append((page, float(m.group(1)), html.unescape(m.group(2))))
    return words


def where(words: list[tuple[int, float, str]], phrase: str) -> tuple[int, float]:
    """(page, top) of the first occurrence of `phrase` (words in sequence)."""
    parts = phrase.split()
    for i in range(len(words) - len(parts) + 1):
        if [w[2] for w in words[i:i + len(parts)]] == parts:
            return words[i][:2]
    raise AssertionError(f"'{phrase}' not in the PDF")


def test_signature_block_is_kept_together_in_the_xml(written):
    d = docx.Document(written)
    sign = next(t for t in d.tables if "KT. CHỦ TỊCH" in texts(t._tbl))
    assert sign.rows[0]._tr.trPr.find(docx.oxml.ns.qn("w:cantSplit")) is not None  # the row never splits
    right = sign.rows[0].cells[1].paragraphs
    assert all(p.paragraph_format.keep_with_next and p.paragraph_format.keep_together for p in right[:-1])
    # what leads into it, section IV and the spacer, is kept with it
    paras = d.paragraphs
    iv = next(i for i, p in enumerate(paras) if p.text == "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    assert [p.paragraph_format.keep_with_next for p in paras[iv:iv + 3]] == [True, True, True]
    body = list(d.element.body)
    assert body.index(paras[iv + 2]._p) + 1 == body.index(sign._tbl)  # the spacer is right before the table
    # and no heading of the body ends a page without its first line
    heads = [p for p in paras if p.text.startswith(("I. ", "II. ", "III. ", "1. ", "2. ", "3. "))]
    assert len(heads) >= 10 and all(p.paragraph_format.keep_with_next for p in heads), [p.text for p in heads]


def test_libreoffice_never_leaves_the_signers_name_alone(written, written_pdf, tmp_path, pdftotext):
    """Convert the sample, then push section IV down with empty 10 pt lines until, left alone, the page would end
    between 'KT. CHỦ TỊCH' and the name (KT. 50 pt above the text's bottom edge, the name about 115 pt below
    KT.): LibreOffice must move the block whole to the next page, section IV with it."""
    first = words_at(written_pdf, pdftotext)
    page, top = where(first, "KT. CHỦ TỊCH")
    assert where(first, "PHÓ CHỦ TỊCH")[0] == where(first, "Lê Văn Trường")[0] == page
    gap = where(first, "Lê Văn Trường")[1] - top
    assert gap > 60  # the name sits far enough below KT. that 50 pt of room cannot hold both
    bottom = 841.89 - 56.69  # A4 less the 20 mm bottom margin
    shift = (bottom - 50) - top
    next_page = shift <= 0
    shift = shift + (841.89 - 2 * 56.69) if next_page else shift  # to that place on the next page
    d = docx.Document(written)
    iv = next(p for p in d.paragraphs if p.text == "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    for _ in range(round(shift / 10)):
        filler = iv.insert_paragraph_before()
        fmt = filler.paragraph_format
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.line_spacing, fmt.line_spacing_rule = Pt(10), docx.enum.text.WD_LINE_SPACING.EXACTLY
    pushed = tmp_path / "pushed" / "bao-cao-day.docx"
    pushed.parent.mkdir()
    d.save(pushed)
    words = words_at(to_pdf([pushed], pushed.parent)[0], pdftotext)
    kt = where(words, "KT. CHỦ TỊCH")
    assert where(words, "PHÓ CHỦ TỊCH")[0] == where(words, "Lê Văn Trường")[0] == kt[0]
    heading = where(words, "IV. ĐỀ XUẤT, KIẾN NGHỊ")
    assert heading[0] == kt[0] and heading[1] < 56.69 + 40  # moved whole: section IV tops the new page
    assert kt[0] == page + (2 if next_page else 1)

"""The administrative form of Nghị định 30/2020/NĐ-CP in python-docx: page, fonts, rules, page numbers, places to fill.

Everything here is layout; kpi.outputs.docx_report decides the words. Sizes are docs/rules.md §6's."""

from __future__ import annotations

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor

FONT = "Times New Roman"
BODY_PT = 14  # body, title, summary, signature: 13–14
HEAD_PT = 13  # agency and national title: 12–13
NUMBER_PT = 13  # "Số: …"
TABLE_PT = 12  # the indicators' table
SMALL_TABLE_PT = 10  # the per-village annex, ten columns on portrait A4
RECIPIENTS_HEAD_PT = 12
RECIPIENTS_PT = 11
PAGE_NUMBER_PT = 13
FIRST_LINE_INDENT = Cm(1.27)
PARAGRAPH_AFTER = Pt(6)
MARGINS = {"top": Mm(20), "bottom": Mm(20), "left": Mm(30), "right": Mm(15)}
PAGE_W, PAGE_H = Mm(210), Mm(297)
TEXT_W = Mm(165)  # the page less the left and right margins
CELL_PAD_MM = 1.905  # a table cell's left and right margin (Word's default, 108 twips, python-docx's template)
PLACEHOLDER_STYLE = "Chỗ cần điền"  # character style of the places only people write
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle",
               "w:rPr", "w:sectPr", "w:pPrChange")


def new_document():
    """An empty A4 portrait document: docs/rules.md §6 margins, Times New Roman black 14 as the Normal style, the
    placeholder style, page numbers centred in the top margin from page 2 on."""
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = PAGE_W, PAGE_H
    sec.top_margin, sec.bottom_margin = MARGINS["top"], MARGINS["bottom"]
    sec.left_margin, sec.right_margin = MARGINS["left"], MARGINS["right"]
    sec.header_distance = Mm(10)
    normal = doc.styles["Normal"]
    _font(normal.font, BODY_PT)
    normal.element.get_or_add_rPr()  # East Asian and complex-script slots also Times New Roman (see _font)
    normal.paragraph_format.space_after = PARAGRAPH_AFTER
    normal.paragraph_format.space_before = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    for name in ("Table Grid",):
        _font(doc.styles[name].font, TABLE_PT)
    style = doc.styles.add_style(PLACEHOLDER_STYLE, WD_STYLE_TYPE.CHARACTER)
    style.base_style = doc.styles["Default Paragraph Font"]
    style.font.italic = True
    style.font.highlight_color = WD_COLOR_INDEX.YELLOW
    style.font.color.rgb = RGBColor(0x80, 0x00, 0x00)
    _page_numbers(sec)
    return doc


def _font(font, size: float) -> None:
    font.name = FONT
    font.size = Pt(size)
    font.color.rgb = RGBColor(0, 0, 0)
    rpr = font.element if font.element.tag == qn("w:rPr") else font.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)


def _page_numbers(section) -> None:
    """The PAGE field centred in the header, size 13; the first page has its own, empty header."""
    section.different_first_page_header_footer = True
    p = section.header.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field(p, "PAGE", size=PAGE_NUMBER_PT)


def field(paragraph, instruction: str, size: float) -> None:
    """A Word field (PAGE, NUMPAGES) as begin / instruction / separate / result / end runs."""
    for kind, text in (("begin", None), (None, f" {instruction} "), ("separate", None), (None, "2"), ("end", None)):
        run = paragraph.add_run()
        run.font.size = Pt(size)
        run.font.name = FONT
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
            run._r.append(el)
        elif text.strip() == instruction:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
            run._r.append(el)
        else:
            run.text = text


def para(container, text: str = "", *, size: float = BODY_PT, bold: bool = False, italic: bool = False,
         align: str = "justify", indent: bool = False, after: float | None = None):
    """One paragraph of one run. align: justify | center | left | right; indent: the body's first-line indent."""
    p = container.add_paragraph()
    p.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                   "left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    fmt = p.paragraph_format
    if indent:
        fmt.first_line_indent = FIRST_LINE_INDENT
    if after is not None:
        fmt.space_after = Pt(after)
    if text:
        run(p, text, size=size, bold=bold, italic=italic)
    return p


def run(paragraph, text: str, *, size: float = BODY_PT, bold: bool = False, italic: bool = False):
    r = paragraph.add_run(text)
    r.font.size = Pt(size)
    r.font.name = FONT
    r.bold = bold
    r.italic = italic
    return r


def placeholder(paragraph, text: str, size: float = BODY_PT):
    """A place only people fill, e.g. '[Chỗ cần điền: …]': ordinary text highlighted in yellow (w:highlight, which
    Word, WPS and LibreOffice all show and print as such; a content control or form field would lose its look in
    LibreOffice), in the character style PLACEHOLDER_STYLE so that Find can look for the style too. The analyst
    selects it and types over it, then takes the highlight off (Word, WPS: Home > Text Highlight Color > No
    Color; LibreOffice: Format > Character > Highlighting > None)."""
    r = paragraph.add_run(text)
    r.style = PLACEHOLDER_STYLE
    r.font.size = Pt(size)
    r.font.name = FONT
    r.font.italic = True
    r.font.highlight_color = WD_COLOR_INDEX.YELLOW  # direct as well: LibreOffice does not take it from the style
    return r


def keep_together(paragraphs, with_next: bool = True) -> None:
    """Never break inside these paragraphs, and (with_next) keep each with the paragraph after it, so that a
    block (a heading and its first line, the signature) moves to the next page whole."""
    for p in paragraphs:
        p.paragraph_format.keep_together = True
        if with_next:
            p.paragraph_format.keep_with_next = True


def cant_split(row) -> None:
    """A table row that is never cut across two pages (it moves to the next page whole)."""
    row._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))


def rule(container, width_mm: float, column_mm: float, size_pt: float = 4, gap_pt: float = 3, in_cell: bool = False):
    """A horizontal rule of `width_mm`, centred in a column of `column_mm` (a table column when `in_cell`: less
    its cell margins): an empty, tiny paragraph with a top border between indents (a real paragraph, no
    drawing), `gap_pt` below the line of text above it."""
    p = container.add_paragraph()
    inner = column_mm - (2 * CELL_PAD_MM if in_cell else 0)
    side = Mm(max(0.0, (inner - width_mm) / 2))
    fmt = p.paragraph_format
    fmt.left_indent = fmt.right_indent = side
    fmt.space_before, fmt.space_after = Pt(gap_pt), Pt(0)  # the gap keeps the rule off the letters above
    fmt.line_spacing = Pt(size_pt)
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        top.set(qn(k), v)
    borders.append(top)
    # the schema's order: pBdr comes before shd, tabs, spacing, ind, jc... (Word refuses it elsewhere)
    p._p.get_or_add_pPr().insert_element_before(borders, *_AFTER_PBDR)
    r = p.add_run("")
    r.font.size = Pt(size_pt)
    return p


def no_borders(table) -> None:
    """A layout table (heading block, signature): no borders at all, whatever the style says."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                 "w:tblDescription")


def layout_table(doc, widths_mm: list[float]):
    """A borderless table of one row with columns of the given widths (the heading and signature blocks)."""
    table = doc.add_table(rows=1, cols=len(widths_mm))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    no_borders(table)
    set_widths(table, widths_mm)
    for cell in table.rows[0].cells:
        cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)  # each block adds its own paragraphs
    return table


def set_widths(table, widths_mm: list[float]) -> None:
    """Column widths that Word and LibreOffice both honour: the grid and every cell."""
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_mm):
        col.set(qn("w:w"), str(int(Mm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_mm):
            cell.width = Mm(w)


def data_table(doc, headers: list[str], rows: list[list[str]], widths_mm: list[float], size: float = TABLE_PT,
               center_cols: tuple[int, ...] = ()):
    """A bordered table: bold centred header row repeated on each page, then one row per item."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, text in zip(table.rows[0].cells, headers):
        _cell_text(cell, text, size, bold=True, align="center")
    header_pr = table.rows[0]._tr.get_or_add_trPr()
    header_pr.append(OxmlElement("w:tblHeader"))
    for values in rows:
        row = table.add_row()
        cant_split(row)
        cells = row.cells
        for j, (cell, text) in enumerate(zip(cells, values)):
            _cell_text(cell, text, size, align="center" if j in center_cols else "left")
    set_widths(table, widths_mm)
    return table


def _cell_text(cell, text: str, size: float, bold: bool = False, align: str = "left") -> None:
    p = cell.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER if align == "center" else WD_ALIGN_PARAGRAPH.LEFT
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.first_line_indent = Pt(0)
    run(p, text, size=size, bold=bold)

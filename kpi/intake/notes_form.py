"""The notes' fields, their bound and their cleaning, the cells a unit's template gives them, and the notes taken
back from a template sheet or a notes CSV: shared by the template (kpi.intake.template, which asks for notes), the
intake (kpi.intake.load, which takes them from the tables it read) and kpi.intake.notes."""

from __future__ import annotations

import re
import unicodedata

from kpi.core.i18n import WORDS
from kpi.plan.model import Plan, fold

MAX_CHARS = 1000
# The fields in the template's (Vietnamese) words, from the word table the report shows them with.
FIELDS = {k: WORDS["vi"]["notes"][f"field_{k}"] for k in ("reason", "highlights", "next_tasks")}
CSV_HEADER = ["unit", "period", "indicator", "field", "text"]  # the long form's notes CSV
NOTE_KEY = "note="  # column A key of a template's note row: note=<indicator>:reason, note=highlights, ...
NOTE_COLUMNS = 12  # a template's notes sit in its first columns (the text cell spans C..H)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: object, where: str, messages: list[str]) -> str:
    """A note as shown: NFC, control and direction characters removed, spaces collapsed, at most MAX_CHARS
    characters (a longer one is cut, and `messages` says so with its place)."""
    text = unicodedata.normalize("NFC", str(value))
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    text = "\n".join(re.sub(r" {2,}", " ", line).strip() for line in text.split("\n") if line.strip())
    if len(text) > MAX_CHARS:
        messages.append(f"{where}: ghi chú dài {len(text)} ký tự, chỉ giữ {MAX_CHARS} ký tự đầu; viết ngắn lại "
                        "nếu cần giữ phần sau.")
        text = text[:MAX_CHARS - 1].rstrip() + "…"
    return text


def add_note_cells(ws, plan: Plan, unit: str, first_row: int) -> None:
    """Below the data blocks of a unit's template: per indicator it leads a 'Nguyên nhân / giải pháp' cell, then
    'Kết quả nổi bật trong tháng' and 'Nhiệm vụ tháng tới'. The cells are unlocked, wrapped and typed as text,
    so that a note starting with '=' stays text in Excel."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    last_col = 8  # the text cell spans C..H, wide enough to read a few lines
    ws.cell(first_row, 1, "notes")
    ws.cell(first_row, 2, "Ý kiến của đơn vị (không bắt buộc)").font = Font(bold=True)
    ws.cell(first_row, 3, f"Nội dung (tối đa {MAX_CHARS} ký tự; chỉ ghi ý kiến của tháng này, không chép lại ý kiến "
                          "tháng trước nếu không còn đúng)").font = Font(bold=True)
    rows = [(f"{NOTE_KEY}{i.id}:reason", f"Chỉ tiêu {i.id} ({i.short}): {FIELDS['reason']}")
            for i in plan.indicators_of(unit)]
    rows += [(f"{NOTE_KEY}{k}", FIELDS[k]) for k in ("highlights", "next_tasks")]
    for n, (key, label) in enumerate(rows, start=first_row + 1):
        ws.cell(n, 1, key)
        cell = ws.cell(n, 2, label)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.border = border
        for col in range(3, last_col + 1):  # a merged range shows the borders of each of its cells
            ws.cell(n, col).border = border
        ws.merge_cells(start_row=n, start_column=3, end_row=n, end_column=last_col)
        c = ws.cell(n, 3)
        c.number_format = "@"
        c.alignment = Alignment(wrap_text=True, vertical="top")
        c.fill = PatternFill("solid", fgColor="FFF9E5")
        c.protection = Protection(locked=False)
        ws.row_dimensions[n].height = 45


def is_notes_header(row: list[object]) -> bool:
    """A CSV whose header is exactly the notes columns (in any order) is a notes file, not values."""
    return sorted(fold(c) for c in row if c not in (None, "")) == sorted(CSV_HEADER)


_FIELD_WORDS = {fold(v): k for k, v in FIELDS.items()} | {k: k for k in FIELDS}


def note_table(table: list[list[object]]) -> list[list[object]]:
    """A sheet's rows as the notes read them: the first NOTE_COLUMNS cells, trailing blanks left out."""
    out = []
    for row in table:
        cells = list(row[:NOTE_COLUMNS])
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    return out


# --- the template's note cells --------------------------------------------------------------------------

def template_notes(table: list[list[object]], name: str, messages: list[str]) -> list[dict]:
    """The filled note cells of a template sheet (rows keyed note=… in column A; the text in the first filled
    cell right of the label), with unit and period from the template's own keys."""
    from openpyxl.utils import get_column_letter

    keys = [str(r[0]).strip() if r and r[0] is not None else "" for r in table]
    meta = dict(k.split("=", 1) for k in keys if k.startswith(("unit=", "period=")))
    out = []
    for i, key in enumerate(keys):
        if not key.startswith(NOTE_KEY):
            continue
        spec = key[len(NOTE_KEY):]
        indicator, _, field = spec.rpartition(":") if ":" in spec else ("", "", spec)
        cells = [(j, v) for j, v in enumerate(table[i]) if j >= 2 and v is not None and str(v).strip()]
        if field not in FIELDS or not cells:
            continue
        j, value = cells[0]
        where = f"{name}, ô {get_column_letter(j + 1)}{i + 1}"
        out.append({"unit": meta.get("unit", ""), "period": meta.get("period", ""), "indicator": indicator,
                    "field": field, "text": clean(value, where, messages), "file": name})
    return out


# --- the long form's notes CSV --------------------------------------------------------------------------

def csv_notes(table: list[list[object]], name: str, plan: Plan, messages: list[str]) -> list[dict]:
    """Rows of a notes CSV; a row naming an unknown unit, period, indicator or field is left out with a
    located Vietnamese message."""
    header = [fold(c) if c else "" for c in table[0]]
    idx = {c: header.index(c) for c in CSV_HEADER}
    ids = {i.id for i in plan.indicators}
    out = []
    for n, row in enumerate(table[1:], start=2):
        cell = {c: str(row[idx[c]]).strip() if idx[c] < len(row) and row[idx[c]] is not None else "" for c in CSV_HEADER}
        if not any(cell.values()):
            continue
        where = f"{name}, dòng {n}"
        field = _FIELD_WORDS.get(fold(cell["field"]))
        problem = ("đơn vị '{unit}' không có trong kế hoạch (dùng {units})" if cell["unit"] not in plan.unit_codes
                   else "kỳ '{period}' không hợp lệ (dạng NNNN-TT, ví dụ {year}-11)" if cell["period"] not in plan.periods
                   else "cột field '{field}' phải là reason, highlights hoặc next_tasks" if field is None
                   else "chỉ tiêu '{indicator}' không có trong kế hoạch" if field == "reason" and cell["indicator"] not in ids
                   else "cột text để trống" if not cell["text"] else "")
        if problem:
            messages.append(f"{where}: bỏ qua ghi chú vì " + problem.format(
                **cell, units=", ".join(plan.unit_codes), year=plan.year))
            continue
        out.append({**cell, "indicator": cell["indicator"] if field == "reason" else "", "field": field,
                    "text": clean(cell["text"], where, messages), "file": name})
    return out

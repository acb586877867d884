"""The notes' fields, their bound and their cleaning, and the cells a unit's template gives them: shared by the
template (kpi.intake.template, which asks for notes) and the reader (kpi.intake.notes, which takes them back)."""

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

"""The units' notes in the HTML report: under each indicator's item, and one section with every note of the month."""

from __future__ import annotations

from html import escape

from IPython.display import HTML

from kpi.intake import notes as unit_notes
from kpi.report.views import _wrap, badge, item_note

WORDS = {
    "vi": {"title": "Ý kiến của các đơn vị", "none": "Các đơn vị chưa gửi ý kiến (nguyên nhân, giải pháp, kết quả nổi "
                                                    "bật, nhiệm vụ tháng tới) cho kỳ này.",
           "cut": "Ghi chú bị cắt hoặc bỏ qua"},
    "en": {"title": "What the units explain", "none": "No unit sent notes (reasons, highlights, next month's tasks) "
                                                      "for this period.",
           "cut": "Notes cut or left out"},
}
FIELD_WORDS_EN = {"reason": "Reason / remedy", "highlights": "Highlights of the month", "next_tasks": "Next month's tasks"}


def _field(field: str, lang: str) -> str:
    return unit_notes.FIELDS[field] if lang == "vi" else FIELD_WORDS_EN[field]


def _text(text: str) -> str:
    """A note's text, escaped, its line breaks kept."""
    return "<br>".join(escape(line) for line in str(text).split("\n"))


def notes(r) -> HTML:
    """Every note of the period: per indicator its reason, then each unit's highlights and next month's tasks;
    and the notes that were cut or left out, with their place."""
    w = WORDS[r.lang]
    parts = [f"<h2>{escape(w['title'])}</h2>"]
    card = r.card.set_index("indicator")
    for ind_id in card.index:
        html = item_note(r, ind_id)
        if html:
            ind = r.plan.indicator(ind_id)
            parts.append(f"<h3>{escape(ind.id)}. {escape(ind.short)} {badge(card.at[ind_id, 'status'], r.lang)}</h3>"
                         + html)
    for field in ("highlights", "next_tasks"):
        for note in unit_notes.of_field(r.notes, field).itertuples(index=False):
            parts.append(f"<h3>{escape(r.plan.unit(note.unit).name)}: {escape(_field(field, r.lang))}</h3>"
                         f"<div class='small note'>{_text(note.text)}</div>")
    if len(parts) == 1:
        parts.append(f"<p class='muted'>{escape(w['none'])}</p>")
    if r.note_messages:
        parts.append(f"<div class='small'><b>{escape(w['cut'])}:</b><ul class='tight'>"
                     + "".join(f"<li>{escape(m)}</li>" for m in r.note_messages) + "</ul></div>")
    return _wrap("".join(parts))

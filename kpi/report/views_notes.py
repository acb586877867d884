"""The units' notes in the HTML report: under each indicator's item, and one section with every note of the month."""

from __future__ import annotations

from IPython.display import HTML

from kpi.core.i18n import WORDS
from kpi.intake import notes as unit_notes
from kpi.report.templates import render
from kpi.report.views import item_note


def notes(r) -> HTML:
    """Every note of the period: per indicator its reason, then each unit's highlights and next month's tasks;
    and the notes that were cut or left out, with their place (kpi/templates/report/notes.html.j2)."""
    w = WORDS[r.lang]["notes"]
    card = r.card.set_index("indicator")
    reasons = []
    for ind_id in card.index:
        html = item_note(r, ind_id)
        if html:
            ind = r.plan.indicator(ind_id)
            reasons.append({"id": ind.id, "short": ind.short, "status": card.at[ind_id, "status"], "note": html})
    by_unit = [{"unit": r.plan.unit(note.unit).name, "field": w[f"field_{field}"], "text": note.text}
               for field in ("highlights", "next_tasks")
               for note in unit_notes.of_field(r.notes, field).itertuples(index=False)]
    return HTML(render("report/notes.html.j2", w=w, lang=r.lang, reasons=reasons, unit_notes=by_unit,
                       messages=list(r.note_messages or [])))

"""The scorecard as a phone reads it: one line per indicator that fits 360 px, the rest of its row a tap away."""

from __future__ import annotations

from markupsafe import Markup

from kpi.report.templates import render

# Columns of a scorecard row (views.scorecard_table): shown on the line, and opened by a tap.
LINE = {"id": 0, "name": 1, "value": 2, "target": 3, "status": 4, "deadline": 5}


def card_list(headers: list[str], rows: list[list[str]]) -> Markup:
    """Rows of cells (text, or markup such as a badge) as <details> items (kpi/templates/report/cardlist.html.j2):
    the summary line holds the id and short name, then the value, '/ target', the status word and the deadline;
    the details list every other column under its header. The same words as the table, so a reader who turns
    the phone sideways sees nothing new."""
    return render("report/cardlist.html.j2", headers=headers, rows=rows, line=LINE, shown=set(LINE.values()))

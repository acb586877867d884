"""The scorecard as a phone reads it: one line per indicator that fits 360 px, the rest of its row a tap away."""

from __future__ import annotations

from html import escape

# Columns of a scorecard row (views.scorecard_table): shown on the line, and opened by a tap.
LINE = {"id": 0, "name": 1, "value": 2, "target": 3, "status": 4, "deadline": 5}


def card_list(headers: list[str], rows: list[list[str]]) -> str:
    """Rows of already-escaped cells as <details> items: the summary line holds the id and short name, then
    the value, '/ target', the status word and the deadline; the details list every other column under its
    header. The same words as the table, so a reader who turns the phone sideways sees nothing new."""
    shown = set(LINE.values())
    items = []
    for row in rows:
        rest = "".join(f"<dt>{escape(headers[i])}</dt><dd>{cell}</dd>" for i, cell in enumerate(row)
                       if i not in shown)
        items.append(
            "<details><summary>"
            f"<span class='name'>{row[LINE['id']]}. {row[LINE['name']]}</span>"
            f"<span class='val'>{row[LINE['value']]}</span>"
            f"<span class='tgt'>/ {row[LINE['target']]}</span>"
            f"{row[LINE['status']]}"
            f"<span class='due'>· {row[LINE['deadline']]}</span>"
            f"</summary><dl>{rest}</dl></details>")
    return f"<div class='cardlist'>{''.join(items)}</div>"

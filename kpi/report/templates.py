"""The HTML pieces' templates (kpi/templates/report/, kpi/templates/index/): one Jinja2 environment with autoescape,
so every string from the data or the plan is escaped by the template, not by hand."""

from __future__ import annotations

import re

import jinja2
from markupsafe import Markup

from kpi.core import formats, paths
from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUS_TEXT_COLORS

# A line break (and the indent after it) between two tags is layout of the template file, not a space the reader
# sees: the pieces stay compact (tables, the phone's lines) and a template can be written one tag a line.
_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


def css_string(text: str) -> Markup:
    """A CSS string literal for `text`: quotes, backslashes, line breaks and '<' escaped (no way out of <style>)."""
    out = []
    for ch in str(text):
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def lines(text: str) -> Markup:
    """A note's text, escaped, its line breaks kept as <br>."""
    return Markup("<br>").join(str(text).split("\n"))


ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(paths.TEMPLATES_DIR), autoescape=True,
                         undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(css_string=css_string, lines=lines, date=formats.date)
ENV.globals.update(STATUS_COLORS=STATUS_COLORS, STATUS_LABELS=STATUS_LABELS, STATUS_TEXT_COLORS=STATUS_TEXT_COLORS)


def render(name: str, **context) -> Markup:
    """Template `name` (under kpi/templates/) filled with `context`, as markup safe to put in another piece.
    Quotes are spelt as html.escape spells them (&quot; &#x27;), the same characters as MarkupSafe's &#34; &#39;."""
    html = _BETWEEN_TAGS.sub("><", ENV.get_template(name).render(**context)).strip()
    return Markup(html.replace("&#39;", "&#x27;").replace("&#34;", "&quot;"))


def compile_reports() -> None:
    """Compile every report template now, not at its first use: the workers' fork server does it once
    (kpi.run.preload), so that no worker compiles them again."""
    for name in ENV.list_templates(filter_func=lambda n: n.startswith("report/")):
        ENV.get_template(name)


def stylesheet(name: str) -> str:
    """A stylesheet under kpi/templates/, to inline in a self-contained page."""
    return (paths.TEMPLATES_DIR / name).read_text(encoding="utf-8")


def badge(status: str, lang: str) -> Markup:
    """Status in words on its colour; the word carries the meaning, the colour only helps."""
    return render("report/badge.html.j2", status=status, lang=lang)


ENV.globals["badge"] = badge

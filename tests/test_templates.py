"""The HTML pieces' templates: autoescaped, compact between tags, one badge, one word table per language."""

from __future__ import annotations

from markupsafe import Markup

from kpi.core import i18n
from kpi.report import templates


def test_text_is_escaped_and_markup_is_kept():
    html = templates.render("report/table.html.j2", headers=['a "b"', "c"], rows=[["<script>x</script>", Markup("<b>ok</b>")]],
                            num_cols=(0,), cls="t", nowrap=())
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<b>ok</b>" in html
    assert 'data-label="a &quot;b&quot;"' in html  # spelt as html.escape spells it
    assert '<tr><td class="num" data-label=' in html  # a line break between tags is no space


def test_a_badge_says_its_status_in_words_on_its_colour():
    b = templates.badge("missed", "vi")
    assert b == ('<span class="badge status-missed" style="background:#D55E00;color:#000000">Không đạt</span>')
    assert "color:#000000" in templates.badge("on_track", "en") and ">On track<" in templates.badge("on_track", "en")


def test_css_string_cannot_leave_a_style_element():
    s = templates.css_string('</style>"')
    assert s == '"\\3c /style\\3e \\22 "'


def test_every_language_has_the_same_words():
    """Each section of the word table has the same keys in Vietnamese and English, so no page falls back."""
    vi, en = i18n.WORDS["vi"], i18n.WORDS["en"]
    assert vi.keys() == en.keys()
    for section in vi:
        assert vi[section].keys() == en[section].keys(), section

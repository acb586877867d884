"""Issue 6.1: no script from data. Payloads in the plan copy and the submissions render as literal text, and
headless Chromium opening the report runs none of them (the canary, the document title, stays unset)."""

from __future__ import annotations

import html
import re

import pytest

from tests.security.conftest import IMG, JS_LINK, MIXED, SCRIPT, chromium_dom, read_html

pytestmark = pytest.mark.slow


def _dangerous(tags: list[tuple[str, dict]]) -> list:
    """Elements a payload would have created: an event handler, a javascript: URL, an <img src=x>, <b> from data."""
    bad = []
    for tag, attrs in tags:
        for name, value in attrs.items():
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                bad.append((tag, attrs))
        if tag == "img" and attrs.get("src") == "x":
            bad.append((tag, attrs))
    return bad


def test_payloads_are_literal_text_in_report_and_index(hostile):
    # Catches: an unescaped village, unit, officer, task, element code or file name reaching the HTML as markup.
    _, _, out, _ = hostile
    for name in ("commune.html", "index.html"):
        page = read_html(out / name)
        assert _dangerous(page.tags) == [], name
        assert not any("PWNED" in s for s in page.scripts), name
    text = "".join(read_html(out / "commune.html").text)
    for payload, where in ((IMG, "village name in the plan, rejected village, file name, officer name"),
                           (SCRIPT, "unit name, element code, task"),
                           (JS_LINK, "partners, task, element code"),
                           (MIXED, "indicator short name, village name, officer note")):
        assert payload in text, f"{where}: payload not shown as literal text"
    assert "E_FILE_NAME_INVALID" in text and IMG + ".csv" in text  # the odd file name is named, as text
    assert not re.search(r"<a [^>]*href=\"javascript:", (out / "commune.html").read_text(encoding="utf-8"), re.I)


def test_chromium_runs_no_payload(hostile, tmp_path):
    # Catches: any payload executing in a reader's browser (the canary would become the page title).
    _, _, out, _ = hostile
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>ok</title></head><body>{IMG}</body></html>",
                       encoding="utf-8")
    assert "<title>PWNED</title>" in chromium_dom(control.as_uri(), tmp_path / "p0"), "the canary itself works"
    for name in ("commune.html", "index.html"):
        dom = chromium_dom((out / name).as_uri(), tmp_path / name)
        title = re.search(r"<title>(.*?)</title>", dom, re.S)
        static = re.search(r"<title>(.*?)</title>", (out / name).read_text(encoding="utf-8"), re.S)
        # The title holds the hostile commune name as text; a payload that ran would have replaced it.
        assert title and html.unescape(title.group(1)) == html.unescape(static.group(1)) != "PWNED", name
        assert _dangerous(read_html(dom).tags) == [], name

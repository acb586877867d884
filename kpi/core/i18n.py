"""Words users see: status labels and report texts, Vietnamese by default, English as an option."""

from __future__ import annotations

import re

from kpi.core import words_en, words_vi

STATUSES = ("achieved", "on_track", "behind", "missed", "encouraged", "no_data")

# One table of words per language (kpi/core/words_vi.py, kpi/core/words_en.py), by the part that shows them;
# the names below are its sections, kept for the many callers that read one of them.
WORDS = {"vi": words_vi.WORDS, "en": words_en.WORDS}
LANGS = tuple(WORDS)

STATUS_LABELS = {lang: w["status"] for lang, w in WORDS.items()}

# The scorecard's two period columns, by kind of period (kpi.core.periods.KINDS): the value over the period alone,
# and its change against the previous period of the same kind.
PERIOD_COLUMNS = {lang: w["period_columns"] for lang, w in WORDS.items()}

# Colour-blind-safe (Okabe–Ito) with distinct lightness, so greyscale still separates them; words go with them.
STATUS_COLORS = {
    "achieved": "#009E73",
    "on_track": "#56B4E9",
    "behind": "#E69F00",
    "missed": "#D55E00",
    "encouraged": "#CC79A7",
    "no_data": "#BBBBBB",
}

# The word on a status colour: black on every one (at least 5.4:1; white on the green or the vermilion is 3.4:1 and
# 3.9:1, below WCAG AA's 4.5:1 for text of 15 px).
STATUS_TEXT_COLORS = {s: "#000000" for s in STATUSES}

TIMELINESS_LABELS = {lang: w["timeliness"] for lang, w in WORDS.items()}


def words(lang: str, section: str) -> dict:
    """The words of one part of the kit ('report', 'charts', 'index'…) in `lang`."""
    return WORDS[lang][section]


def target_words(text: str, target: float | None, kind: str, lang: str = "vi") -> str:
    """The target as a reader sees it: the plan's own words in Vietnamese; in English, 'Encouraged', 'N%' or
    '≥ N' (the plan's words are Vietnamese)."""
    if lang == "vi":
        return re.sub(r"(?<=\d)\.(?=\d)", ",", text)  # the plan writes 35.4%; the reports write 35,4%
    if target is None or target != target:  # None or NaN: an encouraged indicator
        return "Encouraged"
    return f"{target:g}%" if kind == "ratio" else f"≥ {target:g} a year"

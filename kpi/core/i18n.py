"""Words users see: status labels and report texts, Vietnamese by default, English as an option."""

from __future__ import annotations

import re

STATUSES = ("achieved", "on_track", "behind", "missed", "encouraged", "no_data")

STATUS_LABELS = {
    "vi": {
        "achieved": "Đạt",
        "on_track": "Đúng tiến độ",
        "behind": "Chậm tiến độ",
        "missed": "Không đạt",
        "encouraged": "Khuyến khích",
        "no_data": "Chưa có số liệu",
    },
    "en": {
        "achieved": "Achieved",
        "on_track": "On track",
        "behind": "Behind",
        "missed": "Missed",
        "encouraged": "Encouraged",
        "no_data": "No data",
    },
}

# The scorecard's two period columns, by kind of period (kpi.core.periods.KINDS): the value over the period alone,
# and its change against the previous period of the same kind.
PERIOD_COLUMNS = {
    "vi": {"month": ("Tháng này", "So tháng trước"), "quarter": ("Trong quý", "So quý trước"),
           "half": ("Trong 6 tháng", "So kỳ trước"), "nine": ("Trong 9 tháng", "So kỳ trước"),
           "year": ("Cả năm", "So kỳ trước")},
    "en": {"month": ("This month", "Change"), "quarter": ("This quarter", "vs previous quarter"),
           "half": ("First half", "vs previous period"), "nine": ("Nine months", "vs previous period"),
           "year": ("Whole year", "vs previous period")},
}

# Colour-blind-safe (Okabe–Ito) with distinct lightness, so greyscale still separates them; words go with them.
STATUS_COLORS = {
    "achieved": "#009E73",
    "on_track": "#56B4E9",
    "behind": "#E69F00",
    "missed": "#D55E00",
    "encouraged": "#CC79A7",
    "no_data": "#BBBBBB",
}

TIMELINESS_LABELS = {
    "vi": {"on_time": "Đúng hạn", "late": "Muộn {days} ngày", "date_unknown": "Ngày gửi không rõ",
           "unreadable": "Đã gửi nhưng không đọc được", "missing": "Chưa gửi"},
    "en": {"on_time": "On time", "late": "Late by {days} days", "date_unknown": "Date sent unknown",
           "unreadable": "Sent but unreadable", "missing": "Not sent"},
}


def status_label(status: str, lang: str = "vi") -> str:
    return STATUS_LABELS[lang][status]


def target_words(text: str, target: float | None, kind: str, lang: str = "vi") -> str:
    """The target as a reader sees it: the plan's own words in Vietnamese; in English, 'Encouraged', 'N%' or
    '≥ N' (the plan's words are Vietnamese)."""
    if lang == "vi":
        return re.sub(r"(?<=\d)\.(?=\d)", ",", text)  # the plan writes 35.4%; the reports write 35,4%
    if target is None or target != target:  # None or NaN: an encouraged indicator
        return "Encouraged"
    return f"{target:g}%" if kind == "ratio" else f"≥ {target:g} a year"


def date_text(value: object) -> str:
    """A date as Vietnamese readers write it, dd/mm/yyyy (the reports use it in English too); "" for none.
    Takes a date, a datetime, a pandas Timestamp or ISO text."""
    import datetime as dt

    if value is None or value == "" or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    try:
        if value != value:  # NaT
            return ""
    except (TypeError, ValueError):
        pass
    return f"{value.day:02d}/{value.month:02d}/{value.year}"

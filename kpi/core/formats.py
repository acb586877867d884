"""The one formatter of numbers, percentages and dates, so the report, the charts, Excel, the DOCX, the province
views, the index and the reminders agree to the last comma."""

from __future__ import annotations

import datetime as dt
import math

NONE = "—"  # what a missing number shows as, in every output


def missing(value: object) -> bool:
    try:
        return value is None or bool(value != value) or (isinstance(value, float) and math.isnan(value))
    except (TypeError, ValueError):  # pandas NA compared
        return True


def number(value: float | None, decimals: int = 0, lang: str = "vi") -> str:
    """1234567.8 -> '1.234.567,8' in Vietnamese, '1,234,567.8' in English; None or NaN -> '—'."""
    if missing(value):
        return NONE
    text = f"{value:,.{decimals}f}"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def percent(value: float | None, decimals: int = 1, lang: str = "vi") -> str:
    """89.44 -> '89,4%' in Vietnamese, '89.4%' in English; None or NaN -> '—'."""
    return NONE if missing(value) else number(value, decimals, lang) + "%"


def value(v: float | None, kind: str, lang: str = "vi") -> str:
    """An indicator's value: a ratio as a percent with one decimal, a count as a whole number."""
    return percent(v, 1, lang) if kind == "ratio" else number(v, 0, lang)


def change(v: float | None, kind: str, lang: str = "vi") -> str:
    """A change against the previous period, signed ('+', '±' for none, '−'): percentage points for a ratio
    ('+2,5 điểm %', '+2.5 pp'), a whole number for a count."""
    if missing(v):
        return NONE
    unit = (" điểm %" if lang == "vi" else " pp") if kind == "ratio" else ""
    sign = "+" if v > 0 else ("±" if v == 0 else "−")
    return sign + number(abs(v), 1 if kind == "ratio" else 0, lang) + unit


def amount(v: float, lang: str = "vi") -> str:
    """A numerator or a denominator: whole unless it has a fraction (then one decimal)."""
    return number(v, 1 if not missing(v) and v % 1 else 0, lang)


def excel_number_format(column: str, kind: str) -> str:
    """The Excel display format of a scorecard number (the cell keeps the unrounded value): the same decimals as
    the report (a ratio one, a count none), a numerator's fraction when it has one, a change signed."""
    if column in ("villages_reported", "villages_expected"):
        return "0"
    if column == "numerator":
        return "#,##0.##"
    if column == "denominator":
        return "#,##0"
    if column == "change":
        return "+#,##0.0;-#,##0.0;0" if kind == "ratio" else "+#,##0;-#,##0;0"
    return "#,##0.0" if kind == "ratio" else "#,##0"


def date(value: object) -> str:
    """A date as Vietnamese readers write it, dd/mm/yyyy (the reports use it in English too); "" for none.
    Takes a date, a datetime, a pandas Timestamp or ISO text."""
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

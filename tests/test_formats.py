"""The one formatter: Vietnamese numbers with '.' for thousands and ',' for decimals, English the other way round,
percents with one decimal, signed changes in percentage points, dates dd/mm/yyyy, '—' for a missing number."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from kpi.core import formats


def test_numbers_in_each_language():
    assert formats.number(1234567.8, 1, "vi") == "1.234.567,8"
    assert formats.number(1234567.8, 1, "en") == "1,234,567.8"
    assert formats.number(2500, 0, "vi") == "2.500"
    assert formats.number(0.25, 0) == "0"  # rounded half to even, like Python's format
    assert formats.number(float("nan")) == formats.number(None) == formats.number(np.nan) == "—"


def test_percent_value_and_amount():
    # 851 of 952 households: 89.39…% -> one decimal
    assert formats.percent(851 / 952 * 100, 1, "vi") == "89,4%"
    assert formats.percent(851 / 952 * 100, 1, "en") == "89.4%"
    assert formats.value(851 / 952 * 100, "ratio", "vi") == "89,4%"
    assert formats.value(1203, "count", "vi") == "1.203"
    assert formats.value(np.nan, "ratio") == formats.value(np.nan, "count") == "—"
    assert formats.amount(12.5, "vi") == "12,5" and formats.amount(12.0, "vi") == "12"
    assert formats.amount(np.nan) == "—"


def test_changes_are_signed():
    assert formats.change(2.54, "ratio", "vi") == "+2,5 điểm %"
    assert formats.change(-0.3, "ratio", "en") == "−0.3 pp"
    assert formats.change(0.0, "count", "vi") == "±0"
    assert formats.change(-1200, "count", "vi") == "−1.200"
    assert formats.change(np.nan, "ratio") == "—"


def test_dates_day_month_year():
    assert formats.date("2026-02-05") == "05/02/2026"
    assert formats.date(dt.date(2026, 12, 31)) == "31/12/2026"
    assert formats.date(pd.Timestamp("2026-01-10 13:45")) == "10/01/2026"
    assert formats.date(pd.NaT) == formats.date(None) == formats.date("") == ""

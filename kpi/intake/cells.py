"""Reading the text of the units' cells, vectorised: numbers as units write them, periods, dates, villages."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from kpi.core import periods, safety
from kpi.intake.load import folder_period
from kpi.plan.model import Plan, fold, village_key

_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers as units write them. One rule (Vietnamese convention): '.' groups thousands when every group
    after it has three digits (1.234 = 1234, 1.234.567), otherwise '.' is a decimal point; ',' is always a
    decimal comma (18,5 = 18.5). Spaces are ignored. Cells Excel already stored as numbers are taken as
    they are. Anything else is NaN (reported as not a number)."""
    out = pd.to_numeric(values.where(values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))),
                        errors="coerce")
    text = values.where(values.map(lambda v: isinstance(v, str))).astype(object).str.replace(r"[\s\u00a0]", "", regex=True)
    text = text.where(~text.fillna("").str.match(_THOUSANDS), text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text.where(text.fillna("").str.fullmatch(r"-?\d+(\.\d+)?")), errors="coerce")
    return out.fillna(parsed).astype("float64")


def parse_periods(values: pd.Series) -> pd.Series:
    """YYYY-MM (also YYYY-M, MM/YYYY, a date in the month, an Excel date) -> 'YYYY-MM'; else NaN."""
    return periods.parse_month_cells(values)


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


_YEAR_FIRST = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")


def _date_from_text(text: str) -> pd.Timestamp | None:
    m = _DAY_FIRST.match(text)
    day, month, year = (m[1], m[2], m[3]) if m else (None, None, None)
    if not m and (m := _YEAR_FIRST.match(text)):
        year, month, day = m[1], m[2], m[3]
    if not m:
        return None
    try:
        return pd.Timestamp(int(year), int(month), int(day))
    except ValueError:  # 30/02/2026: not a real day
        return None


def parse_dates(values: pd.Series) -> pd.Series:
    """A report date as offices type it (DATE_FORMS: day first with / - or ., or ISO year first) or an Excel
    date -> Timestamp (day); else NaT. Day first is never read as month first: 05-01-2027 is 5 January."""
    def one(v: object):
        if hasattr(v, "year"):
            return safety.to_timestamp(v)
        return _date_from_text(v.strip()) if isinstance(v, str) else None
    return pd.to_datetime(values.map(one), errors="coerce").astype("datetime64[ns]")


def village_lookup(plan: Plan) -> dict[str, str]:
    """Folded spelling -> plan village name; 'thon 01' and 'thôn 1' both find 'Thôn 1'."""
    out = {}
    for v in plan.villages:
        out[fold(v.name)] = v.name
        out[village_key(v.name)] = v.name
        out[fold(v.code)] = v.name
    return out


def match_villages(values: pd.Series, plan: Plan) -> pd.Series:
    """Plan village name for each cell ('' for an empty cell); NaN where the plan knows no such village."""
    lookup = village_lookup(plan)
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    folded = text.map(village_key)  # the plan's villages are unique under the same key (kpi.plan)
    return folded.map(lambda f: "" if f == "" else lookup.get(f, np.nan))


def _fmt(x: object) -> str:
    """A cell as a user reads it: whole numbers without '.0', other numbers with a decimal comma (12,5)."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, float) and np.isfinite(x):
        return repr(x).replace(".", ",")
    return "" if x is None else str(x)


def _cell(row: object, column: str, value_col: object, date_row: object, date_col: object) -> tuple[int, str]:
    """The real place of a logical cell: a template keeps each value in its own Excel column and the
    submission date in one cell for the whole sheet."""
    if column == "value" and isinstance(value_col, str) and value_col:
        return int(row), value_col
    if column == "submitted_on" and date_row is not None and not pd.isna(date_row):
        return int(date_row), str(date_col)
    return int(row), column


def folder_periods(files: pd.Series) -> pd.Series:
    """folder_period for each row's file, worked out once per file name."""
    return files.map({f: folder_period(f) for f in files.unique()})

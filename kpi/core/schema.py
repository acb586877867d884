"""Declared shapes of the kit's two frames (long data, scorecard), checked at the boundary in one pass."""

from __future__ import annotations

import pandas as pd

from kpi.core.errors import SchemaError  # noqa: F401 (raised here, caught by kpi.cli)

# column -> pandas dtype kind ("O" text, "f" float, "i" integer, "M" datetime)
LONG: dict[str, str] = {
    "period": "O",  # YYYY-MM
    "unit": "O",  # plan unit code
    "village": "O",  # plan village name; "" for a commune-level element
    "element": "O",  # plan element code
    "value": "f",
    "submitted_on": "M",  # the day the unit sent it
    "file": "O",  # provenance: path under <data>/submissions
    "sheet": "O",
    "row": "i",
}

SCORECARD: dict[str, str] = {
    "indicator": "O",
    "group": "O",
    "name": "O",
    "short": "O",
    "kind": "O",  # ratio | count
    "lead": "O",
    "value": "f",  # percent for ratios, count for counts; NaN when no value
    "numerator": "f",
    "denominator": "f",  # NaN for counts
    "target": "f",  # NaN for encouraged
    "target_text": "O",
    "deadline": "O",  # YYYY-MM-DD or "" for continuous
    "status": "O",
    "status_label": "O",
    "forecast": "f",
    "villages_reported": "i",
    "villages_expected": "i",
    "month_value": "f",
    "previous_month_value": "f",
    "change": "f",
}


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(series):
        return "M"
    if pd.api.types.is_bool_dtype(series):
        return "b"
    if pd.api.types.is_integer_dtype(series):
        return "i"
    if pd.api.types.is_float_dtype(series):
        return "f"
    if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
        return "O"
    return series.dtype.kind


def check(frame: pd.DataFrame, schema: dict[str, str], name: str) -> pd.DataFrame:
    """Return the frame if it has every declared column with its kind, else raise listing all faults."""
    faults = [f"missing column '{c}'" for c in schema if c not in frame.columns]
    faults += [f"column '{c}' is {frame[c].dtype}, expected kind {k}" for c, k in schema.items()
               if c in frame.columns and _kind(frame[c]) != k]
    if faults:
        raise SchemaError(f"{name}: " + "; ".join(faults))
    return frame



"""Shared test helpers: the real plan, and long data frames built by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi import schema
from kpi.plan import load_plan


@pytest.fixture(scope="session")
def plan():
    return load_plan()


def long_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (period, unit, village, element, value[, submitted_on]) -> a frame of schema.LONG."""
    records = []
    for n, row in enumerate(rows):
        period, unit, village, element, value, *rest = row
        submitted = rest[0] if rest else f"{period}-28"
        records.append({"period": period, "unit": unit, "village": village, "element": element,
                        "value": float(value), "submitted_on": pd.Timestamp(submitted), "file": "test.csv",
                        "sheet": "", "row": n + 2})
    frame = pd.DataFrame(records, columns=list(schema.LONG))
    frame = frame.astype({"value": "float64", "row": "int64", "submitted_on": "datetime64[ns]"})
    for col in ("period", "unit", "village", "element", "file", "sheet"):
        frame[col] = frame[col].astype(object)
    return schema.check(frame, schema.LONG, "test data")

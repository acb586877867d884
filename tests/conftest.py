"""Shared test helpers: the real plan, long data frames built by hand, and one case of the bad-file corpus
loaded into a fresh data folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from kpi import schema
from kpi.plan import load_plan
from kpi.validate import load_submissions

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = FIXTURES / "files"


@pytest.fixture(scope="session")
def plan():
    return load_plan()


@pytest.fixture
def load_case(tmp_path, plan):
    """Copy one corpus case (a file, or a folder whose files sit at the submissions root) and load it."""

    def load(name: str):
        src = FILES / name
        dest = tmp_path / "submissions"
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
        return load_submissions(tmp_path, plan)

    return load


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

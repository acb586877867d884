"""The scorecard as CSV (UTF-8 with BOM for Excel, formula-safe text)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi.core import safety
from kpi.core.files import write_atomic


def write_scorecard_csv(card: pd.DataFrame, target: Path) -> Path:
    """scorecard.csv: one row per indicator, values unrounded, empty where there is none (UTF-8 with BOM so
    that Excel shows the Vietnamese names)."""
    card = safety.spreadsheet_frame(card)  # plan text starting with = + - @ stays text in Excel
    write_atomic(target, card.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return target

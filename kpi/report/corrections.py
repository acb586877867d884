"""Values already published that a later run changed (the package's revisions table, kpi.outputs.published),
in the words the report's data-quality section uses: 'Số liệu tháng 10 đã điều chỉnh: 14. Tài khoản VNeID
61,2 % → 62,0 % (tệp …, gửi ngày …)'."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi.core import formats, periods
from kpi.core.formats import date as date_text
from kpi.plan import Plan

REVISIONS_FILE = Path("package") / "revisions.csv"  # under the period's output folder
COLUMNS = ["period", "indicator", "old_value", "new_value", "file", "submitted_on"]


def empty() -> pd.DataFrame:
    return pd.DataFrame(columns=COLUMNS)


def read(output_dir: str | Path | None) -> pd.DataFrame:
    """The corrections the batch listed for this period (none when it wrote no package)."""
    path = Path(output_dir or "") / REVISIONS_FILE
    if not output_dir or not path.is_file():
        return empty()
    return parse(path)


def parse(source) -> pd.DataFrame:
    """The package's revisions.csv (a path, or its bytes in a buffer) as the report's corrections."""
    return pd.read_csv(source, dtype={"period": str, "indicator": str, "file": str, "submitted_on": str},
                       keep_default_na=False, na_values={"old_value": [""], "new_value": [""]})


def _number(value: float, kind: str, lang: str) -> str:
    """A published value as the correction line quotes it ('61,2 %', '3'), through the one formatter."""
    if formats.missing(value):
        return "chưa có số liệu" if lang == "vi" else "no value"
    text = formats.number(value, 0 if kind == "count" else 1, lang)
    return text if kind == "count" else f"{text} %"


def lines(plan: Plan, frame: pd.DataFrame, lang: str = "vi") -> list[str]:
    """One sentence per month whose published values changed, each change with its old and new value and the
    file (and its report date) that changed it."""
    by_id = {i.id: i for i in plan.indicators}
    out = []
    for period, part in frame.groupby("period", sort=True):
        items = []
        for r in part.itertuples():
            ind = by_id.get(str(r.indicator))
            if ind is None:
                continue
            day = date_text(pd.Timestamp(r.submitted_on)) if r.submitted_on else ""
            where = (f"tệp {r.file}" + (f", gửi ngày {day}" if day else "")) if lang == "vi" else (
                f"file {r.file}" + (f", sent {day}" if day else ""))
            items.append(f"{ind.id}. {ind.short} {_number(r.old_value, ind.kind, lang)} → "
                         f"{_number(r.new_value, ind.kind, lang)} ({where})")
        if items:
            month = periods.month_number(str(period))
            head = f"Số liệu tháng {month} đã điều chỉnh" if lang == "vi" else f"Published values of month {month} corrected"
            out.append(f"{head}: " + "; ".join(items) + ".")
    return out

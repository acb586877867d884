"""What each run published for a month, and the corrections a later run finds: <out>/published/<P>.json keeps
every publication of P (values per indicator), appended, never deleted; a value that differs from the last
publication of its month is a correction, listed with its old and new value and the file that changed it."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import pandas as pd

from kpi.core import periods
from kpi.core.files import write_atomic
from kpi.indicators import compute
from kpi.plan import Plan

PUBLISHED_DIR = "published"  # <out>/published/<P>.json
REVISION_COLUMNS = ["period", "indicator", "old_value", "new_value", "file", "submitted_on"]
DIGITS = 9  # values equal to this many decimals are the same published value (a float's last bits are noise)


def record_file(out_root: Path, period: str) -> Path:
    return Path(out_root) / PUBLISHED_DIR / f"{period}.json"


def read_record(out_root: Path, period: str) -> dict:
    """{period, publications: [{revision, made_on, values: {indicator: value|None}, changes: [...]}, ...]}."""
    path = record_file(out_root, period)
    if not path.is_file():
        return {"period": period, "publications": []}
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # a damaged record is kept aside, never overwritten
        path.replace(path.with_name(f"{path.name}.damaged-{dt.datetime.now():%Y%m%d%H%M%S}"))
        return {"period": period, "publications": []}
    rec.setdefault("publications", [])
    return rec


def _value(v: float) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), DIGITS)


def card_values(card: pd.DataFrame) -> dict[str, float | None]:
    """The published value of each indicator (year-to-date at P), None where there is none."""
    return {str(i): _value(v) for i, v in zip(card["indicator"], card["value"])}


def _source(data: pd.DataFrame, plan: Plan, month: str, indicator: str) -> tuple[str, str]:
    """The file that last changed an indicator's value at `month`: among the rows of its elements for the
    plan year's months up to `month`, the one sent last (by report date, then file name)."""
    ind = next(i for i in plan.indicators if i.id == indicator)
    elements = {ind.numerator, ind.denominator} - {None}
    rows = data[data["element"].isin(elements) & (data["period"] <= month)
                & data["period"].astype(str).str.startswith(f"{plan.year}-")]
    if rows.empty:
        return "", ""
    last = rows.sort_values(["submitted_on", "file"], na_position="first").iloc[-1]
    day = last["submitted_on"]
    return str(last["file"]), ("" if pd.isna(day) else pd.Timestamp(day).date().isoformat())


def find_changes(plan: Plan, data: pd.DataFrame, period: str, card: pd.DataFrame, out_root: Path) -> list[dict]:
    """Every value already published for P or an earlier month of the plan year that the data now gives
    differently (docs/rules.md §8 `revisions`): period, indicator, old_value, new_value, file, submitted_on."""
    found = []
    for month in periods.month_range(f"{plan.year}-01", periods.last_month(period)):
        pubs = read_record(out_root, month)["publications"]
        if not pubs:
            continue
        now = card_values(card if month == period else compute.scorecard(data, plan, month))
        for ind, old in pubs[-1]["values"].items():
            new = now.get(ind)
            if ind in now and old != new:
                file, day = _source(data, plan, month, ind)
                found.append({"period": month, "indicator": ind, "old_value": old, "new_value": new,
                              "file": file, "submitted_on": day})
    return found


def publish(plan: Plan, data: pd.DataFrame, period: str, card: pd.DataFrame, out_root: Path,
            made_on: str) -> tuple[int, list[dict], list[tuple[Path, dict]]]:
    """This run's publication of P: (P's revision number, every correction listed for P, the records to save
    with `save` once the package is written, so that a package that could not be written is not recorded).

    A first publication is revision 1; a run whose values for P or an earlier month differ from their last
    publication adds a publication (P's revision + 1) carrying those changes, and an earlier month's record
    gets the new values too (so the next month does not list the same correction again). A run that changes
    nothing adds nothing. The corrections listed for P are all those P's publications carry."""
    changes = find_changes(plan, data, period, card, out_root)
    rec = read_record(out_root, period)
    values = card_values(card)
    pubs = rec["publications"]
    own_changed = bool(pubs) and pubs[-1]["values"] != values
    earlier = [c for c in changes if c["period"] != period]
    pending = []
    if not pubs or own_changed or earlier:
        pubs.append({"revision": len(pubs) + 1, "made_on": made_on, "values": values, "changes": changes})
        pending.append((record_file(out_root, period), rec))
    for month in sorted({c["period"] for c in earlier}):
        other = read_record(out_root, month)
        other["publications"].append({"revision": len(other["publications"]) + 1, "made_on": made_on,
                                      "values": card_values(compute.scorecard(data, plan, month)),
                                      "changes": [c for c in earlier if c["period"] == month],
                                      "noted_in": period})
        pending.append((record_file(out_root, month), other))
    listed = [c for p in pubs for c in p.get("changes", [])]
    return len(pubs), listed, pending


def save(pending: list[tuple[Path, dict]]) -> None:
    """Write the records `publish` prepared (each whole, under a temporary name first)."""
    for path, rec in pending:
        write_atomic(path, json.dumps(rec, ensure_ascii=False, indent=1))


def revisions_frame(changes: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(changes, columns=REVISION_COLUMNS)

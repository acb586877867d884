"""What the units explain: per indicator 'Nguyên nhân / giải pháp', per unit 'Kết quả nổi bật' and 'Nhiệm vụ tháng tới'.

Notes come from the cells the unit's template carries (kpi.intake.template) or from a notes CSV in the long form
(columns unit, period, indicator, field, text) anywhere under <data>/submissions. They are text from outside:
cleaned, bounded to MAX_CHARS, escaped where shown, and never carried over: a month has the notes sent for it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kpi.core import paths
from kpi.intake.load import folder_period, read_once, submission_files
from kpi.intake.notes_form import (  # noqa: F401 (also kpi.intake.notes.*)
    CSV_HEADER, FIELDS, MAX_CHARS, NOTE_KEY, clean, csv_notes, is_notes_header, template_notes,
)
from kpi.plan.model import Plan

COLUMNS = ["unit", "period", "indicator", "field", "text", "file"]


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


# --- the data folder ------------------------------------------------------------------------------------

def read_notes(data_dir: str | Path, plan: Plan, period: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every note under <data>/submissions (templates and notes CSVs) and the messages about them; with `period`,
    only the files that can hold that period's notes (a file in another month's folder cannot). When two
    files give the same (unit, period, indicator, field), the one later by name wins. Each file is read as the
    intake reads it (kpi.intake.load.read_once), which takes its notes; a data folder already read by
    kpi.intake.validate.load_submissions has them: see of_submissions."""
    root = paths.submissions_dir(Path(data_dir))
    rows: list[dict] = []
    messages: list[str] = []
    for path in submission_files(root):
        name = path.relative_to(root).as_posix()
        if period and folder_period(name) not in (None, period):
            continue
        read = read_once(path, root, plan.unit_codes, plan)  # a file it cannot read or refuses holds no notes
        rows += read.notes
        messages += read.note_messages
    return _kept(rows), messages


def as_frame(rows: list[dict]) -> pd.DataFrame:
    """Notes (dicts of COLUMNS, as kpi.intake.notes_form takes them) as a frame, in their order."""
    return pd.DataFrame(rows, columns=COLUMNS) if rows else empty()


def _kept(rows: list[dict]) -> pd.DataFrame:
    """The notes in file order, one per (unit, period, indicator, field): the later file's."""
    return as_frame(rows).drop_duplicates(["unit", "period", "indicator", "field"], keep="last").reset_index(drop=True)


def of_submissions(subs, data_dir: str | Path, plan: Plan, period: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """read_notes's answer from the notes the data's reading took from each file (Submissions.notes, in file
    order, with their messages by file), without opening the files again (the batch's cache keeps them too); when
    the Submissions do not carry them (made otherwise than by load_submissions), read_notes reads them."""
    if subs.notes is None:
        return read_notes(data_dir, plan, period)
    wanted = (lambda name: folder_period(name) in (None, period)) if period else (lambda name: True)
    frame = subs.notes[subs.notes["file"].map(wanted).astype(bool)] if len(subs.notes) else subs.notes
    return _kept(frame.to_dict("records")), [m for name, m in subs.note_messages if wanted(name)]


def for_period(frame: pd.DataFrame, period: str, units: list[str]) -> pd.DataFrame:
    """The notes sent for this period by these units (none carried from an earlier month)."""
    return frame[(frame["period"] == period) & frame["unit"].isin(units)].reset_index(drop=True)


def of_field(frame: pd.DataFrame, field: str) -> pd.DataFrame:
    return frame[frame["field"] == field]


def reason(frame: pd.DataFrame, indicator: str) -> str:
    """The lead unit's 'Nguyên nhân / giải pháp' for an indicator, or ''."""
    hit = frame[(frame["field"] == "reason") & (frame["indicator"] == indicator)]
    return "" if hit.empty else str(hit["text"].iloc[-1])

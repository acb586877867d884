"""What the units explain: per indicator 'Nguyên nhân / giải pháp', per unit 'Kết quả nổi bật' and 'Nhiệm vụ tháng tới'.

Notes come from the cells the unit's template carries (kpi.intake.template) or from a notes CSV in the long form
(columns unit, period, indicator, field, text) anywhere under <data>/submissions. They are text from outside:
cleaned, bounded to MAX_CHARS, escaped where shown, and never carried over: a month has the notes sent for it."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from kpi.core import paths, safety
from kpi.intake.load import decode_csv, folder_period, submission_files
from kpi.intake.notes_form import (  # noqa: F401 (also kpi.intake.notes.*)
    CSV_HEADER, FIELDS, MAX_CHARS, NOTE_COLUMNS, NOTE_KEY, clean, csv_notes, is_notes_header, template_notes,
)
from kpi.intake.template import is_template
from kpi.plan.model import Plan

COLUMNS = ["unit", "period", "indicator", "field", "text", "file"]


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


# --- the data folder ------------------------------------------------------------------------------------

def _tables(data: bytes, suffix: str, name: str) -> list[list[list[object]]]:
    """Every sheet of a workbook (its bytes) as rows of values (only a kit template's sheets are kept by the
    caller)."""
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return [[list(r) for r in safety.bounded_rows(ws.iter_rows(values_only=True, max_col=NOTE_COLUMNS), name)]
                    for ws in book.worksheets]
        finally:
            book.close()
    return legacy_tables(pd.read_excel(io.BytesIO(data), sheet_name=None, header=None,
                                       engine="xlrd" if suffix == ".xls" else "odf", dtype=object))


def legacy_tables(sheets: dict[str, pd.DataFrame]) -> list[list[list[object]]]:
    """The sheets of an .xls or .ods (as pandas read them) as the notes read them: blank cells None."""
    return [[[None if pd.isna(v) else v for v in row] for row in f.itertuples(index=False, name=None)]
            for f in sheets.values()]


def _csv_table(data: bytes, name: str) -> list[list[object]]:
    text, _ = decode_csv(data)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max([",", ";", "\t"], key=first.count)
    return list(safety.bounded_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), name))


def read_notes(data_dir: str | Path, plan: Plan, period: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every note under <data>/submissions (templates and notes CSVs) and the messages about them; with `period`,
    only the files that can hold that period's notes (a file in another month's folder cannot). When two
    files give the same (unit, period, indicator, field), the one later by name wins. (The data's own reading,
    kpi.intake.validate.load_submissions, takes the same notes from the tables it read: see of_submissions.)"""
    root = paths.submissions_dir(Path(data_dir))
    messages: list[str] = []
    rows: list[dict] = []
    for path in submission_files(root):
        name = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if period and folder_period(name) not in (None, period):
            continue
        if suffix not in (".csv", ".xlsx", ".xlsm", ".xls", ".ods"):
            continue  # the loader reports such files; here they hold no notes
        try:
            data = safety.read_submission(path, root, name)  # bounded, read once
            if not isinstance(data, bytes):
                continue  # refused: the loader reports it
            if suffix == ".csv":
                table = _csv_table(data, path.name)
                if table and is_notes_header(table[0]):
                    rows += csv_notes(table, name, plan, messages)
            else:
                for table in _tables(data, suffix, path.name):
                    if is_template(table):
                        rows += template_notes(table, name, messages)
        except Exception:  # noqa: BLE001 - the loader reports an unreadable file with its reason; notes add nothing
            continue
    return _kept(rows), messages


def _kept(rows: list[dict]) -> pd.DataFrame:
    """The notes in file order, one per (unit, period, indicator, field): the later file's."""
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty()
    return frame.drop_duplicates(["unit", "period", "indicator", "field"], keep="last").reset_index(drop=True)


def of_submissions(subs, data_dir: str | Path, plan: Plan, period: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """read_notes's answer from the notes the data's reading took from each file (Submissions.notes, in file
    order, with their messages by file), without opening the files again; when the Submissions do not carry
    them (read from the batch's cache), read_notes reads them."""
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

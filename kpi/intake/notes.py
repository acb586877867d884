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
from kpi.intake.notes_form import CSV_HEADER, FIELDS, MAX_CHARS, NOTE_KEY, clean, is_notes_header  # noqa: F401 (also kpi.intake.notes.*)
from kpi.intake.template import is_template
from kpi.plan.model import Plan, fold

COLUMNS = ["unit", "period", "indicator", "field", "text", "file"]
_FIELD_WORDS = {fold(v): k for k, v in FIELDS.items()} | {k: k for k in FIELDS}


def empty() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


# --- the template's note cells --------------------------------------------------------------------------

def template_notes(table: list[list[object]], name: str, messages: list[str]) -> list[dict]:
    """The filled note cells of a template sheet (rows keyed note=… in column A; the text in the first filled
    cell right of the label), with unit and period from the template's own keys."""
    from openpyxl.utils import get_column_letter

    keys = [str(r[0]).strip() if r and r[0] is not None else "" for r in table]
    meta = dict(k.split("=", 1) for k in keys if k.startswith(("unit=", "period=")))
    out = []
    for i, key in enumerate(keys):
        if not key.startswith(NOTE_KEY):
            continue
        spec = key[len(NOTE_KEY):]
        indicator, _, field = spec.rpartition(":") if ":" in spec else ("", "", spec)
        cells = [(j, v) for j, v in enumerate(table[i]) if j >= 2 and v is not None and str(v).strip()]
        if field not in FIELDS or not cells:
            continue
        j, value = cells[0]
        where = f"{name}, ô {get_column_letter(j + 1)}{i + 1}"
        out.append({"unit": meta.get("unit", ""), "period": meta.get("period", ""), "indicator": indicator,
                    "field": field, "text": clean(value, where, messages), "file": name})
    return out


# --- the long form's notes CSV --------------------------------------------------------------------------

def csv_notes(table: list[list[object]], name: str, plan: Plan, messages: list[str]) -> list[dict]:
    """Rows of a notes CSV; a row naming an unknown unit, period, indicator or field is left out with a
    located Vietnamese message."""
    header = [fold(c) if c else "" for c in table[0]]
    idx = {c: header.index(c) for c in CSV_HEADER}
    ids = {i.id for i in plan.indicators}
    out = []
    for n, row in enumerate(table[1:], start=2):
        cell = {c: str(row[idx[c]]).strip() if idx[c] < len(row) and row[idx[c]] is not None else "" for c in CSV_HEADER}
        if not any(cell.values()):
            continue
        where = f"{name}, dòng {n}"
        field = _FIELD_WORDS.get(fold(cell["field"]))
        problem = ("đơn vị '{unit}' không có trong kế hoạch (dùng {units})" if cell["unit"] not in plan.unit_codes
                   else "kỳ '{period}' không hợp lệ (dạng NNNN-TT, ví dụ {year}-11)" if cell["period"] not in plan.periods
                   else "cột field '{field}' phải là reason, highlights hoặc next_tasks" if field is None
                   else "chỉ tiêu '{indicator}' không có trong kế hoạch" if field == "reason" and cell["indicator"] not in ids
                   else "cột text để trống" if not cell["text"] else "")
        if problem:
            messages.append(f"{where}: bỏ qua ghi chú vì " + problem.format(
                **cell, units=", ".join(plan.unit_codes), year=plan.year))
            continue
        out.append({**cell, "indicator": cell["indicator"] if field == "reason" else "", "field": field,
                    "text": clean(cell["text"], where, messages), "file": name})
    return out


# --- the data folder ------------------------------------------------------------------------------------

def _tables(path: Path) -> list[list[list[object]]]:
    """Every sheet of a workbook as rows of values (only a kit template's sheets are kept by the caller)."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        import openpyxl

        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return [[list(r) for r in safety.bounded_rows(ws.iter_rows(values_only=True, max_col=12), path.name)]
                    for ws in book.worksheets]
        finally:
            book.close()
    engine = "xlrd" if path.suffix.lower() == ".xls" else "odf"
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine=engine, dtype=object)
    return [[[None if pd.isna(v) else v for v in row] for row in f.itertuples(index=False, name=None)]
            for f in sheets.values()]


def _csv_table(path: Path) -> list[list[object]]:
    text, _ = decode_csv(path.read_bytes())
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max([",", ";", "\t"], key=first.count)
    return list(safety.bounded_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), path.name))


def read_notes(data_dir: str | Path, plan: Plan, period: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Every note under <data>/submissions (templates and notes CSVs) and the messages about them; with `period`,
    only the files that can hold that period's notes (a file in another month's folder cannot). When two
    files give the same (unit, period, indicator, field), the one later by name wins."""
    root = paths.submissions_dir(Path(data_dir))
    messages: list[str] = []
    rows: list[dict] = []
    for path in submission_files(root):
        name = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if period and folder_period(name) not in (None, period):
            continue
        if suffix not in (".csv", ".xlsx", ".xlsm", ".xls", ".ods") or safety.check_submission_file(path, root, name):
            continue  # the loader reports such files; here they hold no notes
        try:
            if suffix == ".csv":
                table = _csv_table(path)
                if table and is_notes_header(table[0]):
                    rows += csv_notes(table, name, plan, messages)
            else:
                for table in _tables(path):
                    if is_template(table):
                        rows += template_notes(table, name, messages)
        except Exception:  # noqa: BLE001 - the loader reports an unreadable file with its reason; notes add nothing
            continue
    frame = pd.DataFrame(rows, columns=COLUMNS) if rows else empty()
    frame = frame.drop_duplicates(["unit", "period", "indicator", "field"], keep="last").reset_index(drop=True)
    return frame, messages


def for_period(frame: pd.DataFrame, period: str, units: list[str]) -> pd.DataFrame:
    """The notes sent for this period by these units (none carried from an earlier month)."""
    return frame[(frame["period"] == period) & frame["unit"].isin(units)].reset_index(drop=True)


def of_field(frame: pd.DataFrame, field: str) -> pd.DataFrame:
    return frame[frame["field"] == field]


def reason(frame: pd.DataFrame, indicator: str) -> str:
    """The lead unit's 'Nguyên nhân / giải pháp' for an indicator, or ''."""
    hit = frame[(frame["field"] == "reason") & (frame["indicator"] == indicator)]
    return "" if hit.empty else str(hit["text"].iloc[-1])

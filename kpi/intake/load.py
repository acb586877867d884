"""Read units' submission files (long CSV/XLSX) into raw rows with their place; nothing is dropped."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kpi.core import safety
from kpi.core.errors import EncodingProblem  # noqa: F401 (raised here, caught by kpi.cli)
from kpi.core.fingerprint import submission_files  # noqa: F401 (the intake's: kpi.intake.load.submission_files)
from kpi.core.problems import UNREADABLE_FILE_CODES, Problem
from kpi.intake.formulas import SheetFormulas, inside_problems, outside_problems, read_formulas
from kpi.plan.model import Plan, fold  # noqa: F401 (fold is the intake's too: kpi.intake.load.fold)

RAW_COLUMNS = ["period", "unit", "village", "element", "value", "submitted_on"]
PLACE_COLUMNS = ["file", "sheet", "row"]
# Where a raw row's cells really sit when that is not its own row and the logical column name: a template's
# value cell (Excel column letter) and its single submission-date cell; and the unit the file declares
# (template marker or file name, e.g. `ca.csv`, `bao_cao_vhxh_2026-11.xlsx`).
EXTRA_COLUMNS = ["file_unit", "value_col", "date_row", "date_col"]


# Accepted header spellings, folded (see fold); English codes are accepted as they are.
HEADER_ALIASES: dict[str, str] = {
    **{c: c for c in RAW_COLUMNS},
    "ky bao cao": "period", "ky": "period", "thang": "period", "thang bao cao": "period",
    "don vi": "unit", "ma don vi": "unit", "don vi bao cao": "unit",
    "thon": "village", "ten thon": "village", "thon/xom": "village", "thon xom": "village",
    "ma so lieu": "element", "so lieu": "element", "ma chi tieu": "element", "chi tieu": "element",
    "phan tu": "element", "phan tu du lieu": "element",
    "gia tri": "value", "so luong": "value", "ket qua": "value",
    "ngay bao cao": "submitted_on", "ngay gui": "submitted_on", "ngay gui bao cao": "submitted_on",
    "submitted on": "submitted_on", "date": "submitted_on",
}


@dataclass
class RawFile:
    """What one file gave: raw text rows with their place, or the problems that stopped reading it."""

    path: str
    rows: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


@dataclass
class FileRead:
    """One submission file, its bytes read once: what its sheets gave, the SHA-256 of the bytes read (None: refused
    before a byte was read), and the units' notes it carries (kpi.intake.notes_form) with the messages about them."""

    raws: list[RawFile]
    sha256: str | None = None
    notes: list[dict] = field(default_factory=list)
    note_messages: list[str] = field(default_factory=list)


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RAW_COLUMNS + PLACE_COLUMNS + EXTRA_COLUMNS})


# Bytes that the Windows Vietnamese code page (cp1258) maps to letters or tone marks cp1252 does not have.
_CP1258_TONES = "\u0300\u0301\u0303\u0309\u0323"


def decode_csv(data: bytes) -> tuple[str, str]:
    """Text and encoding name of a CSV file. Rule, in order:
    1. a UTF-16 byte-order mark -> UTF-16 (Excel's 'Unicode Text');
    2. valid UTF-8, with or without BOM -> UTF-8;
    3. otherwise a single-byte Windows code page: cp1258 (Vietnamese) when its decoding is valid and every tone
       mark it yields sits on a letter (so NFC composes real Vietnamese letters); else cp1252 (Western) when
       valid; else cp1258 when valid;
    4. otherwise refused (EncodingProblem -> E_FILE_ENCODING): bytes undefined in both code pages (0x81, 0x8D,
       0x8F, 0x90, 0x9D) or NUL bytes mean the file is not text in any accepted encoding."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise EncodingProblem("utf-16") from exc
    if b"\x00" in data:
        raise EncodingProblem("NUL")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    texts = {}
    for enc in ("cp1258", "cp1252"):
        try:
            texts[enc] = data.decode(enc)
        except UnicodeDecodeError:
            pass
    if "cp1258" in texts:
        t = texts["cp1258"]
        stranded = any(ch in _CP1258_TONES and (i == 0 or not t[i - 1].isalpha()) for i, ch in enumerate(t))
        if not stranded or "cp1252" not in texts:
            return unicodedata.normalize("NFC", t), "cp1258"
    if "cp1252" in texts:
        return texts["cp1252"], "cp1252"
    raise EncodingProblem("cp1258/cp1252")


_PERIOD_FOLDER = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def folder_period(name: str) -> str | None:
    """The period a file's folder names ('2026-12/ca.xlsx', 'x/2026-12/y/ca.csv' -> '2026-12'; the innermost such
    folder counts); None for a file in no period folder."""
    found = [part for part in Path(name).parts[:-1] if _PERIOD_FOLDER.match(part)]
    return found[-1] if found else None


def unit_from_name(name: str, unit_codes: tuple[str, ...] | list[str]) -> str | None:
    """The unit a file's path declares: a word of its folders or name equal to exactly one unit code (`ca.csv`,
    `kt_2026-11.xlsx`, `vhxh/2026-11.csv`); none, or two different ones, declare nothing."""
    words = set(re.split(r"[^0-9a-z]+", fold(Path(name).with_suffix("").as_posix())))
    hits = [u for u in unit_codes if u in words]
    return hits[0] if len(hits) == 1 else None


def _frame_from_table(table: list[list[object]], name: str, sheet: str) -> RawFile:
    """Find the header row, map its columns, keep every non-blank row below it with its 1-based row number."""
    header_at = None
    for i, row in enumerate(table[:20]):
        mapped = {HEADER_ALIASES.get(fold(c)) for c in row if c not in (None, "")}
        if len(mapped & set(RAW_COLUMNS)) >= 3:
            header_at = i
            break
    if header_at is None:
        if not any(any(c not in (None, "") for c in row) for row in table):
            return RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name, sheet=sheet)])
        return RawFile(name, _empty_rows(), [Problem("E_COLUMNS_MISSING", file=name, sheet=sheet, row=1,
                                                     found=", ".join(RAW_COLUMNS))])
    header = [HEADER_ALIASES.get(fold(c)) if c not in (None, "") else None for c in table[header_at]]
    missing = [c for c in RAW_COLUMNS if c not in header]
    if missing:
        return RawFile(name, _empty_rows(), [Problem("E_COLUMNS_MISSING", file=name, sheet=sheet,
                                                     row=header_at + 1, found=", ".join(missing))])
    idx = {c: header.index(c) for c in RAW_COLUMNS}
    records = []
    for offset, row in enumerate(table[header_at + 1:], start=header_at + 2):
        cells = [row[idx[c]] if idx[c] < len(row) else None for c in RAW_COLUMNS]
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue  # a blank line carries nothing to account for
        records.append(cells + [name, sheet, offset, None, None, None, None])
    if not records:
        return RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name, sheet=sheet)])
    return RawFile(name, pd.DataFrame(records, columns=RAW_COLUMNS + PLACE_COLUMNS + EXTRA_COLUMNS, dtype=object))


def _frame_from_template(table: list[list[object]], name: str, sheet: str, plan: Plan | None = None,
                         refused: dict[tuple[int, str], Problem] | None = None) -> RawFile:
    """A kit template sheet: its filled input cells as raw rows, each for the village and element its visible row
    and column show (kpi.intake.filled); `refused` cells (a formula that takes its number from outside the
    workbook, by Excel row and column letter) are not rows, their problem says why."""
    from kpi.intake.filled import read_template

    filled = read_template(table, plan)
    problems = [replace(p, file=name, sheet=sheet) for p in filled.problems]
    refused = refused or {}
    records = [r for r in filled.records if (r["row"], r["value_col"]) not in refused]
    problems += list(refused.values())
    if not records:
        return RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name, sheet=sheet), *problems])
    frame = pd.DataFrame(records).assign(file=name, sheet=sheet, file_unit=lambda f: f["unit"])
    return RawFile(name, frame[RAW_COLUMNS + PLACE_COLUMNS + EXTRA_COLUMNS].astype(object), problems)


def read_csv(data: bytes, name: str, plan: Plan | None = None) -> FileRead:
    """A long-format CSV (its bytes): comma or semicolon separated, UTF-8 or cp1258; or the units' notes CSV
    (read with the plan)."""
    if not data.strip():
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name)])])
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                               detail="tệp nhị phân, không phải CSV")])])
    if data[:4] == b"PK\x03\x04":
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                               detail="đây là tệp Excel bị đổi đuôi thành .csv")])])
    try:
        text, _ = decode_csv(data)
    except EncodingProblem:
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_ENCODING", file=name)])])
    lines = [ln for ln in text.splitlines() if ln.strip(" ,;\t")]
    first = lines[0] if lines else ""
    delimiter = max([",", ";", "\t"], key=first.count)
    try:
        table = [[c if c.strip() else None for c in row]
                 for row in safety.bounded_rows(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), name)]
    except csv.Error as exc:
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name, detail=str(exc))])])
    from kpi.intake.notes_form import csv_notes, is_notes_header

    if table and is_notes_header(table[0]):  # the units' notes, no values
        read = FileRead([RawFile(name, _empty_rows())])
        read.notes = csv_notes(table, name, plan, read.note_messages) if plan is not None else []
        return read
    return FileRead([_frame_from_table(table, name, "")])


def read_xlsx(data: bytes, name: str, plan: Plan | None = None) -> FileRead:
    """A workbook's bytes: a kit template's data sheet (found by its marker, whatever its name) with its notes,
    else every sheet of a long-format workbook that has a recognisable header; a workbook with none reports its
    first sheet's problem. A cell whose formula refers outside the workbook is refused (kpi.intake.formulas)."""
    import openpyxl

    from kpi.intake.notes_form import note_table, template_notes
    from kpi.intake.template import is_template

    broken = "không phải tệp Excel .xlsx hợp lệ hoặc tệp đã hỏng"
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or XML
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                               detail=f"{broken} ({type(exc).__name__})")])])
    tables: dict[str, list[list[object]]] = {}
    try:
        wide = safety.limit("KPI_MAX_COLUMNS")
        for ws in book.worksheets:
            tables[ws.title] = [list(r) for r in safety.bounded_rows(ws.iter_rows(values_only=True, max_col=wide),
                                                                     name, ws.title)]
    except safety.InputRefused:
        raise  # a size bound: _parsed reports it as such
    except Exception as exc:  # a sheet's XML broken inside a valid zip
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                               detail=f"{broken} ({type(exc).__name__})")])])
    finally:
        book.close()
    templates = [title for title, table in tables.items() if is_template(table)]
    formulas = read_formulas(data, templates or list(tables))
    if templates:  # a kit template: its other sheets (instructions, notes) are not data
        read = FileRead([_template_sheet(tables[t], name, t, plan, formulas.get(t, SheetFormulas()))
                         for t in templates])
        read.notes = [n for t in templates for n in template_notes(note_table(tables[t]), name, read.note_messages)]
        return read
    results = [_long_sheet(table, name, title, formulas.get(title, SheetFormulas())) for title, table in tables.items()]
    if not results:
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name)])])
    usable = [r for r in results if all(p.code in ("E_FORMULA_EXTERNAL", "W_FORMULA_CACHED") for p in r.problems)]
    return FileRead(usable or results[:1])


def _template_sheet(table: list[list[object]], name: str, sheet: str, plan: Plan | None,
                    found: SheetFormulas) -> RawFile:
    rf = _frame_from_template(table, name, sheet, plan, outside_problems(name, sheet, found, table))
    read = set() if rf.rows.empty else {(int(r), c) for r, c in zip(rf.rows["row"], rf.rows["value_col"])}
    rf.problems += inside_problems(name, sheet, found, table, read)
    return rf


def _long_sheet(table: list[list[object]], name: str, sheet: str, found: SheetFormulas) -> RawFile:
    """A long-format sheet: a row holding a formula that refers outside the workbook is not read."""
    from openpyxl.utils import get_column_letter

    rf = _frame_from_table(table, name, sheet)
    refused = outside_problems(name, sheet, found, table)
    if refused and not rf.rows.empty:
        rows = {r for r, _ in refused}
        rf.rows = rf.rows[~rf.rows["row"].isin(rows)].reset_index(drop=True)
        rf.problems += [p for (r, _), p in refused.items() if r > 1]
    if not rf.rows.empty:
        read = {(int(r), get_column_letter(j + 1)) for r in rf.rows["row"] for j in range(len(table[int(r) - 1]))}
        rf.problems += [p for p in inside_problems(name, sheet, found, table, read) if p.code == "W_FORMULA_CACHED"]
    return rf


def _cell_value(v: object) -> object:
    """A cell as pandas reads it from .xls/.ods, as openpyxl would give it: blank is None, 1200.0 is 1200."""
    if v is None or (isinstance(v, float) and v != v) or v is pd.NaT:
        return None
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    return v


def read_legacy(data: bytes, name: str, plan: Plan | None = None) -> FileRead:
    """An .xls (Excel 97-2003, WPS) or .ods (LibreOffice) workbook's bytes, read like an .xlsx: a kit template's
    data sheet (found by its marker and labels: such files keep no defined names) with its notes, else every
    long-format sheet."""
    from kpi.intake.notes_form import template_notes
    from kpi.intake.template import is_template

    engine = "xlrd" if Path(name).suffix.lower() == ".xls" else "odf"
    kind = "Excel 97-2003 (.xls)" if engine == "xlrd" else "OpenDocument (.ods)"
    try:
        sheets = pd.read_excel(io.BytesIO(data), sheet_name=None, header=None, engine=engine, dtype=object)
    except Exception as exc:  # xlrd and odfpy raise many types for a broken or mislabelled file
        return FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                               detail=f"không phải tệp {kind} hợp lệ hoặc tệp đã hỏng "
                                                                      f"({type(exc).__name__})")])])
    results, templates, read = [], [], FileRead([])
    for title, frame in sheets.items():
        table = [[_cell_value(v) for v in row] for row in frame.itertuples(index=False, name=None)]
        table = list(safety.bounded_rows(iter(table), name, str(title)))
        if is_template(table):
            templates.append(_frame_from_template(table, name, str(title), plan))
            as_notes = [[None if pd.isna(v) else v for v in row] for row in frame.itertuples(index=False, name=None)]
            read.notes += template_notes(as_notes, name, read.note_messages)
        else:
            results.append(_frame_from_table(table, name, str(title)))
    if templates:
        read.raws = templates
        return read
    usable = [r for r in results if not r.problems]
    return FileRead(usable or results[:1] or [RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name)])])


def _mark_sender(files: list[RawFile], name: str, unit_codes) -> list[RawFile]:
    """Unreadable-file problems carry the unit the file's name declares and the period of its folder."""
    unit, period = unit_from_name(name, unit_codes), folder_period(name)
    for rf in files:
        rf.problems[:] = [replace(p, unit=p.unit or unit, period=p.period or period)
                          if p.code in UNREADABLE_FILE_CODES else p for p in rf.problems]
    return files


def read_once(path: Path, root: Path, unit_codes: tuple[str, ...] | list[str] = (),
              plan: Plan | None = None) -> FileRead:
    """Read one submission file (with the plan, a template's cells are placed by their visible names, see
    kpi.intake.placement): its rows and problems (returned, never raised), from its bytes read once
    (kpi.core.safety.read_submission), with their SHA-256 and the notes the file carries (with the plan)."""
    return read_under(path, root, [(unit_codes, plan)])[0]


def read_under(path: Path, root: Path, plans: list[tuple[tuple[str, ...] | list[str], Plan | None]]) -> list[FileRead]:
    """One FileRead per (unit codes, plan), from the file's bytes read once: this year's plan and the year
    before's read the same bytes (kpi.intake.validate.load_submissions)."""
    name = path.relative_to(root).as_posix()
    reads = _read_once(path, root, name, plans)
    for read, (unit_codes, _) in zip(reads, plans):
        _mark_sender(read.raws, name, unit_codes)
    return reads


_READERS = {".csv": read_csv, ".xlsx": read_xlsx, ".xlsm": read_xlsx, ".xls": read_legacy, ".ods": read_legacy}


def _read_once(path: Path, root: Path, name: str, plans: list) -> list[FileRead]:
    """Read one submission file; its problems, if any, are returned, never raised. A long file's declared unit
    comes from its name (see unit_from_name); a template's from its marker keys."""
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:  # not read: refused as it is, else as a type the kit does not read
        refused = safety.check_submission_file(path, root, name)
        return [FileRead([RawFile(refused.file, _empty_rows(), [refused])] if refused else
                         [RawFile(name, _empty_rows(), [Problem("E_FILE_TYPE", file=name, found=suffix or path.name)])])
                for _ in plans]
    try:
        data = safety.read_submission(path, root, name)
    except OSError as exc:
        return [FileRead([RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                                detail=str(exc.strerror))])]) for _ in plans]
    if isinstance(data, Problem):
        return [FileRead([RawFile(data.file, _empty_rows(), [data])]) for _ in plans]
    digest = hashlib.sha256(data).hexdigest()
    return [_parsed(reader, data, name, digest, unit_codes, plan) for unit_codes, plan in plans]


def _parsed(reader, data: bytes, name: str, digest: str, unit_codes, plan: Plan | None) -> FileRead:
    try:
        read = reader(data, name, plan)
        read.sha256 = digest
        declared = unit_from_name(name, unit_codes)
        for rf in read.raws:
            if declared and not rf.rows.empty:
                rf.rows["file_unit"] = rf.rows["file_unit"].where(rf.rows["file_unit"].notna(), declared)
        return read
    except OSError as exc:
        problem = Problem("E_FILE_UNREADABLE", file=name, detail=str(exc.strerror))
    except safety.InputRefused as exc:
        problem = exc.problem
    except UnicodeDecodeError:
        problem = Problem("E_FILE_ENCODING", file=name)
    except Exception as exc:  # a file's reading never raises: any other failure (csv.Error, a broken sheet) is reported
        problem = Problem("E_FILE_UNREADABLE", file=name, detail=type(exc).__name__)
    return FileRead([RawFile(name, _empty_rows(), [problem])], digest)

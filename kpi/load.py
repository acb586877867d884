"""Read units' submission files (long CSV/XLSX) into raw rows with their place; nothing is dropped."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi import safety
from kpi.problems import Problem

RAW_COLUMNS = ["period", "unit", "village", "element", "value", "submitted_on"]
PLACE_COLUMNS = ["file", "sheet", "row"]


def fold(text: object) -> str:
    """Compare-friendly text: NFC, no diacritics, lower case, single spaces (đ -> d)."""
    s = unicodedata.normalize("NFD", str(text)).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", s).strip().casefold()


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


def _empty_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in RAW_COLUMNS + PLACE_COLUMNS})


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first; else the Windows Vietnamese code page cp1258."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1258")


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
        records.append(cells + [name, sheet, offset])
    if not records:
        return RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name, sheet=sheet)])
    return RawFile(name, pd.DataFrame(records, columns=RAW_COLUMNS + PLACE_COLUMNS, dtype=object))


def read_csv(path: Path, name: str) -> RawFile:
    """A long-format CSV: comma or semicolon separated, UTF-8 or cp1258."""
    data = path.read_bytes()
    if not data.strip():
        return RawFile(name, _empty_rows(), [Problem("E_FILE_EMPTY", file=name)])
    if b"\x00" in data[:4096]:
        return RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name,
                                                     detail="tệp nhị phân, không phải CSV")])
    text = _decode(data)
    first = text.splitlines()[0] if text else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    table = [[c if c.strip() else None for c in row]
             for row in safety.bounded_rows(csv.reader(io.StringIO(text), delimiter=delimiter), name)]
    return _frame_from_table(table, name, "")


def read_xlsx(path: Path, name: str) -> list[RawFile]:
    """Every sheet of a long-format workbook that has a recognisable header."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken zip or XML
        return [RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name, detail=type(exc).__name__)])]
    try:
        wide = safety.limit("KPI_MAX_COLUMNS")
        results = [_frame_from_table(safety.bounded_rows(ws.iter_rows(values_only=True, max_col=wide), name, ws.title),
                                     name, ws.title)
                   for ws in book.worksheets]
    finally:
        book.close()
    usable = [r for r in results if not r.problems]
    if usable:
        return usable
    return results[:1]


def read_file(path: Path, root: Path) -> list[RawFile]:
    """Read one submission file; its problems, if any, are returned, never raised."""
    name = path.relative_to(root).as_posix()
    suffix = path.suffix.lower()
    refused = safety.check_submission_file(path, root, name)
    if refused:
        return [RawFile(refused.file, _empty_rows(), [refused])]
    try:
        if suffix == ".csv":
            return [read_csv(path, name)]
        if suffix in (".xlsx", ".xlsm"):
            return read_xlsx(path, name)
    except OSError as exc:
        return [RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name, detail=str(exc.strerror))])]
    except safety.InputRefused as exc:
        return [RawFile(name, _empty_rows(), [exc.problem])]
    except UnicodeDecodeError:
        return [RawFile(name, _empty_rows(), [Problem("E_FILE_ENCODING", file=name)])]
    except Exception as exc:  # read_file never raises: any other failure (csv.Error, a broken sheet) is reported
        return [RawFile(name, _empty_rows(), [Problem("E_FILE_UNREADABLE", file=name, detail=type(exc).__name__)])]
    return [RawFile(name, _empty_rows(), [Problem("E_FILE_TYPE", file=name, found=suffix or path.name)])]


def submission_files(root: Path) -> list[Path]:
    """Files under <data>/submissions, sorted; hidden files and Office lock files (~$...) are not submissions."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))

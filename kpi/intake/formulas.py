"""Formulas in a unit's workbook. The kit runs none: it reads the value Excel saved with each formula. A formula that
takes its number from outside the workbook (a link to another file, DDE, a web or add-in function) is refused
whatever value it shows, since that number is not one the officer typed; a formula within the workbook is read at
its saved value and noted once per file; one saved without a value reads as blank and is named."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from kpi.core.problems import Problem

_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")  # a cell's <f> element, with or without a namespace prefix
_STRING = re.compile(r'"(?:[^"]|"")*"')  # a text constant inside a formula: "[1]" there is text, not a link
_EXTERNAL = re.compile(
    r"'[^']*\[[^\]']*\][^']*'!"  # '[book.xlsx]Sheet 1'!A1, 'C:\dir\[book.xlsx]Sheet'!A1
    r"|\[[^\]]*\][A-Za-z0-9_.]*!"  # [1]Sheet1!A1, [book.xlsx]Sheet1!A1, [1]!Name
    r"|\|"  # DDE: cmd|'/c calc'!A1, Excel|Sheet1!R1C1 (a pipe is no operator of Excel's)
    r"|\b(?:WEBSERVICE|FILTERXML|RTD|CALL|REGISTER|REGISTER\.ID|DDE|IMPORTDATA|IMPORTXML|IMPORTHTML|IMPORTRANGE"
    r"|IMPORTFEED)\s*\(", re.IGNORECASE)


def refers_outside(formula: str, external_names: frozenset[str] = frozenset()) -> bool:
    """Whether a formula takes a value from outside its workbook: a link to another file, DDE, a function that
    fetches from the web or an add-in, or a defined name that is such a link."""
    text = _STRING.sub('""', formula)
    if _EXTERNAL.search(text):
        return True
    return bool(external_names) and any(w.upper() in external_names for w in re.findall(r"[A-Za-z_][\w.]*", text))


def _opened(source: Path | bytes) -> Path | io.BytesIO:
    """A workbook as zipfile and openpyxl take it: its path, or the bytes the intake read (kpi.core.safety)."""
    return io.BytesIO(source) if isinstance(source, bytes) else source


def has_formulas(source: Path | bytes) -> bool:
    """Whether any worksheet of the .xlsx (a path, or its bytes) holds a formula (its XML read in pieces, never
    whole); True when the file cannot be looked into, so that the full reading decides."""
    import zipfile

    try:
        with zipfile.ZipFile(_opened(source)) as z:
            for member in z.namelist():
                if not (member.startswith("xl/worksheets/") and member.endswith(".xml")):
                    continue
                with z.open(member) as fh:
                    tail = b""
                    while chunk := fh.read(1 << 20):
                        if _FORMULA.search(tail + chunk):
                            return True
                        tail = chunk[-16:]
    except Exception:  # a broken zip: let openpyxl's reading say what it finds
        return True
    return False


@dataclass
class SheetFormulas:
    """A sheet's formula cells, by (Excel row, column letter): those that refer outside the workbook and the
    others."""

    outside: dict[tuple[int, str], str] = field(default_factory=dict)
    inside: dict[tuple[int, str], str] = field(default_factory=dict)


def _text(value: object) -> str | None:
    value = getattr(value, "text", value)  # an array formula keeps its text in .text
    return value if isinstance(value, str) and value.startswith("=") else None


def read_formulas(source: Path | bytes, sheets: list[str]) -> dict[str, SheetFormulas]:
    """The formula cells of the named sheets (the workbook's bytes parsed once more, for its formulas; nothing when
    they hold none or cannot be parsed again: the values were read already)."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not sheets or not has_formulas(source):
        return {}
    try:
        book = openpyxl.load_workbook(_opened(source), read_only=True, data_only=False)
    except Exception:
        return {}
    out = {}
    try:
        names = frozenset(n.upper() for n, d in book.defined_names.items()
                          if refers_outside("=" + str(d.attr_text or "")))
        for sheet in sheets:
            found = SheetFormulas()
            for row in book[sheet].iter_rows(min_row=1):
                for c in row:
                    text = _text(c.value) if hasattr(c, "column") else None
                    if text:
                        place = (c.row, get_column_letter(c.column))
                        (found.outside if refers_outside(text, names) else found.inside)[place] = text
            out[sheet] = found
    except Exception:  # a sheet's XML broken in a way the value reading survived: the values stand as read
        return {}
    finally:
        book.close()
    return out


def _shown(text: str, limit: int = 80) -> str:
    text = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cached(values: list[list[object]], row: int, column: str) -> object:
    from openpyxl.utils import column_index_from_string

    c = column_index_from_string(column)
    return values[row - 1][c - 1] if row <= len(values) and c <= len(values[row - 1]) else None


def outside_problems(name: str, sheet: str, found: SheetFormulas, values: list[list[object]]) -> dict:
    """(Excel row, column letter) -> E_FORMULA_EXTERNAL, for each cell whose formula refers outside the workbook."""
    out = {}
    for (row, column), text in sorted(found.outside.items()):
        cached = _cached(values, row, column)
        out[(row, column)] = Problem("E_FORMULA_EXTERNAL", file=name, sheet=sheet, row=row, column=column,
                                     found=_shown(text), expected="(trống)" if cached is None else str(cached))
    return out


def inside_problems(name: str, sheet: str, found: SheetFormulas, values: list[list[object]],
                    read: set[tuple[int, str]]) -> list[Problem]:
    """A formula within the workbook: saved without its value it reads as blank (W_FORMULA_NO_VALUE, cell by cell,
    where the cell would have been read had it been typed); read at its saved value, it is noted once for the
    file (W_FORMULA_CACHED, at its first cell)."""
    blank = [(r, c) for (r, c) in sorted(found.inside) if _cached(values, r, c) is None and r > 1]
    used = [(r, c) for (r, c) in sorted(found.inside) if (r, c) in read]
    out = [Problem("W_FORMULA_NO_VALUE", file=name, sheet=sheet, row=r, column=c) for r, c in blank]
    if used:
        r, c = used[0]
        out.append(Problem("W_FORMULA_CACHED", file=name, sheet=sheet, row=r, column=c, found=str(len(used)),
                           detail=f"ô {c}{r}: {_shown(found.inside[(r, c)])}"))
    return out

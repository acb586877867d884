"""Hostile-input guards: path and parameter checks, size and shape bounds, spreadsheet-safe text, fixed xlsx bytes.

Every bound is an environment variable read at call time, so an analyst (or a test) can move it without code:

    KPI_MAX_FILE_MB      largest submission file on disk (CSV or XLSX), default 20 MB
    KPI_MAX_UNZIPPED_MB  largest total uncompressed size an XLSX declares (zip-bomb guard), default 50 MB
    KPI_MAX_ROWS         most rows read from one CSV or sheet, default 20 000 (a month of a commune is ~800)
    KPI_MAX_COLUMNS      most columns read from one row, default 200 (wider cells are ignored)

(and for the province's inbox of data packages, kpi.core.bounded: KPI_MAX_PACKAGE_MEMBERS, KPI_MAX_ZIP_RATIO)
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from kpi.core.errors import InputRefused, ParameterError, PlanError
from kpi.core.files import write_atomic
from kpi.core.problems import Problem

if TYPE_CHECKING:  # imported where a frame is handled: the --out check of `kpi run` handles none
    import pandas as pd

DEFAULTS = {"KPI_MAX_FILE_MB": 20, "KPI_MAX_UNZIPPED_MB": 50, "KPI_MAX_ROWS": 20_000, "KPI_MAX_COLUMNS": 200,
            "KPI_MAX_PACKAGE_MEMBERS": 500, "KPI_MAX_ZIP_RATIO": 100}

# Characters a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters no submission file name needs: control characters (C0, DEL, C1) and those Windows forbids.
_ODD_NAME = re.compile(r'[\x00-\x1f\x7f-\x9f<>:"|?*\\]')
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Submission files that are zip containers: their declared unpacked size is bounded too.
ZIP_KINDS = (".xlsx", ".xlsm", ".ods")
# Fixed time stamped into xlsx files (zip entries and document properties): same inputs, same bytes.
FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)


def limit(name: str) -> int:
    """A bound from its environment variable, or its default when unset or not a positive whole number."""
    raw = os.environ.get(name, "")
    try:
        value = int(float(raw))
    except ValueError:
        return DEFAULTS[name]
    return value if value > 0 else DEFAULTS[name]


# --- text -------------------------------------------------------------------------------------------------------

def display_name(text: str) -> str:
    """A name safe to print in a terminal or table: control characters become U+FFFD (never raw escapes)."""
    return _CONTROL.sub("\ufffd", unicodedata.normalize("NFC", str(text)))


def spreadsheet_text(value: object) -> object:
    """Text a spreadsheet will show as text: a string starting with = + - @ tab or CR gets a leading
    apostrophe (OWASP), so Excel/LibreOffice never evaluate it as a formula. Other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def spreadsheet_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with spreadsheet_text applied to every text (object) column."""
    import pandas as pd

    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col].dtype):
            out[col] = out[col].map(spreadsheet_text)
    return out


def set_text_cell(cell, value: object) -> None:
    """Write a value into an openpyxl cell; text is always stored as a string, never parsed as a formula
    (openpyxl otherwise turns any string starting with '=' into a formula), and text starting with
    = + - @ tab or CR gets Excel's quote prefix so that editing the cell does not turn it into one."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True


def texts_as_text(book) -> None:
    """Every text cell of a workbook stored as text (the kit writes no formulas into cells)."""
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    set_text_cell(cell, cell.value)


# --- xlsx determinism ---------------------------------------------------------------------------------------------

def fix_workbook_properties(book, when: dt.datetime = FIXED_TIME) -> None:
    """Set the document properties that openpyxl would otherwise stamp with the current time."""
    book.properties.created = when
    book.properties.modified = when
    book.properties.lastModifiedBy = None


def deterministic_xlsx(data: bytes, when: dt.datetime = FIXED_TIME) -> bytes:
    """Rewrite saved xlsx bytes with fixed zip timestamps and fixed created/modified properties, so the same
    workbook always gives the same bytes (openpyxl stamps both with 'now')."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in sorted(src.infolist(), key=lambda i: i.filename):
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            out = zipfile.ZipInfo(info.filename, date_time=when.timetuple()[:6])
            out.compress_type = zipfile.ZIP_DEFLATED
            out.external_attr = 0o644 << 16
            dst.writestr(out, body)
    return buf.getvalue()


def save_workbook(book, target: Path, when: dt.datetime = FIXED_TIME) -> Path:
    """Save an openpyxl workbook atomically, text never as a formula, with fixed properties and timestamps
    (byte-identical for the same content)."""

    texts_as_text(book)
    fix_workbook_properties(book, when)
    buf = io.BytesIO()
    book.save(buf)
    write_atomic(Path(target), deterministic_xlsx(buf.getvalue(), when))
    return Path(target)


def stable_cell_ids(nb) -> None:
    """Number the notebook's cells (cell-0, cell-1, ...): papermill gives its injected-parameters cell a random
    id, which nbconvert writes into the HTML, so two runs of the same month would differ."""
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"


# --- submission files ----------------------------------------------------------------------------------------------

def check_submission_file(path: Path, root: Path, name: str) -> Problem | None:
    """Refuse, without opening it, a submission file whose name has control or odd characters, that leads
    (through a symlink) outside the submissions folder, or that is larger than KPI_MAX_FILE_MB: what the intake
    says of a file of a type it does not read. None otherwise. (The files it reads go through read_submission,
    which checks the same and bounds a zip container's unpacked size.)"""
    refused, real = _placed(path, root, name)
    return refused or _too_large(real.stat().st_size, display_name(name))


def read_submission(path: Path, root: Path, name: str) -> bytes | Problem:
    """A submission file's bytes, read once (the intake hashes them and hands the same bytes to every reader), or
    the problem that refuses it, with check_submission_file's rules: the name and the place are checked before the
    file is opened, its size on the opened file before a byte is read, and never more than KPI_MAX_FILE_MB is
    read (a file growing meanwhile is refused too); a zip container's declared unpacked size on those bytes.
    OSError (a file that cannot be opened) is the caller's to report."""
    refused, real = _placed(path, root, name)
    if refused:
        return refused
    shown, most = display_name(name), limit("KPI_MAX_FILE_MB") * 1024 * 1024
    with open(real, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        refused = _too_large(size, shown)
        if refused:
            return refused
        data = fh.read(size + 1)  # one byte more tells a file that grew since (read() sizes its buffer to this)
        if len(data) > size:  # still being written: the rest in pieces, never more than the bound
            grown = bytearray(data)
            while len(grown) <= most and (piece := fh.read(min(1 << 20, most + 1 - len(grown)))):
                grown += piece
            data = bytes(grown)
    if len(data) > most:  # it grew past the bound while being read: its size is only known to be above it
        return _too_large(len(data), shown, partly=True)
    if path.suffix.lower() in ZIP_KINDS:
        return check_zip(io.BytesIO(data), shown) or data
    return data


def _placed(path: Path, root: Path, name: str) -> tuple[Problem | None, Path]:
    """(a problem, or None and the file's real path): a name without odd characters, a regular file inside root."""
    shown = display_name(name)
    if _ODD_NAME.search(name):
        return Problem("E_FILE_NAME_INVALID", file=shown), path
    try:
        real = path.resolve(strict=True)
        inside = real.is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # a dangling or looping link
        return Problem("E_FILE_OUTSIDE_DATA", file=shown), path
    if not inside or not real.is_file():
        return Problem("E_FILE_OUTSIDE_DATA", file=shown), path
    return None, real


def _too_large(size: int, shown: str, partly: bool = False) -> Problem | None:
    """E_FILE_TOO_LARGE for a file of `size` bytes above KPI_MAX_FILE_MB (`partly`: only its first `size` bytes
    were read, so it is said to be more than the bound), else None."""
    max_mb = limit("KPI_MAX_FILE_MB")
    if size > max_mb * 1024 * 1024:
        found = f"hơn {max_mb} MB" if partly else f"{size / 1024 / 1024:.0f} MB"
        return Problem("E_FILE_TOO_LARGE", file=shown, found=found, expected=f"{max_mb} MB")
    return None


def check_zip(source: Path | io.BytesIO, name: str) -> Problem | None:
    """Sum the uncompressed sizes the zip declares (Python's zipfile never yields more than declared, so this
    bounds what openpyxl can inflate) and refuse above KPI_MAX_UNZIPPED_MB. A file that is not a zip is left
    to openpyxl, which reports it unreadable. `source`: the file, or its bytes read already."""
    max_mb = limit("KPI_MAX_UNZIPPED_MB")
    try:
        with zipfile.ZipFile(source) as z:
            total = sum(max(i.file_size, 0) for i in z.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if total > max_mb * 1024 * 1024:
        return Problem("E_FILE_TOO_LARGE", file=name, found=f"{total / 1024 / 1024:.0f} MB khi giải nén",
                       expected=f"{max_mb} MB")
    return None


def bounded_rows(rows: Iterable, name: str, sheet: str = "") -> list[list[object]]:
    """Materialise at most KPI_MAX_ROWS rows of at most KPI_MAX_COLUMNS cells; more rows refuse the sheet
    (InputRefused E_SHEET_TOO_LARGE) instead of filling memory. Gaps openpyxl fills with empty rows count."""
    max_rows, max_cols = limit("KPI_MAX_ROWS"), limit("KPI_MAX_COLUMNS")
    table: list[list[object]] = []
    for row in rows:
        if len(table) >= max_rows:
            raise InputRefused(Problem("E_SHEET_TOO_LARGE", file=display_name(name), sheet=display_name(sheet),
                                       found=f"hơn {max_rows}", expected=str(max_rows)))
        cells = list(row[:max_cols]) if isinstance(row, (list, tuple)) else list(row)[:max_cols]
        while cells and cells[-1] is None:  # trailing empty cells carry nothing; an empty row costs no memory
            cells.pop()
        table.append(cells)
    return table


def to_timestamp(value: object) -> pd.Timestamp | None:
    """A date cell as a day Timestamp; None when the kit's nanosecond dates cannot hold it (Excel allows years
    1900..9999, datetime64[ns] only 1677..2262)."""
    import pandas as pd

    try:
        ts = pd.Timestamp(value).normalize()
    except (ValueError, OverflowError, TypeError):
        return None
    return ts if pd.Timestamp.min <= ts <= pd.Timestamp.max else None


# --- the plan -----------------------------------------------------------------------------------------------------

MAX_PLAN_BYTES = 2 * 1024 * 1024  # the real plan is ~40 KB
MAX_PLAN_NODES = 200_000  # YAML nodes once aliases are expanded; the real plan has a few thousand
MAX_PLAN_DEPTH = 40  # nesting levels; the real plan has 4


def check_plan_text(text: str, source: str) -> None:
    """Refuse, before YAML builds Python objects, a plan copy larger than 2 MB, nested deeper than 40 levels, or
    whose aliases (*name) expand to more than 200 000 nodes or contain themselves: nested aliases grow
    exponentially (a 'billion laughs' file would hang the loader). Aliases for repeated text, as the real plan
    uses them, stay allowed."""
    import yaml

    if len(text.encode("utf-8", errors="replace")) > MAX_PLAN_BYTES:
        raise PlanError(f"{source}: tệp kế hoạch lớn hơn 2 MB; kế hoạch thật chỉ vài chục KB, hãy kiểm tra lại tệp.")
    sizes: dict[int, int] = {}

    def expanded(node, depth: int = 0) -> int:  # memoised on the composed graph: linear, whatever the aliases
        if depth > MAX_PLAN_DEPTH:
            raise RecursionError
        if id(node) in sizes:
            if sizes[id(node)] < 0:  # met again while being counted: an alias that contains itself
                raise PlanError(f"{source}: tệp kế hoạch có bí danh YAML tự chứa chính nó (*tên bên trong &tên); "
                                f"hãy ghi thẳng giá trị.")
            return sizes[id(node)]
        sizes[id(node)] = -1
        if isinstance(node, yaml.SequenceNode):
            n = 1 + sum(expanded(c, depth + 1) for c in node.value)
        elif isinstance(node, yaml.MappingNode):
            n = 1 + sum(expanded(k, depth + 1) + expanded(v, depth + 1) for k, v in node.value)
        else:
            n = 1
        sizes[id(node)] = n
        return n

    try:
        # libyaml's composer where PyYAML has it: the same node graph (an alias is the anchored node itself)
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        total = expanded(root) if root is not None else 0
    except yaml.YAMLError:
        return  # the YAML parser reports it, with its line
    except RecursionError:
        raise PlanError(f"{source}: tệp kế hoạch lồng nhau quá sâu; hãy kiểm tra lại cấu trúc tệp.") from None
    if total > MAX_PLAN_NODES:
        raise PlanError(f"{source}: các bí danh YAML (*tên) trong tệp kế hoạch mở rộng thành {total} phần tử "
                        f"(giới hạn {MAX_PLAN_NODES}); hãy ghi thẳng giá trị thay cho bí danh lồng nhau.")


# --- command-line and notebook parameters ----------------------------------------------------------------------

def _refuse(message: str):
    raise ParameterError(message)


def check_text_parameter(label: str, value: object) -> None:
    """Refuse a parameter holding control characters (newlines, escapes, NUL)."""
    if value is not None and _CONTROL.search(str(value)):
        _refuse(f"Tham số {label} có ký tự điều khiển không hợp lệ: {display_name(value)!r}. "
                f"Chỉ dùng chữ, số và các dấu thông thường.")


def check_path_parameter(label: str, value: object) -> None:
    """A path parameter: no control characters, no '..' component (absolute paths are allowed: the user
    names them)."""
    if value in (None, ""):
        return
    check_text_parameter(label, value)
    if ".." in PurePath(str(value)).parts:
        _refuse(f"Đường dẫn {label} '{display_name(value)}' có thành phần '..': hãy ghi đường dẫn trực tiếp, "
                f"không đi lên thư mục cha.")


def check_out_dir(out: str | Path, data_dir: str | Path) -> Path:
    """The --out rule: an absolute or relative path without '..' or control characters, not inside the data
    folder (inputs are read-only) and not an existing file. Checked before anything is written."""
    check_path_parameter("--out", out)
    out_p, data_p = Path(out).resolve(), Path(data_dir).resolve()
    if out_p == data_p or out_p.is_relative_to(data_p):
        _refuse(f"Thư mục kết quả --out '{display_name(out)}' nằm trong thư mục dữ liệu '{display_name(data_dir)}': "
                f"số liệu gửi lên chỉ được đọc, hãy chọn thư mục khác (ví dụ outputs/).")
    if out_p.exists() and not out_p.is_dir():
        _refuse(f"--out '{display_name(out)}' là một tệp, không phải thư mục.")
    return out_p


def check_notebook_parameters(period: object, unit: object, data_dir: object, plan_path: object,
                              output_dir: object, lang: object, made_on: object) -> None:
    """What report.build re-checks for papermill callers (period, unit and lang against the plan are checked
    by report.check_parameters): text without control characters, paths without '..', made_on a real date."""
    for label, value in (("period", period), ("unit", unit), ("lang", lang)):
        if not isinstance(value, str):
            _refuse(f"Tham số {label} phải là chuỗi ký tự, không phải {type(value).__name__}.")
        check_text_parameter(label, value)
    for label, value in (("data_dir", data_dir), ("plan_path", plan_path), ("output_dir", output_dir)):
        check_path_parameter(label, value)
    if isinstance(made_on, str) and made_on:
        try:
            dt.date.fromisoformat(made_on)
        except ValueError:
            _refuse(f"Ngày lập báo cáo made_on '{display_name(made_on)}' không hợp lệ: ghi dạng NNNN-TT-NN, "
                    f"ví dụ 2026-12-08.")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", made_on):
            _refuse(f"Ngày lập báo cáo made_on '{display_name(made_on)}' không hợp lệ: ghi dạng NNNN-TT-NN.")

"""Where each value of a filled template belongs. A row's place is known twice, by its hidden key (column A) and by
the village or element name an officer sees (column B); a column's by its hidden code (row 6) and its header
(row 7). The visible name decides: a value is never read for another village or element than the one its row and
column show. Where the two disagree (a sort of part of the table, a moved block) the names are read and the sheet
says so once; a row or column whose name identifies nothing is refused, with the likely cause and the fix."""

from __future__ import annotations

from dataclasses import dataclass, field

from openpyxl.utils import get_column_letter

from kpi.core.problems import Problem
from kpi.plan.model import Plan, fold, village_key


@dataclass
class Placement:
    """0-based table rows and columns -> what they are read as (plan codes), and the problems of placing them."""

    village_rows: dict[int, str] = field(default_factory=dict)
    columns: dict[int, str] = field(default_factory=dict)  # the village block's element columns
    commune_rows: dict[int, str] = field(default_factory=dict)
    value_col: int = 2  # the commune block's value column
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Names:
    """What the plan's names identify (empty without a plan: only the template's keys place cells then)."""

    villages: dict[str, str]  # village_key(name or code) -> village code
    village_names: dict[str, str]  # village code -> name
    row_elements: dict[str, str]  # fold(label or code) -> commune-level element code
    column_elements: dict[str, str]  # fold(label or code) -> village-level element code
    labels: dict[str, str]  # element code -> label
    judge: bool  # a plan is known: visible names can be read and compared

    @classmethod
    def of(cls, plan: Plan | None) -> _Names:
        if plan is None:
            return cls({}, {}, {}, {}, {}, False)

        def elements(level: str) -> dict[str, str]:
            return {**{fold(e.code): e.code for e in plan.elements if e.level == level},
                    **{fold(e.label): e.code for e in plan.elements if e.level == level}}

        villages = {**{village_key(v.code): v.code for v in plan.villages},
                    **{village_key(v.name): v.code for v in plan.villages}}
        return cls(villages, {v.code: v.name for v in plan.villages}, elements("commune"), elements("village"),
                   {e.code: e.label for e in plan.elements}, True)


def _text(v: object) -> str:
    return v.strip() if isinstance(v, str) else ""


def _cell(row: list[object], j: int) -> object:
    return row[j] if 0 <= j < len(row) else None


def number_like(value: object) -> bool:
    """A cell an officer typed a figure into: a number, or text made of digits, dots, commas and spaces."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return value == value  # not NaN
    if isinstance(value, str):
        text = value.strip().replace(".", "").replace(",", "").replace(" ", "").replace("\u00a0", "")
        return text.isdigit()
    return False


@dataclass
class _Row:
    i: int  # 0-based
    key_kind: str  # 'village', 'element' or '' (no key: a row an officer inserted)
    key: str  # the code in the key
    label: str  # the visible name (column B)
    by_label: tuple[str, str] | None  # ('village' | 'element', code) the visible name identifies


def _rows(table: list[list[object]], start: int, stop: int, label_col: int, names: _Names) -> list[_Row]:
    out = []
    for i in range(start, stop):
        r = table[i]
        key = _text(_cell(r, 0))
        kind, code = "", ""
        if key.startswith(("village=", "element=")):
            kind, code = key.split("=", 1)
        label = _text(_cell(r, label_col))
        by_label = None
        if label and label_col != 0:
            if village_key(label) in names.villages:
                by_label = ("village", names.villages[village_key(label)])
            elif fold(label) in names.row_elements:
                by_label = ("element", names.row_elements[fold(label)])
        out.append(_Row(i, kind, code, label, by_label))
    return out


def _swapped(rows: list[_Row], kind: str) -> list[_Row]:
    """Keyed rows of `kind` whose visible name identifies another village or element than their key."""
    return [r for r in rows if r.key_kind == kind and r.by_label and r.by_label != (kind, r.key)]


def _columns(table: list[list[object]], codes_i: int | None, header_i: int | None, label_col: int,
             names: _Names) -> tuple[dict[int, str], list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    """The village block's columns: placed (column -> element), moved ones (column, code, header's element) and
    unplaced ones (column, code or '', header text)."""
    codes = table[codes_i] if codes_i is not None else []
    header = table[header_i] if header_i is not None and header_i < len(table) else []
    seen = []
    for j in range(1, max(len(codes), len(header))):  # column A holds the keys
        if j == label_col:
            continue
        code, head = _text(_cell(codes, j)), _text(_cell(header, j))
        if code.startswith("ref:") or fold(head).startswith("tham khao"):
            continue  # another unit's figure, shown for reference: never data of this file
        by_head = names.column_elements.get(fold(head)) if head and names.judge else None
        seen.append((j, code, head, by_head))
    moved = [(j, code, by_head) for j, code, head, by_head in seen if code and by_head and by_head != code]
    placed, unplaced = {}, []
    for j, code, head, by_head in seen:
        if by_head:
            placed[j] = by_head
        elif code and (not names.judge or (not head and not moved)):
            placed[j] = code
        else:
            unplaced.append((j, code, head))
    return placed, moved, unplaced


def place(table: list[list[object]], keys: dict[str, int], value_col: int, plan: Plan | None) -> Placement:
    """Place every row and column of a template's data blocks (see the module's docstring)."""
    names = _Names.of(plan)
    codes_i = keys.get("codes")
    header_i = keys.get("header", codes_i + 1 if codes_i is not None else None)
    label_col = 1
    if header_i is not None and header_i < len(table):
        label_col = next((j for j, v in enumerate(table[header_i]) if fold(_text(v)) == "thon"), 1)
    keyed = [i for k, i in keys.items() if k.startswith(("village=", "element="))]
    start = header_i + 1 if header_i is not None else min(keyed, default=len(table))
    stop = keys.get("notes", len(table))
    rows = _rows(table, start, stop, label_col, names)
    columns, moved, unplaced_cols = _columns(table, codes_i, header_i, label_col, names)
    out = Placement(columns=columns, value_col=value_col)
    # A name on a row keyed otherwise (or on a row an officer inserted) means names and keys no longer go together
    # in that block: a row whose name was left blank cannot then be placed by its key.
    doubt = {kind: names.judge and any(r.by_label and r.by_label != (r.key_kind, r.key)
                                       and kind in (r.key_kind, r.by_label[0]) for r in rows)
             for kind in ("village", "element")}
    data_cols = sorted(set(columns) | {j for j, _, _ in unplaced_cols})
    unplaced_rows = []
    for r in rows:
        if r.by_label:
            kind, code = r.by_label
        elif r.key_kind and (not names.judge or (not r.label and not doubt[r.key_kind])):
            kind, code = r.key_kind, r.key
        else:
            unplaced_rows.append(r)
            continue
        (out.village_rows if kind == "village" else out.commune_rows)[r.i] = code
    out.problems += _reorder_notes(rows, doubt, label_col, names)
    out.problems += _moved_columns_note(moved, header_i, names)
    for r in unplaced_rows:
        out.problems += _unplaced_row(table, r, data_cols, value_col, label_col, doubt)
    village_rows = sorted(out.village_rows) + [r.i for r in unplaced_rows if r.key_kind != "element"]
    for j, code, head in unplaced_cols:
        out.problems += _unplaced_column(table, j, code, head, sorted(village_rows), header_i, names)
    return out


def _reorder_notes(rows: list[_Row], doubt: dict[str, bool], label_col: int, names: _Names) -> list[Problem]:
    """Once per block whose visible names were moved against its keys: the values are read by the names."""
    out = []
    for kind, block, name in (("village", "Các dòng thôn", "tên thôn"), ("element", "Các dòng số liệu cấp xã", "tên số liệu")):
        swapped = _swapped(rows, kind)
        if not (doubt[kind] and swapped):
            continue
        first = swapped[0]
        was = names.village_names.get(first.key, first.key) if kind == "village" else names.labels.get(first.key, first.key)
        out.append(Problem("W_ROWS_REORDERED", row=first.i + 1, column=get_column_letter(label_col + 1),
                           found=block, expected=f"{name} ở cột {get_column_letter(label_col + 1)}",
                           detail=f"{len(swapped)} dòng; ví dụ dòng {first.i + 1} ghi '{first.label}', mẫu gốc "
                                  f"đặt '{was}' ở dòng này"))
    return out


def _moved_columns_note(moved: list[tuple[int, str, str]], header_i: int | None, names: _Names) -> list[Problem]:
    if not moved:
        return []
    j, code, by_head = moved[0]
    return [Problem("W_COLUMNS_MOVED", row=(header_i or 0) + 1, column=get_column_letter(j + 1),
                    found=str((header_i or 0) + 1),
                    detail=f"{len(moved)} cột; ví dụ cột {get_column_letter(j + 1)} có tiêu đề "
                           f"'{names.labels.get(by_head, by_head)}', mẫu gốc đặt '{names.labels.get(code, code)}' ở cột này")]


def _unplaced_row(table: list[list[object]], r: _Row, data_cols: list[int], value_col: int, label_col: int,
                  doubt: dict[str, bool]) -> list[Problem]:
    """A row whose values cannot be placed: an error for a row of the template (its name was changed, or erased
    after the rows were moved), a warning for a row an officer inserted (a subtotal: the kit adds up villages)."""
    row = table[r.i]
    cols = data_cols if r.key_kind == "village" else sorted({value_col, *data_cols})
    figures = [(j, _cell(row, j)) for j in cols if number_like(_cell(row, j))]
    if not figures:
        return []
    j, value = figures[0]
    if not r.key_kind:
        return [Problem("W_ROW_NOT_IN_TEMPLATE", row=r.i + 1, column=get_column_letter(j + 1), found=_shown(value))]
    why = (f"cột {get_column_letter(label_col + 1)} ghi '{r.label}', không phải tên thôn hay số liệu nào của mẫu"
           if r.label else f"cột {get_column_letter(label_col + 1)} để trống, mà tên các dòng không còn khớp "
                           "khóa ẩn của mẫu (dòng đã bị sắp xếp, di chuyển hay chèn thêm) nên khóa của dòng này "
                           "không còn đáng tin")
    return [Problem("E_ROW_UNPLACED", row=r.i + 1, column=get_column_letter(label_col + 1), found=r.label,
                    expected=str(len(figures)), detail=why)]


def _unplaced_column(table: list[list[object]], j: int, code: str, head: str, rows: list[int],
                     header_i: int | None, names: _Names) -> list[Problem]:
    figures = [i for i in rows if number_like(_cell(table[i], j))]
    if not figures:
        return []
    letter = get_column_letter(j + 1)
    if not code:
        return [Problem("W_COLUMN_NOT_IN_TEMPLATE", row=figures[0] + 1, column=letter, found=head or "(trống)",
                        expected=str(len(figures)))]
    why = (f"tiêu đề '{head}' không phải tên số liệu nào của mẫu" if head
           else "tiêu đề để trống, mà các cột đã bị di chuyển nên mã ẩn của cột không còn đáng tin")
    return [Problem("E_COLUMN_UNPLACED", row=(header_i or 0) + 1, column=letter, found=head,
                    expected=str(len(figures)), detail=why)]


def _shown(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()

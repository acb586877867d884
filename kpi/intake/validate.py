"""Validate raw submission rows against the plan: every row is accepted or rejected with its reasons."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kpi.core import paths, periods, safety, schema
from kpi.core.problems import ERROR, Problem, problems_frame
from kpi.intake.load import EXTRA_COLUMNS, PLACE_COLUMNS, RAW_COLUMNS, fold, folder_period, read_file, submission_files
from kpi.plan import Plan, village_key


@dataclass
class Submissions:
    """The outcome of reading a data folder: accepted long data, rejected rows, problems, per-file accounting."""

    data: pd.DataFrame  # schema.LONG
    rejected: pd.DataFrame  # raw rows with their place and first error code
    problems: list[Problem] = field(default_factory=list)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)  # file, rows_read, accepted, rejected
    received: pd.DataFrame = field(default_factory=pd.DataFrame)  # unit, period, submitted_on, file
    synthetic: bool = False  # the data folder's README says the data is synthetic
    file_periods: dict = field(default_factory=dict)  # file -> periods its folder and rows name; () for none

    def period_files(self, periods) -> set[str]:
        """The files of the periods given: those whose folder or rows name one of them, and those that name no
        period at all (a file that cannot be read counts for every period)."""
        wanted = {periods} if isinstance(periods, str) else set(periods)
        names = self.files["file"] if "file" in self.files else []
        return {f for f in names if not self.file_periods.get(f) or wanted & set(self.file_periods[f])}

    def problems_for(self, periods) -> list[Problem]:
        """The problems of the files of those periods (see period_files)."""
        names = self.period_files(periods)
        return [p for p in self.problems if p.file in names]

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def problem_table(self) -> pd.DataFrame:
        return problems_frame(self.problems)


# --- parsing text cells, vectorised -------------------------------------------------------------------

_THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+$")


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers as units write them. One rule (Vietnamese convention): '.' groups thousands when every group
    after it has three digits (1.234 = 1234, 1.234.567), otherwise '.' is a decimal point; ',' is always a
    decimal comma (18,5 = 18.5). Spaces are ignored. Cells Excel already stored as numbers are taken as
    they are. Anything else is NaN (reported as not a number)."""
    out = pd.to_numeric(values.where(values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))),
                        errors="coerce")
    text = values.where(values.map(lambda v: isinstance(v, str))).astype(object).str.replace(r"[\s\u00a0]", "", regex=True)
    text = text.where(~text.fillna("").str.match(_THOUSANDS), text.str.replace(".", "", regex=False))
    text = text.str.replace(",", ".", regex=False)
    parsed = pd.to_numeric(text.where(text.fillna("").str.fullmatch(r"-?\d+(\.\d+)?")), errors="coerce")
    return out.fillna(parsed).astype("float64")


def parse_periods(values: pd.Series) -> pd.Series:
    """YYYY-MM (also YYYY-M, MM/YYYY, a date in the month, an Excel date) -> 'YYYY-MM'; else NaN."""
    return periods.parse_month_cells(values)


_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_YEAR_FIRST = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?$")


def _date_from_text(text: str) -> pd.Timestamp | None:
    m = _DAY_FIRST.match(text)
    day, month, year = (m[1], m[2], m[3]) if m else (None, None, None)
    if not m and (m := _YEAR_FIRST.match(text)):
        year, month, day = m[1], m[2], m[3]
    if not m:
        return None
    try:
        return pd.Timestamp(int(year), int(month), int(day))
    except ValueError:  # 30/02/2026: not a real day
        return None


def parse_dates(values: pd.Series) -> pd.Series:
    """A report date as offices type it (DATE_FORMS: day first with / - or ., or ISO year first) or an Excel
    date -> Timestamp (day); else NaT. Day first is never read as month first: 05-01-2027 is 5 January."""
    def one(v: object):
        if hasattr(v, "year"):
            return safety.to_timestamp(v)
        return _date_from_text(v.strip()) if isinstance(v, str) else None
    return pd.to_datetime(values.map(one), errors="coerce").astype("datetime64[ns]")


def village_lookup(plan: Plan) -> dict[str, str]:
    """Folded spelling -> plan village name; 'thon 01' and 'thôn 1' both find 'Thôn 1'."""
    out = {}
    for v in plan.villages:
        out[fold(v.name)] = v.name
        out[village_key(v.name)] = v.name
        out[fold(v.code)] = v.name
    return out


def match_villages(values: pd.Series, plan: Plan) -> pd.Series:
    """Plan village name for each cell ('' for an empty cell); NaN where the plan knows no such village."""
    lookup = village_lookup(plan)
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    folded = text.map(village_key)  # the plan's villages are unique under the same key (kpi.plan)
    return folded.map(lambda f: "" if f == "" else lookup.get(f, np.nan))


# --- validation -----------------------------------------------------------------------------------------

def _cell(row: object, column: str, value_col: object, date_row: object, date_col: object) -> tuple[int, str]:
    """The real place of a logical cell: a template keeps each value in its own Excel column and the
    submission date in one cell for the whole sheet."""
    if column == "value" and isinstance(value_col, str) and value_col:
        return int(row), value_col
    if column == "submitted_on" and date_row is not None and not pd.isna(date_row):
        return int(date_row), str(date_col)
    return int(row), column


def _problems(rows: pd.DataFrame, mask: pd.Series, code: str, column: str, found: pd.Series | None = None,
              expected: str = "", detail: pd.Series | None = None) -> list[Problem]:
    if not mask.any():
        return []
    hit = rows[mask]
    found = (found if found is not None else pd.Series("", index=rows.index))[mask]
    detail = (detail if detail is not None else pd.Series("", index=rows.index))[mask]
    out = []
    for f, s, r, vc, dr, dc, fv, dv in zip(hit["file"], hit["sheet"], hit["row"], hit["value_col"], hit["date_row"],
                                           hit["date_col"], found, detail):
        row, col = _cell(r, column, vc, dr, dc)
        out.append(Problem(code, file=f, sheet=s or "", row=row, column=col, found=_fmt(fv), expected=expected,
                           detail=str(dv)))
    return out


def _unique(problems: list[Problem]) -> list[Problem]:
    """One problem per place and code: a template's single date cell is not reported once per value."""
    return list(dict.fromkeys(problems))


def _fmt(x: object) -> str:
    """A cell as a user reads it: whole numbers without '.0', other numbers with a decimal comma (12,5)."""
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    if isinstance(x, float) and np.isfinite(x):
        return repr(x).replace(".", ",")
    return "" if x is None else str(x)


LATE_LIMIT_DAYS = 365


def latest_date(periods: pd.Series, plan: Plan) -> pd.Series:
    """The latest believable submission date for each period: its due date (the 10th of the next month) plus
    LATE_LIMIT_DAYS. A later date is a typing error (2062 for 2026, a month and day swapped), not a late report.
    The check is against the plan's calendar, not today's clock, so the same files give the same answer on
    any day the report is re-run."""
    valid = periods.fillna("").astype(str).str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])")
    dues = {p: pd.Timestamp(plan.due_date(p)) for p in periods[valid].unique()}
    due = pd.to_datetime(periods.where(valid).map(dues))
    return due + pd.to_timedelta(LATE_LIMIT_DAYS, unit="D")


def check_rows(raw: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse and check each raw row; returns the parsed rows with a column `error` (first error code or '')."""
    rows = raw.copy()
    problems: list[Problem] = []
    elements = {e.code: e for e in plan.elements}
    cell_text = {c: rows[c].map(lambda v: "" if v is None else _fmt(v)) for c in RAW_COLUMNS}
    rows["period_p"] = parse_periods(rows["period"])
    for c in EXTRA_COLUMNS:
        if c not in rows.columns:
            rows[c] = None
    file_unit = rows["file_unit"].map(lambda v: v if isinstance(v, str) and v else "")
    units = {**{fold(u.name): u.code for u in plan.units}, **{fold(u.short): u.code for u in plan.units},
             **{u.code: u.code for u in plan.units}}
    unit_text = rows["unit"].map(lambda v: fold(v) if isinstance(v, str) else "" if v is None or pd.isna(v) else str(v))
    rows["unit_p"] = unit_text.map(lambda f: units.get(f, f))
    rows["unit_p"] = rows["unit_p"].where(rows["unit_p"] != "", file_unit)
    # An element is named by its code in any case, or by its Vietnamese label from the plan.
    codes = {**{fold(e.label): e.code for e in plan.elements}, **{e.code.lower(): e.code for e in plan.elements}}
    element_text = rows["element"].map(lambda v: str(v).strip() if v is not None and not pd.isna(v) else "")
    rows["element_p"] = element_text.map(lambda t: codes.get(t.lower(), codes.get(fold(t), t)))
    rows["village_p"] = match_villages(rows["village"], plan)
    rows["value_p"] = parse_numbers(rows["value"])
    rows["date_p"] = parse_dates(rows["submitted_on"])
    level = rows["element_p"].map(lambda c: elements[c].level if c in elements else None)
    owner = rows["element_p"].map(lambda c: elements[c].unit if c in elements else None)
    whole = rows["element_p"].map(lambda c: c in elements and not elements[c].decimals)
    vmax = rows["element_p"].map(lambda c: elements[c].max if c in elements and elements[c].max else np.inf)
    label = rows["element_p"].map(lambda c: elements[c].label if c in elements else c)  # as the template shows it
    year = str(plan.year)

    checks = [
        (rows["period_p"].isna(), "E_PERIOD_INVALID", "period", cell_text["period"], "", None),
        (rows["period_p"].notna() & ~rows["period_p"].fillna("").str.startswith(year + "-"),
         "E_PERIOD_OUTSIDE_PLAN", "period", rows["period_p"], year, None),
        (~rows["unit_p"].isin(plan.unit_codes), "E_UNIT_UNKNOWN", "unit", cell_text["unit"],
         ", ".join(plan.unit_codes), None),
        (~rows["element_p"].isin(elements), "E_ELEMENT_UNKNOWN", "element", cell_text["element"], "", None),
        ((file_unit != "") & owner.notna() & (owner != file_unit), "E_FILE_OTHER_UNIT", "element",
         label, None, None),
        ((file_unit == "") & rows["unit_p"].isin(plan.unit_codes) & owner.notna() & (owner != rows["unit_p"]),
         "E_ELEMENT_WRONG_UNIT", "element", label, None, rows["unit_p"]),
        ((file_unit != "") & rows["unit_p"].isin(plan.unit_codes) & (rows["unit_p"] != file_unit)
         & (owner == file_unit), "E_UNIT_NOT_FILE_UNIT", "unit", cell_text["unit"], None, None),
        (rows["village_p"].isna(), "E_VILLAGE_UNKNOWN", "village", cell_text["village"],
         ", ".join(plan.village_names), None),
        ((level == "village") & (rows["village_p"] == ""), "E_VILLAGE_REQUIRED", "village", None, "",
         label),
        ((level == "commune") & rows["village_p"].notna() & (rows["village_p"] != ""), "E_VILLAGE_NOT_EXPECTED",
         "village", cell_text["village"], "", label),
        (cell_text["value"].str.strip() == "", "E_VALUE_MISSING", "value", None, "", None),
        ((cell_text["value"].str.strip() != "") & rows["value_p"].isna(), "E_VALUE_NOT_NUMBER", "value",
         cell_text["value"], "", None),
        (rows["value_p"] < 0, "E_VALUE_NEGATIVE", "value", rows["value_p"].map(_fmt), "", None),
        ((rows["value_p"] >= 0) & whole & (rows["value_p"] % 1 != 0), "E_VALUE_NOT_WHOLE", "value",
         rows["value_p"].map(_fmt), "", label),
        ((rows["value_p"] >= 0) & (rows["value_p"] > vmax), "E_VALUE_OUT_OF_RANGE", "value",
         rows["value_p"].map(_fmt), None, None),
    ]
    rows["error"] = ""
    for mask, code, column, found, expected, detail in checks:
        mask = mask.fillna(False).astype(bool)
        if code == "E_ELEMENT_WRONG_UNIT":
            for p, (e_code, u_code) in zip(_problems(rows, mask, code, column, found, "", detail),
                                           zip(rows.loc[mask, "element_p"], rows.loc[mask, "unit_p"])):
                problems.append(Problem(p.code, p.file, p.sheet, p.row, p.column, p.found,
                                        plan.unit(elements[e_code].unit).name, plan.unit(u_code).name))
        elif code in ("E_FILE_OTHER_UNIT", "E_UNIT_NOT_FILE_UNIT"):
            names = {u.code: u.name for u in plan.units}
            problems += [Problem(p.code, p.file, p.sheet, p.row, p.column, p.found, names[fu], names.get(ow, ow))
                         for p, fu, ow in zip(_problems(rows, mask, code, column, found), file_unit[mask],
                                              owner[mask])]
        elif code == "E_VALUE_OUT_OF_RANGE":
            problems += [Problem(p.code, p.file, p.sheet, p.row, p.column, p.found, f"0–{_fmt(m)}", p.detail)
                         for p, m in zip(_problems(rows, mask, code, column, found), vmax[mask])]
        elif code in ("E_VALUE_NOT_WHOLE", "E_VALUE_NOT_NUMBER"):  # '1,234' or '1,234,567' in a count cell
            problems += [replace(p, hint=_thousands_hint(t))
                         for p, t in zip(_problems(rows, mask, code, column, found, expected, detail),
                                         cell_text["value"][mask])]
        else:
            problems += _problems(rows, mask, code, column, found, expected, detail)
        rows.loc[mask & (rows["error"] == ""), "error"] = code
    problems += _date_problems(rows, cell_text, plan)
    problems += _folder_mismatch(rows)
    return rows, problems


def run_day() -> dt.date:
    """The day of the run: today, or $KPI_TODAY (YYYY-MM-DD) to check files as on another day (a re-run of a
    past month, the tests)."""
    text = os.environ.get("KPI_TODAY", "")
    try:
        return dt.date.fromisoformat(text) if text else dt.date.today()
    except ValueError:
        return dt.date.today()


def _date_problems(rows: pd.DataFrame, cell_text: pd.DataFrame, plan: Plan) -> list[Problem]:
    """A report date decides timeliness only: a missing, unreadable or implausible one is a warning and the
    values are kept with the date unknown (NaT; the unit's state is 'ngày gửi không rõ'). A date after today
    is kept, with a warning."""
    typed = cell_text["submitted_on"].str.strip()
    date = rows["date_p"]
    starts = pd.to_datetime(rows["period_p"] + "-01", errors="coerce")
    latest = latest_date(rows["period_p"], plan)
    iso = date.dt.strftime("%d/%m/%Y")
    checks = [
        (typed == "", "W_DATE_MISSING", None, None),
        ((typed != "") & date.isna(), "W_DATE_INVALID", cell_text["submitted_on"], None),
        (date.notna() & (date < starts), "W_DATE_BEFORE_PERIOD", iso, rows["period_p"]),
        (date.notna() & (date > latest), "W_DATE_TOO_LATE", iso,
         rows["period_p"].astype(object) + " (muộn nhất " + latest.dt.strftime("%d/%m/%Y").astype(object) + ")"),
    ]
    problems, unknown = [], pd.Series(False, index=rows.index)
    for mask, code, found, detail in checks:
        mask = mask.fillna(False).astype(bool) & ~unknown
        problems += _problems(rows, mask, code, "submitted_on", found, "", detail)
        unknown |= mask
    rows.loc[unknown, "date_p"] = pd.NaT
    future = rows["date_p"].notna() & (rows["date_p"] > pd.Timestamp(run_day()))
    problems += _problems(rows, future, "W_DATE_FUTURE", "submitted_on", rows["date_p"].dt.strftime("%d/%m/%Y"))
    return _unique(problems)


_COMMA_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+$")


def _thousands_hint(text: str) -> str:
    """'1,234' in a count cell: the comma is most likely the English thousands separator, not a decimal comma."""
    t = re.sub(r"[\s\u00a0]", "", text or "")
    if not _COMMA_THOUSANDS.match(t):
        return ""
    return f"Dấu phẩy có thể là dấu phân cách hàng nghìn: gõ {t.replace(',', '')} (không có dấu phẩy)."


TEMPLATE_PERIOD_CELL = (3, "C")  # where kpi.intake.template writes the period (key 'period=...' in A3, shown in C3)


def folder_periods(files: pd.Series) -> pd.Series:
    """folder_period for each row's file, worked out once per file name."""
    return files.map({f: folder_period(f) for f in files.unique()})


def _folder_mismatch(rows: pd.DataFrame) -> list[Problem]:
    """A file in a period's folder whose rows (or template) name another period: the likely cause is last month's
    template reused for this month, and taking those rows would silently replace last month's accepted values
    as a correction. One error per file; every row naming another period is rejected (a template names one
    period, so all its rows are); rows of the folder's own period in a long file stay."""
    if rows.empty:
        return []
    folder = folder_periods(rows["file"])
    other = folder.notna() & rows["period_p"].notna() & (rows["period_p"] != folder)
    problems = []
    for name in rows.loc[other, "file"].unique():
        in_file = rows["file"] == name
        first = rows[in_file & other].iloc[0]
        periods = ", ".join(sorted(rows.loc[in_file & other, "period_p"].unique()))
        if first["date_row"] is not None and not pd.isna(first["date_row"]):  # a template: its period cell
            row, column = TEMPLATE_PERIOD_CELL
        else:
            row, column = int(first["row"]), "period"
        problems.append(Problem("E_PERIOD_FOLDER_MISMATCH", file=name, sheet=first["sheet"] or "", row=row,
                                column=column, found=periods, expected=folder[first.name],
                                detail=f"{int((in_file & other).sum())} dòng"))
        rows.loc[in_file & other & (rows["error"] == ""), "error"] = "E_PERIOD_FOLDER_MISMATCH"
    return problems


def _day(d: object) -> str:
    return "không rõ" if d is None or pd.isna(d) else f"{d:%d/%m/%Y}"


def _resolve_duplicates(ok: pd.DataFrame, plan: Plan | None = None) -> tuple[pd.Series, list[Problem]]:
    """The same cell (period, unit, village, element) sent more than once: the file sent later wins, by its
    report date (an unknown date sorts before every known one), then by its file name, then by row.
    A losing row of another file with another value is a correction (W_REVISED, listed with old and new value,
    both files and both dates); two values in the same file are an error (E_DUPLICATE: the officer must say which
    is right); the same value again is W_DUPLICATE_SAME. Returns the code for each losing row."""
    labels = {e.code: e.label for e in plan.elements} if plan is not None else {}
    order = ok.sort_values(["date_p", "file", "row"], kind="stable", na_position="first")
    key = ["period_p", "unit_p", "village_p", "element_p"]
    winner = order.groupby(key, sort=False).tail(1)
    losers = order[order.duplicated(key, keep="last")]
    codes = pd.Series("", index=ok.index, dtype=object)
    if losers.empty:
        return codes, []
    win = winner.set_index(key)
    problems = []
    for idx, row in losers.iterrows():
        w = win.loc[(row["period_p"], row["unit_p"], row["village_p"], row["element_p"])]
        later_date = pd.notna(w["date_p"]) and (pd.isna(row["date_p"]) or w["date_p"] > row["date_p"])
        column = _cell(row["row"], "value", row["value_col"], None, None)[1]
        if row["value_p"] != w["value_p"] and row["file"] != w["file"]:
            code = "W_REVISED"
            why = "có ngày báo cáo muộn hơn" if later_date else "cùng ngày báo cáo, tên tệp xếp sau"
            what = f"{labels.get(row['element_p'], row['element_p'])}, {row['village_p'] or 'cấp xã'}, kỳ {row['period_p']}"
            problems.append(Problem(
                code, file=w["file"], sheet=w["sheet"] or "", row=int(w["row"]),
                column=_cell(w["row"], "value", w["value_col"], None, None)[1], found=_fmt(w["value_p"]),
                expected=_fmt(row["value_p"]),
                detail=(f"{what}: giá trị cũ {_fmt(row['value_p'])} ở {row['file']} dòng {int(row['row'])} (ngày báo "
                        f"cáo {_day(row['date_p'])}) được thay bằng giá trị mới {_fmt(w['value_p'])} ở {w['file']} "
                        f"dòng {int(w['row'])} (ngày báo cáo {_day(w['date_p'])}); bản mới được dùng vì {why}")))
            codes[idx] = code
            continue
        why = ("có ngày báo cáo mới hơn" if later_date
               else "cùng ngày báo cáo, nằm sau theo thứ tự tệp và dòng")
        where = (f"{w['file']} dòng {int(w['row'])} (ngày báo cáo {_day(w['date_p'])}; được dùng vì {why} — "
                 "bản gửi sau là bản sửa)")
        if row["value_p"] == w["value_p"]:
            code = "W_DUPLICATE_SAME"
            problems.append(Problem(code, file=row["file"], sheet=row["sheet"] or "", row=int(row["row"]),
                                    column=column, found=_fmt(row["value_p"]), detail=where))
        else:
            code = "E_DUPLICATE"
            problems.append(Problem(code, file=row["file"], sheet=row["sheet"] or "", row=int(row["row"]),
                                    column=column, found=_fmt(row["value_p"]), expected=_fmt(w["value_p"]),
                                    detail=where))
        codes[idx] = code
    return codes, problems


def _numerator_above_denominator(ok: pd.DataFrame, plan: Plan) -> tuple[pd.Series, list[Problem]]:
    """A ratio's numerator above its denominator in the same village and month, across units too
    (VHXH's adult_digital_health against Công an's pop_adult): the numerator row is rejected."""
    if ok.empty:  # every row already rejected: merging empty frames of differing dtypes would raise
        return pd.Series("", index=ok.index, dtype=object), []
    pairs = pd.DataFrame([(i.id, i.numerator, i.denominator) for i in plan.indicators if i.denominator],
                         columns=["indicator", "num", "den"])
    cells = ok.reset_index()[["index", "period_p", "village_p", "element_p", "value_p", "file", "sheet", "row",
                              "value_col"]]
    m = (pairs.merge(cells, left_on="num", right_on="element_p")
         .merge(cells[["period_p", "village_p", "element_p", "value_p"]].rename(columns={"element_p": "den"}),
                on=["den", "period_p", "village_p"], suffixes=("", "_den")))
    bad = m[m["value_p"] > m["value_p_den"]].drop_duplicates("index")
    codes = pd.Series("", index=ok.index, dtype=object)
    codes[bad["index"].to_numpy()] = "E_NUMERATOR_ABOVE_DENOMINATOR"
    labels = {e.code: e.label for e in plan.elements}
    problems = [Problem("E_NUMERATOR_ABOVE_DENOMINATOR", file=r.file, sheet=r.sheet or "", row=int(r.row),
                        column=_cell(r.row, "value", r.value_col, None, None)[1], found=_fmt(r.value_p), expected=_fmt(r.value_p_den),
                        detail=(f"Chỉ tiêu {r.indicator}, {r.village_p or 'cấp xã'}, {r.period_p} ({labels[r.num]} / "
                                f"{labels[r.den]})"))
                for r in bad.itertuples()]
    return codes, problems


JUMP_Z = 3.5  # Iglewicz & Hoaglin's cut-off for the modified z-score
JUMP_MIN_MONTHS = 5  # a place needs at least 4 month-to-month changes before its history can judge one
JUMP_MIN_CHANGE = 10  # and a change must differ from its usual one by at least this many (people, files...)
JUMP_MIN_SHARE = 0.05  # and by at least 5 % of the previous month's level (small drift is not a jump)
STOCK_FALL_SHARE = 0.10  # a stock that loses more than 10 % of its previous month's level
STOCK_FALL_MIN = 5  # and at least 5 units (tiny commune counts such as 1 -> 0 are ordinary)


def change_warnings(data: pd.DataFrame, plan: Plan, columns: dict | None = None) -> list[Problem]:
    """Warnings on accepted data; they never reject a row.
    W_STOCK_FALL: a stock element falls from one month to the next by more than STOCK_FALL_SHARE of its level
    and by at least STOCK_FALL_MIN.
    W_JUMP: per place (village, or the commune) and element, the month-to-month changes d_t between
    consecutive months are scored with the modified z-score z = 0.6745 (d_t - median d) / MAD, where MAD is the
    median absolute deviation of that place's own changes (when MAD is 0, 1.2533 x the mean absolute deviation
    stands in); |z| > JUMP_Z with |d_t - median d| >= max(JUMP_MIN_CHANGE, JUMP_MIN_SHARE x previous value) is
    flagged, once the place has at least
    JUMP_MIN_MONTHS months. A row already flagged as a stock fall is not flagged again."""
    if data.empty:
        return []
    columns = columns or {}
    time = {e.code: e.time for e in plan.elements}
    labels = {e.code: e.label for e in plan.elements}
    d = data.assign(month=data["period"].str[5:7].astype(int)).sort_values(["element", "village", "month"])
    g = d.groupby(["element", "village"], sort=False)
    d["prev"] = g["value"].shift()
    consecutive = g["month"].diff() == 1
    d["change"] = (d["value"] - d["prev"]).where(consecutive)
    stock = d["element"].map(time) == "stock"
    fall = stock & (d["prev"] - d["value"] > np.maximum(STOCK_FALL_SHARE * d["prev"], STOCK_FALL_MIN - 1e-9)) \
        & consecutive
    gc = d.groupby(["element", "village"], sort=False)["change"]
    med = gc.transform("median")
    dev = (d["change"] - med).abs()
    mad = dev.groupby([d["element"], d["village"]], sort=False).transform("median")
    mean_ad = dev.groupby([d["element"], d["village"]], sort=False).transform("mean")
    z = (0.6745 * (d["change"] - med) / mad.where(mad > 0)).where(
        mad > 0, (d["change"] - med) / (1.2533 * mean_ad).where(mean_ad > 0))
    months = gc.transform("count") + 1
    jump = (z.abs() > JUMP_Z) & (dev >= np.maximum(JUMP_MIN_CHANGE, JUMP_MIN_SHARE * d["prev"].abs())) & (months >= JUMP_MIN_MONTHS) & ~fall
    out = []
    for r in d[fall].itertuples():
        share = (r.prev - r.value) / r.prev * 100 if r.prev else 0.0
        out.append(Problem("W_STOCK_FALL", file=r.file, sheet=r.sheet, row=int(r.row),
                           column=columns.get((r.file, r.sheet, r.row, r.element), "value"),
                           found=_fmt(r.value), expected=_fmt(r.prev),
                           detail=(f"{labels.get(r.element, r.element)}, {r.village or 'cấp xã'}, {r.period}: "
                                   f"giảm {share:.0f}%").replace(".", ",")))
    for r, m in zip(d[jump].itertuples(), med[jump]):
        out.append(Problem("W_JUMP", file=r.file, sheet=r.sheet, row=int(r.row),
                           column=columns.get((r.file, r.sheet, r.row, r.element), "value"), found=_fmt(r.value),
                           expected=_fmt(r.prev), detail=jump_text(labels.get(r.element, r.element), r.village,
                                                                   r.period, r.value, r.prev, m)))
    return out


def jump_text(label: str, village: str, period: str, value: float, prev: float, usual: float) -> str:
    """The jump warning in an officer's words: the value, last month's value, up or down, and the usual change
    (no statistics: the modified z-score only decides whether to warn)."""
    change = value - prev
    way, to = ("tăng bất thường", "lên") if change > 0 else ("giảm bất thường", "xuống")
    usual_text = ("hầu như không đổi" if round(abs(usual)) == 0 else
                  f"thường {'tăng' if usual > 0 else 'giảm'} khoảng {_fmt(float(round(abs(usual))))} mỗi tháng")
    return (f"{label}, {village or 'cấp xã'}, tháng {int(period[5:7])}/{period[:4]}: {way} từ {_fmt(float(prev))} "
            f"(tháng trước) {to} {_fmt(float(value))} ({'+' if change > 0 else '−'}{_fmt(float(abs(change)))}), "
            f"khác hẳn các tháng trước ({usual_text})")


def validate_rows(raw: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem], pd.DataFrame]:
    """Raw rows -> (accepted long data, rejected rows, problems, every row parsed with its error code)."""
    rows, problems = check_rows(raw, plan)
    ok = rows[rows["error"] == ""]
    dup_codes, dup_problems = _resolve_duplicates(ok, plan)
    rows.loc[dup_codes.index, "error"] = dup_codes
    problems += dup_problems
    ok = rows[rows["error"] == ""]
    ratio_codes, ratio_problems = _numerator_above_denominator(ok, plan)
    rows.loc[ratio_codes.index, "error"] = ratio_codes
    problems += ratio_problems
    ok = rows[rows["error"] == ""]
    data = pd.DataFrame({
        "period": ok["period_p"].astype(object), "unit": ok["unit_p"].astype(object),
        "village": ok["village_p"].astype(object), "element": ok["element_p"].astype(object),
        "value": ok["value_p"].astype("float64"), "submitted_on": ok["date_p"].astype("datetime64[ns]"),
        "file": ok["file"].astype(object), "sheet": ok["sheet"].fillna("").astype(object),
        "row": ok["row"].astype("int64"),
    }).reset_index(drop=True)
    rejected = rows[rows["error"] != ""][RAW_COLUMNS + PLACE_COLUMNS + ["error"]].reset_index(drop=True)
    data = schema.check(data, schema.LONG, "submissions")
    tmpl = ok[ok["value_col"].map(lambda v: isinstance(v, str) and v != "").astype(bool)]
    columns = {(f, s or "", int(r), e): c for f, s, r, e, c in
               zip(tmpl["file"], tmpl["sheet"], tmpl["row"], tmpl["element_p"], tmpl["value_col"])}
    problems = _unique(problems) + change_warnings(data, plan, columns) + village_gaps(rows, plan)
    return data, rejected, problems, rows


def village_gaps(rows: pd.DataFrame, plan: Plan) -> list[Problem]:
    """A village-level element that a unit sent for some villages of a period but not for others (a row deleted
    or left empty in the template): one W_VILLAGE_MISSING per village and unit, naming the missing elements by
    their template labels. A row that was sent but rejected is not missing (its error says why); the rows of a
    file's folder of another period (E_PERIOD_FOLDER_MISMATCH) were not sent for the period they name."""
    elements = {e.code: e for e in plan.elements}
    order = {e.code: i for i, e in enumerate(plan.elements)}
    villages = plan.village_names
    if rows.empty:
        return []
    folder = folder_periods(rows["file"])
    sent = rows[rows["period_p"].notna() & rows["unit_p"].isin(plan.unit_codes)
                & rows["element_p"].isin([e.code for e in plan.elements if e.level == "village"])
                & rows["village_p"].notna() & (rows["village_p"] != "")
                & (folder.isna() | (rows["period_p"] == folder))]
    if sent.empty:
        return []
    missing: dict[tuple[str, str, str], list[str]] = {}
    for (period, unit, element), got in sent.groupby(["period_p", "unit_p", "element_p"], sort=True)["village_p"]:
        have = set(got)
        for v in villages:
            if v not in have:
                missing.setdefault((period, unit, v), []).append(element)
    if not missing:
        return []
    # the place: the unit's latest file of the period (its report date, then its name)
    latest = (sent.sort_values(["date_p", "file"], kind="stable", na_position="first")
              .groupby(["period_p", "unit_p"]).tail(1).set_index(["period_p", "unit_p"]))
    out = []
    for (period, unit, village), codes in sorted(missing.items(), key=lambda kv: (kv[0][0], kv[0][1],
                                                                                   villages.index(kv[0][2]))):
        f = latest.loc[(period, unit)]
        names = ", ".join(elements[c].label for c in sorted(codes, key=order.get))
        out.append(Problem("W_VILLAGE_MISSING", file=f["file"], sheet=f["sheet"] or "", found=village, expected=period,
                           detail=f"{village}: thiếu số liệu {names}"))
    return out


def load_submissions(data_dir: str | Path, plan: Plan) -> Submissions:
    """Read and validate every file under <data>/submissions. Never raises on bad input."""
    root = paths.submissions_dir(Path(data_dir))
    raws = [rf for f in submission_files(root) for rf in read_file(f, root, plan.unit_codes)]
    frames = [rf.rows for rf in raws if not rf.rows.empty]
    columns = RAW_COLUMNS + PLACE_COLUMNS + EXTRA_COLUMNS
    raw = (pd.concat(frames, ignore_index=True).reindex(columns=columns) if frames
           else pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
    file_problems = [p for rf in raws for p in rf.problems]
    data, rejected, row_problems, parsed = validate_rows(raw, plan)
    names = sorted({rf.path for rf in raws})
    read = raw.groupby("file").size() if len(raw) else pd.Series(dtype=int)
    rej = rejected.groupby("file").size() if len(rejected) else pd.Series(dtype=int)
    files = pd.DataFrame({"file": names})
    files["rows_read"] = files["file"].map(read).fillna(0).astype(int)
    files["rejected"] = files["file"].map(rej).fillna(0).astype(int)
    files["accepted"] = files["rows_read"] - files["rejected"]
    files["file_errors"] = files["file"].map(pd.Series([p.file for p in file_problems]).value_counts()).fillna(0).astype(int)
    replaced = rejected.loc[rejected["error"] == "W_REVISED", "file"].value_counts() if len(rejected) else pd.Series(dtype=int)
    files["replaced"] = files["file"].map(replaced).fillna(0).astype(int)  # rejected because a later file corrected them
    gaps = pd.Series([p.file for p in row_problems if p.code == "W_VILLAGE_MISSING"], dtype=object).value_counts()
    files["villages_missing"] = files["file"].map(gaps).fillna(0).astype(int)
    # Timeliness counts a unit's file as received even where its values were rejected; a file refused because
    # its content names another period than its folder was sent for the folder's period.
    # A file with no readable report date was still received (its unit's state is 'date_unknown').
    good = parsed[parsed["period_p"].notna() & parsed["unit_p"].isin(plan.unit_codes)]
    folder = folder_periods(good["file"])
    refused = good["error"] == "E_PERIOD_FOLDER_MISMATCH"
    good = good.assign(period_p=good["period_p"].where(~refused, folder))
    received = good[["unit_p", "period_p", "date_p", "file"]].set_axis(["unit", "period", "submitted_on", "file"], axis=1)
    received = received.drop_duplicates().reset_index(drop=True)
    own = parsed[parsed["period_p"].notna()].groupby("file")["period_p"].unique() if len(parsed) else {}
    file_periods = {name: tuple(sorted({*(own[name] if name in own else ()),
                                        *([folder_period(name)] if folder_period(name) else [])}))
                    for name in names}
    readme = Path(data_dir) / "README.md"
    synthetic = readme.is_file() and "synthetic" in readme.read_text(encoding="utf-8", errors="replace").lower()
    return Submissions(data=data, rejected=rejected, problems=file_problems + row_problems,
                       files=files[["file", "rows_read", "accepted", "rejected", "replaced", "villages_missing",
                                    "file_errors"]], received=received, synthetic=synthetic, file_periods=file_periods)

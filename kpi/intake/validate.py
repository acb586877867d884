"""Validate raw submission rows against the plan: every row is accepted or rejected with its reasons."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from kpi.core import paths, schema
from kpi.core.periods import run_day  # noqa: F401 (the intake's too: kpi.intake.validate.run_day)
from kpi.core.problems import ERROR, Problem, problems_frame
from kpi.intake.cells import _cell, _fmt, folder_periods, match_villages, parse_dates, parse_numbers, parse_periods
from kpi.intake.changes import change_warnings
from kpi.intake.corrections import _numerator_above_denominator, _resolve_duplicates, empty_revisions, village_gaps
from kpi.intake.load import EXTRA_COLUMNS, PLACE_COLUMNS, RAW_COLUMNS, fold, folder_period, read_under, submission_files
from kpi.intake.versions import modified_times
from kpi.plan.model import Plan


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
    revisions: pd.DataFrame = field(default_factory=empty_revisions)  # each value a later file replaced (W_REVISED)
    # Taken from the bytes read, when the files were read (not kept by the cache): each file's SHA-256, and the
    # units' notes of every file in file order (kpi.intake.notes.of_submissions) with their messages by file.
    hashes: dict = field(default_factory=dict)
    notes: pd.DataFrame | None = None
    note_messages: list = field(default_factory=list)  # (file, message)
    year_before: Submissions | None = None  # the same files under the year before's plan, when asked for

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


# --- validation -----------------------------------------------------------------------------------------


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


def validate_rows(raw: pd.DataFrame, plan: Plan, modified: dict[str, float] | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem], pd.DataFrame, pd.DataFrame]:
    """Raw rows -> (accepted long data, rejected rows, problems, every row parsed with its error code, the values
    a later file replaced). `modified`: each file's modification time, which decides between two files of the
    same report date and version mark (kpi.intake.versions)."""
    rows, problems = check_rows(raw, plan)
    ok = rows[rows["error"] == ""]
    dup_codes, dup_problems, revisions = _resolve_duplicates(ok, plan, modified)
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
    return data, rejected, problems, rows, revisions


def load_submissions(data_dir: str | Path, plan: Plan, year_before: Plan | None = None) -> Submissions:
    """Read and validate every file under <data>/submissions. Never raises on bad input. With `year_before` (the
    plan of the year before), the same bytes of each file are validated under it too: Submissions.year_before."""
    root = paths.submissions_dir(Path(data_dir))
    found = submission_files(root)
    plans = [plan] if year_before is None else [plan, year_before]
    reads = [read_under(f, root, [(p.unit_codes, p) for p in plans]) for f in found]
    subs = _validated(data_dir, plan, root, found, [r[0] for r in reads])
    if year_before is not None:
        subs.year_before = _validated(data_dir, year_before, root, found, [r[1] for r in reads])
    return subs


def _validated(data_dir: str | Path, plan: Plan, root: Path, found: list[Path], reads: list) -> Submissions:
    raws = [rf for r in reads for rf in r.raws]
    frames = [rf.rows for rf in raws if not rf.rows.empty]
    columns = RAW_COLUMNS + PLACE_COLUMNS + EXTRA_COLUMNS
    raw = (pd.concat(frames, ignore_index=True).reindex(columns=columns) if frames
           else pd.DataFrame({c: pd.Series(dtype=object) for c in columns}))
    file_problems = [p for rf in raws for p in rf.problems]
    data, rejected, row_problems, parsed, revisions = validate_rows(raw, plan, modified_times(root, found))
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
                                    "file_errors"]], received=received, synthetic=synthetic, file_periods=file_periods,
                       revisions=revisions, **_taken(root, found, reads))


def _taken(root: Path, found: list[Path], reads: list) -> dict:
    """What the reading took from each file's bytes besides its rows: their SHA-256 and the units' notes."""
    from kpi.intake.notes import as_frame

    names = [f.relative_to(root).as_posix() for f in found]
    notes = [n for r in reads for n in r.notes]
    return {"hashes": {n: r.sha256 for n, r in zip(names, reads) if r.sha256},
            "notes": as_frame(notes),
            "note_messages": [(n, m) for n, r in zip(names, reads) for m in r.note_messages]}

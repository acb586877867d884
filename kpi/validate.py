"""Validate raw submission rows against the plan: every row is accepted or rejected with its reasons."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kpi import paths, safety, schema
from kpi.load import PLACE_COLUMNS, RAW_COLUMNS, fold, read_file, submission_files
from kpi.plan import Plan
from kpi.problems import ERROR, Problem, problems_frame


@dataclass
class Submissions:
    """The outcome of reading a data folder: accepted long data, rejected rows, problems, per-file accounting."""

    data: pd.DataFrame  # schema.LONG
    rejected: pd.DataFrame  # raw rows with their place and first error code
    problems: list[Problem] = field(default_factory=list)
    files: pd.DataFrame = field(default_factory=pd.DataFrame)  # file, rows_read, accepted, rejected
    received: pd.DataFrame = field(default_factory=pd.DataFrame)  # unit, period, submitted_on, file
    synthetic: bool = False  # the data folder's README says the data is synthetic

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
    as_text = values.map(lambda v: v.strftime("%Y-%m") if hasattr(v, "strftime") else (None if v is None else str(v).strip()))
    iso = as_text.str.extract(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?$")
    vn = as_text.str.extract(r"^(\d{1,2})[-/.](\d{4})$")
    year = iso[0].fillna(vn[1])
    month = pd.to_numeric(iso[1].fillna(vn[0]), errors="coerce")
    ok = year.notna() & month.between(1, 12)
    return (year + "-" + month.fillna(0).astype(int).astype(str).str.zfill(2)).where(ok)


def parse_dates(values: pd.Series) -> pd.Series:
    """ISO YYYY-MM-DD or Vietnamese DD/MM/YYYY text, or an Excel date -> Timestamp (day); else NaT."""
    native = values.map(lambda v: safety.to_timestamp(v) if hasattr(v, "year") else None)
    text = values.map(lambda v: v.strip() if isinstance(v, str) else None)
    iso = pd.to_datetime(text.where(text.fillna("").str.match(r"^\d{4}-\d{1,2}-\d{1,2}$")), format="%Y-%m-%d", errors="coerce")
    vn = pd.to_datetime(text.where(text.fillna("").str.match(r"^\d{1,2}/\d{1,2}/\d{4}$")), format="%d/%m/%Y", errors="coerce")
    return pd.to_datetime(native, errors="coerce").fillna(iso).fillna(vn).astype("datetime64[ns]")


def village_lookup(plan: Plan) -> dict[str, str]:
    """Folded spelling -> plan village name; 'thon 01' and 'thôn 1' both find 'Thôn 1'."""
    out = {}
    for v in plan.villages:
        out[fold(v.name)] = v.name
        out[re.sub(r"\b0+(\d)", r"\1", fold(v.name))] = v.name
        out[fold(v.code)] = v.name
    return out


def match_villages(values: pd.Series, plan: Plan) -> pd.Series:
    """Plan village name for each cell ('' for an empty cell); NaN where the plan knows no such village."""
    lookup = village_lookup(plan)
    text = values.map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    folded = text.map(fold).str.replace(r"\b0+(\d)", r"\1", regex=True)
    return folded.map(lambda f: "" if f == "" else lookup.get(f, np.nan))


# --- validation -----------------------------------------------------------------------------------------

def _problems(rows: pd.DataFrame, mask: pd.Series, code: str, column: str, found: pd.Series | None = None,
              expected: str = "", detail: pd.Series | None = None) -> list[Problem]:
    hit = rows[mask]
    found = (found if found is not None else pd.Series("", index=rows.index))[mask]
    detail = (detail if detail is not None else pd.Series("", index=rows.index))[mask]
    return [Problem(code, file=f, sheet=s or "", row=int(r), column=column, found=str(fv), expected=expected,
                    detail=str(dv))
            for f, s, r, fv, dv in zip(hit["file"], hit["sheet"], hit["row"], found, detail)]


def _fmt(x: object) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return "" if x is None else str(x)


def check_rows(raw: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, list[Problem]]:
    """Parse and check each raw row; returns the parsed rows with a column `error` (first error code or '')."""
    rows = raw.copy()
    problems: list[Problem] = []
    elements = {e.code: e for e in plan.elements}
    cell_text = {c: rows[c].map(lambda v: "" if v is None else _fmt(v)) for c in RAW_COLUMNS}
    rows["period_p"] = parse_periods(rows["period"])
    rows["unit_p"] = rows["unit"].map(lambda v: fold(v) if v is not None else "")
    rows["element_p"] = rows["element"].map(lambda v: str(v).strip() if v is not None else "")
    rows["village_p"] = match_villages(rows["village"], plan)
    rows["value_p"] = parse_numbers(rows["value"])
    rows["date_p"] = parse_dates(rows["submitted_on"])
    level = rows["element_p"].map(lambda c: elements[c].level if c in elements else None)
    owner = rows["element_p"].map(lambda c: elements[c].unit if c in elements else None)
    whole = rows["element_p"].map(lambda c: c in elements and not elements[c].decimals)
    vmax = rows["element_p"].map(lambda c: elements[c].max if c in elements and elements[c].max else np.inf)
    year = str(plan.year)

    checks = [
        (rows["period_p"].isna(), "E_PERIOD_INVALID", "period", cell_text["period"], "", None),
        (rows["period_p"].notna() & ~rows["period_p"].fillna("").str.startswith(year + "-"),
         "E_PERIOD_OUTSIDE_PLAN", "period", rows["period_p"], year, None),
        (~rows["unit_p"].isin(plan.unit_codes), "E_UNIT_UNKNOWN", "unit", cell_text["unit"],
         ", ".join(plan.unit_codes), None),
        (~rows["element_p"].isin(elements), "E_ELEMENT_UNKNOWN", "element", cell_text["element"], "", None),
        (rows["unit_p"].isin(plan.unit_codes) & owner.notna() & (owner != rows["unit_p"]),
         "E_ELEMENT_WRONG_UNIT", "element", rows["element_p"], None, rows["unit_p"]),
        (rows["village_p"].isna(), "E_VILLAGE_UNKNOWN", "village", cell_text["village"],
         ", ".join(plan.village_names), None),
        ((level == "village") & (rows["village_p"] == ""), "E_VILLAGE_REQUIRED", "village", None, "",
         rows["element_p"]),
        ((level == "commune") & rows["village_p"].notna() & (rows["village_p"] != ""), "E_VILLAGE_NOT_EXPECTED",
         "village", cell_text["village"], "", rows["element_p"]),
        (cell_text["value"].str.strip() == "", "E_VALUE_MISSING", "value", None, "", None),
        ((cell_text["value"].str.strip() != "") & rows["value_p"].isna(), "E_VALUE_NOT_NUMBER", "value",
         cell_text["value"], "", None),
        (rows["value_p"] < 0, "E_VALUE_NEGATIVE", "value", rows["value_p"].map(_fmt), "", None),
        ((rows["value_p"] >= 0) & whole & (rows["value_p"] % 1 != 0), "E_VALUE_NOT_WHOLE", "value",
         rows["value_p"].map(_fmt), "", rows["element_p"]),
        ((rows["value_p"] >= 0) & (rows["value_p"] > vmax), "E_VALUE_OUT_OF_RANGE", "value",
         rows["value_p"].map(_fmt), None, None),
        (cell_text["submitted_on"].str.strip() == "", "E_DATE_MISSING", "submitted_on", None, "", None),
        ((cell_text["submitted_on"].str.strip() != "") & rows["date_p"].isna(), "E_DATE_INVALID", "submitted_on",
         cell_text["submitted_on"], "", None),
        (rows["date_p"].notna() & rows["period_p"].notna()
         & (rows["date_p"] < pd.to_datetime(rows["period_p"] + "-01", errors="coerce")),
         "E_DATE_BEFORE_PERIOD", "submitted_on", rows["date_p"].dt.strftime("%Y-%m-%d"), None, rows["period_p"]),
    ]
    rows["error"] = ""
    for mask, code, column, found, expected, detail in checks:
        mask = mask.fillna(False).astype(bool)
        if code == "E_ELEMENT_WRONG_UNIT":
            for p, (e_code, u_code) in zip(_problems(rows, mask, code, column, found, "", detail),
                                           zip(rows.loc[mask, "element_p"], rows.loc[mask, "unit_p"])):
                problems.append(Problem(p.code, p.file, p.sheet, p.row, p.column, p.found,
                                        plan.unit(elements[e_code].unit).name, plan.unit(u_code).name))
        elif code == "E_VALUE_OUT_OF_RANGE":
            problems += [Problem(p.code, p.file, p.sheet, p.row, p.column, p.found, f"0–{_fmt(m)}", p.detail)
                         for p, m in zip(_problems(rows, mask, code, column, found), vmax[mask])]
        elif code == "E_DATE_BEFORE_PERIOD":
            problems += [Problem(p.code, p.file, p.sheet, p.row, p.column, p.found, per, "")
                         for p, per in zip(_problems(rows, mask, code, column, found), rows.loc[mask, "period_p"])]
        else:
            problems += _problems(rows, mask, code, column, found, expected, detail)
        rows.loc[mask & (rows["error"] == ""), "error"] = code
    return rows, problems


def _resolve_duplicates(ok: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """The same cell (period, village, element) sent more than once: the latest submission date counts, then
    the later file (by name) and row. Returns the error code for each losing row."""
    order = ok.sort_values(["date_p", "file", "row"], kind="stable")
    key = ["period_p", "village_p", "element_p"]
    winner = order.groupby(key, sort=False).tail(1)
    losers = order[order.duplicated(key, keep="last")]
    codes = pd.Series("", index=ok.index, dtype=object)
    if losers.empty:
        return codes, []
    win = winner.set_index(key)
    problems = []
    for idx, row in losers.iterrows():
        w = win.loc[(row["period_p"], row["village_p"], row["element_p"])]
        where = f"{w['file']} dòng {int(w['row'])} (ngày báo cáo {w['date_p']:%Y-%m-%d})"
        if row["value_p"] == w["value_p"]:
            code = "W_DUPLICATE_SAME"
            problems.append(Problem(code, file=row["file"], sheet=row["sheet"] or "", row=int(row["row"]),
                                    column="value", found=_fmt(row["value_p"]), detail=where))
        else:
            code = "E_DUPLICATE"
            problems.append(Problem(code, file=row["file"], sheet=row["sheet"] or "", row=int(row["row"]),
                                    column="value", found=_fmt(row["value_p"]), expected=_fmt(w["value_p"]),
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
    cells = ok.reset_index()[["index", "period_p", "village_p", "element_p", "value_p", "file", "sheet", "row"]]
    m = (pairs.merge(cells, left_on="num", right_on="element_p")
         .merge(cells[["period_p", "village_p", "element_p", "value_p"]], left_on=["den", "period_p", "village_p"],
                right_on=["period_p", "village_p", "element_p"], suffixes=("", "_den")))
    bad = m[m["value_p"] > m["value_p_den"]].drop_duplicates("index")
    codes = pd.Series("", index=ok.index, dtype=object)
    codes[bad["index"].to_numpy()] = "E_NUMERATOR_ABOVE_DENOMINATOR"
    problems = [Problem("E_NUMERATOR_ABOVE_DENOMINATOR", file=r.file, sheet=r.sheet or "", row=int(r.row),
                        column="value", found=_fmt(r.value_p), expected=_fmt(r.value_p_den),
                        detail=f"Chỉ tiêu {r.indicator}, {r.village_p or 'cấp xã'}, {r.period_p} ({r.num}/{r.den})")
                for r in bad.itertuples()]
    return codes, problems


def validate_rows(raw: pd.DataFrame, plan: Plan) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem], pd.DataFrame]:
    """Raw rows -> (accepted long data, rejected rows, problems, every row parsed with its error code)."""
    rows, problems = check_rows(raw, plan)
    ok = rows[rows["error"] == ""]
    dup_codes, dup_problems = _resolve_duplicates(ok)
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
    return schema.check(data, schema.LONG, "submissions"), rejected, problems, rows


def load_submissions(data_dir: str | Path, plan: Plan) -> Submissions:
    """Read and validate every file under <data>/submissions. Never raises on bad input."""
    root = paths.submissions_dir(Path(data_dir))
    raws = [rf for f in submission_files(root) for rf in read_file(f, root)]
    frames = [rf.rows for rf in raws if not rf.rows.empty]
    raw = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RAW_COLUMNS + PLACE_COLUMNS)
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
    # Timeliness counts a unit's file as received even where its values were rejected.
    good = parsed[parsed["period_p"].notna() & parsed["unit_p"].isin(plan.unit_codes) & parsed["date_p"].notna()]
    received = good[["unit_p", "period_p", "date_p", "file"]].set_axis(["unit", "period", "submitted_on", "file"], axis=1)
    received = received.drop_duplicates().reset_index(drop=True)
    readme = Path(data_dir) / "README.md"
    synthetic = readme.is_file() and "synthetic" in readme.read_text(encoding="utf-8", errors="replace").lower()
    return Submissions(data=data, rejected=rejected, problems=file_problems + row_problems,
                       files=files[["file", "rows_read", "accepted", "rejected", "file_errors"]], received=received,
                       synthetic=synthetic)

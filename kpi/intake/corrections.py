"""Rows that disagree: two values for one place and month (the file sent later wins, W_REVISED; kpi.intake.versions), a numerator above its denominator, villages a unit left out."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from kpi.core.problems import Problem
from kpi.intake import versions
from kpi.intake.cells import _cell, _fmt, folder_periods
from kpi.plan.model import Plan


def _day(d: object) -> str:
    return "không rõ" if d is None or pd.isna(d) else f"{d:%d/%m/%Y}"


def _dates(new: object, old: object) -> str:
    """'ngày báo cáo 20/11/2026, tệp kia 09/11/2026', or one date when both are the same."""
    same = (pd.isna(new) and pd.isna(old)) or (pd.notna(new) and pd.notna(old) and new == old)
    return f"ngày báo cáo {_day(new)}" + ("" if same else f", tệp kia {_day(old)}")


REVISION_COLUMNS = ["period", "unit", "village", "element", "old_value", "old_file", "old_row", "old_date",
                    "new_value", "new_file", "new_row", "new_date", "rule"]


def empty_revisions() -> pd.DataFrame:
    """The replaced values (W_REVISED) as a table: one row per value a later file corrected."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in REVISION_COLUMNS})
    return frame.astype({"old_value": "float64", "new_value": "float64", "old_row": "int64", "new_row": "int64",
                         "old_date": "datetime64[ns]", "new_date": "datetime64[ns]"})


def _resolve_duplicates(ok: pd.DataFrame, plan: Plan | None = None, modified: Mapping[str, float] | None = None
                        ) -> tuple[pd.Series, list[Problem], pd.DataFrame]:
    """The same cell (period, unit, village, element) sent more than once: the file sent later wins
    (kpi.intake.versions: report date, an unknown one first; then the version mark in the name; then the
    modification time in `modified`; then the name), and within a file the later row.
    A losing row of another file with another value is a correction (W_REVISED, listed with old and new value,
    both files and both dates, and in the table returned); the same value in another file is a re-send, one
    W_RESENT_SAME per pair of files; two values in the same file are an error (E_DUPLICATE: the officer must say
    which is right); the same value twice in one file is W_DUPLICATE_SAME. Returns the code for each losing row."""
    modified = modified or {}
    labels = {e.code: e.label for e in plan.elements} if plan is not None else {}
    rank = versions.file_order(ok["file"].unique(), modified)
    order = ok.assign(_rank=ok["file"].map(rank)).sort_values(["date_p", "_rank", "row"], kind="stable",
                                                                na_position="first")
    key = ["period_p", "unit_p", "village_p", "element_p"]
    winner = order.groupby(key, sort=False).tail(1)
    losers = order[order.duplicated(key, keep="last")]
    codes = pd.Series("", index=ok.index, dtype=object)
    if losers.empty:
        return codes, [], empty_revisions()
    win = winner.set_index(key)
    problems, revised, resent = [], [], {}
    for idx, row in losers.iterrows():
        w = win.loc[(row["period_p"], row["unit_p"], row["village_p"], row["element_p"])]
        column = _cell(row["row"], "value", row["value_col"], None, None)[1]
        if row["file"] != w["file"]:
            why = versions.decided_by(w["file"], w["date_p"], row["file"], row["date_p"], modified)
            if row["value_p"] == w["value_p"]:  # a re-sent file repeats the values it does not change
                codes[idx] = "W_RESENT_SAME"
                resent.setdefault((w["file"], row["file"]), [w, row, why, 0])[3] += 1
                continue
            codes[idx] = "W_REVISED"
            what = f"{labels.get(row['element_p'], row['element_p'])}, {row['village_p'] or 'cấp xã'}, kỳ {row['period_p']}"
            problems.append(Problem(
                "W_REVISED", file=w["file"], sheet=w["sheet"] or "", row=int(w["row"]),
                column=_cell(w["row"], "value", w["value_col"], None, None)[1], found=_fmt(w["value_p"]),
                expected=_fmt(row["value_p"]),
                detail=(f"{what}: giá trị cũ {_fmt(row['value_p'])} ở {row['file']} dòng {int(row['row'])} (ngày báo "
                        f"cáo {_day(row['date_p'])}) được thay bằng giá trị mới {_fmt(w['value_p'])} ở {w['file']} "
                        f"dòng {int(w['row'])} (ngày báo cáo {_day(w['date_p'])}); bản mới được dùng vì {why}")))
            revised.append([row["period_p"], row["unit_p"], row["village_p"] or "", row["element_p"], row["value_p"],
                            row["file"], int(row["row"]), row["date_p"], w["value_p"], w["file"], int(w["row"]),
                            w["date_p"], why])
            continue
        later = pd.notna(w["date_p"]) and (pd.isna(row["date_p"]) or w["date_p"] > row["date_p"])
        where = (f"dòng {int(w['row'])} của cùng tệp (ngày báo cáo {_day(w['date_p'])}; được dùng vì "
                 f"{'có ngày báo cáo mới hơn' if later else 'nằm sau trong tệp'})")
        code = "W_DUPLICATE_SAME" if row["value_p"] == w["value_p"] else "E_DUPLICATE"
        problems.append(Problem(code, file=row["file"], sheet=row["sheet"] or "", row=int(row["row"]), column=column,
                                found=_fmt(row["value_p"]), expected="" if code == "W_DUPLICATE_SAME" else
                                _fmt(w["value_p"]), detail=where))
        codes[idx] = code
    for (new_file, old_file), (w, row, why, n) in resent.items():
        problems.append(Problem("W_RESENT_SAME", file=new_file, sheet=w["sheet"] or "", found=str(n),
                                expected=old_file, detail=_dates(w["date_p"], row["date_p"]) + f"; bản này được dùng vì {why}"))
    table = pd.DataFrame(revised, columns=REVISION_COLUMNS) if revised else empty_revisions()
    return codes, problems, table.astype(empty_revisions().dtypes.to_dict())


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

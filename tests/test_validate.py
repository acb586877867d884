"""Every case of the bad-file corpus: exact codes, places and counts; accepted + rejected == rows read."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.core.problems import CATALOG


def places(subs):
    """(code, file, sheet, row, column) of every problem, in a stable order. The corpus files are fragments of a
    month (a few villages each), so the villages they leave out (W_VILLAGE_MISSING) are tested on their own below."""
    return sorted((p.code, p.file, p.sheet, p.row if p.row is not None else 0, p.column) for p in subs.problems
                  if p.code != "W_VILLAGE_MISSING")


def problems(subs):
    """The problems of a corpus case, without the villages the fragment leaves out (see places)."""
    return [p for p in subs.problems if p.code != "W_VILLAGE_MISSING"]


def accounted(subs, read: int, accepted: int, rejected: int) -> None:
    f = subs.files
    assert int(f["rows_read"].sum()) == read
    assert int(f["accepted"].sum()) == accepted == len(subs.data)
    assert int(f["rejected"].sum()) == rejected == len(subs.rejected)
    assert (f["accepted"] + f["rejected"] == f["rows_read"]).all()


def values(subs) -> list[tuple]:
    d = subs.data.sort_values(["row", "element"])
    return list(zip(d["village"], d["element"], d["value"]))


# (case, expected problems as (code, file, sheet, row, column), rows read, accepted, rejected)
CASES = [
    ("ok_utf8.csv", [], 3, 3, 0),
    ("utf8_bom.csv", [], 1, 1, 0),
    ("cp1252.csv", [], 2, 2, 0),
    ("utf16_tab.csv", [], 1, 1, 0),
    ("blank_rows_cols.csv", [], 2, 2, 0),
    ("semicolon_crlf.csv", [], 2, 2, 0),
    ("village_spellings.csv", [], 5, 5, 0),
    ("number_formats.csv", [], 5, 5, 0),
    ("names_for_codes.csv", [], 3, 3, 0),
    ("bad_encoding.csv", [("E_FILE_ENCODING", "bad_encoding.csv", "", 0, "")], 0, 0, 0),
    ("empty.csv", [("E_FILE_EMPTY", "empty.csv", "", 0, "")], 0, 0, 0),
    ("header_only.csv", [("E_FILE_EMPTY", "header_only.csv", "", 0, "")], 0, 0, 0),
    ("missing_columns.csv", [("E_COLUMNS_MISSING", "missing_columns.csv", "", 1, "")], 0, 0, 0),
    ("excel_renamed_to_csv.csv", [("E_FILE_UNREADABLE", "excel_renamed_to_csv.csv", "", 0, "")], 0, 0, 0),
    ("broken.xlsx", [("E_FILE_UNREADABLE", "broken.xlsx", "", 0, "")], 0, 0, 0),
    ("broken_sheet.xlsx", [("E_FILE_UNREADABLE", "broken_sheet.xlsx", "", 0, "")], 0, 0, 0),
    ("notes.txt", [("E_FILE_TYPE", "notes.txt", "", 0, "")], 0, 0, 0),
    ("cp1258_vn_headers.csv", [("E_VILLAGE_UNKNOWN", "cp1258_vn_headers.csv", "", 3, "village")], 2, 1, 1),
    ("unknown_unit.csv", [("E_UNIT_UNKNOWN", "unknown_unit.csv", "", 2, "unit")], 1, 0, 1),
    ("unknown_element.csv", [("E_ELEMENT_UNKNOWN", "unknown_element.csv", "", 2, "element")], 2, 1, 1),
    ("unknown_village.csv", [("E_VILLAGE_UNKNOWN", "unknown_village.csv", "", 2, "village")], 2, 1, 1),
    ("period_invalid.csv", [("E_PERIOD_INVALID", "period_invalid.csv", "", 2, "period"),
                            ("E_PERIOD_INVALID", "period_invalid.csv", "", 3, "period")], 3, 1, 2),
    ("period_outside_year.csv", [("E_PERIOD_OUTSIDE_PLAN", "period_outside_year.csv", "", 2, "period")], 1, 0, 1),
    ("value_not_number.csv", [("E_VALUE_NOT_NUMBER", "value_not_number.csv", "", 2, "value"),
                              ("E_VALUE_NOT_NUMBER", "value_not_number.csv", "", 3, "value")], 3, 1, 2),
    ("value_negative.csv", [("E_VALUE_NEGATIVE", "value_negative.csv", "", 2, "value")], 1, 0, 1),
    ("value_not_whole.csv", [("E_VALUE_NOT_WHOLE", "value_not_whole.csv", "", 2, "value"),
                             ("E_VALUE_NOT_WHOLE", "value_not_whole.csv", "", 3, "value")], 2, 0, 2),
    ("points_out_of_range.csv", [("E_VALUE_OUT_OF_RANGE", "points_out_of_range.csv", "", 2, "value"),
                                 ("E_VALUE_OUT_OF_RANGE", "points_out_of_range.csv", "", 3, "value")], 3, 1, 2),
    ("missing_value.csv", [("E_VALUE_MISSING", "missing_value.csv", "", 2, "value")], 1, 0, 1),
    # a report date decides timeliness only: missing, unreadable or implausible, the values are kept (a warning)
    ("date_missing.csv", [("W_DATE_MISSING", "date_missing.csv", "", 2, "submitted_on")], 1, 1, 0),
    ("date_impossible.csv", [("W_DATE_INVALID", "date_impossible.csv", "", 2, "submitted_on"),
                             ("W_DATE_INVALID", "date_impossible.csv", "", 3, "submitted_on")], 3, 3, 0),
    ("date_before_period.csv", [("W_DATE_BEFORE_PERIOD", "date_before_period.csv", "", 2, "submitted_on")], 1, 1, 0),
    ("date_too_late.csv", [("W_DATE_TOO_LATE", "date_too_late.csv", "", 2, "submitted_on")], 2, 2, 0),
    ("wrong_unit_row.csv", [("E_ELEMENT_WRONG_UNIT", "wrong_unit_row.csv", "", 2, "element")], 1, 0, 1),
    ("vhxh_other_units_elements.csv", [("E_FILE_OTHER_UNIT", "vhxh_other_units_elements.csv", "", 2, "element"),
                                       ("E_FILE_OTHER_UNIT", "vhxh_other_units_elements.csv", "", 3, "element"),
                                       ("E_UNIT_NOT_FILE_UNIT", "vhxh_other_units_elements.csv", "", 4, "unit")],
     4, 1, 3),
    ("village_level_mismatch.csv", [("E_VILLAGE_NOT_EXPECTED", "village_level_mismatch.csv", "", 3, "village"),
                                    ("E_VILLAGE_REQUIRED", "village_level_mismatch.csv", "", 2, "village")], 2, 0, 2),
    ("duplicate_different.csv", [("E_DUPLICATE", "duplicate_different.csv", "", 2, "value"),
                                 ("W_DUPLICATE_SAME", "duplicate_different.csv", "", 4, "value")], 4, 2, 2),
    ("numerator_above_denominator.csv",
     [("E_NUMERATOR_ABOVE_DENOMINATOR", "numerator_above_denominator.csv", "", 3, "value")], 4, 3, 1),
    ("cross_unit", [("E_NUMERATOR_ABOVE_DENOMINATOR", "vhxh.csv", "", 2, "value")], 3, 2, 1),
    ("combo.csv", [("W_DATE_INVALID", "combo.csv", "", 5, "submitted_on"),
                   ("E_DUPLICATE", "combo.csv", "", 6, "value"),
                   ("E_ELEMENT_UNKNOWN", "combo.csv", "", 4, "element"),
                   ("E_VALUE_NEGATIVE", "combo.csv", "", 3, "value"),
                   ("E_VALUE_NOT_NUMBER", "combo.csv", "", 5, "value")], 6, 2, 4),
    ("history", [("W_JUMP", "ca.csv", "", 7, "value"), ("W_STOCK_FALL", "ca.csv", "", 12, "value")], 11, 11, 0),
    ("long_blank_rows.xlsx", [("E_VALUE_NEGATIVE", "long_blank_rows.xlsx", "Bảng 1", 6, "value")], 3, 2, 1),
    ("template_renamed.xlsx", [], 4, 4, 0),
    ("template_date_missing.xlsx", [("W_DATE_MISSING", "template_date_missing.xlsx", "Số liệu", 4, "C")], 3, 3, 0),
    ("template_bad_values.xlsx", [("E_VALUE_NEGATIVE", "template_bad_values.xlsx", "Số liệu", 9, "D"),
                                  ("E_VALUE_NOT_NUMBER", "template_bad_values.xlsx", "Số liệu", 8, "C"),
                                  ("E_VALUE_NOT_WHOLE", "template_bad_values.xlsx", "Số liệu", 10, "C")], 4, 1, 3),
    ("template_points.xlsx", [("E_NUMERATOR_ABOVE_DENOMINATOR", "template_points.xlsx", "Số liệu", 8, "C")], 3, 2, 1),
    ("template_empty.xlsx", [("E_FILE_EMPTY", "template_empty.xlsx", "Số liệu", 0, "")], 0, 0, 0),
    ("template_date_text.xlsx", [("W_DATE_INVALID", "template_date_text.xlsx", "Số liệu", 4, "C")], 1, 1, 0),
    # a real month's officers: an "STT" column inserted at C (the date moves to D4), with and without the date
    ("template_stt_column.xlsx", [], 2, 2, 0),
    ("template_stt_no_date.xlsx", [("W_DATE_MISSING", "template_stt_no_date.xlsx", "Số liệu", 4, "D")], 2, 2, 0),
    ("date_day_first.csv", [], 3, 3, 0),  # 05-12-2026, 5.12.2026, 8/12/2026: day first
    ("thousands_comma.csv", [("E_VALUE_NOT_WHOLE", "thousands_comma.csv", "", 2, "value")], 1, 0, 1),
]


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case, expected, read, accepted, rejected", CASES, ids=[c[0] for c in CASES])
def test_case(load_case, case, expected, read, accepted, rejected):
    subs = load_case(case)
    assert places(subs) == sorted(expected)
    accounted(subs, read, accepted, rejected)
    for p in subs.problems:  # every problem speaks Vietnamese and says how to fix it
        assert p.code in CATALOG and p.message and p.fix
        assert "{" not in p.message + p.fix


def test_rejected_rows_never_reach_the_numbers(load_case):
    subs = load_case("combo.csv")
    # Thôn 5 (NFD 'thôn 05', '1.050') and Thôn 9's later row (890) are kept; -10, 'abc', 880 are not.
    assert values(subs) == [("Thôn 5", "pop_total", 1050.0), ("Thôn 9", "pop_total", 890.0)]
    assert set(subs.rejected["error"]) == {"E_VALUE_NEGATIVE", "E_ELEMENT_UNKNOWN", "E_VALUE_NOT_NUMBER",
                                           "E_DUPLICATE"}


def test_unit_and_element_names(load_case):
    subs = load_case("names_for_codes.csv")
    assert values(subs) == [("Thôn 1", "pop_total", 1200.0), ("Thôn 2", "pop_total", 950.0),
                            ("Thôn 3", "pop_total", 870.0)]
    assert set(subs.data["unit"]) == {"ca"}


def test_village_spellings_match_the_plan(load_case):
    subs = load_case("village_spellings.csv")
    assert values(subs) == [("Thôn 7", "pop_total", 1000.0), ("Thôn 1", "pop_total", 1001.0),
                            ("Thôn 2", "pop_total", 1002.0), ("Thôn 3", "pop_total", 1003.0),
                            ("Thôn 4", "pop_total", 1004.0)]


def test_unknown_village_lists_the_plan_names(load_case):
    (p,) = problems(load_case("unknown_village.csv"))
    assert p.found == "Thôn 27"
    assert "Thôn 1, Thôn 2" in p.fix and p.fix.rstrip(".").endswith("Thôn 26")


def test_number_rule(load_case):
    subs = load_case("number_formats.csv")
    # '1.234' thousands dot, ' 2 345 ' spaces, '1.234.567' two groups, '18,5' decimal comma.
    assert values(subs) == [("Thôn 1", "pop_total", 1234.0), ("Thôn 2", "pop_total", 2345.0),
                            ("Thôn 3", "pop_total", 1234567.0), ("", "satisfaction_points", 18.5),
                            ("", "records_total", 412.0)]


def test_semicolon_file_numbers(tmp_path, plan):
    import shutil

    from kpi.intake.validate import load_submissions
    from tests.conftest import FILES

    (tmp_path / "submissions").mkdir()
    shutil.copy(FILES / "semicolon_crlf.csv", tmp_path / "submissions")
    subs = load_submissions(tmp_path, plan)
    assert values(subs) == [("", "satisfaction_points", 18.5), ("", "records_total", 1234.0)]
    assert list(subs.data["submitted_on"].dt.strftime("%Y-%m-%d")) == ["2026-12-05", "2026-12-05"]


def test_encodings_decode_the_village_names(load_case):
    subs = load_case("cp1258_vn_headers.csv")
    assert values(subs) == [("Thôn 2", "pop_adult", 714.0)]
    (p,) = problems(subs)
    assert p.found == "Thôn Một"  # cp1258 with a combining tone mark, read back as NFC Vietnamese


def test_utf16(load_case):
    assert values(load_case("utf16_tab.csv")) == [("Thôn 6", "pop_total", 1010.0)]


def test_cp1252_and_bom(tmp_path, plan, load_case):
    assert values(load_case("cp1252.csv")) == [("Thôn 1", "pop_total", 1200.0), ("Thôn 4", "pop_total", 990.0)]


def test_bad_encoding_message(load_case):
    (p,) = problems(load_case("bad_encoding.csv"))
    assert "bảng mã" in p.message and "CSV UTF-8" in p.fix


def test_duplicate_says_which_counts_and_why(load_case):
    subs = load_case("duplicate_different.csv")
    dup = next(p for p in subs.problems if p.code == "E_DUPLICATE")
    assert (dup.found, dup.expected) == ("1000", "1020")
    assert "dòng 3" in dup.detail and "ngày báo cáo mới hơn" in dup.detail
    assert values(subs) == [("Thôn 1", "pop_total", 1020.0), ("Thôn 2", "pop_total", 900.0)]


def test_cross_unit_numerator(load_case):
    (p,) = problems(load_case("cross_unit"))
    assert (p.found, p.expected) == ("850", "800")
    # the elements as the template labels them, not their codes
    assert "(Người trưởng thành tiếp cận dịch vụ số y tế / Dân số trưởng thành (từ 18 tuổi))" in p.detail
    assert "adult_digital_health" not in p.message


def test_date_too_late_limit(load_case):
    subs = load_case("date_too_late.csv")
    (p,) = problems(subs)
    # due 2026-12-10 for November, plus 365 days: 2027-12-10 is still believable, 2062-12-05 is not.
    assert (p.found, p.detail) == ("05/12/2062", "2026-11 (muộn nhất 10/12/2027)")
    # both values are kept; the implausible date is unknown, the believable one stays
    dates = subs.data.sort_values("village")["submitted_on"].tolist()
    assert len(dates) == 2 and pd.isna(dates[0]) and dates[1] == pd.Timestamp("2027-12-10")


def test_other_unit_message_names_both_units(load_case):
    p = load_case("vhxh_other_units_elements.csv").problems[0]
    assert p.expected == "Phòng Văn hóa - Xã hội" and p.detail == "Công an xã"


def test_warnings_do_not_reject(load_case):
    subs = load_case("history")
    jump = next(p for p in subs.problems if p.code == "W_JUMP")
    fall = next(p for p in subs.problems if p.code == "W_STOCK_FALL")
    assert (jump.found, jump.expected) == ("1500", "1008")
    # changes 2, 2, 2, 2, 492: median 2, MAD 0 -> mean absolute deviation 98; z = 490 / (1.2533 x 98) = 3.99 > 3.5
    # flags it; the message speaks of the values, not of the score: 1008 -> 1500 is +492, the usual change +2.
    assert jump.message == ("Tổng dân số, Thôn 1, tháng 6/2026: tăng bất thường từ 1008 (tháng trước) lên 1500 (+492), "
                            "khác hẳn các tháng trước (thường tăng khoảng 2 mỗi tháng).")
    assert "điểm z" not in jump.message and "ngưỡng" not in jump.message
    assert (fall.found, fall.expected) == ("800", "1003") and "20%" in fall.detail
    assert len(subs.data) == 11 and subs.errors == []


def test_found_values_read_as_written(load_case):
    found = [p.found for p in problems(load_case("value_not_whole.csv"))]
    assert found == ["12,5", "1,5"]  # '12,5' and '1.5' (one decimal digit: a decimal point) both mean a fraction


def test_template_problems_point_at_excel_cells(load_case):
    subs = load_case("template_bad_values.xlsx")
    assert values(subs) == [("Thôn 4", "pop_total", 1234.0)]
    neg = next(p for p in subs.problems if p.code == "E_VALUE_NEGATIVE")
    assert neg.place == "template_bad_values.xlsx, trang 'Số liệu', dòng 9, cột D"


def test_renamed_template_sheet(load_case):
    subs = load_case("template_renamed.xlsx")
    assert set(subs.data["sheet"]) == {"Tháng 11"}
    assert values(subs) == [("Thôn 1", "pop_4g5g", 1100.0), ("Thôn 2", "adult_digital_health", 640.0),
                            ("", "officials_trained", 29.0), ("", "officials_total", 31.0)]
    assert set(subs.data["unit"]) == {"vhxh"} and set(subs.data["period"]) == {"2026-11"}
    assert set(subs.data["submitted_on"].dt.strftime("%Y-%m-%d")) == {"2026-12-06"}


def test_one_problem_for_a_template_date(load_case):
    subs = load_case("template_date_missing.xlsx")
    assert len(problems(subs)) == 1 and len(subs.rejected) == 0 and len(subs.data) == 3
    assert subs.data["submitted_on"].isna().all()


def test_a_folder_of_everything_is_accounted(tmp_path, plan):
    import shutil

    from kpi.intake.validate import load_submissions
    from tests.conftest import FILES

    sub = tmp_path / "submissions"
    for src in FILES.iterdir():
        if src.is_file():
            (sub / "x").mkdir(parents=True, exist_ok=True)
            shutil.copy(src, sub / "x" / src.name)
    subs = load_submissions(tmp_path, plan)
    f = subs.files
    assert int(f["accepted"].sum()) == len(subs.data)
    assert int(f["rejected"].sum()) == len(subs.rejected)
    assert int(f["rows_read"].sum()) == len(subs.data) + len(subs.rejected)
    assert isinstance(subs.problem_table, pd.DataFrame) and len(subs.problem_table) == len(subs.problems)


def test_parse_periods_with_empty_cells_and_arrow_strings():
    """An empty period cell next to a good one (found by fuzzing once pyarrow, for dask.dataframe, made
    pandas use Arrow strings): the good one parses, the empty one is no period, nothing raises."""
    import pandas as pd

    from kpi.intake.cells import parse_periods

    for dtype in (object, "str"):
        assert parse_periods(pd.Series(["", "2026-11", "3/2026"], dtype=dtype)).tolist()[1:] == ["2026-11", "2026-03"]
        assert parse_periods(pd.Series(["", "2026-11"], dtype=dtype)).isna().tolist() == [True, False]
    assert parse_periods(pd.Series([""], dtype=object)).isna().all()


# --- intake rules of docs/rules.md §4a: folder and content, corrections, missing places, plain messages ------------

HEADER = "period,unit,village,element,value,submitted_on\n"


def _csv(path, lines: list[str]):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")


def _ca_template(plan, path, period: str, values: dict[str, float], date: str):
    """Công an's template for `period`, pop_total filled for the villages given (plan name -> value)."""
    import openpyxl

    from kpi.intake.template import data_sheet, input_cells, write_template

    write_template(plan, "ca", period, path)
    wb = openpyxl.load_workbook(path)
    ws = data_sheet(wb)
    cells = input_cells(ws)
    for v in plan.villages:
        if v.name in values:
            ws[cells[(v.code, "pop_total")]] = values[v.name]
    ws["C4"] = date
    wb.save(path)


def _pop(subs, period: str) -> dict[str, float]:
    d = subs.data[(subs.data["period"] == period) & (subs.data["element"] == "pop_total")]
    return dict(zip(d["village"], d["value"]))


def test_last_months_template_in_this_months_folder_is_refused(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    sub = tmp_path / "submissions"
    names = [v.name for v in plan.villages]
    november = {n: 1000.0 + i for i, n in enumerate(names)}  # Thôn 1 = 1000 ... Thôn 26 = 1025
    _ca_template(plan, sub / "2026-11" / "ca.xlsx", "2026-11", november, "08/12/2026")
    # December's numbers typed into November's template, saved in December's folder
    _ca_template(plan, sub / "2026-12" / "ca.xlsx", "2026-11", {n: 2000.0 + i for i, n in enumerate(names)},
                 "07/01/2027")
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "E_PERIOD_FOLDER_MISMATCH"]
    assert (p.file, p.sheet, p.row, p.column) == ("2026-12/ca.xlsx", "Số liệu", 3, "C")  # the template's period cell
    assert (p.found, p.expected, p.severity) == ("2026-11", "2026-12", "error")
    assert "26 dòng ghi kỳ báo cáo 2026-11" in p.message and "dùng lại mẫu tháng trước?" in p.message
    assert "sửa kỳ báo cáo trong tệp thành 2026-12" in p.fix.lower()
    assert "chuyển tệp sang thư mục đúng kỳ 2026-11" in p.fix
    # November keeps its own 26 values; nothing is taken as a correction; December has no values
    assert _pop(subs, "2026-11") == november
    assert not any(p.code in ("W_REVISED", "E_DUPLICATE") for p in subs.problems)
    assert _pop(subs, "2026-12") == {}
    # the 26 rows are listed as rejected, not dropped, and the file counts as sent for December
    files = subs.files.set_index("file")
    assert files.loc["2026-12/ca.xlsx", ["rows_read", "accepted", "rejected"]].tolist() == [26, 0, 26]
    assert (subs.rejected["error"] == "E_PERIOD_FOLDER_MISMATCH").sum() == 26
    rec = subs.received[subs.received["file"] == "2026-12/ca.xlsx"]
    assert set(rec["period"]) == {"2026-12"} and set(rec["unit"]) == {"ca"}
    # `kpi validate --period 2026-12` sees it; November's listing names it too (its rows say November)
    assert "2026-12/ca.xlsx" in subs.period_files("2026-12")
    assert [p.code for p in subs.problems_for("2026-12")] == ["E_PERIOD_FOLDER_MISMATCH"]


def test_long_file_rows_of_another_period_are_refused_and_the_rest_kept(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    _csv(tmp_path / "submissions" / "2026-11" / "ttpvhcc.csv",
         ["2026-11,ttpvhcc,,records_total,400,2026-12-05"])
    _csv(tmp_path / "submissions" / "2026-12" / "ttpvhcc.csv",
         ["2026-12,ttpvhcc,,records_total,410,2027-01-06",  # row 2: December, kept
          "2026-11,ttpvhcc,,records_total,999,2027-01-06",  # row 3: November inside December's folder
          "2026-11,ttpvhcc,,records_online,300,2027-01-06"])  # row 4: idem
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "E_PERIOD_FOLDER_MISMATCH"]
    assert (p.file, p.row, p.column, p.found, p.expected) == ("2026-12/ttpvhcc.csv", 3, "period", "2026-11", "2026-12")
    assert "2 dòng ghi kỳ báo cáo 2026-11" in p.message
    d = subs.data.sort_values("period")
    assert list(zip(d["period"], d["element"], d["value"])) == [("2026-11", "records_total", 400.0),
                                                                ("2026-12", "records_total", 410.0)]
    accounted(subs, 4, 2, 2)


def test_a_later_file_corrects_and_every_replaced_value_is_listed(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    sub = tmp_path / "submissions" / "2026-11"
    _csv(sub / "ca.csv", ["2026-11,ca,Thôn 1,pop_total,1200,2026-12-08",
                          "2026-11,ca,Thôn 2,pop_total,950,2026-12-08",
                          "2026-11,ca,Thôn 3,pop_total,870,2026-12-08"])
    _csv(sub / "ca_sua.csv", ["2026-11,ca,Thôn 1,pop_total,1210,2026-12-12",  # corrected
                              "2026-11,ca,Thôn 3,pop_total,870,2026-12-12",  # sent again, same value
                              "2026-11,ca,Thôn 2,pop_total,955,2026-12-12"])  # corrected
    subs = load_submissions(tmp_path, plan)
    assert {k: _pop(subs, "2026-11")[k] for k in ("Thôn 1", "Thôn 2", "Thôn 3")} == \
        {"Thôn 1": 1210.0, "Thôn 2": 955.0, "Thôn 3": 870.0}
    revised = sorted((p for p in subs.problems if p.code == "W_REVISED"), key=lambda p: p.row)
    assert [(p.file, p.row, p.column, p.found, p.expected, p.severity) for p in revised] == [
        ("2026-11/ca_sua.csv", 2, "value", "1210", "1200", "warning"),
        ("2026-11/ca_sua.csv", 4, "value", "955", "950", "warning")]
    assert revised[0].message == (
        "Số liệu được sửa: Tổng dân số, Thôn 1, kỳ 2026-11: giá trị cũ 1200 ở 2026-11/ca.csv dòng 2 (ngày báo cáo "
        "08/12/2026) được thay bằng giá trị mới 1210 ở 2026-11/ca_sua.csv dòng 2 (ngày báo cáo 12/12/2026); bản mới "
        "được dùng vì có ngày báo cáo muộn hơn.")
    # Thôn 3 sent again with the same value: not a correction, one line for the file (1 value)
    (same,) = [p for p in subs.problems if p.code in ("W_DUPLICATE_SAME", "W_RESENT_SAME")]
    assert (same.code, same.file, same.row, same.found, same.expected) == (
        "W_RESENT_SAME", "2026-11/ca_sua.csv", None, "1", "2026-11/ca.csv")
    # each replaced value, in the table the report shows
    assert subs.revisions[["village", "old_value", "old_file", "old_row", "new_value", "new_file", "new_row"]
                          ].values.tolist() == [["Thôn 1", 1200.0, "2026-11/ca.csv", 2, 1210.0, "2026-11/ca_sua.csv", 2],
                                                ["Thôn 2", 950.0, "2026-11/ca.csv", 3, 955.0, "2026-11/ca_sua.csv", 4]]
    assert [f"{d:%d/%m}" for d in subs.revisions["old_date"]] == ["08/12", "08/12"]
    assert [f"{d:%d/%m}" for d in subs.revisions["new_date"]] == ["12/12", "12/12"]
    # the replaced rows are listed as rejected with their code: 6 read = 3 accepted + 3 (2 corrected, 1 repeat)
    accounted(subs, 6, 3, 3)
    files = subs.files.set_index("file")
    assert files.loc["2026-11/ca.csv", ["rejected", "replaced"]].tolist() == [3, 2]
    assert not subs.errors


def test_the_file_sent_later_wins_even_when_its_name_sorts_first(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    sub = tmp_path / "submissions" / "2026-11"
    _csv(sub / "a_ban_sua.csv", ["2026-11,ca,Thôn 1,pop_total,1210,2026-12-12"])  # sent on the 12th
    _csv(sub / "b_ban_dau.csv", ["2026-11,ca,Thôn 1,pop_total,1200,2026-12-08"])  # later name, sent on the 8th
    subs = load_submissions(tmp_path, plan)
    assert _pop(subs, "2026-11") == {"Thôn 1": 1210.0}
    (p,) = [p for p in subs.problems if p.code == "W_REVISED"]
    assert (p.file, p.found, p.expected) == ("2026-11/a_ban_sua.csv", "1210", "1200")
    assert "giá trị cũ 1200 ở 2026-11/b_ban_dau.csv" in p.detail and "ngày báo cáo muộn hơn" in p.detail


def test_same_report_date_and_mark_the_file_saved_later_wins_then_the_name(tmp_path, plan):
    import os

    from kpi.intake.validate import load_submissions

    sub = tmp_path / "submissions" / "2026-11"
    _csv(sub / "ca_1.csv", ["2026-11,ca,Thôn 1,pop_total,1200,2026-12-08"])  # '_1' is no version mark
    _csv(sub / "ca_2.csv", ["2026-11,ca,Thôn 1,pop_total,1190,2026-12-08"])
    os.utime(sub / "ca_1.csv", (1_796_000_000, 1_796_000_000))  # saved later than ca_2.csv
    os.utime(sub / "ca_2.csv", (1_795_000_000, 1_795_000_000))
    subs = load_submissions(tmp_path, plan)
    assert _pop(subs, "2026-11") == {"Thôn 1": 1200.0}
    (p,) = [p for p in subs.problems if p.code == "W_REVISED"]
    assert (p.file, p.found, p.expected) == ("2026-11/ca_1.csv", "1200", "1190")
    assert "cùng ngày báo cáo, cùng dấu lần gửi trong tên, tệp được lưu sau" in p.detail
    os.utime(sub / "ca_1.csv", (1_795_000_000, 1_795_000_000))  # saved at the same second: the name decides
    subs = load_submissions(tmp_path, plan)
    (p,) = [p for p in subs.problems if p.code == "W_REVISED"]
    assert (p.file, p.found, p.expected) == ("2026-11/ca_2.csv", "1190", "1200")
    assert "tên tệp xếp sau theo thứ tự chữ cái" in p.detail


@pytest.mark.parametrize("copy", ["ca (1).csv", "ca_v2.csv", "ca v2.csv", "ca lần 2.csv", "CA-V2.csv", "ca_lan_2.csv"])
def test_same_report_date_a_version_mark_wins_whatever_the_name_order_and_time(tmp_path, plan, copy):
    """A re-send saved as 'ca (1).csv' sorts before 'ca.csv' and may carry an older modification time (copied
    from an e-mail): its version mark decides, and the message names the original's value as the old one."""
    import os

    from kpi.intake.validate import load_submissions

    sub = tmp_path / "submissions" / "2026-11"
    _csv(sub / "ca.csv", ["2026-11,ca,Thôn 1,pop_total,1200,2026-12-08", "2026-11,ca,Thôn 2,pop_total,900,2026-12-08"])
    _csv(sub / copy, ["2026-11,ca,Thôn 1,pop_total,1210,2026-12-08", "2026-11,ca,Thôn 2,pop_total,900,2026-12-08"])
    os.utime(sub / "ca.csv", (1_796_000_000, 1_796_000_000))
    os.utime(sub / copy, (1_795_000_000, 1_795_000_000))
    subs = load_submissions(tmp_path, plan)
    assert _pop(subs, "2026-11") == {"Thôn 1": 1210.0, "Thôn 2": 900.0}
    (p,) = [p for p in subs.problems if p.code == "W_REVISED"]
    assert (p.file, p.found, p.expected) == (f"2026-11/{copy}", "1210", "1200")
    assert f"giá trị cũ 1200 ở 2026-11/ca.csv dòng 2" in p.detail
    assert "cùng ngày báo cáo, tên tệp có dấu lần gửi cao hơn" in p.detail and "ca.csv: không có dấu lần gửi" in p.detail
    (same,) = [p for p in subs.problems if p.code == "W_RESENT_SAME"]
    assert (same.file, same.found) == (f"2026-11/{copy}", "1")
    assert same.message.startswith(f"Tệp gửi lại 1 giá trị không đổi so với 2026-11/ca.csv (ngày báo cáo 08/12/2026;")


def test_an_unknown_report_date_sorts_before_a_known_one(plan):
    from kpi.intake.corrections import _resolve_duplicates

    def row(file, value, date):
        return {"period_p": "2026-11", "unit_p": "ca", "village_p": "Thôn 1", "element_p": "pop_total",
                "value_p": value, "date_p": pd.Timestamp(date) if date else pd.NaT, "file": file, "sheet": "",
                "row": 2, "value_col": None}

    ok = pd.DataFrame([row("z_khong_ngay.csv", 1300.0, None), row("a.csv", 1200.0, "2026-12-08")])
    codes, problems, revisions = _resolve_duplicates(ok, plan)
    assert codes.tolist() == ["W_REVISED", ""]  # the undated row loses, though its name sorts last
    (p,) = problems
    assert (p.file, p.found, p.expected) == ("a.csv", "1200", "1300")
    assert "ngày báo cáo không rõ" in p.detail and "có ngày báo cáo, bản kia không rõ ngày" in p.detail


def test_a_deleted_or_empty_village_row_is_warned(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    names = [v.name for v in plan.villages]
    sub = tmp_path / "submissions" / "2026-11"
    # Công an's template: Thôn 10's row left empty
    _ca_template(plan, sub / "ca.xlsx", "2026-11", {n: 1000.0 for n in names if n != "Thôn 10"}, "08/12/2026")
    # VHXH's long file: pop_4g5g and ehealth_books for every village except Thôn 4 (row deleted); Thôn 7's
    # ehealth_books is sent but negative: rejected with its own error, not reported as missing
    lines = [f"2026-11,vhxh,{n},{e},{-1 if (n, e) == ('Thôn 7', 'ehealth_books') else 500}, 2026-12-08"
             for n in names if n != "Thôn 4" for e in ("pop_4g5g", "ehealth_books")]
    _csv(sub / "vhxh.csv", lines)
    subs = load_submissions(tmp_path, plan)
    gaps = sorted((p.file, p.found, p.expected, p.detail) for p in subs.problems if p.code == "W_VILLAGE_MISSING")
    assert gaps == [
        ("2026-11/ca.xlsx", "Thôn 10", "2026-11", "Thôn 10: thiếu số liệu Tổng dân số"),
        ("2026-11/vhxh.csv", "Thôn 4", "2026-11",
         "Thôn 4: thiếu số liệu Dân số trong vùng phủ sóng 4G/5G, Người dân có Sổ sức khỏe điện tử")]
    p = next(p for p in subs.problems if p.code == "W_VILLAGE_MISSING" and p.found == "Thôn 4")
    assert p.severity == "warning" and p.message.startswith("Thôn 4: thiếu số liệu Dân số trong vùng phủ sóng 4G/5G")
    assert "Thôn 4" in p.fix and "ghi 0" in p.fix
    files = subs.files.set_index("file")
    assert files.loc["2026-11/ca.xlsx", "villages_missing"] == 1
    assert files.loc["2026-11/vhxh.csv", "villages_missing"] == 1
    accounted(subs, 25 + 50, 25 + 49, 1)


def test_a_full_month_has_no_missing_village(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    _csv(tmp_path / "submissions" / "2026-11" / "ca.csv",
         [f"2026-11,ca,{v.name},pop_total,900,2026-12-08" for v in plan.villages])
    subs = load_submissions(tmp_path, plan)
    assert subs.problems == [] and len(subs.data) == 26


def test_jump_down_in_plain_words(plan):
    from kpi.intake.changes import change_warnings
    from tests.conftest import long_frame

    # records_total (a commune-level flow): 100, 102, 104, 106, 108, then 60 in June. Changes 2, 2, 2, 2, -48:
    # median 2, MAD 0, mean absolute deviation 50/5 = 10, z = -50 / 12.533 = -3.99 beyond 3.5, and
    # |-48 - 2| = 50 >= max(10, 5 % of 108) -> flagged.
    data = long_frame([(f"2026-0{m}", "ttpvhcc", "", "records_total", v)
                       for m, v in zip(range(1, 7), (100, 102, 104, 106, 108, 60))])
    (p,) = change_warnings(data, plan)
    assert (p.code, p.found, p.expected, p.row) == ("W_JUMP", "60", "108", 7)
    assert p.message == ("Hồ sơ TTHC tiếp nhận, giải quyết, cấp xã, tháng 6/2026: giảm bất thường từ 108 (tháng trước) "
                         "xuống 60 (−48), khác hẳn các tháng trước (thường tăng khoảng 2 mỗi tháng).")


def test_comma_thousands_hint(tmp_path, plan):
    from kpi.intake.validate import load_submissions

    _csv(tmp_path / "submissions" / "2026-11" / "ca.csv",
         ["2026-11,ca,Thôn 1,pop_total,\"1,234\",2026-12-08",  # read as 1.234: not whole, the comma likely thousands
          "2026-11,ca,Thôn 2,pop_total,\"1,234,567\",2026-12-08",  # not a number at all
          "2026-11,ca,Thôn 3,pop_total,\"12,5\",2026-12-08"])  # a real fraction: no hint
    subs = load_submissions(tmp_path, plan)
    by_row = {p.row: p for p in problems(subs)}
    assert (by_row[2].code, by_row[3].code, by_row[4].code) == ("E_VALUE_NOT_WHOLE", "E_VALUE_NOT_NUMBER",
                                                                "E_VALUE_NOT_WHOLE")
    assert by_row[2].message.endswith("Dấu phẩy có thể là dấu phân cách hàng nghìn: gõ 1234 (không có dấu phẩy).")
    assert "Tổng dân số" in by_row[2].message and "pop_total" not in by_row[2].message
    assert by_row[3].message.endswith("gõ 1234567 (không có dấu phẩy).")
    assert "hàng nghìn" not in by_row[4].message


def test_messages_name_element_labels(load_case):
    p = next(p for p in load_case("village_level_mismatch.csv").problems if p.code == "E_VILLAGE_REQUIRED")
    assert "pop_" not in p.message and "'" + p.detail + "'" in p.message
    from kpi.plan import load_plan

    assert p.detail in {e.label for e in load_plan().elements}


def test_problems_of_a_period(tmp_path, plan):
    """The run's summary and `kpi validate --period` count the period's files and the files naming no period."""
    import shutil

    from kpi.intake.validate import load_submissions
    from tests.conftest import FILES

    sub = tmp_path / "submissions"
    _csv(sub / "2026-11" / "ca.csv", ["2026-11,ca,Thôn 1,pop_total,-1,2026-12-08"])  # an error in November
    _csv(sub / "2026-12" / "ttpvhcc.csv", ["2026-12,ttpvhcc,,records_total,abc,2027-01-05"])  # one in December
    _csv(sub / "ttpvhcc_11.csv", ["2026-11,ttpvhcc,,records_total,-3,2026-12-05"])  # no folder, rows say November
    shutil.copy(FILES / "broken.xlsx", sub / "broken.xlsx")  # names no period: counts for every period
    subs = load_submissions(tmp_path, plan)
    assert len(subs.errors) == 4
    dec = sorted((p.code, p.file) for p in subs.problems_for("2026-12"))
    assert dec == [("E_FILE_UNREADABLE", "broken.xlsx"), ("E_VALUE_NOT_NUMBER", "2026-12/ttpvhcc.csv")]
    nov = sorted((p.code, p.file) for p in subs.problems_for(["2026-11"]) if p.severity == "error")
    assert nov == [("E_FILE_UNREADABLE", "broken.xlsx"), ("E_VALUE_NEGATIVE", "2026-11/ca.csv"),
                   ("E_VALUE_NEGATIVE", "ttpvhcc_11.csv")]
    assert len([p for p in subs.problems_for(["2026-11", "2026-12"]) if p.severity == "error"]) == 4

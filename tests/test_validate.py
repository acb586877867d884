"""Every case of the bad-file corpus: exact codes, places and counts; accepted + rejected == rows read."""

from __future__ import annotations

import pandas as pd
import pytest

from kpi.problems import CATALOG


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
    ("date_missing.csv", [("E_DATE_MISSING", "date_missing.csv", "", 2, "submitted_on")], 1, 0, 1),
    ("date_impossible.csv", [("E_DATE_INVALID", "date_impossible.csv", "", 2, "submitted_on"),
                             ("E_DATE_INVALID", "date_impossible.csv", "", 3, "submitted_on")], 3, 1, 2),
    ("date_before_period.csv", [("E_DATE_BEFORE_PERIOD", "date_before_period.csv", "", 2, "submitted_on")], 1, 0, 1),
    ("date_too_late.csv", [("E_DATE_TOO_LATE", "date_too_late.csv", "", 2, "submitted_on")], 2, 1, 1),
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
    ("combo.csv", [("E_DATE_INVALID", "combo.csv", "", 5, "submitted_on"),
                   ("E_DUPLICATE", "combo.csv", "", 6, "value"),
                   ("E_ELEMENT_UNKNOWN", "combo.csv", "", 4, "element"),
                   ("E_VALUE_NEGATIVE", "combo.csv", "", 3, "value"),
                   ("E_VALUE_NOT_NUMBER", "combo.csv", "", 5, "value")], 6, 2, 4),
    ("history", [("W_JUMP", "ca.csv", "", 7, "value"), ("W_STOCK_FALL", "ca.csv", "", 12, "value")], 11, 11, 0),
    ("long_blank_rows.xlsx", [("E_VALUE_NEGATIVE", "long_blank_rows.xlsx", "Bảng 1", 6, "value")], 3, 2, 1),
    ("template_renamed.xlsx", [], 4, 4, 0),
    ("template_date_missing.xlsx", [("E_DATE_MISSING", "template_date_missing.xlsx", "Số liệu", 4, "C")], 3, 0, 3),
    ("template_bad_values.xlsx", [("E_VALUE_NEGATIVE", "template_bad_values.xlsx", "Số liệu", 9, "D"),
                                  ("E_VALUE_NOT_NUMBER", "template_bad_values.xlsx", "Số liệu", 8, "C"),
                                  ("E_VALUE_NOT_WHOLE", "template_bad_values.xlsx", "Số liệu", 10, "C")], 4, 1, 3),
    ("template_points.xlsx", [("E_NUMERATOR_ABOVE_DENOMINATOR", "template_points.xlsx", "Số liệu", 8, "C")], 3, 2, 1),
    ("template_empty.xlsx", [("E_FILE_EMPTY", "template_empty.xlsx", "Số liệu", 0, "")], 0, 0, 0),
    ("template_date_text.xlsx", [("E_DATE_INVALID", "template_date_text.xlsx", "Số liệu", 4, "C")], 1, 0, 1),
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

    from tests.conftest import FILES
    from kpi.validate import load_submissions

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
    (p,) = problems(load_case("date_too_late.csv"))
    # due 2026-12-10 for November, plus 365 days: 2027-12-10 is still believable, 2062-12-05 is not.
    assert (p.found, p.expected) == ("2062-12-05", "2027-12-10")


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
    assert len(problems(subs)) == 1 and len(subs.rejected) == 3


def test_a_folder_of_everything_is_accounted(tmp_path, plan):
    import shutil

    from tests.conftest import FILES
    from kpi.validate import load_submissions

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

    from kpi.validate import parse_periods

    for dtype in (object, "str"):
        assert parse_periods(pd.Series(["", "2026-11", "3/2026"], dtype=dtype)).tolist()[1:] == ["2026-11", "2026-03"]
        assert parse_periods(pd.Series(["", "2026-11"], dtype=dtype)).isna().tolist() == [True, False]
    assert parse_periods(pd.Series([""], dtype=object)).isna().all()

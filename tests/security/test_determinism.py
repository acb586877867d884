"""Issue 6.7: the same inputs give byte-identical scorecard.csv and scorecard.xlsx, and HTML identical but for
the date made."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest

from kpi.core import safety
from tests.security.conftest import MADE_ON


@pytest.mark.slow
def test_scorecard_csv_is_byte_identical(hostile):
    # Catches: ordering, float formatting or a timestamp varying between runs.
    _, _, first, second = hostile
    assert (first / "scorecard.csv").read_bytes() == (second / "scorecard.csv").read_bytes()


@pytest.mark.slow
def test_html_identical_but_for_date_made(hostile):
    # Catches: nondeterministic charts (PNG metadata, random ids) or markup between two runs of the same month.
    _, _, first, second = hostile
    a = (first / "commune.html").read_text(encoding="utf-8")
    b = (second / "commune.html").read_text(encoding="utf-8")
    d = dt.date.fromisoformat(MADE_ON)
    assert f"Lập ngày {d:%d/%m/%Y}" in b
    date = re.compile(r"Lập ngày \d{2}/\d{2}/\d{4}")
    assert len(date.findall(a)) == 1
    assert date.sub("Lập ngày …", a) == date.sub("Lập ngày …", b)


@pytest.mark.slow
def test_scorecard_xlsx_is_byte_identical(hostile):
    _, _, first, second = hostile
    if not (first / "scorecard.xlsx").exists():
        pytest.skip("this build does not write scorecard.xlsx yet")
    assert (first / "scorecard.xlsx").read_bytes() == (second / "scorecard.xlsx").read_bytes()


def test_save_workbook_fixes_time_stamps(tmp_path):
    # Catches: openpyxl stamping the zip entries and docProps/core.xml with the current time.
    def book():
        b = openpyxl.Workbook()
        safety.set_text_cell(b.active["A1"], "Thôn 1")
        return b

    a = safety.save_workbook(book(), tmp_path / "a.xlsx")
    b = safety.save_workbook(book(), tmp_path / "b.xlsx", safety.FIXED_TIME)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as z:
        assert {i.date_time for i in z.infolist()} == {safety.FIXED_TIME.timetuple()[:6]}
        core = z.read("docProps/core.xml").decode()
    assert core.count("2000-01-01T00:00:00Z") == 2
    assert openpyxl.load_workbook(a).active["A1"].value == "Thôn 1"

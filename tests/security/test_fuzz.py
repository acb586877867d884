"""Issue 6.5: fuzzing. Random bytes, random CSV/XLSX shapes and random Unicode go through load_submissions on a
folder: problems come back, no exception escapes (read_file and load_submissions never raise on bad input)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from pathlib import Path

import openpyxl
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kpi.intake.load import RAW_COLUMNS
from kpi.intake.validate import Submissions, load_submissions
from kpi.plan import load_plan

PLAN = load_plan()


def fuzz(n: int) -> settings:
    """Modest, reproducible runs: the suite stays fast and a failure is the same on every machine."""
    return settings(max_examples=n, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                    database=None)


HEADERS = RAW_COLUMNS + ["Kỳ báo cáo", "Đơn vị", "Thôn", "Mã số liệu", "Giá trị", "Ngày báo cáo", "ghi chú"]

# Text cells: any Unicode (control characters, surrogates excluded by UTF-8, RTL marks, quotes, delimiters),
# plus values that look almost right.
near = st.sampled_from(["2026-04", "2026-4", "04/2026", "2026-13", "9999-12", "ca", "vhxh", "Thôn 1", "thon 01",
                        "t01", "pop_total", "startups_new", "1.234", "18,5", "-1", "1e309", "NaN", "=1+1",
                        "2026-05-03", "31/02/2026", "0000-01-01", "", " "])
cell_text = st.one_of(near, st.text(max_size=30))
xlsx_value = st.one_of(
    cell_text.map(lambda s: "".join(ch for ch in s if ch.isprintable() or ch in "\t\n")),
    st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=False),
    st.booleans(), st.none(),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.times(), st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=9999)),
)


def _rows(cell):
    header = st.lists(st.sampled_from(HEADERS), min_size=0, max_size=8)
    body = st.lists(st.lists(cell, max_size=9), max_size=12)
    return st.tuples(header, body).map(lambda hb: [hb[0], *hb[1]])


def _load(files: dict[str, bytes]) -> Submissions:
    with tempfile.TemporaryDirectory() as tmp:
        sub = Path(tmp) / "submissions"
        for name, blob in files.items():
            path = sub / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
        subs = load_submissions(tmp, PLAN)
    assert isinstance(subs, Submissions)
    for p in subs.problems:
        assert p.message and p.fix  # every problem renders its Vietnamese message
    return subs


@fuzz(30)
@given(blob=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".xlsx", ".xls", ""]))
def test_random_bytes(blob, suffix):
    # Catches: decode errors, csv.Error or a broken zip escaping the loaders.
    _load({f"2026-04/ca{suffix}": blob})


@fuzz(30)
@given(rows=_rows(cell_text), delimiter=st.sampled_from([",", ";", "\t"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]))
def test_random_csv_shapes(rows, delimiter, encoding):
    # Catches: ragged rows, odd headers, random Unicode and near-valid values crashing validation.
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    _load({"2026-04/ca.csv": buf.getvalue().encode(encoding, errors="replace")})


@fuzz(15)
@given(sheets=st.lists(_rows(xlsx_value), min_size=1, max_size=3))
@example(sheets=[[RAW_COLUMNS, ["2026-04", "ca", "Thôn 1", "pop_total", 1, dt.datetime(9999, 12, 31)]]])  # was a crash
def test_random_xlsx_shapes(sheets):
    # Catches: Excel-typed cells (dates up to 9999, huge integers, times, booleans) crashing validation.
    book = openpyxl.Workbook()
    for i, rows in enumerate(sheets):
        ws = book.active if i == 0 else book.create_sheet()
        for row in rows:
            ws.append([v if not isinstance(v, str) else v[:1000] for v in row])
    buf = io.BytesIO()
    book.save(buf)
    _load({"2026-04/ca.xlsx": buf.getvalue()})


@fuzz(20)
@given(name=st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1,
                    max_size=20),
       value=cell_text, village=cell_text)
@example(name="0", value="2026-04", village="2026-04")  # every row rejected: was a crash in validate
def test_random_unicode_names_and_cells(name, value, village):
    # Catches: file names with any Unicode (control characters, RTL marks) or valid rows with odd cells crashing.
    if name in (".", ".."):
        return
    body = "\n".join([",".join(RAW_COLUMNS), f'2026-04,ca,"{village.replace(chr(34), "")}",pop_total,'
                      f'"{value.replace(chr(34), "")}",2026-05-03'])
    _load({f"2026-04/{name}.csv": body.encode("utf-8"), "2026-04/vhxh.csv": body.encode("utf-8")})

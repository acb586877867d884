"""Issue 6.4: size and shape. A very large CSV, an xlsx zip bomb, a million-row sheet and a binary file named
.csv are refused within bounded memory with a Vietnamese message, and the rest of the month is still reported.

Bounds (kpi/core/safety.py): KPI_MAX_FILE_MB=20, KPI_MAX_UNZIPPED_MB=50, KPI_MAX_ROWS=20000, KPI_MAX_COLUMNS=200."""

from __future__ import annotations

import io
import os
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kpi.intake.validate import load_submissions
from tests.security.conftest import HEADER

GOOD = HEADER + "\n2026-04,ca,Thôn 1,pop_total,200,2026-05-03\n"
MB = 1024 * 1024


def _month(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    sub = data / "submissions" / "2026-04"
    sub.mkdir(parents=True)
    (sub / "ca.csv").write_text(GOOD, encoding="utf-8")
    return data, sub


def _load_measured(data: Path, plan):
    """load_submissions with Python's peak allocation (bytes) while it ran."""
    tracemalloc.start()
    try:
        subs = load_submissions(data, plan)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return subs, peak


def _only(subs, code: str):
    found = [p for p in subs.problems if p.code == code]
    assert len(found) == 1, [p.describe() for p in subs.problems]
    assert subs.data["value"].tolist() == [200.0], "the rest of the month must still be read"
    return found[0]


def _xlsx_with_sheet(path: Path, sheet_chunks) -> Path:
    """A workbook whose first sheet's XML is written from the given chunks (streamed into the zip)."""
    buf = io.BytesIO()
    openpyxl.Workbook().save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                with dst.open(info.filename, "w", force_zip64=True) as fh:
                    for chunk in sheet_chunks:
                        fh.write(chunk)
            else:
                dst.writestr(info, src.read(info.filename))
    return path


SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              b'spreadsheetml/2006/main"><dimension ref="A1:F1048576"/><sheetData>')
SHEET_TAIL = b"</sheetData></worksheet>"


def _row(r: int, cells: list[str]) -> bytes:
    return (f'<row r="{r}">' + "".join(f'<c r="{chr(65 + i)}{r}" t="inlineStr"><is><t>{v}</t></is></c>'
                                       for i, v in enumerate(cells)) + "</row>").encode()


def test_huge_csv_is_refused_before_reading(tmp_path, plan):
    # Catches: read_bytes() of a 300 MB file (memory) — the vulnerable build peaks at 300 MB or more.
    data, sub = _month(tmp_path)
    with open(sub / "kt.csv", "wb") as fh:  # sparse: 300 MB on paper, no disk used
        fh.write(HEADER.encode() + b"\n")
        fh.truncate(300 * MB)
    subs, peak = _load_measured(data, plan)
    p = _only(subs, "E_FILE_TOO_LARGE")
    assert p.file == "2026-04/kt.csv" and "quá lớn" in p.message and "20 MB" in p.message
    assert peak < 15 * MB, f"peak {peak / MB:.1f} MB"


def _stat_saying(size: int):
    """os.fstat as it would answer while a unit's copy of the file was still `size` bytes long."""
    real = os.fstat

    def fstat(fd):
        st = list(real(fd))
        st[6] = size  # st_size
        return os.stat_result(st)
    return fstat


def test_a_file_growing_while_read_is_read_whole_within_the_bound(tmp_path, monkeypatch):
    # Catches: a file still being copied read only up to the size it had when opened (a cut file, its tail lost).
    from kpi.core import safety

    data, sub = _month(tmp_path)
    whole = (GOOD + "2026-04,ca,Thôn 2,pop_total,300,2026-05-03\n" * 40_000).encode("utf-8")  # ~1.9 MB
    (sub / "ca.csv").write_bytes(whole)
    monkeypatch.setattr(os, "fstat", _stat_saying(100))
    assert safety.read_submission(sub / "ca.csv", data / "submissions", "2026-04/ca.csv") == whole
    monkeypatch.setenv("KPI_MAX_FILE_MB", "1")  # grown past the bound while read: refused, never read further
    p = safety.read_submission(sub / "ca.csv", data / "submissions", "2026-04/ca.csv")
    assert (p.code, p.found, p.expected) == ("E_FILE_TOO_LARGE", "hơn 1 MB", "1 MB")


def test_size_bound_is_configurable(tmp_path, plan, monkeypatch):
    data, sub = _month(tmp_path)
    (sub / "kt.csv").write_text(HEADER + "\n" + "2026-04,kt,,startups_new,1,2026-05-03\n" * 40_000, encoding="utf-8")
    monkeypatch.setenv("KPI_MAX_FILE_MB", "1")
    assert "1 MB" in _only(load_submissions(data, plan), "E_FILE_TOO_LARGE").message


def test_xlsx_zip_bomb_is_refused_from_declared_sizes(tmp_path, plan):
    # Catches: openpyxl inflating a sheet of ~120 MB of XML from a file of a few hundred KB.
    data, sub = _month(tmp_path)
    row = _row(2, ["2026-04", "kt", "", "startups_new", "1", "2026-05-03"])
    chunks = [SHEET_HEAD, _row(1, ["period", "unit", "village", "element", "value", "submitted_on"])]
    chunks += [row * 1000] * 600 + [SHEET_TAIL]  # ~120 MB uncompressed (rows repeat: only the size matters)
    bomb = _xlsx_with_sheet(sub / "kt.xlsx", chunks)
    assert bomb.stat().st_size < 2 * MB
    subs, peak = _load_measured(data, plan)
    p = _only(subs, "E_FILE_TOO_LARGE")
    assert "giải nén" in p.message and "50 MB" in p.message
    assert peak < 15 * MB, f"peak {peak / MB:.1f} MB"


def test_million_row_sheet_is_refused_within_bounded_memory(tmp_path, plan):
    # Catches: a tiny xlsx whose rows run to 1 048 576 (openpyxl yields every missing row as an empty row):
    # the vulnerable build materialises a million rows.
    data, sub = _month(tmp_path)
    chunks = [SHEET_HEAD, _row(1, ["period", "unit", "village", "element", "value", "submitted_on"]),
              _row(2, ["2026-04", "kt", "", "startups_new", "1", "2026-05-03"]), _row(1_048_576, ["x"]), SHEET_TAIL]
    _xlsx_with_sheet(sub / "kt.xlsx", chunks)
    subs, peak = _load_measured(data, plan)
    p = _only(subs, "E_SHEET_TOO_LARGE")
    assert "quá nhiều dòng" in p.message and "20000" in p.message and p.sheet == "Sheet"
    assert peak < 30 * MB, f"peak {peak / MB:.1f} MB"


def test_row_bound_applies_to_csv_and_is_configurable(tmp_path, plan, monkeypatch):
    data, sub = _month(tmp_path)
    (sub / "kt.csv").write_text(HEADER + "\n" + "2026-04,kt,,startups_new,1,2026-05-03\n" * 500, encoding="utf-8")
    monkeypatch.setenv("KPI_MAX_ROWS", "100")
    assert "100 dòng" in _only(load_submissions(data, plan), "E_SHEET_TOO_LARGE").message


@pytest.mark.parametrize("blob, code", [
    (bytes(range(256)) * 64, "E_FILE_UNREADABLE"),  # NUL bytes: binary
    (b"\x81\x8d\x8f\x90\x9d" * 1000, "E_FILE_ENCODING"),  # no NUL, neither UTF-8 nor cp1258
    (b'period,unit,village,element,value,submitted_on\n"' + b"x" * 200_000, "E_FILE_UNREADABLE"),  # csv.Error
    (b"PK\x03\x04" + os.urandom(4000), "E_FILE_UNREADABLE"),  # a broken zip named .csv
])
def test_binary_or_broken_csv_is_reported_not_raised(tmp_path, plan, blob, code):
    # Catches: UnicodeDecodeError / csv.Error escaping read_file and stopping the whole month.
    data, sub = _month(tmp_path)
    (sub / "kt.csv").write_bytes(blob)
    p = _only(load_submissions(data, plan), code)
    assert p.file == "2026-04/kt.csv" and p.message

"""Reading files: encodings, delimiters, the declared unit, and fuzzed CSV shapes that must never raise."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.demo import encode_cp1258
from kpi.intake.load import EncodingProblem, decode_csv, fold, unit_from_name
from kpi.intake.validate import load_submissions


@pytest.mark.parametrize("data, text, encoding", [
    ("Thôn Một".encode("utf-8"), "Thôn Một", "utf-8"),
    ("Thôn Một".encode("utf-8-sig"), "Thôn Một", "utf-8"),
    ("Thôn Một".encode("utf-16"), "Thôn Một", "utf-16"),
    (encode_cp1258("Đơn vị;Thôn Một;Người"), "Đơn vị;Thôn Một;Người", "cp1258"),
    ("Thôn 1;café".encode("cp1252"), "Thôn 1;café", "cp1258"),  # same letters in both code pages
    # 0xEC is a tone mark in cp1258 but 'ì' in cp1252; after a digit it cannot be a tone -> cp1252.
    (b"12\xec", "12ì", "cp1252"),
])
def test_decode_csv(data, text, encoding):
    assert decode_csv(data) == (text, encoding)


@pytest.mark.parametrize("data", [b"Th\x81n", b"a,b\x00c", b"\x8d\x90\x9d"])
def test_decode_csv_refuses(data):
    with pytest.raises(EncodingProblem):
        decode_csv(data)


def test_cp1258_yields_nfc():
    text, _ = decode_csv(encode_cp1258("Thôn Ngọc"))
    assert text == unicodedata.normalize("NFC", "Thôn Ngọc")


@pytest.mark.parametrize("name, unit", [("ca.csv", "ca"), ("2026-11/bao_cao_vhxh_t11.xlsx", "vhxh"),
                                        ("KT-2026-11.csv", "kt"), ("so_lieu.csv", None),
                                        ("ca_vhxh.csv", None), ("cach.csv", None), ("vhxh/2026-11.csv", "vhxh"),
                                        ("vhxh/ca.csv", None)])
def test_unit_from_name(name, unit):
    assert unit_from_name(name, ["vhxh", "kt", "ttpvhcc", "ca"]) == unit


def test_fold():
    assert fold("  THÔN   Đông ") == "thon dong"
    assert fold(unicodedata.normalize("NFD", "Thôn 7")) == "thon 7"


CELLS = st.one_of(
    st.sampled_from(["2026-11", "2025-01", "13/2026", "", " ", "ca", "vhxh", "kt", "xx", "Thôn 1", "thôn 07",
                     "Thôn 99", "pop_total", "pop_adult", "satisfaction_points", "startups_new", "1.234", "18,5",
                     "-3", "abc", "2026-12-08", "2026-02-30", "08/12/2026", '"', "\u0301", "=1+1", "1e9", "nan"]),
    st.text(max_size=8),
)
HEADERS = st.sampled_from([
    ["period", "unit", "village", "element", "value", "submitted_on"],
    ["Kỳ báo cáo", "Đơn vị", "Thôn", "Mã số liệu", "Giá trị", "Ngày báo cáo"],
    ["period", "unit", "village", "element", "submitted_on"],
    ["a", "b", "c"],
    [],
])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=HEADERS, rows=st.lists(st.lists(CELLS, max_size=8), max_size=6),
       sep=st.sampled_from([",", ";", "\t"]), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
       junk=st.binary(max_size=6))
def test_fuzzed_csv_never_raises(tmp_path_factory, plan, header, rows, sep, encoding, junk):
    root = tmp_path_factory.mktemp("fuzz")
    sub = root / "submissions"
    sub.mkdir()
    text = "\n".join(sep.join(r) for r in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    (sub / "ca.csv").write_bytes(data + junk)
    subs = load_submissions(root, plan)  # must not raise
    f = subs.files
    assert int(f["rows_read"].sum()) == len(subs.data) + len(subs.rejected)
    assert (f["accepted"] + f["rejected"] == f["rows_read"]).all()
    assert all(p.message for p in subs.problems)


def test_the_formula_precheck_finds_a_formula_however_it_is_written(tmp_path):
    """A template is read a second time for its formulas only when one of its sheets holds a <f> element."""
    import zipfile

    from kpi.intake.formulas import has_formulas as _has_formulas

    sheets = {"prefixed": b'<x:c r="C8"><x:f t="shared" ref="C8:C9" si="0">C6+C7</x:f></x:c>',
              "empty": b'<c r="C8"><f/></c>', "values": b'<c r="C8"><v>1</v></c><font/><fill/>'}
    found = {}
    for name, xml in sheets.items():
        path = tmp_path / f"{name}.xlsx"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("xl/worksheets/sheet1.xml", xml)
            z.writestr("xl/sharedStrings.xml", b"<si><t>=C6+C7</t></si>")  # a text, not a formula
        found[name] = _has_formulas(path)
    assert found == {"prefixed": True, "empty": True, "values": False}
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert _has_formulas(tmp_path / "broken.xlsx")  # unknown: the full reading decides

"""Which of two files of the same report date was sent later: the version mark in the name, then the modification
time, then the name (kpi.intake.versions, docs/corrections.md)."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from kpi.intake import cache, versions


@pytest.mark.parametrize("name, numbers, text", [
    ("2026-11/ca.xlsx", (), ""),
    ("2026-11/ca (1).xlsx", (1,), "(1)"),
    ("ca(2).xlsx", (2,), "(2)"),
    ("ca_v2.xlsx", (2,), "v2"),
    ("ca v2.xlsx", (2,), "v2"),
    ("CA-V3.csv", (3,), "v3"),
    ("v2.xlsx", (2,), "v2"),
    ("ca lần 2.xlsx", (2,), "lần 2"),
    ("ca_lan_3.csv", (3,), "lan_3"),
    ("ca_v2 (1).xlsx", (2, 1), "v2 (1)"),
    ("ca_11.xlsx", (), ""),  # a bare number is a month more often than a version
    ("nov2.csv", (), ""),  # 'v2' inside a word is no mark
    ("bao_cao_t11.xlsx", (), ""),
])
def test_version_mark(name, numbers, text):
    assert versions.version_mark(name) == (numbers, text)


def test_file_order_mark_then_time_then_name():
    files = ["ca.xlsx", "ca (1).xlsx", "ca_v2.xlsx", "b.xlsx", "a.xlsx"]
    modified = {"ca.xlsx": 300.0, "ca (1).xlsx": 100.0, "ca_v2.xlsx": 50.0, "b.xlsx": 200.0, "a.xlsx": 200.0}
    rank = versions.file_order(files, modified)
    # no mark: by time (a and b at 200 by name, then ca at 300); then (1); then v2, whatever their times
    assert sorted(files, key=rank.get) == ["a.xlsx", "b.xlsx", "ca.xlsx", "ca (1).xlsx", "ca_v2.xlsx"]


def test_decided_by_names_the_step_of_the_rule():
    day, later = pd.Timestamp("2026-12-08"), pd.Timestamp("2026-12-12")
    assert versions.decided_by("b.csv", later, "a.csv", day, {}) == "có ngày báo cáo muộn hơn"
    assert versions.decided_by("b.csv", day, "a.csv", pd.NaT, {}) == "có ngày báo cáo, bản kia không rõ ngày"
    assert versions.decided_by("ca (1).csv", day, "ca.csv", day, {}) == (
        "cùng ngày báo cáo, tên tệp có dấu lần gửi cao hơn (ca (1).csv: dấu '(1)'; ca.csv: không có dấu lần gửi)")
    text = versions.decided_by("b.csv", day, "a.csv", day, {"b.csv": 2.0e9, "a.csv": 1.9e9})
    assert text.startswith("cùng ngày báo cáo, cùng dấu lần gửi trong tên, tệp được lưu sau (lưu lúc ")
    assert versions.decided_by("b.csv", pd.NaT, "a.csv", pd.NaT, {}) == (
        "cả hai không rõ ngày báo cáo, cùng dấu lần gửi và cùng giờ lưu, tên tệp xếp sau theo thứ tự chữ cái")


def test_the_cache_key_follows_the_order_of_modification(tmp_path):
    sub = tmp_path / "submissions" / "2026-11"
    sub.mkdir(parents=True)
    for name in ("a.csv", "b.csv"):
        (sub / name).write_text("period,unit,village,element,value,submitted_on\n", encoding="utf-8")
    os.utime(sub / "a.csv", (1_795_000_000, 1_795_000_000))
    os.utime(sub / "b.csv", (1_796_000_000, 1_796_000_000))
    first = cache.data_key(tmp_path, kit="k")
    os.utime(sub / "b.csv", (1_797_000_000, 1_797_000_000))  # later still: the same order, the same key
    assert cache.data_key(tmp_path, kit="k") == first
    os.utime(sub / "a.csv", (1_798_000_000, 1_798_000_000))  # now a.csv was saved last: another order
    assert cache.data_key(tmp_path, kit="k") != first

"""index.html and the month's zip: relative links to what exists, status counts, no executed notebooks."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pandas as pd

from kpi.outputs import publish


@dataclass
class FakeReport:
    unit: str
    files: dict = field(default_factory=dict)
    error: str = ""


def _card(plan) -> pd.DataFrame:
    """Statuses chosen by hand: 3a–3c achieved but 3d behind, so group 3 is behind (not achieved)."""
    chosen = {"1": "achieved", "2": "missed", "3a": "achieved", "3b": "achieved", "3c": "achieved",
              "3d": "behind", "4": "encouraged", "5": "on_track", "6": "encouraged", "7": "behind",
              "8": "behind", "9": "achieved", "10": "no_data", "11": "achieved", "12": "missed",
              "13": "achieved", "14": "achieved", "15": "on_track", "16": "missed"}
    return pd.DataFrame({"indicator": [i.id for i in plan.indicators], "group": [i.group for i in plan.indicators],
                         "status": [chosen[i.id] for i in plan.indicators]})


def _folder(tmp_path: Path) -> Path:
    out = tmp_path / "2026-11"
    out.mkdir()
    for name in ("commune.html", "commune.pdf", "commune.ipynb", "kt.html", "kt.ipynb", "kt.error.txt",
                 "scorecard.csv", "scorecard.xlsx", ".vhxh.part.ipynb"):
        (out / name).write_bytes(b"x")
    return out


def test_index_links_and_counts(tmp_path, plan):
    out = _folder(tmp_path)
    reports = [FakeReport("commune", {"html": out / "commune.html", "pdf": out / "commune.pdf",
                                      "ipynb": out / "commune.ipynb"}),
               FakeReport("kt", {"html": out / "kt.html", "ipynb": out / "kt.ipynb"}),
               FakeReport("ca", {}, error="ValueError: <b>hỏng</b>")]
    index = publish.write_index(plan, "2026-11", _card(plan), reports, out / "index.html", made_on="2026-12-05")
    html = index.read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert sorted(hrefs) == sorted(["commune.html", "commune.pdf", "kt.html", "scorecard.xlsx", "scorecard.csv"])
    assert ".ipynb" not in html
    assert "<script" not in html and "http" not in html  # nothing from the network
    assert "Lập ngày 05/12/2026" in html
    # a failed report: a Vietnamese sentence and where its log is, never the exception's text (changed on purpose)
    assert "hỏng" not in html and "ValueError" not in html
    assert "Chưa tạo được báo cáo này" in html and "logs/ca.log" in html
    assert "chưa có PDF" in html  # kt has HTML only
    # 19 measured: achieved 8, on track 2, behind 3, missed 3, encouraged 2, no data 1.
    # 16 groups: 1 ach, 2 missed, 3 behind (3d), 4 enc, 5 on track, 6 enc, 7 behind, 8 behind, 9 ach, 10 no data,
    # 11 ach, 12 missed, 13 ach, 14 ach, 15 on track, 16 missed -> ach 5, on track 2, behind 3, missed 3, enc 2, nd 1.
    rows = dict(re.findall(r">([^<>]+)</span></td><td class='num'>(\d+)</td><td class='num'>\d+</td>", html))
    measured = dict(re.findall(r">([^<>]+)</span></td><td class='num'>\d+</td><td class='num'>(\d+)</td>", html))
    assert rows == {"Đạt": "5", "Đúng tiến độ": "2", "Chậm tiến độ": "3", "Không đạt": "3", "Khuyến khích": "2",
                    "Chưa có số liệu": "1"}
    assert measured == {"Đạt": "8", "Đúng tiến độ": "2", "Chậm tiến độ": "3", "Không đạt": "3",
                        "Khuyến khích": "2", "Chưa có số liệu": "1"}


def test_index_in_english(tmp_path, plan):
    out = _folder(tmp_path)
    index = publish.write_index(plan, "2026-11", _card(plan), [FakeReport("commune", {})], out / "index.html",
                                lang="en", made_on="2026-12-05")
    html = index.read_text(encoding="utf-8")
    assert '<html lang="en">' in html and "Made on 05/12/2026" in html and "Achieved" in html


def test_zip_holds_shared_files_only(tmp_path, plan):
    out = _folder(tmp_path)
    publish.write_index(plan, "2026-11", _card(plan), [], out / "index.html")
    path = publish.write_zip(out, "2026-11")
    assert path == out / "bao-cao-2026-11.zip"
    with zipfile.ZipFile(path) as zf:
        names = sorted(zf.namelist())
    assert names == sorted(f"bao-cao-2026-11/{n}" for n in ("commune.html", "commune.pdf", "kt.html",
                                                           "index.html", "scorecard.csv", "scorecard.xlsx"))
    again = publish.write_zip(out, "2026-11")  # a second run replaces it and never packs a zip into itself
    with zipfile.ZipFile(again) as zf:
        assert not any(n.endswith(".zip") for n in zf.namelist())


def test_batch_zip_unpacks_to_a_working_folder(rendered, tmp_path):
    with zipfile.ZipFile(rendered.zip_path) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path)
    assert not any(n.endswith(".ipynb") for n in names)
    folder = tmp_path / f"bao-cao-{rendered.period}"
    html = (folder / "index.html").read_text(encoding="utf-8")
    for href in re.findall(r'href="([^"]+)"', html):
        assert (folder / href).is_file(), href
    assert (folder / "commune.html").is_file() and (folder / "scorecard.xlsx").is_file()


def test_province_index_links_every_commune_and_says_what_failed(tmp_path):
    """<out>/province/<P>/index.html: relative links that resolve inside the output folder, one row per
    commune with its state; a commune that has no whole-commune report gets no dead link."""
    out = tmp_path / "out"
    prov = out / "province" / "2026-02"
    a, b = out / "xa_a" / "2026-02", out / "xã b #2" / "2026-02"
    for folder, names in ((prov, ["province.html", "province.pdf", "province_scorecard.csv", "communes.csv"]),
                          (a, ["index.html", "commune.html", "commune.pdf"]), (b, ["index.html", "kt.html"])):
        folder.mkdir(parents=True)
        for name in names:
            (folder / name).write_text("x", encoding="utf-8")
    page = publish.write_province_index("2026-02", [
        ("Xã A", a, [FakeReport("commune"), FakeReport("kt")]),
        ("Xã <B>", b, [FakeReport("kt"), FakeReport("commune", error="InjectedFailure: lỗi")]),
    ], prov, made_on="2026-03-11")
    html = page.read_text(encoding="utf-8")
    assert "Báo cáo tổng hợp cấp tỉnh tháng 2/2026: 2 xã" in html and "Lập ngày 11/03/2026" in html
    hrefs = [unquote(h) for h in re.findall(r'href="([^"]+)"', html)]
    assert all((prov / h).resolve().is_file() for h in hrefs), hrefs
    assert "xã b #2" not in html and "x%C3%A3%20b%20%232" in html  # percent-encoded: '#' would end the path
    assert {"province.html", "province.pdf", "province_scorecard.csv", "communes.csv", "../../xa_a/2026-02/index.html",
            "../../xa_a/2026-02/commune.html", "../../xa_a/2026-02/commune.pdf",
            "../../xã b #2/2026-02/index.html"} == set(hrefs)
    assert "Xã &lt;B&gt;" in html and "Đã tạo 2 báo cáo" in html and "1 báo cáo lỗi: commune" in html

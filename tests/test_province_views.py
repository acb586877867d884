"""The province page (kpi/report/province_views.py): commune names, ranks with ties, top and bottom lists that never
overlap, how many communes stand where on each indicator; and `kpi scorecard --packages` in Vietnamese."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from kpi.report import province_views as pv


def _ranked(values: dict[str, float]) -> pd.DataFrame:
    g = pd.DataFrame({"commune": list(values), "value": list(values.values()), "indicator": "1"})
    return g.assign(rank=g["value"].rank(method="min", ascending=False).astype("Int64"))


def _names(groups) -> list[list[str]]:
    return [[r.commune for r in grp] for grp in groups]


def test_five_communes_top_three_and_bottom_two_never_the_same():
    best, worst = pv.ranked_lists(_ranked({"A": 90, "B": 80, "C": 70, "D": 60, "E": 50}))
    assert _names(best) == [["A"], ["B"], ["C"]]
    assert _names(worst) == [["E"], ["D"]]  # worst first; C is in the top list, so not here


def test_ties_stay_together_and_are_not_split_between_the_lists():
    # ranks 1, 1, 1, 4, 5: the top list is the three tied communes, the bottom list E then D
    best, worst = pv.ranked_lists(_ranked({"A": 100, "B": 100, "C": 100, "D": 40, "E": 10}))
    assert _names(best) == [["A", "B", "C"]] and _names(worst) == [["E"], ["D"]]
    text = pv._rank_text(best, "ratio", "vi")
    assert text == "1. A, B, C (đồng hạng, 100,0%)"
    # all five tied: one group at the top, nothing left for the bottom
    best, worst = pv.ranked_lists(_ranked({c: 1.0 for c in "ABCDE"}))
    assert _names(best) == [list("ABCDE")] and worst == []
    assert pv._rank_text(worst, "count", "vi") == "—"
    # a tie at the bottom: 1, 2, 3, 4, 4 -> top A B C, bottom D and E together (rank 4)
    best, worst = pv.ranked_lists(_ranked({"A": 9, "B": 8, "C": 7, "D": 1, "E": 1}))
    assert _names(worst) == [["D", "E"]]
    assert pv._rank_text(worst, "count", "vi") == "4. D, E (đồng hạng, 1)"


@pytest.fixture(scope="module")
def fixture_report():
    from pathlib import Path

    from kpi import province
    from kpi.core import paths
    from kpi.plan import load_plan

    root = Path(__file__).parent / "fixtures" / "province3"
    plan = load_plan(paths.PLAN_FILE)
    return plan, root, province.province_report(province.load_province(root, plan), plan, "2026-02")


def test_communes_are_named_from_their_commune_yml_everywhere(fixture_report):
    plan, root, rep = fixture_report
    names = pv.commune_names(plan, rep, root, None)
    assert names == {"xa_a": "Xã A", "xa_b": "Xã B", "xa_c": "Xã C"}
    named = pv.named(rep, names)
    assert set(named.communes["commune"]) == {"Xã A", "Xã B", "Xã C"}
    assert list(named.not_reported["commune"]) == ["Xã C"]
    html = str(pv.ranking_table(plan, named).data) + str(pv.not_reported_table(named, plan).data)
    assert "xa_" not in html and "Xã B" in html
    svg = pv.status_grid(plan, named).svg()
    assert "xa_" not in svg and "Xã A" in svg


def test_a_name_two_communes_share_keeps_its_folder(fixture_report, tmp_path):
    plan, _, rep = fixture_report
    note = tmp_path / "packages.json"
    note.write_text(json.dumps({"used": [{"commune_id": "xa_a", "commune": "Xã Mẫu"},
                                         {"commune_id": "xa_b", "commune": "Xã Mẫu"}]}), encoding="utf-8")
    names = pv.commune_names(plan, rep, None, tmp_path)
    assert names == {"xa_a": "Xã Mẫu (xa_a)", "xa_b": "Xã Mẫu (xa_b)", "xa_c": "xa_c"}


def test_summary_counts_communes_on_target_behind_and_without_data(fixture_report):
    """Indicator 1 in February (by hand, tests/test_province.py): A 50 %, B 90 %, C 10 % against a target of 30 %
    by 20/06 -> A and B on target, C behind; indicator 7: A, B reported, C's unit sent nothing."""
    plan, root, rep = fixture_report
    rep = pv.named(rep, pv.commune_names(plan, rep, root, None))
    statuses = rep.communes.set_index(["indicator", "commune"])["status"]
    html = str(pv.status_summary(plan, rep).data)
    row = html.split("<tr>")[[k for k, r in enumerate(html.split("<tr>")) if "1. Phủ sóng 4G/5G" in r][0]]
    cells = [c.split(">", 1)[1].split("</td>")[0] for c in row.split("<td")[1:]]
    on = sum(statuses["1"].isin(["achieved", "on_track"]))
    behind = sum(statuses["1"].isin(["behind", "missed"]))
    assert (on, behind) == (2, 1)
    assert cells[2:5] == ["2", "1", "0"]
    assert "badge" in cells[1]


def test_kpi_scorecard_packages_speaks_vietnamese_and_stays_machine_readable(province_rendered):
    proc = subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--packages", str(province_rendered.packages),
                           "--allow-unsigned"],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split(",")[:6] == ["indicator", "name", "short", "kind", "value", "value_text"]
    first = next(line for line in lines if line.startswith("1,"))
    # 270 of 700 people covered: 38.5714… %, written 38.5714 and "38,6%"; reached ("Đạt") against 30 %
    assert ",38.5714,\"38,6%\",270.0,700.0,30.0," in first and ",achieved,Đạt," in first
    assert "missed" not in proc.stdout or "Không đạt" in proc.stdout
    assert not any(len(x) > 8 for x in __import__("re").findall(r"\d+\.(\d+)", proc.stdout))
    out = json.loads(subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--packages",
                                     str(province_rendered.packages), "--format", "json", "--allow-unsigned"],
                                    capture_output=True, text=True, encoding="utf-8").stdout)
    one = out["indicators"][0]
    assert (one["value"], one["value_text"], one["status_label"], one["deadline"]) == (38.5714, "38,6%", "Đạt",
                                                                                       "2026-06-20")


@pytest.mark.slow
def test_the_province_pdf_opens_on_the_summary(province_rendered, pdftotext):
    """Page 1 of province.pdf: the title, the province's indicators by status, and every indicator's line of
    communes on target, behind and without data; the roll-up table starts on page 2."""
    import re

    pdf = province_rendered.out / "province.pdf"
    text = subprocess.run([pdftotext, "-enc", "UTF-8", "-layout", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    pages = text.split("\f")
    first = re.sub(r"\s+", " ", pages[0])
    assert "Báo cáo tổng hợp cấp tỉnh tháng 2/2026" in first and "Các xã theo từng chỉ tiêu" in first
    assert "Toàn tỉnh: số chỉ tiêu theo trạng thái" in first
    for label in ("1. Phủ sóng 4G/5G", "3d. Dịch vụ số giao thông", "16. Chữ ký số người trưởng thành"):
        assert label in first, label
    assert "Kết quả toàn tỉnh" not in first and "Kết quả toàn tỉnh" in re.sub(r"\s+", " ", pages[1])
    # the communes by name in the rankings (page 2 on); the trust note on page 1 (kpi/report/province_trust.py)
    # names the packages by their folders
    assert re.search(r"1\. Xã B \(90,0%\); 2\. Xã A \(50,0%\); 3\. Xã C \(10,0%\)", re.sub(r"\s+", " ", text))
    # on paper every page says what it is and where it stands, as the commune's do (kpi/templates/report/page.css.j2)
    printed = [re.sub(r"\s+", " ", p) for p in pages if p.strip()]
    assert len(printed) >= 2
    for k, page in enumerate(printed, start=1):
        assert f"Trang {k}/{len(printed)}" in page, (k, page[-200:])
        assert "Báo cáo tổng hợp cấp tỉnh · Tháng 2/2026" in page and "Chỉ tiêu KHCN, ĐMST và CĐS" in page

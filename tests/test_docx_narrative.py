"""The Báo cáo's sentences about each indicator (kpi.outputs.docx_narrative): the change since the previous month
and the month the present pace reaches the target, on a small month worked by hand and against the HTML."""

from __future__ import annotations

import re
import types
from pathlib import Path

import docx
import pandas as pd
import pytest

from kpi import report
from kpi.indicators import compute
from kpi.outputs import docx_narrative, docx_report
from kpi.report import views

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _long(plan, rows: list[tuple]) -> pd.DataFrame:
    """Long data (schema.LONG) of commune-level elements from (period, element, value); the unit is the
    element's own."""
    unit = {e.code: e.unit for e in plan.elements}
    frame = pd.DataFrame([(p, unit[e], "", e, v) for p, e, v in rows],
                         columns=["period", "unit", "village", "element", "value"])
    return frame.assign(value=frame["value"].astype("float64"),
                        submitted_on=pd.to_datetime("2026-10-05").as_unit("ns"), file="test.csv", sheet="",
                        row=range(2, len(frame) + 2)).astype({"row": "int64"})


@pytest.fixture
def september(plan):
    """September 2026, worked by hand (x = month number; the line goes through the last up to 3 months):
    - 5 (stock, ratio; target 15 %, deadline 30/10/2026, month 10): 5, 8, 11 innovating of 100 enterprises in
      July, August, September: 11,0 %, up 3,0 points on August's 8,0 %. Line slope 3: at month 10, 14,0 % < 15:
      behind; 11 + 3 (k − 9) ≥ 15 from k = 10,33, so month 11: after the deadline.
    - 13 (stock; target 50 %, deadline month 10): 30, 40, 45 of 100: 45,0 %, up 5,0. Line through (7, 30),
      (8, 40), (9, 45): slope 15/2 = 7,5, mean 38,33 at x = 8; at 10, 53,33 ≥ 50: on track; 38,33 + 7,5 (k − 8)
      ≥ 50 from k = 9,56: month 10, in time.
    - 7 (flow, count; target 2, deadline 30/11/2026): 1 application in August, 0 in September: year to date 1
      and 1 (no value before August), month 0, down 1; two months, flat line: forecast 1 at the deadline,
      behind, never reaches 2 at this pace.
    - 8 (flows, ratio; target 100 %, continuous): 40 of 50 records in August, 45 of 50 in September: year to
      date 80,0 % then 85/100 = 85,0 %; the month alone 90,0 % against 80,0 %: up 10,0. Slope 5: 85 + 5 (k − 9)
      ≥ 100 from k = 12: December.
    - 2 (stock; target 100 %, deadline 30/05/2026, passed): 20 then 22 of 25 officials: 80,0 % then 88,0 %, up
      8,0, missed; slope 8: 88 + 8 (k − 9) ≥ 100 from k = 10,5: November.
    - 9 (flows; target 86 %, continuous): September only, 40 of 50 = 80,0 %: nothing to compare, one month is
      too few for a line.
    - 10 (flows; target 80 %, continuous): 10 of 100 in August, 11 of 100 in September: year to date 10,0 %
      then 10,5 %, slope 0,5: 80 % only at k = 148, after December 2027."""
    data = _long(plan, [
        *[(m, "enterprises_total", 100) for m in ("2026-07", "2026-08", "2026-09")],
        ("2026-07", "enterprises_innovating", 5), ("2026-08", "enterprises_innovating", 8),
        ("2026-09", "enterprises_innovating", 11),
        ("2026-07", "sme_digital", 30), ("2026-08", "sme_digital", 40), ("2026-09", "sme_digital", 45),
        ("2026-08", "ip_applications_new", 1), ("2026-09", "ip_applications_new", 0),
        ("2026-08", "records_digitized", 40), ("2026-08", "records_total", 50),
        ("2026-09", "records_digitized", 45), ("2026-09", "records_total", 50),
        ("2026-08", "officials_trained", 20), ("2026-08", "officials_total", 25),
        ("2026-09", "officials_trained", 22), ("2026-09", "officials_total", 25),
        ("2026-09", "records_online", 40), ("2026-09", "records_dvc_total", 50),
        ("2026-08", "payments_online", 10), ("2026-08", "payments_total", 100),
        ("2026-09", "payments_online", 11), ("2026-09", "payments_total", 100),
    ])
    return types.SimpleNamespace(plan=plan, period="2026-09", scorecard=compute.scorecard(data, plan, "2026-09"),
                                 history=compute.history(data, plan, "2026-09"))


def test_pace_worked_by_hand(september):
    pace = compute.pace(september.history, september.plan, september.period)
    assert pace.loc["5", "slope"] == pytest.approx(3.0) and pace.loc["5", "reach"] == 11
    assert pace.loc["13", "slope"] == pytest.approx(7.5) and pace.loc["13", "reach"] == 10
    assert pace.loc["7", "months"] == 2 and pace.loc["7", "slope"] == pytest.approx(0) and pd.isna(pace.loc["7", "reach"])
    assert pace.loc["8", "reach"] == 12 and pace.loc["2", "reach"] == 11 and pace.loc["10", "reach"] == 148
    assert pace.loc["9", "months"] == 1 and pd.isna(pace.loc["9", "reach"])
    status = september.scorecard.set_index("indicator")["status"]
    assert (status["5"], status["13"], status["7"], status["8"], status["2"]) == (
        "behind", "on_track", "behind", "behind", "missed")


def test_sentences_worked_by_hand(september):
    said = docx_narrative.indicator_sentences(september)
    assert said["5"] == ("riêng tháng 9/2026: 11,0%, tăng 3,0 điểm % so với tháng 8/2026; theo tốc độ 3 tháng gần "
                         "nhất, sẽ không đạt chỉ tiêu trước hạn 30/10/2026 (dự báo đến hạn: 14,0%); dự kiến đạt chỉ "
                         "tiêu vào tháng 11/2026")
    assert said["13"] == ("riêng tháng 9/2026: 45,0%, tăng 5,0 điểm % so với tháng 8/2026; theo tốc độ 3 tháng gần "
                          "nhất, dự kiến đạt chỉ tiêu vào tháng 10/2026, kịp hạn 30/10/2026 (dự báo đến hạn: 53,3%)")
    assert said["7"] == ("riêng tháng 9/2026: 0, giảm 1 so với tháng 8/2026; theo tốc độ 2 tháng gần nhất, sẽ không "
                         "đạt chỉ tiêu trước hạn 30/11/2026 (dự báo đến hạn: 1); chỉ số không tăng nên chưa đạt được "
                         "chỉ tiêu")
    assert said["8"] == ("riêng tháng 9/2026: 90,0%, tăng 10,0 điểm % so với tháng 8/2026; theo tốc độ 2 tháng gần "
                         "nhất, dự kiến đạt chỉ tiêu vào tháng 12/2026")
    assert said["2"] == ("riêng tháng 9/2026: 88,0%, tăng 8,0 điểm % so với tháng 8/2026; đã quá hạn 30/05/2026; "
                         "theo tốc độ 2 tháng gần nhất, dự kiến đạt chỉ tiêu vào tháng 11/2026")
    assert said["9"] == ("riêng tháng 9/2026: 80,0% (tháng 8/2026 chưa có số liệu để so sánh); chưa đủ số liệu để "
                         "dự báo khi nào đạt (cần số liệu của ít nhất 2 tháng)")
    assert said["10"] == ("riêng tháng 9/2026: 11,0%, tăng 1,0 điểm % so với tháng 8/2026; theo tốc độ 2 tháng gần "
                          "nhất, chưa đạt chỉ tiêu trước hết năm 2027")
    assert said["1"] == ""  # no data at all: the line says so elsewhere


def test_a_month_with_no_month_before_and_a_reach_in_the_next_year(plan):
    """January has no month before it in the plan year; December's pace is named in the next year's months:
    16 % in November and 20 % in December 2026 (target 50 %, due 30/10/2026) reach 50 at k = 12 + 30/4 → 20,
    August 2027."""
    data = _long(plan, [("2026-01", "enterprises_total", 100), ("2026-01", "sme_digital", 16)])
    jan = types.SimpleNamespace(plan=plan, period="2026-01", scorecard=compute.scorecard(data, plan, "2026-01"),
                                history=compute.history(data, plan, "2026-01"))
    assert docx_narrative.indicator_sentences(jan)["13"] == (
        "riêng tháng 1/2026: 16,0%; chưa đủ số liệu để dự báo khi nào đạt (cần số liệu của ít nhất 2 tháng)")
    data = _long(plan, [("2026-11", "enterprises_total", 100), ("2026-11", "sme_digital", 16),
                        ("2026-12", "enterprises_total", 100), ("2026-12", "sme_digital", 20)])
    dec = types.SimpleNamespace(plan=plan, period="2026-12", scorecard=compute.scorecard(data, plan, "2026-12"),
                                history=compute.history(data, plan, "2026-12"))
    assert docx_narrative.indicator_sentences(dec)["13"] == (
        "riêng tháng 12/2026: 20,0%, tăng 4,0 điểm % so với tháng 11/2026; đã quá hạn 30/10/2026; theo tốc độ 2 "
        "tháng gần nhất, dự kiến đạt chỉ tiêu vào tháng 8/2027")


def _cells(row_html: str) -> dict[str, str]:
    return {label: re.sub(r"<[^>]+>", "", text) for label, text in
            re.findall(r'<td[^>]*data-label="([^"]+)"[^>]*>(.*?)</td>', row_html)}


def test_the_docx_says_the_htmls_month_and_change_for_every_indicator(tmp_path):
    """The sample's November: each indicator's line in section II carries the month value and the change that
    the HTML scorecard shows (its 'Tháng này' and 'So tháng trước' cells, read from the HTML)."""
    r = report.build("2026-11", "commune", SAMPLE, made_on="2026-12-05")
    html = views.scorecard_table(r).data
    body = html[html.index("<tbody"):html.index("</tbody>")]
    lines = [p.text for p in docx.Document(docx_report.write_docx(r, tmp_path / "b.docx", r.notes)).paragraphs]
    checked = 0
    for row in body.split("<tr>")[1:]:
        c = _cells(row)
        ind = c["STT"]
        if c["Tháng này"] == "—":
            continue
        line = next(p for p in lines if p.startswith(f"- Chỉ tiêu {ind} ("))
        change = c["So tháng trước"]
        moved = ("không đổi" if change.startswith("±") else
                 f"{'tăng' if change.startswith('+') else 'giảm'} {change[1:]}")
        assert f"riêng tháng 11/2026: {c['Tháng này']}, {moved} so với tháng 10/2026" in line, (ind, line)
        checked += 1
    assert checked == 18  # 19 indicators, 15 without data
    # the forecast at the deadline is the HTML's 'Dự báo đến hạn' (its unit tables), wherever the line gives one
    detail = views.unit_detail(r).data
    forecasts = {c["STT"]: c["Dự báo đến hạn"] for c in map(_cells, detail.split("<tr>")[1:]) if "STT" in c}
    quoted = {m.group(1): m.group(2) for p in lines
              for m in [re.match(r"- Chỉ tiêu (\w+) \(.*dự báo đến hạn: ([^)]+)\)", p)] if m}
    assert quoted == {"7": forecasts["7"]} and forecasts["7"] == "1"  # the one behind with a deadline to come

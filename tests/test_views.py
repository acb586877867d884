"""First-page views: a short urgent list, the running header's CSS strings escaped, English words."""

from __future__ import annotations

import re

import pytest

from kpi.report import templates, views


@pytest.fixture(scope="module")
def reports(demo_dir):
    from kpi import report

    return {lang: report.build("2026-11", "commune", demo_dir, lang=lang, made_on="2026-12-05")
            for lang in ("vi", "en")}


def test_css_string_cannot_leave_the_style_element():
    s = templates.css_string('xã "A" </style><script>alert(1)</script> \\ \n')
    assert s.startswith('"') and s.endswith('"')
    assert "</style>" not in s and "<" not in s and "\n" not in s
    assert s.count('"') == 2  # the inner quotes are escaped as \22
    assert "xã" in s


def test_running_header_and_page_numbers(reports):
    css = views.page_css(reports["vi"])
    assert "size: A4" in css
    assert '@top-left { content: "xã Quảng Ngọc · Tháng 11/2026"' in css
    assert 'counter(page) "/" counter(pages)' in css and '"Trang "' in css
    assert '"Page "' in views.page_css(reports["en"])


def test_summary_lists_five_urgent_items_then_how_many_more(reports):
    r = reports["vi"]
    from kpi.indicators import compute

    urgent = compute.urgent(r.card)
    html = views.summary(r).data
    shown = re.findall(r"<li>", html.split("Hạn hoàn thành trong 60 ngày tới")[0])
    assert len(shown) == min(5, len(urgent))
    if len(urgent) > 5:
        assert f"… và {len(urgent) - 5} chỉ tiêu khác" in html
    # nearest deadline first: the first listed is the first of the urgent order
    first = urgent.iloc[0]
    assert html.index(f"<b>{first.indicator}.</b>") < html.index("</ul>")


def test_scorecard_table_has_every_indicator_once(reports, plan):
    html = views.scorecard_table(reports["vi"]).data
    rows = re.findall(r'<tr><td data-label="STT">([0-9]+[a-z]?)</td>', html)
    assert rows == [i.id for i in plan.indicators]
    # and on a phone, the same rows as lines that open on a tap
    lines = re.findall(r"<summary><span class='name'>([0-9]+[a-z]?)\. ", html)
    assert lines == [i.id for i in plan.indicators]
    assert "Bảng tổng hợp chỉ tiêu" in html


def test_english_rendering(reports):
    r = reports["en"]
    head = views.header(r).data
    assert "Quảng Ngọc commune" in head and "Month 11/2026" in head and "Made on 05/12/2026" in head
    summary = views.summary(r).data
    assert "Plan&#x27;s 16 indicators" in summary or "Plan's 16 indicators" in summary
    assert "Needs action now" in summary
    assert "Scorecard" in views.scorecard_table(r).data


def test_plan_text_is_escaped(reports, plan):
    import dataclasses

    r = reports["vi"]
    evil = dataclasses.replace(plan, units=tuple(dataclasses.replace(u, short="<i>x</i>") for u in plan.units))
    html = views.scorecard_table(dataclasses.replace(r, plan=evil)).data
    assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html


def test_dates_are_written_day_month_year_everywhere():
    """One formatter (kpi.core.formats.date) for the report, the Excel scorecard and the index page."""
    import datetime as dt

    import pandas as pd

    from kpi.core.formats import date as date_text

    assert date_text("2026-02-05") == "05/02/2026"
    assert date_text(dt.date(2026, 12, 31)) == "31/12/2026"
    assert date_text(pd.Timestamp("2026-01-10 13:45")) == "10/01/2026"
    assert date_text(pd.NaT) == date_text(None) == date_text("") == date_text(float("nan")) == ""


def _data_with(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / "submissions" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


HEADER = "period,unit,village,element,value,submitted_on\n"


def test_summary_top_block_lists_units_not_sent_with_officers(tmp_path):
    from kpi import report

    # only kt and ttpvhcc sent December; vhxh and ca did not
    data = _data_with(tmp_path, {
        "2026-12/kt.csv": HEADER + "2026-12,kt,,enterprises_total,40,2027-01-08\n",
        "2026-12/ttpvhcc.csv": HEADER + "2026-12,ttpvhcc,,records_total,100,2027-01-09\n"})
    r = report.build("2026-12", "commune", data, made_on="2027-01-12")
    html = views.summary(r).data
    top = html[:html.index("Cần xử lý ngay")]
    assert "Chưa gửi số liệu tháng 12 (2/4 đơn vị)" in top
    assert "Phòng Văn hóa - Xã hội</b>: Chưa gửi · Nguyễn Văn Ninh · 0778540708" in top  # Phụ lục II
    assert "Công an xã</b>: Chưa gửi" in top
    assert "Phòng Kinh tế</b>" not in top and "Trung tâm Phục vụ" not in top
    assert top.index("Chưa gửi số liệu") < top.index("16 chỉ tiêu của kế hoạch")  # first thing on page 1


def test_empty_month_every_unit_not_sent_and_charts_say_no_data(tmp_path):
    from kpi import report
    from kpi.report import charts

    r = report.build("2026-12", "commune", _data_with(tmp_path, {}), made_on="2027-01-12")
    assert list(r.timeliness["status"]) == ["missing"] * 4
    assert "Chưa gửi số liệu tháng 12 (4/4 đơn vị)" in views.summary(r).data
    assert "19/19 chỉ số chưa có số liệu" in views.summary(r).data
    assert "Chưa gửi" in views.data_quality(r).data
    for chart in (charts.scorecard_chart(r), charts.trends(r), charts.village_heatmap(r)):
        assert "Chưa có số liệu tháng 12/2026" in chart._repr_html_()


def test_indicator_16_target_has_a_decimal_comma(reports):
    html = views.scorecard_table(reports["vi"]).data
    row16 = html[html.index('<td data-label="STT">16</td>'):]
    row16 = row16[:row16.index("</tr>")]
    assert "35,4%" in row16 and "35.4%" not in html
    assert "35.4%" in views.scorecard_table(reports["en"]).data  # English keeps its decimal point


def test_month_table_in_plan_order(reports):
    from kpi.report import charts

    order = list(charts.month_table(reports["vi"].history).index)
    assert order == ["1", "2", "3a", "3b", "3c", "3d", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13",
                     "14", "15", "16"]
    shuffled = reports["vi"].history.drop(columns="order").sort_values("indicator")  # text order 1, 10, 11, …
    assert list(charts.month_table(shuffled).index) == order


def test_the_footer_links_the_tables_the_batch_says_it_writes_not_what_happens_to_be_there(reports, tmp_path):
    """A report of the batch links the shared tables the batch writes beside it (PeriodData.beside), whether or not
    they are written yet when the report is made; a notebook run by hand (no batch) links those in the folder."""
    from dataclasses import replace

    r = reports["vi"]
    (tmp_path / "scorecard.csv").write_text("x\n", encoding="utf-8")

    def links(report) -> list[str]:
        return re.findall(r'href="([^"]+)"', views.footer(report, str(tmp_path)).data)

    assert links(r) == ["index.html", "scorecard.csv"]  # found in the folder: the workbook is not there
    assert links(replace(r, beside=("scorecard.xlsx", "scorecard.csv"))) == ["index.html", "scorecard.xlsx",
                                                                             "scorecard.csv"]
    assert links(replace(r, beside=())) == ["index.html"]  # neither written (a full disk): no dead link

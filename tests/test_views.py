"""First-page views: a short urgent list, the running header's CSS strings escaped, English words."""

from __future__ import annotations

import re

import pytest

from kpi import views


@pytest.fixture(scope="module")
def reports(demo_dir):
    from kpi import report

    return {lang: report.build("2026-11", "commune", demo_dir, lang=lang, made_on="2026-12-05")
            for lang in ("vi", "en")}


def test_css_string_cannot_leave_the_style_element():
    s = views.css_string('xã "A" </style><script>alert(1)</script> \\ \n')
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
    from kpi import compute

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
    rows = re.findall(r"<tr><td>([0-9]+[a-z]?)</td>", html)
    assert rows == [i.id for i in plan.indicators]
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
    """One formatter (i18n.date_text) for the report, the Excel scorecard and the index page."""
    import datetime as dt

    import pandas as pd

    from kpi.i18n import date_text

    assert date_text("2026-02-05") == "05/02/2026"
    assert date_text(dt.date(2026, 12, 31)) == "31/12/2026"
    assert date_text(pd.Timestamp("2026-01-10 13:45")) == "10/01/2026"
    assert date_text(pd.NaT) == date_text(None) == date_text("") == date_text(float("nan")) == ""

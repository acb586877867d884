"""Charts: Vietnamese glyphs present in the font, status told apart without colour, every chart draws."""

from __future__ import annotations

import io
import itertools
import warnings

import pytest
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from matplotlib.ft2font import FT2Font

from kpi.core.i18n import STATUS_COLORS, STATUS_LABELS, STATUSES
from kpi.report import charts


def _grey(color: str) -> float:
    """Luma as a greyscale print or Pillow's convert('L') gives it (ITU-R 601)."""
    r, g, b = to_rgb(color)
    return 0.299 * r + 0.587 * g + 0.114 * b


def test_font_has_every_vietnamese_letter_the_charts_use(plan):
    path = font_manager.findfont(font_manager.FontProperties(family=charts.FONT), fallback_to_default=False)
    assert "DejaVuSans" in path.replace("-", "").replace(" ", "")
    have = set(FT2Font(path).get_charmap())
    words = [s for lang in ("vi", "en") for s in STATUS_LABELS[lang].values()]
    words += [v if isinstance(v, str) else " ".join(v) for lang in ("vi", "en") for v in charts.WORDS[lang].values()]
    words += [i.short for i in plan.indicators] + [i.name for i in plan.indicators] + plan.village_names
    missing = sorted({ch for w in words for ch in w if not ch.isspace() and ord(ch) not in have})
    assert missing == []
    assert {ord(c) for c in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđĐ"} <= have


def test_statuses_differ_without_colour():
    """Two statuses whose colours print as nearly the same grey must differ by hatching (words go with both)."""
    for a, b in itertools.combinations(STATUSES, 2):
        if abs(_grey(STATUS_COLORS[a]) - _grey(STATUS_COLORS[b])) < 0.08:
            assert charts.STATUS_HATCHES[a] != charts.STATUS_HATCHES[b], (a, b)


def test_village_bands_get_lighter_in_greyscale():
    greys = [_grey(c) for c in charts.SHARE_COLORS]
    assert all(b - a > 0.15 for a, b in zip(greys, greys[1:])), greys


@pytest.fixture(scope="module")
def month_report(plan, demo_dir):
    from kpi import report

    return report.build("2026-11", "commune", demo_dir, lang="vi", made_on="2026-12-05")


@pytest.mark.parametrize("name", ["scorecard_chart", "trends", "village_heatmap"])
def test_charts_draw_without_missing_glyphs(month_report, name):
    from PIL import Image

    with warnings.catch_warnings():
        # matplotlib warns "Glyph ... missing from font(s)" when a letter cannot be drawn, and falls back to a box
        warnings.filterwarnings("error", message=".*[Gg]lyph.*")
        warnings.filterwarnings("error", message=".*findfont.*")
        chart = getattr(charts, name)(month_report)
        png = chart.png()
    img = Image.open(io.BytesIO(png)).convert("L")
    assert img.width > 800 and img.height > 500
    assert sum(img.histogram()[:200]) > 0.02 * img.width * img.height  # something is drawn


def test_scorecard_chart_words_and_targets(month_report):
    chart = charts.scorecard_chart(month_report)
    ax = chart.figure.axes[0]
    ratios = month_report.card[month_report.card["kind"] == "ratio"]
    assert len(ax.get_yticklabels()) == len(ratios) == 16  # every ratio indicator (19 less the 3 counts)
    texts = [t.get_text() for t in ax.texts]
    for status in ratios["status"]:
        assert any(STATUS_LABELS["vi"][status] in t for t in texts)
    targets = ax.collections[0].get_offsets()[:, 0]
    assert list(targets) == pytest.approx(list(ratios["target"]))


def test_trends_one_panel_per_indicator_with_status_word(month_report):
    chart = charts.trends(month_report)
    drawn = [ax for ax in chart.figure.axes if ax.get_visible() and ax.axison]
    assert len(drawn) == 19
    for ax, status in zip(drawn, month_report.card["status"]):
        assert any(STATUS_LABELS["vi"][status] in t.get_text() for t in ax.texts)


def test_english_chart_words(plan, demo_dir):
    from kpi import report

    r = report.build("2026-11", "commune", demo_dir, lang="en", made_on="2026-12-05")
    ax = charts.scorecard_chart(r).figure.axes[0]
    assert "target" in ax.get_xlabel()
    assert any(t.get_text().endswith(("Achieved", "Missed", "Behind", "On track", "No data")) for t in ax.texts)


def _boxes_overlap(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def test_trends_fixed_layout_keeps_every_panel_inside_and_apart(month_report):
    """The trends grid uses fixed margins (no tight_layout): every panel with its ticks, title and status
    label stays inside the figure and clear of its neighbours and of the legend."""
    fig = charts.trends(month_report).figure
    m = charts.TRENDS_MARGINS
    width, height = fig.get_size_inches()
    assert fig.subplotpars.left == pytest.approx(m["left"] / width)  # the fixed layout, not the fallback
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()  # the chart's figure is closed: give it a canvas again
    shown = [ax for ax in fig.axes if ax.axison]
    assert len(shown) == len(month_report.card)
    boxes = [ax.get_tightbbox(renderer) for ax in shown]
    page = fig.bbox
    for box in boxes:
        assert box.x0 >= page.x0 and box.y0 >= page.y0 and box.x1 <= page.x1 and box.y1 <= page.y1
    for a, b in itertools.combinations(boxes, 2):
        assert not _boxes_overlap(a, b)
    legend = fig.legends[0].get_window_extent(renderer)
    assert not any(_boxes_overlap(legend, box) for box in boxes)


def test_trends_layout_falls_back_to_tight_layout_for_wide_tick_labels():
    import matplotlib.pyplot as plt
    import numpy as np

    fig, axes = plt.subplots(2, 4, figsize=(10.2, 4.35), squeeze=False)
    for ax in axes.flat:
        ax.set_ylim(0, 12000)  # tick labels of five characters need more room than the fixed margins give
    charts._grid_layout(fig, axes, 2, 4)
    assert fig.subplotpars.left != pytest.approx(charts.TRENDS_MARGINS["left"] / 10.2)
    renderer = fig.canvas.get_renderer()
    assert all(ax.get_tightbbox(renderer).x0 >= 0 for ax in axes.flat)
    plt.close(fig)
    assert np.isfinite(fig.subplotpars.wspace)


def test_alt_text_says_what_each_chart_shows(month_report):
    """Each chart carries a sentence for screen readers (the HTML's img alt): its counts are the report's."""
    card = month_report.card
    ratio = card[card["kind"] == "ratio"]
    sc = charts.scorecard_chart(month_report)
    assert sc.alt.startswith(f"Biểu đồ thanh: giá trị lũy kế của {len(ratio)} chỉ tiêu tỷ lệ")
    for status, n in ratio["status"].value_counts().items():
        assert f"{STATUS_LABELS['vi'][status]}: {n}" in sc.alt
    bundle, meta = sc._repr_mimebundle_()
    assert meta["image/svg+xml"]["alt"] == sc.alt and f"<title>{sc.alt}</title>" in bundle["image/svg+xml"]
    tr = charts.trends(month_report)
    assert f"Biểu đồ xu hướng của {len(card)} chỉ tiêu, tháng 1 đến tháng 11" in tr.alt
    hm = charts.village_heatmap(month_report)
    assert f"của {len(month_report.plan.villages)} thôn" in hm.alt


def test_status_counts_text_by_hand():
    assert charts.status_counts_text(["behind", "achieved", "behind", "no_data"], "vi") == \
        "Đạt: 1; Chậm tiến độ: 2; Chưa có số liệu: 1"


def test_a_chart_is_drawn_once_per_form_until_its_figure_changes(month_report, monkeypatch):
    """A cell's output asks for the same SVG more than once (IPython's formatter, the phone form, the folded and the
    open panels): each form is drawn once; an analyst who then changes `.figure` gets the changed chart."""
    drawn = []
    real = charts.figure_svg
    monkeypatch.setattr(charts, "figure_svg", lambda fig, *a, **kw: drawn.append(fig) or real(fig, *a, **kw))
    chart = charts.scorecard_chart(month_report)
    first = chart.svg()
    chart._repr_mimebundle_()
    chart._repr_svg_()
    assert chart.svg() == first
    assert drawn.count(chart.figure) == 1 and drawn.count(chart.phone) == 1
    chart.figure.axes[0].set_title("Đã sửa tiêu đề")
    assert "Đã sửa tiêu đề" in chart.svg() and "Đã sửa tiêu đề" not in first
    assert drawn.count(chart.figure) == 2 and drawn.count(chart.phone) == 1

    cut = []
    real_cut = charts.panel_svgs
    monkeypatch.setattr(charts, "panel_svgs", lambda fig, *a, **kw: cut.append(fig) or real_cut(fig, *a, **kw))
    grid = charts.trends(month_report)
    bundle, _ = grid._repr_mimebundle_()
    assert len(cut) == 1 and bundle[charts.PHONE_HTML] != bundle["text/html"]
    assert bundle["text/html"].count("<svg") == bundle[charts.PHONE_HTML].count("<svg")

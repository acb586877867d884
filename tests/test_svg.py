"""Every SVG the kit writes is well-formed XML (a browser forgives a stray </g> inline, an <img> in JupyterLab
does not), and a chart's phone form keeps every text at 9 pt (12 CSS px at its natural width)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

SVG_NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def month_report(demo_dir):
    from kpi import report

    return report.build("2026-11", "commune", demo_dir, lang="vi", made_on="2026-12-05")


@pytest.fixture(scope="module")
def commune_charts(month_report):
    from kpi.report import charts

    return {"scorecard": charts.scorecard_chart(month_report), "trends": charts.trends(month_report),
            "villages": charts.village_heatmap(month_report)}


def _parse(svg: str, where: str) -> ET.Element:
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as e:
        raise AssertionError(f"{where}: not well-formed XML: {e}") from None
    assert root.tag == f"{SVG_NS}svg", where
    return root


def test_every_chart_svg_is_well_formed_xml(commune_charts):
    for name, chart in commune_charts.items():
        _parse(chart.svg(), name)
        if chart.phone is not None:
            _parse(chart.phone_svg(), f"{name} (phone)")
    panels = re.findall(r"<svg\b.*?</svg>", commune_charts["trends"].html(), re.S)
    assert len(panels) == 1 + 19  # the legend and one panel per measured indicator
    for k, panel in enumerate(panels):
        _parse(panel, f"trends panel {k}")


def test_the_heatmap_shows_in_jupyterlab(commune_charts):
    """JupyterLab shows image/svg+xml through an <img>: the SVG must be a document of its own, namespaces
    declared, and the same one _repr_svg_ gives."""
    chart = commune_charts["villages"]
    bundle, meta = chart._repr_mimebundle_()
    assert bundle["image/svg+xml"] == chart._repr_svg_()
    root = _parse(bundle["image/svg+xml"], "villages (notebook)")
    assert root.find(f"{SVG_NS}title").text.startswith("Bảng màu theo thôn: mức đạt")
    texts = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert {"Thôn 1", "Thôn 26"} <= texts
    # the 13 bare groups of old: every <g> closed by its own </g>, counted in the text itself
    svg = bundle["image/svg+xml"]
    assert "<g/>" not in svg
    assert len(re.findall(r"<g\b[^>]*[^/]>|<g>", svg)) == svg.count("</g>")


def test_drop_bare_groups_drops_empty_groups_and_keeps_the_rest_balanced():
    from kpi.report.svg import _drop_bare_groups

    svg = '<svg><g><g id="a"/><path d="M0"/></g><g class="k"><g/><text>1</text></g></svg>'
    out = _drop_bare_groups(svg)
    ET.fromstring(out)
    assert out == '<svg><path d="M0"/><g class="k"><text>1</text></g></svg>'  # an empty group shows nothing


def test_phone_forms_write_every_text_at_9_pt(commune_charts):
    """At its natural width (322 px, what a 360 px screen shows it at) 9 pt of the viewBox is 12 CSS px."""
    from kpi.report import phone_charts

    for name in ("scorecard", "villages"):
        root = _parse(commune_charts[name].phone_svg(), name)
        assert root.get("width") == str(round(phone_charts.WIDTH_IN * 96))
        sizes = set()
        css = "".join(s.text or "" for s in root.iter(f"{SVG_NS}style"))
        classes = dict(re.findall(r"\.([\w-]+)\{([^}]*)\}", css))
        for t in root.iter(f"{SVG_NS}text"):
            style = (t.get("style") or "") + ";" + classes.get(t.get("class", ""), "")
            size = re.search(r"font-size: ([\d.]+)px", style)
            assert size, (name, t.text, style)
            sizes.add(float(size[1]))
        assert sizes == {9.0}, (name, sizes)


def test_phone_scorecard_names_every_indicator_whole(commune_charts, month_report):
    svg = commune_charts["scorecard"].phone_svg()
    texts = " ".join(t.text or "" for t in _parse(svg, "scorecard").iter(f"{SVG_NS}text"))
    card = month_report.card[month_report.card["kind"] == "ratio"]
    # the label the wide chart cuts ("13. DN vừa và nhỏ ứng dụng công nghệ…") stands whole, wrapped if need be
    assert "13. DN vừa và nhỏ ứng dụng công nghệ số" in texts
    for row in card.itertuples():
        assert f"{row.indicator}. " in texts
    assert "…" not in texts


def test_a_figure_laid_out_by_tight_layout_is_drawn_once_into_its_svg_and_keeps_its_engine(monkeypatch):
    """tight_layout() leaves a placeholder layout engine, for which savefig would draw the figure once more before
    drawing it into the file: the SVG is drawn once, is the same, and the figure keeps its engine."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from kpi.report.svg import figure_svg

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.bar(["Thôn 1", "Thôn 2"], [3, 5])
    ax.set_title("Số hộ đã có Internet")
    fig.tight_layout()
    plt.close(fig)
    engine = fig.get_layout_engine()
    assert engine is not None  # the placeholder this is about
    draws = []
    real_draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda self, renderer: draws.append(1) or real_draw(self, renderer))
    once = figure_svg(fig, "Biểu đồ", salt="t")
    assert len(draws) == 1
    assert fig.get_layout_engine() is engine
    monkeypatch.setattr(Figure, "draw", real_draw)
    fig.set_layout_engine(None)  # as it would be without the placeholder: the very same SVG
    assert figure_svg(fig, "Biểu đồ", salt="t") == once
    assert "Thôn 1" in once and "Số hộ đã có Internet" in once

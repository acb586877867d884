"""Issue 13: the report on a phone (360 and 412 px, Playwright on the machine's Chromium), charts as SVG with
their words as text, and the PDF printed the same by Chromium and, with no browser, by WeasyPrint."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections import Counter

import pytest

PHONES = [(360, 800), (412, 915)]
CHROMIUM = "/usr/bin/chromium"
PAGES = ("commune.html", "ttpvhcc.html", "index.html")

# Every element that lies wider than the viewport or outside it, every text smaller than 14 px (SVG text is
# the chart's, scaled with it), every link or <summary> lower than 40 px: each as "tag.class 'text'".
MEASURE = """() => {
  const W = window.innerWidth, out = {wide: [], small: [], taps: [], charts: []};
  const name = e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined && e.className
                     ? '.' + e.className.split(' ')[0] : '') + " '" + (e.textContent || '').trim().slice(0, 30) + "'";
  for (const e of document.querySelectorAll('body *')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (getComputedStyle(e).visibility === 'hidden' || e.closest('thead')) continue;
    if (r.left < -0.5 || r.right > W + 0.5) out.wide.push(name(e) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
    const own = [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && !e.closest('svg') && parseFloat(getComputedStyle(e).fontSize) < 14)
      out.small.push(name(e) + ' ' + getComputedStyle(e).fontSize);
    if ((e.tagName === 'A' || e.tagName === 'SUMMARY') && r.height < 40) out.taps.push(name(e) + ' ' + r.height);
  }
  for (const e of document.querySelectorAll('svg.chart, figure.chart-box')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // a wide chart whose phone form is shown instead
    out.charts.push([Math.round(r.left), Math.round(r.right), Math.round(r.width)]);
  }
  return {W, scrollWidth: document.documentElement.scrollWidth, body: getComputedStyle(document.body).fontSize,
          ...out};
}"""


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).replace("\u00ad", "")).strip()


@pytest.fixture(scope="module")
def browser(rendered):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM} (Debian's chromium package)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is a test dependency")
    with sync_api.sync_playwright() as pw:  # the machine's Chromium, never a browser Playwright downloads
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        yield b
        b.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("width,height", PHONES)
def test_phone_page_fits_the_screen(rendered, browser, name, width, height):
    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1)
    try:
        page.goto((rendered.out / name).resolve().as_uri(), wait_until="load")
        first_screen = page.evaluate(MEASURE)
        page.evaluate("document.querySelectorAll('details.fold').forEach(d => d.open = true)")  # every part, opened
        m = page.evaluate(MEASURE)
        assert first_screen["wide"] == [] and first_screen["small"] == [] and first_screen["taps"] == []
        assert m["W"] == width
        assert m["scrollWidth"] <= width, "the page scrolls sideways"
        assert m["wide"] == [], f"elements wider than the {width} px screen: {m['wide'][:8]}"
        assert float(m["body"].removesuffix("px")) >= 14
        assert m["small"] == [], f"text below 14 px: {m['small'][:8]}"
        assert m["taps"] == [], f"tap targets lower than 40 px: {m['taps'][:8]}"
        if name == "commune.html":
            # value against target, villages (their phone forms, the wide ones hidden): an SVG in its figure each;
            # trends: a legend and 19 panels
            assert len(m["charts"]) == 2 * (2 + 1 + 19)
        for left, right, w in m["charts"]:
            assert 0 <= left and right <= width and w > 0
        if name != "index.html":
            # the first screen: title, month, the counts by status, who has not sent, the urgent items begin
            tops = page.evaluate("""() => [...document.querySelectorAll('h1, .sub, .countline, .notsent, h3')]
                                     .map(e => [e.className || e.tagName, e.getBoundingClientRect().bottom,
                                                e.textContent.trim().slice(0, 40)])""")
            counts = [b for c, b, _ in tops if c == "countline"]
            assert counts and max(counts) <= height, f"status counts below the first screen: {tops[:8]}"
            urgent = [b for c, b, t in tops if t.startswith("Cần xử lý ngay")]
            assert urgent and urgent[0] <= height
            first = _norm(page.inner_text("body"))[:600]
            assert "Tháng 11/2026" in first
    finally:
        page.close()


@pytest.mark.slow
def test_phone_scorecard_is_one_line_per_indicator_with_details_on_tap(rendered, browser, plan):
    page = browser.new_page(viewport={"width": 360, "height": 800})
    try:
        page.goto((rendered.out / "commune.html").resolve().as_uri(), wait_until="load")
        assert page.locator("table.scorecard").first.is_visible() is False  # the wide table is for wide screens
        lines = page.locator(".cardlist summary")
        assert lines.count() == len(plan.indicators) == 19
        first = lines.nth(0)
        text = _norm(first.inner_text())
        # indicator 1 of the demo month, in the table's words: name, value, target, status word, deadline
        assert text.startswith("1. Phủ sóng 4G/5G") and "/ 30%" in text and "20/06/2026" in text
        detail = page.locator(".cardlist details").nth(0).locator("dl")
        assert not detail.is_visible()
        first.click()
        assert detail.is_visible() and "Chủ trì" in detail.inner_text()
        box = page.locator(".cardlist details").nth(0).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    finally:
        page.close()


@pytest.mark.slow
def test_wide_screen_keeps_the_table(rendered, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((rendered.out / "commune.html").resolve().as_uri(), wait_until="load")
        assert page.locator("table.scorecard").is_visible()
        assert not page.locator(".cardlist").is_visible()
        assert page.locator("table.scorecard tbody tr").count() == 19
    finally:
        page.close()


@pytest.mark.slow
def test_commune_page_within_twelve_phone_screens_with_its_long_parts_folded(rendered, browser):
    """Issue 26: the sample month's commune page at 360 px within 12 screens of 800 px; the data-quality
    problems are one line per kind and file, closed on the phone (a tap opens one), open on a wide screen."""
    page = browser.new_page(viewport={"width": 360, "height": 800}, device_scale_factor=1)
    try:
        page.goto((rendered.out / "commune.html").resolve().as_uri(), wait_until="load")
        assert page.evaluate("document.documentElement.scrollHeight") <= 12 * 800
        group = page.locator("details.pgroup", has_text="Giá trị âm").first  # Công an's negative value
        assert group.locator("summary").inner_text().replace("\n", " ").startswith("Lỗi Giá trị âm · 2026-11/ca.csv · 1 chỗ")
        assert not group.locator("li").first.is_visible()
        group.locator("summary").click()
        assert group.locator("li").first.is_visible()
    finally:
        page.close()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto((rendered.out / "commune.html").resolve().as_uri(), wait_until="load")
        assert page.locator("details.pgroup", has_text="Giá trị âm").first.locator("li").first.is_visible()
    finally:
        page.close()


# --- charts as SVG ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month_report(plan, demo_dir):
    from kpi import report

    return report.build("2026-11", "commune", demo_dir, lang="vi", made_on="2026-12-05")


def test_chart_svg_keeps_vietnamese_labels_as_text(month_report):
    from kpi.report import charts

    svg = charts.scorecard_chart(month_report).svg()
    texts = [unicodedata.normalize("NFC", t) for t in re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)]
    # the y labels: the plan's short names, whole, numbered
    assert "1. Phủ sóng 4G/5G" in texts
    assert "2. CBCC bồi dưỡng kỹ năng số" in texts
    assert any(t.endswith("· Không đạt") for t in texts)  # the status in words at a bar's end
    assert "Giá trị lũy kế (%); vạch đen: chỉ tiêu giao" in texts
    assert "<path" in svg and "<image" not in svg  # drawn as vectors, no raster inside
    assert re.match(r'<svg\b[^>]*viewBox="0 0 [\d.]+ [\d.]+"', svg)
    assert "width: 100%; max-width: min(100%, 730px)" in svg and "Roboto" in svg  # natural width 7.6 in and "'Noto Sans'" in svg
    assert "<title>Biểu đồ thanh: giá trị lũy kế của 16 chỉ tiêu tỷ lệ" in svg

    trends = charts.trends(month_report).svg()
    assert "Chỉ tiêu giao" in trends and "Dự báo đến hạn" in trends  # the legend's words
    villages = charts.village_heatmap(month_report).svg()
    assert "Thôn 1" in villages  # a village name as the y label


def test_chart_ids_differ_between_the_charts_of_one_page(month_report):
    """Inline SVGs share the page's id space: a clip path of one chart must never clip another."""
    from kpi.report import charts

    ids = [set(re.findall(r'\bid="([^"]+)"', c.svg())) for c in
           (charts.scorecard_chart(month_report), charts.trends(month_report), charts.village_heatmap(month_report))]
    assert not (ids[0] & ids[1]) and not (ids[0] & ids[2]) and not (ids[1] & ids[2])


# --- PDF: Chromium hidden, WeasyPrint prints ----------------------------------------------------------------


def _pages(pdftotext: str, pdf) -> list[str]:
    text = subprocess.run([pdftotext, "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True).stdout
    return [_norm(p) for p in text.decode("utf-8").split("\f")][:-1]  # pdftotext ends every page with \f


@pytest.fixture(scope="module")
def weasy_pdf(rendered, tmp_path_factory):
    """The commune report printed with no browser to be found: PATH and KPI_CHROMIUM cleared (and the places
    installers use, should this machine have one there), so the engine order comes down to WeasyPrint."""
    from kpi.outputs import pdf

    if pdf.weasyprint_problem():
        pytest.skip(f"WeasyPrint cannot print here: {pdf.weasyprint_problem()}")
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("PATH", "")
        mp.delenv("KPI_CHROMIUM", raising=False)
        mp.setattr(pdf, "LINUX_PLACES", ())
        engine = pdf.choose()
        assert engine.name == "weasyprint", engine
        target = tmp_path_factory.mktemp("weasy") / "commune.pdf"
        with pdf.open_printer(engine) as printer:
            printer.print(rendered.out / "commune.html", target)
    finally:
        mp.undo()
    return target


@pytest.mark.slow
def test_weasyprint_pdf_is_a4_with_page_one_rule(weasy_pdf, pdftotext, plan):
    info = subprocess.run(["pdfinfo", str(weasy_pdf)], capture_output=True, text=True).stdout
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    assert abs(float(size[1]) - 595.3) < 1 and abs(float(size[2]) - 841.9) < 1  # A4: 210 × 297 mm
    pages = _pages(pdftotext, weasy_pdf)
    first = pages[0]
    for words in ("Báo cáo thực hiện chỉ tiêu", "Tháng 11/2026", "16 chỉ tiêu của kế hoạch", "19 chỉ số đo",
                  "Cần xử lý ngay", "Bảng tổng hợp chỉ tiêu"):
        assert words in first, words
    missing = [i.id for i in plan.indicators if _norm(i.short) not in first]
    assert missing == [], f"scorecard rows spilled off page 1: {missing}"
    n = len(pages)
    for k, page in enumerate(pages, 1):
        assert f"Trang {k}/{n}" in page and "xã Quảng Ngọc · Tháng 11/2026" in page  # footer and running header


def _words(text: str) -> Counter:
    # WeasyPrint may break a line after '/' ("đăng ký/ năm"), Chromium does not; pdftotext gives the break as
    # a space, so a space after '/' is no word boundary here.
    return Counter(re.sub(r"/ ", "/", text).split())


@pytest.mark.slow
def test_weasyprint_and_chromium_print_the_same_text(weasy_pdf, rendered, pdftotext):
    """Exact equality of the two texts is not possible, for reasons of the engines, not of the report:
    - the two columns of page 1 (urgent items, deadlines) come out of pdftotext interleaved by the height of
      each line, which differs by a fraction of a point between the engines, so the order of lines differs;
    - where a long section flows over a page, the engines break a few lines apart;
    - the village chart's slanted column names are cut by pdftotext into pieces that depend on each
      glyph's position.
    So: the same number of pages; page 1 (which ends with a forced break) has the same words; the whole
    document has the same words outside the village chart's page and the same letters everywhere."""
    rendered.need_chromium()
    a, b = _pages(pdftotext, rendered.out / "commune.pdf"), _pages(pdftotext, weasy_pdf)
    assert len(a) == len(b)
    assert _words(a[0]) == _words(b[0])
    slanted = [k for k, p in enumerate(a) if "Kết quả theo thôn" in p]
    assert slanted == [k for k, p in enumerate(b) if "Kết quả theo thôn" in p]

    def without(pages, skip):
        return sum((_words(p) for k, p in enumerate(pages) if k not in skip), Counter())

    assert without(a, slanted) == without(b, slanted)
    assert Counter("".join(a).replace(" ", "")) == Counter("".join(b).replace(" ", "").replace("/ ", "/"))


def test_engine_order(monkeypatch, tmp_path):
    """KPI_CHROMIUM first; one that names nothing is said and the search goes on; then PATH; then WeasyPrint;
    with neither, no engine and a sentence saying what to install."""
    from kpi.outputs import pdf

    fake = tmp_path / "bin" / "chromium"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(pdf, "LINUX_PLACES", ())
    monkeypatch.setenv("PATH", str(fake.parent))
    monkeypatch.setenv("KPI_CHROMIUM", str(tmp_path / "edge"))
    engine = pdf.choose()
    assert (engine.name, engine.path) == ("chromium", str(fake))
    assert "KPI_CHROMIUM" in engine.notes[0]
    (tmp_path / "edge").write_text("")
    assert pdf.choose().path == str(tmp_path / "edge")
    monkeypatch.delenv("KPI_CHROMIUM")
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(pdf, "weasyprint_problem", lambda: "")  # as if it loads (the weasy_pdf fixture prints for real)
    assert pdf.choose().name == "weasyprint"
    monkeypatch.setattr(pdf, "weasyprint_problem", lambda: "OSError: cannot load library 'pango-1.0-0'")
    engine = pdf.choose()
    assert engine.name == "" and "WeasyPrint" in engine.notes[-1] and "brew install pango" in engine.notes[-1]


def test_usual_places_of_each_system():
    from kpi.outputs import pdf

    mac = pdf.usual_places("darwin", {"HOME": "/Users/an"})
    assert "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" in mac
    assert "/Users/an/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge" in mac
    win = pdf.usual_places("win32", {"PROGRAMFILES(X86)": r"C:\Program Files (x86)", "LOCALAPPDATA": r"C:\Users\An"})
    assert r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" in win
    assert r"C:\Users\An\Google\Chrome\Application\chrome.exe" in win
    assert "/opt/google/chrome/chrome" in pdf.usual_places("linux", {})


@pytest.mark.slow
def test_run_without_a_browser_prints_with_weasyprint_and_says_so(demo_dir, tmp_path, monkeypatch, capsys):
    """`kpi run` where no browser is to be found: the PDF is made by WeasyPrint, the run's summary names the
    engine, and the manifest records it for the report."""
    import json

    from kpi import cli
    from kpi.outputs import pdf

    if pdf.weasyprint_problem():
        pytest.skip(f"WeasyPrint cannot print here: {pdf.weasyprint_problem()}")
    monkeypatch.delenv("KPI_CHROMIUM", raising=False)
    monkeypatch.setattr(pdf, "find_browser", lambda: None)  # PATH and the usual places: nothing
    code = cli.main(["run", "--data", str(demo_dir), "--out", str(tmp_path), "--period", "2026-11", "--unit", "kt"])
    out = capsys.readouterr().out
    assert code == 0
    assert "PDF in bằng: WeasyPrint" in out and "Không tìm thấy" not in out
    folder = tmp_path / "2026-11"
    assert (folder / "kt.pdf").read_bytes().startswith(b"%PDF")
    entry = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]["kt"]
    assert entry["pdf_engine"] == "weasyprint" and entry["outputs"]["pdf"] == "kt.pdf"


def test_chart_svg_takes_any_text_of_the_plan():
    """A name with a backslash, quotes or markup (an analyst's typo, or worse) is text in the SVG, never
    markup and never a regular-expression template."""
    import matplotlib.pyplot as plt

    from kpi.report.svg import figure_svg

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.set_title(r'Thôn \1 "A" <b>')
    svg = figure_svg(fig, alt=r'Thôn \1 "A" <script>', salt="t")
    plt.close(fig)
    assert '<title>Thôn \\1 &quot;A&quot; &lt;script&gt;</title>' in svg
    assert 'aria-label="Thôn \\1 &quot;A&quot; &lt;script&gt;"' in svg
    assert "<script" not in svg and "<b>" not in svg

"""The rendered reports as a reader gets them: HTML opened in headless Chromium, PDF read with poppler."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata

import pytest

pytestmark = pytest.mark.slow

RENDER_UNITS = ("commune", "ttpvhcc")  # as the `rendered` fixture in conftest.py makes them


def _norm(text: str) -> str:
    """NFC, one space for any run of whitespace (long names wrap in table cells), no hyphen-free soft breaks."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text).replace("\u00ad", "")).strip()


def _pdf_text(pdftotext: str, pdf, first: int | None = None, last: int | None = None) -> str:
    cmd = [pdftotext, "-enc", "UTF-8"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    return subprocess.run([*cmd, str(pdf), "-"], capture_output=True, check=True).stdout.decode("utf-8")


def _page_pngs(pdftoppm: str, pdf, tmp_path, dpi: int = 30) -> list:
    prefix = tmp_path / pdf.stem
    subprocess.run([pdftoppm, "-r", str(dpi), "-png", str(pdf), str(prefix)], check=True)
    return sorted(tmp_path.glob(f"{pdf.stem}-*.png"))


def _ink(png_bytes_or_path) -> float:
    """Share of pixels that are not near-white: a blank page scores ~0."""
    from PIL import Image

    img = Image.open(io.BytesIO(png_bytes_or_path) if isinstance(png_bytes_or_path, bytes) else png_bytes_or_path)
    grey = img.convert("L")
    dark = sum(grey.histogram()[:230])
    return dark / (grey.width * grey.height)


def test_batch_makes_every_file(rendered):
    assert [r.unit for r in rendered.result.reports] == list(RENDER_UNITS)
    names = {p.name for p in rendered.out.iterdir()}
    for unit in RENDER_UNITS:
        assert f"{unit}.html" in names and f"{unit}.ipynb" in names
        if rendered.chromium:
            assert f"{unit}.pdf" in names
    assert {"scorecard.csv", "scorecard.xlsx", "index.html"} <= names
    # each report links the period's tables, the workbook too, which the batch writes while the reports run
    for unit in RENDER_UNITS:
        links = re.findall(r'href="([^"#]+)"', (rendered.out / f"{unit}.html").read_text(encoding="utf-8"))
        assert links[-3:] == ["index.html", "scorecard.xlsx", "scorecard.csv"], unit


# --- HTML in a real browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(rendered):
    chromium = rendered.need_chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright-python is a test dependency")
    with sync_api.sync_playwright() as pw:
        # Debian's Chromium, never a browser downloaded by Playwright.
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"], headless=True)
        yield b
        b.close()


def _open(browser, path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    events = {"console_errors": [], "page_errors": [], "requests": []}
    page.on("console", lambda m: events["console_errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: events["page_errors"].append(str(e)))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_timeout(200)
    return page, events


@pytest.mark.parametrize("unit", RENDER_UNITS)
@pytest.mark.parametrize("width", [412, 1280])  # a phone and a desktop
def test_html_report_in_browser(rendered, browser, unit, width):
    page, events = _open(browser, rendered.out / f"{unit}.html", width)
    try:
        assert events["console_errors"] == []
        assert events["page_errors"] == []
        own = (rendered.out / f"{unit}.html").resolve().as_uri()
        outside = [u for u in events["requests"] if u != own and not u.startswith("data:")]
        assert outside == [], f"the report fetched something beyond its own file: {outside[:5]}"
        text = _norm(page.inner_text("body"))
        assert "Báo cáo thực hiện chỉ tiêu Khoa học, công nghệ, đổi mới sáng tạo và chuyển đổi số" in text
        assert "Bảng tổng hợp chỉ tiêu" in text and "Tháng 11/2026" in text
        assert ("xã Quảng Ngọc" if unit == "commune" else "Trung tâm Phục vụ hành chính công") in text
        assert "def " not in text and "import " not in text  # no code in the reader's report
        shot = page.screenshot(full_page=False)
        assert _ink(shot) > 0.03, "the first screen is (nearly) blank"
        # charts are inline SVG: a figure of its own (the wide form, or the phone form on a phone, the other one
        # hidden), or the trends' grid of one SVG per indicator
        charts = page.eval_on_selector_all("main > figure.chart-box > svg, main > figure.chart-box > div > svg, "
                                           "div.chart-grid",
                                           "els => els.map(e => e.getBoundingClientRect().width).filter(w => w > 0)")
        if unit == "commune":
            assert len(charts) == 3  # value against target, trends, villages
        assert all(w > 0 for w in charts), "a chart did not draw"
        if width == 412:  # on a phone nothing scrolls sideways (tests/test_phone.py checks every element)
            overflow = page.evaluate("document.documentElement.scrollWidth")
            assert overflow <= 412
    finally:
        page.close()


def test_index_in_browser(rendered, browser):
    page, events = _open(browser, rendered.out / "index.html", 412)
    try:
        assert events["console_errors"] == [] and events["page_errors"] == []
        assert all(u.startswith("file://") for u in events["requests"])
        hrefs = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))")
        for href in hrefs:
            assert "/" not in href and not href.endswith(".ipynb")
            assert (rendered.out / href).exists(), href
        assert "Toàn xã: số chỉ tiêu theo trạng thái" in _norm(page.inner_text("body"))
    finally:
        page.close()


# --- PDF ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def commune_pdf(rendered):
    rendered.need_chromium()
    return rendered.out / "commune.pdf"


def test_pdf_has_all_19_indicator_names(commune_pdf, pdftotext, plan):
    text = _norm(_pdf_text(pdftotext, commune_pdf))
    missing = [i.id for i in plan.indicators if _norm(i.name) not in text]
    assert missing == [], f"full names not found intact for indicators {missing}"
    assert len(plan.indicators) == 19


def test_pdf_first_page_holds_summary_and_whole_scorecard(commune_pdf, pdftotext, plan):
    first = _norm(_pdf_text(pdftotext, commune_pdf, 1, 1))
    for words in ("Báo cáo thực hiện chỉ tiêu", "xã Quảng Ngọc", "Tháng 11/2026", "Lập ngày 05/12/2026",
                  "16 chỉ tiêu của kế hoạch", "19 chỉ số đo", "Cần xử lý ngay", "Hạn hoàn thành trong 60 ngày tới",
                  "Bảng tổng hợp chỉ tiêu"):
        assert words in first, words
    # every scorecard row is on page 1: each indicator's short name, the last one included
    missing = [i.id for i in plan.indicators if _norm(i.short) not in first]
    assert missing == [], f"scorecard rows spilled off page 1: {missing}"
    second = _norm(_pdf_text(pdftotext, commune_pdf, 2, 2))
    assert "Bảng tổng hợp chỉ tiêu" not in second


def test_pdf_pages_are_a4_with_header_and_numbers(commune_pdf, pdftotext, pdftoppm, tmp_path):
    pngs = _page_pngs(pdftoppm, commune_pdf, tmp_path)
    n = len(pngs)
    assert 4 <= n <= 12, n  # summary, charts, sections on their own pages; not a sprawl
    for k in range(1, n + 1):
        page = _norm(_pdf_text(pdftotext, commune_pdf, k, k))
        assert f"Trang {k}/{n}" in page
        assert "xã Quảng Ngọc · Tháng 11/2026" in page  # the running header
    from PIL import Image

    for png in pngs:
        with Image.open(png) as img:
            w, h = img.size
            assert abs(h / w - 297 / 210) < 0.01  # A4 portrait
        assert _ink(png) > 0.01, f"{png.name} is blank"


def test_unit_pdf_exists_and_first_page_has_its_scorecard(rendered, pdftotext, plan):
    rendered.need_chromium()
    first = _norm(_pdf_text(pdftotext, rendered.out / "ttpvhcc.pdf", 1, 1))
    assert "Trung tâm Phục vụ hành chính công" in first
    for ind in plan.indicators_of("ttpvhcc"):
        assert _norm(ind.short) in first


def test_pdf_made_from_html_without_browser_download(rendered):
    """The batch found the machine's Chromium (or $KPI_CHROMIUM), never a browser of Playwright's own."""
    chromium = rendered.need_chromium()
    assert "ms-playwright" not in chromium


def test_without_a_browser_run_says_so_once_and_still_makes_html(demo_dir, tmp_path, monkeypatch, capsys):
    """No browser and no WeasyPrint (its Pango library missing): HTML only, and one sentence saying what to
    install. (With WeasyPrint, tests/test_phone.py checks that the PDF is made.)"""
    from kpi import cli
    from kpi.outputs import pdf

    monkeypatch.setenv("KPI_CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.setattr(pdf, "find_browser", lambda: None)
    monkeypatch.setattr(pdf, "weasyprint_problem", lambda: "OSError: cannot load library 'libpango-1.0-0'")
    code = cli.main(["run", "--data", str(demo_dir), "--out", str(tmp_path), "--period", "2026-11", "--unit", "kt",
                     "--zip"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("Không tìm thấy Chromium/Chrome/Edge") == 1 and out.count("apt install libpango-1.0-0") == 1
    folder = tmp_path / "2026-11"
    assert (folder / "kt.html").is_file() and not (folder / "kt.pdf").exists()
    assert (folder / "bao-cao-2026-11.zip").is_file() and (folder / "scorecard.xlsx").is_file()


def test_one_browser_prints_what_the_command_line_prints(rendered, pdftotext, tmp_path):
    """The batch prints every PDF with one Chromium (render.PdfPrinter); a file printed by Chromium's own
    --print-to-pdf (render.to_pdf) has the same pages and text."""
    from kpi.outputs import render

    chromium = rendered.need_chromium()
    html = rendered.out / "ttpvhcc.html"
    with render.PdfPrinter(chromium) as printer:
        a = printer.print(html, tmp_path / "a.pdf")
        b = printer.print(rendered.out / "commune.html", tmp_path / "b.pdf")  # the same browser, a second file
        assert printer.fallback == ""
    cli = render.to_pdf(html, tmp_path / "cli.pdf", chromium)
    assert _pdf_text(pdftotext, a) == _pdf_text(pdftotext, cli) == _pdf_text(pdftotext, rendered.out / "ttpvhcc.pdf")
    assert "Trang 1/" in _pdf_text(pdftotext, b, 1, 1)
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


def test_printer_without_a_browser_says_which_file_in_vietnamese(rendered, tmp_path):
    from kpi.outputs import render

    with render.PdfPrinter(str(tmp_path / "no-such-chromium")) as printer:
        with pytest.raises(render.RenderError) as err:
            printer.print(rendered.out / "ttpvhcc.html", tmp_path / "x.pdf")
        assert printer.fallback  # it tried the shared browser, then the file on its own
    assert "ttpvhcc.html" in str(err.value) and "Không chạy được Chromium" in str(err.value)
    assert not (tmp_path / "x.pdf").exists()


def test_every_chart_image_has_vietnamese_alt_text(rendered):
    """Each chart (an inline SVG, or the trends' grid of them) is labelled for screen readers in Vietnamese."""
    for unit in RENDER_UNITS:
        html = (rendered.out / f"{unit}.html").read_text(encoding="utf-8")
        charts = re.findall(r"<svg\b[^>]*>|<div class='chart-grid'[^>]*>", html)
        assert charts, unit
        assert "<img" not in html  # no raster chart left
        labelled = [c for c in charts if "aria-label" in c]
        assert len(labelled) == len(charts) - 1  # all but the trends' legend, which the grid's label covers
        for chart in labelled:
            label = re.search(r"aria-label=[\"']([^\"']*)", chart).group(1)
            assert "chỉ tiêu" in label or "Đạt" in label or "·" in label, chart[:120]


def test_a_png_an_analyst_adds_gets_its_alt_text_or_says_it_has_none(tmp_path):
    """The kit's template writes every image's alt text itself (nbconvert's own English fallback is not run): the
    notebook's alt metadata when given, else a sentence in the report's language."""
    import base64

    import nbformat

    from kpi.outputs.render import to_html

    png = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("display_data", data={"image/png": png}),
        nbformat.v4.new_output("display_data", data={"image/png": png},
                               metadata={"image/png": {"alt": "Biểu đồ của cán bộ"}})])]
    html = to_html(nb, tmp_path / "a.html", "Thử").read_text(encoding="utf-8")
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert alts == ["Hình không có mô tả", "Biểu đồ của cán bộ"]
    assert "No description" not in html
    english = to_html(nb, tmp_path / "b.html", "Test", lang="en").read_text(encoding="utf-8")
    assert re.findall(r'<img [^>]*alt="([^"]*)"', english)[0] == "An image without a description"

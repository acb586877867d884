"""Issue 29: the pages leadership reads, in the machine's Chromium at 360 and 1280 px. WCAG 2.1 A and AA (axe-core,
bundled by axe-playwright-python) finds nothing on the commune's, a unit's, the province's and the index pages;
every text of every chart is at least 11 CSS px on a 360 px screen and lies inside its chart."""

from __future__ import annotations

import pytest

CHROMIUM = "/usr/bin/chromium"
WIDTHS = (360, 1280)

# Each visible SVG text: its size in CSS px (computed font size × the scale from the SVG's units to the screen),
# whether it lies inside its <svg> and inside the screen, and its words.
CHART_TEXTS = """() => {
  const W = window.innerWidth, out = [];
  for (const t of document.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    const svg = t.ownerSVGElement.getBoundingClientRect(), m = t.getScreenCTM();
    const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    const inside = r.left >= svg.left - 1 && r.right <= svg.right + 1 && r.top >= svg.top - 1 &&
                   r.bottom <= svg.bottom + 1 && r.left >= -0.5 && r.right <= W + 0.5;
    out.push([t.textContent, Math.round(px * 100) / 100, inside]);
  }
  return out;
}"""


@pytest.fixture(scope="module")
def pages(rendered, province_rendered):
    """name -> file of every kind of page: the commune's report, a unit's, the commune's index, the province's
    report and the province's index."""
    return {"commune": rendered.out / "commune.html", "unit": rendered.out / "ttpvhcc.html",
            "index": rendered.out / "index.html", "province": province_rendered.out / "province.html",
            "province index": province_rendered.out / "index.html"}


@pytest.fixture(scope="module")
def browser(pages):
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip(f"no {CHROMIUM} (Debian's chromium package)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:  # the machine's Chromium, never a browser Playwright downloads
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
        yield b
        b.close()


@pytest.fixture(scope="module")
def seen(pages, browser):
    """Each page at each width, opened once: axe's violations and the charts' texts."""
    from axe_playwright_python.sync_playwright import Axe

    axe, out = Axe(), {}
    for name, path in pages.items():
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
            try:
                page.goto(path.resolve().as_uri(), wait_until="load")
                # the parts folded on a phone (the trends, the data-quality groups), opened: they are read too
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                result = axe.run(page, options={"runOnly": {"type": "tag", "values": [
                    "wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}, "resultTypes": ["violations"]})
                out[name, width] = {"violations": result.response["violations"], "texts": page.evaluate(CHART_TEXTS)}
            finally:
                page.close()
    return out


def _described(violations: list[dict]) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {len(v['nodes'])} × {v['nodes'][0]['target']} "
            f"{v['nodes'][0].get('failureSummary', '')[:160]}" for v in violations]


@pytest.mark.slow
@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["commune", "unit", "index", "province", "province index"])
def test_no_wcag_violation(seen, name, width):
    violations = seen[name, width]["violations"]
    assert violations == [], f"{name} at {width} px: " + "; ".join(_described(violations))


def test_axe_finds_a_contrast_failure_when_there_is_one(browser, tmp_path):
    """The check itself: grey on grey and an image without words are found (so an empty list means something)."""
    from axe_playwright_python.sync_playwright import Axe

    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html lang="vi"><head><title>x</title></head><body><main>'
                   '<p style="color:#999;background:#aaa">Chậm tiến độ</p><img src="x.png"></main></body></html>',
                   encoding="utf-8")
    page = browser.new_page(viewport={"width": 360, "height": 800})
    try:
        page.goto(bad.as_uri())
        ids = {v["id"] for v in Axe().run(page).response["violations"]}
    finally:
        page.close()
    assert {"color-contrast", "image-alt"} <= ids


@pytest.mark.slow
@pytest.mark.parametrize("name", ["commune", "unit", "province"])
def test_every_chart_text_reads_on_a_phone(seen, name):
    texts = seen[name, 360]["texts"]
    assert len(texts) > 40, texts[:5]  # the charts are there, and shown
    small = [(t, px) for t, px, _ in texts if px < 11]
    assert small == [], f"{name}: {len(small)} chart texts below 11 px at 360 px: {small[:10]}"
    cut = [t for t, _, inside in texts if not inside]
    assert cut == [], f"{name}: chart texts outside their chart or the screen: {cut[:10]}"
    assert not [t for t, _, _ in texts if "…" in t], "a name shortened in a chart"


@pytest.mark.slow
def test_the_commune_phone_charts_name_the_indicator_the_wide_one_cut(seen):
    texts = [t for t, _, _ in seen["commune", 360]["texts"]]
    assert "13. DN vừa và nhỏ ứng dụng công nghệ số" in texts
    assert any(t.startswith("54,8% / 50% · ") for t in texts)  # value, target and status in words

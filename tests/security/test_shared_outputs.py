"""Issue 6.6: what a shared report carries: aggregates and the plan's own text, never raw input rows beyond what
the data-quality section names; the executed notebook is not linked from index.html."""

from __future__ import annotations

import subprocess

import pytest

from kpi.outputs import pdf, render
from tests.security.conftest import RAW_VILLAGE_VALUE, REJECTED_VALUE, SECRET_NOTE, read_html

pytestmark = pytest.mark.slow


def _forms(number: str) -> list[str]:
    """A count as it could be printed: raw, with Vietnamese or English thousands separators."""
    n = int(number)
    return [number, f"{n:,}".replace(",", "."), f"{n:,}"]


def test_html_holds_aggregates_not_raw_rows(hostile):
    # Catches: a report dumping raw submission rows (village counts, a rejected row's other cells, extra columns).
    _, _, out, _ = hostile
    text = "".join(read_html(out / "commune.html").text)
    for form in _forms(RAW_VILLAGE_VALUE) + _forms(REJECTED_VALUE):
        assert form not in text, form
    assert SECRET_NOTE not in text
    assert "1.000.000" in text  # the aggregate of the two villages (987 654 + 12 346) is what is shown


def test_pdf_holds_aggregates_not_raw_rows(hostile, tmp_path):
    # Catches: the same leak in the printed PDF.
    _, _, out, _ = hostile
    chromium = pdf.find_chromium()
    if not chromium:
        pytest.skip("Chromium is not installed")
    made = render.to_pdf(out / "commune.html", tmp_path / "commune.pdf", chromium)
    text = subprocess.run(["pdftotext", "-layout", str(made), "-"], capture_output=True, text=True, check=True).stdout
    for form in _forms(RAW_VILLAGE_VALUE) + _forms(REJECTED_VALUE):
        assert form not in text, form
    assert SECRET_NOTE not in text


def test_index_does_not_link_the_notebook(hostile):
    # Catches: index.html linking the executed .ipynb (it carries parameters, paths and cell outputs).
    _, _, out, _ = hostile
    assert (out / "commune.ipynb").exists()
    links = [a.get("href", "") for tag, a in read_html(out / "index.html").tags if tag == "a"]
    assert links and not any(".ipynb" in h.lower() for h in links)
    html_links = [a.get("href", "") for tag, a in read_html(out / "commune.html").tags if tag == "a"]
    assert not any(".ipynb" in h.lower() for h in html_links)


def test_excel_holds_no_raw_rows(hostile):
    # Catches: scorecard.xlsx (issue 4) carrying raw submission values.
    _, _, out, _ = hostile
    path = out / "scorecard.xlsx"
    if not path.exists():
        pytest.skip("this build does not write scorecard.xlsx yet")
    import openpyxl

    values = {str(c.value) for ws in openpyxl.load_workbook(path).worksheets for row in ws.iter_rows() for c in row}
    assert not values & {RAW_VILLAGE_VALUE, REJECTED_VALUE, float(RAW_VILLAGE_VALUE).__str__(), SECRET_NOTE}

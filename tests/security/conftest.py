"""A hostile plan copy and a hostile month of submissions, run once through `kpi run` for every security test."""

from __future__ import annotations

import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from kpi.core import paths
from kpi.outputs import pdf

PERIOD = "2026-04"
# A payload that, if it ever ran in a browser, would set the canary (the document title).
IMG = "<img src=x onerror=\"document.title='PWNED'\">"
SCRIPT = "<script>document.title='PWNED'</script>"
JS_LINK = "[bấm vào đây](javascript:document.title='PWNED')"
# Markdown, HTML and matplotlib mathtext (an unknown command: a chart parsing it as math would fail).
MIXED = "**đậm** <b onmouseover=\"document.title='PWNED'\">x</b> $\\khonglenh{1}$"
FORMULA = '=HYPERLINK("http://evil.example/","Bấm")'
RAW_VILLAGE_VALUE = "987654"  # an accepted village-level raw count; only its sum may reach a report
REJECTED_VALUE = "731904"  # the value cell of a rejected row
SECRET_NOTE = "GHI-CHU-BI-MAT-77"  # an extra column of a submission: never shown
HEADER = "period,unit,village,element,value,submitted_on"


def hostile_plan(target: Path) -> Path:
    """The real plan with script, markup and formula payloads in the strings a report shows."""
    raw = yaml.safe_load(paths.PLAN_FILE.read_text(encoding="utf-8"))
    raw["commune"] = f"Quảng Ngọc </title>{SCRIPT}"  # reaches the page <title> and every heading
    for unit in raw["units"]:
        if unit["code"] == "vhxh":
            unit["name"] = f"Phòng Văn hóa - Xã hội {SCRIPT}"
            unit["officers"] = [{"name": f"Nguyễn Văn A {IMG}", "phone": "javascript:alert(1)", "note": MIXED}]
    raw["villages"][0]["name"] = f"Thôn 1 {IMG}"
    raw["villages"][1]["name"] = f"Thôn 2 {MIXED}"
    ind = next(i for i in raw["indicators"] if i["id"] == "1")
    ind["name"] = FORMULA
    ind["short"] = f"{FORMULA} {MIXED}"
    ind["partners"] = JS_LINK
    ind["tasks"] = [f"Nhiệm vụ {SCRIPT}", JS_LINK, f"@SUM(1+1) {IMG}"]
    ind2 = next(i for i in raw["indicators"] if i["id"] == "2")
    ind2["short"] = "-2+3 @cmd|' /C calc'!A0"
    target.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def hostile_data(data: Path) -> Path:
    """One month: accepted rows, plus rows, a column and a file name carrying the payloads."""
    sub = data / "submissions" / PERIOD
    sub.mkdir(parents=True)
    (sub / "ca.csv").write_text(
        HEADER + ",ghi chú\n"
        f"{PERIOD},ca,t01,pop_total,200,2026-05-03,{SECRET_NOTE}\n"
        f"{PERIOD},ca,t02,pop_total,300,2026-05-03,\n"
        f"{PERIOD},ca,t01,pop_14plus,{RAW_VILLAGE_VALUE},2026-05-03,{SECRET_NOTE}\n"
        f"{PERIOD},ca,t02,pop_14plus,12346,2026-05-03,\n"
        f"{PERIOD},ca,t01,vneid_accounts,500000,2026-05-03,\n"
        f"{PERIOD},ca,t02,vneid_accounts,6000,2026-05-03,\n"
        f"{PERIOD},ca,\"{IMG}\",pop_total,{REJECTED_VALUE},2026-05-03,{SECRET_NOTE}\n"
        f"{PERIOD},ca,t01,\"{SCRIPT}\",5,2026-05-03,{SECRET_NOTE}\n"
        f"{PERIOD},ca,t01,\"{JS_LINK}\",5,2026-05-03,\n",
        encoding="utf-8")
    (sub / "vhxh.csv").write_text(
        HEADER + f"\n{PERIOD},vhxh,t01,pop_4g5g,20,2026-05-08\n{PERIOD},vhxh,t02,pop_4g5g,30,2026-05-08\n"
        f"{PERIOD},vhxh,,officials_trained,5,2026-05-08\n{PERIOD},vhxh,,officials_total,10,2026-05-08\n",
        encoding="utf-8")
    (sub / f"{IMG}.csv").write_text(HEADER + f"\n{PERIOD},kt,,startups_new,1,2026-05-08\n", encoding="utf-8")
    return data


def kpi_env(plan: Path) -> dict:
    return {**os.environ, "KPI_PLAN": str(plan), "PYTHONIOENCODING": "utf-8"}


MADE_ON = "2026-05-02"
# The same batch through kpi.run.batch.run_batch with the date made fixed (the CLI has no flag for it).
RUN_BATCH = """
import sys
from pathlib import Path
from kpi.run.batch import DataSet, RunOptions, run_batch
from kpi.plan import load_plan
from kpi.intake.validate import load_submissions
data, out, period, made_on = sys.argv[1:5]
plan = load_plan()
run_batch(DataSet(plan, load_submissions(data, plan), Path(data)), period, ["commune"], Path(out),
          RunOptions(formats=("html",), made_on=made_on))
"""


@pytest.fixture(scope="session")
def hostile(tmp_path_factory):
    """(plan path, data dir, period dir of `kpi run --format html --unit commune`, period dir of a second run
    through run_batch with made_on fixed). The two runs go in parallel to keep the suite fast."""
    root = tmp_path_factory.mktemp("hostile")
    plan = hostile_plan(root / "plan.yml")
    data = hostile_data(root / "data")
    out, out2 = root / "out", root / "out2"
    cli = subprocess.Popen([sys.executable, "-m", "kpi", "run", "--data", str(data), "--out", str(out),
                            "--unit", "commune", "--format", "html", "--period", PERIOD],
                           env=kpi_env(plan), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    again = subprocess.Popen([sys.executable, "-c", RUN_BATCH, str(data), str(out2), PERIOD, MADE_ON],
                             env=kpi_env(plan), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log, log2 = cli.communicate(timeout=300)[0], again.communicate(timeout=300)[0]
    assert cli.returncode == 0, log
    assert again.returncode == 0, log2
    return plan, data, out / PERIOD, out2 / PERIOD


class _Reader(HTMLParser):
    """Collects every start tag with its attributes, and the visible text (outside <style> and <script>)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self._in = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("style", "script"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = ""

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif not self._in:
            self.text.append(data)


def read_html(source: Path | str) -> _Reader:
    """A page read from a file, or from markup given as a string (a DOM dumped by Chromium)."""
    reader = _Reader()
    reader.feed(source.read_text(encoding="utf-8") if isinstance(source, Path) else source)
    return reader


def chromium_dom(url: str, profile: Path) -> str:
    """The DOM after headless Chromium loaded the page and ran its scripts (a few seconds of virtual time)."""
    chromium = pdf.find_chromium()
    if not chromium:
        pytest.skip("Chromium is not installed")
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--virtual-time-budget=3000", "--dump-dom", url]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1000:]
    return proc.stdout

"""Shared fixtures: one real batch run (papermill, nbconvert, Chromium) on a small synthetic data set,
made once per test session because it is the slow part of the suite."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

RENDER_PERIOD = "2026-11"
RENDER_UNITS = ("commune", "ttpvhcc")  # the full report and one unit's report


@dataclass
class RenderedBatch:
    period: str
    out: Path  # <out>/<period>/
    chromium: str | None
    result: object  # batch.BatchResult
    zip_path: Path
    data_dir: Path

    def need_chromium(self) -> str:
        if not self.chromium:
            pytest.skip("no Chromium/Chrome found (install Debian's `chromium` or set KPI_CHROMIUM); "
                        "CI installs it in .ci/run")
        return self.chromium


@pytest.fixture(scope="session")
def plan():
    from kpi.plan import load_plan

    return load_plan()


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory, plan) -> Path:
    """`kpi demo-data` output: eleven months of synthetic submissions for the plan's units and villages."""
    from kpi.demo import write_demo

    out = tmp_path_factory.mktemp("demo")
    write_demo(out, plan)
    return out


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, plan, demo_dir) -> RenderedBatch:
    """The monthly batch for the commune and one unit, HTML and PDF (PDF only where Chromium is found),
    then the month's zip; every rendering test reads these files."""
    from kpi import publish, render
    from kpi.batch import run_batch
    from kpi.validate import load_submissions

    out_root = tmp_path_factory.mktemp("outputs")
    subs = load_submissions(demo_dir, plan)
    result = run_batch(plan, subs, RENDER_PERIOD, list(RENDER_UNITS), demo_dir, out_root, ["html", "pdf"],
                       lang="vi", made_on="2026-12-05")
    failed = [(r.unit, r.error) for r in result.failed]
    assert not failed, f"reports failed: {failed}"
    zip_path = publish.write_zip(result.out_dir, RENDER_PERIOD)
    return RenderedBatch(RENDER_PERIOD, result.out_dir, render.find_chromium(), result, zip_path, demo_dir)


def _poppler(tool: str) -> str:
    found = shutil.which(tool)
    if not found:
        pytest.skip(f"poppler's {tool} is not installed (Debian package poppler-utils; CI installs it)")
    return found


@pytest.fixture(scope="session")
def pdftotext() -> str:
    return _poppler("pdftotext")


@pytest.fixture(scope="session")
def pdftoppm() -> str:
    return _poppler("pdftoppm")

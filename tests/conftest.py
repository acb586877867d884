"""Shared test helpers: the real plan, long data frames built by hand, one case of the bad-file corpus
loaded into a fresh data folder, and one real batch run (papermill, nbconvert, Chromium) on a small synthetic
data set, made once per session because it is the slow part of the suite."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from kpi.core import schema
from kpi.outputs import pdf

# The fixtures are dated around the plan year's end (2026-12-08 and later); a report date after the day of the
# run is a warning (W_DATE_FUTURE), so the suite checks its files as on a fixed day after all of them, the same
# on every machine and every day. Subprocesses (kpi, papermill kernels) inherit it.
os.environ.setdefault("KPI_TODAY", "2027-12-31")
# The communes' signing keys (kpi keys) of the suite live in a folder of its own, never in the user's config folder:
# a test never reads nor makes a real key. Subprocesses inherit it.
os.environ["KPI_KEYS"] = tempfile.mkdtemp(prefix="kpi-test-keys-")
from kpi.intake.validate import load_submissions
from kpi.plan import load_plan

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FILES = FIXTURES / "files"


@pytest.fixture(scope="session")
def plan():
    return load_plan()


@pytest.fixture
def load_case(tmp_path, plan):
    """Copy one corpus case (a file, or a folder whose files sit at the submissions root) and load it."""

    def load(name: str):
        src = FILES / name
        dest = tmp_path / "submissions"
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, dest / name)
        return load_submissions(tmp_path, plan)

    return load


def long_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (period, unit, village, element, value[, submitted_on]) -> a frame of schema.LONG."""
    records = []
    for n, row in enumerate(rows):
        period, unit, village, element, value, *rest = row
        submitted = rest[0] if rest else f"{period}-28"
        records.append({"period": period, "unit": unit, "village": village, "element": element,
                        "value": float(value), "submitted_on": pd.Timestamp(submitted), "file": "test.csv",
                        "sheet": "", "row": n + 2})
    frame = pd.DataFrame(records, columns=list(schema.LONG))
    frame = frame.astype({"value": "float64", "row": "int64", "submitted_on": "datetime64[ns]"})
    for col in ("period", "unit", "village", "element", "file", "sheet"):
        frame[col] = frame[col].astype(object)
    return schema.check(frame, schema.LONG, "test data")


RENDER_PERIOD = "2026-11"
RENDER_UNITS = ("commune", "ttpvhcc")  # the full report and one unit's report


@dataclass
class RenderedBatch:
    period: str
    out: Path  # <out>/<period>/
    chromium: str | None
    result: object  # kpi.run.summary.BatchResult
    zip_path: Path
    data_dir: Path

    def need_chromium(self) -> str:
        if not self.chromium:
            pytest.skip("no Chromium/Chrome found (install Debian's `chromium` or set KPI_CHROMIUM); "
                        "CI installs it in .ci/run")
        return self.chromium


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory, plan) -> Path:
    """`kpi demo-data` output (eleven months of synthetic submissions for the plan's units and villages), written
    once per session (about a second) and never handed to a test: tests get copies (demo_dir, demo_data)."""
    from kpi.demo import write_demo

    out = tmp_path_factory.mktemp("demo_template") / "data"
    write_demo(out, plan)
    return out


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory, demo_template) -> Path:
    """A copy of the demo data set shared by the tests that only read it (the rendered batch among them)."""
    return Path(shutil.copytree(demo_template, tmp_path_factory.mktemp("demo") / "data"))


@pytest.fixture
def demo_data(tmp_path, demo_template) -> Path:
    """A fresh copy of the demo data set at tmp_path/data, as `kpi demo-data --out tmp_path/data` writes it, for
    a test that runs on it or changes it."""
    return Path(shutil.copytree(demo_template, tmp_path / "data"))


@pytest.fixture(scope="session")
def rendered(tmp_path_factory, plan, demo_dir) -> RenderedBatch:
    """The monthly batch for the commune and one unit, HTML and PDF (PDF only where Chromium is found),
    then the month's zip; every rendering test reads these files."""
    from kpi.intake.validate import load_submissions
    from kpi.outputs import publish
    from kpi.run.batch import DataSet, RunOptions, run_batch

    out_root = tmp_path_factory.mktemp("outputs")
    subs = load_submissions(demo_dir, plan)
    result = run_batch(DataSet(plan, subs, demo_dir), RENDER_PERIOD, list(RENDER_UNITS), out_root,
                       RunOptions(formats=("html", "pdf"), lang="vi", made_on="2026-12-05"))
    failed = [(r.unit, r.error) for r in result.failed]
    assert not failed, f"reports failed: {failed}"
    zip_path = publish.write_zip(result.out_dir, RENDER_PERIOD)
    return RenderedBatch(RENDER_PERIOD, result.out_dir, pdf.find_chromium(), result, zip_path, demo_dir)


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


def failing_notebook(folder: Path, units: str = "") -> tuple[Path, Path]:
    """A copy of the master notebook whose report raises InjectedFailure, right after its parameters, for the
    units (or "period/unit" names) written in the text file beside it, so that a test can make one report fail
    without any hook in the kit: (the notebook, for `kpi run --notebook` / RunOptions.notebook / Job.notebook;
    the file naming the units, which the test may rewrite between runs)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = folder / "fail-units.txt"
    names.write_text(units, encoding="utf-8")
    target = _master_with_cell(folder / "failing_report.ipynb", (
        "import pathlib\n\n\n"
        "class InjectedFailure(RuntimeError):\n"
        "    \"\"\"The test's own failure: this report is named in the file beside the notebook.\"\"\"\n\n\n"
        f"_named = pathlib.Path({str(names)!r}).read_text(encoding='utf-8').replace(',', ' ').split()\n"
        "if unit in _named or f'{period}/{unit}' in _named:\n"
        "    raise InjectedFailure(f'Lỗi giả lập cho báo cáo {period}/{unit} (tests/conftest.py)')"))
    return target, names


def sleeping_notebook(folder: Path, seconds: float) -> Path:
    """A copy of the master notebook that sleeps `seconds` right after its parameters: a report certainly still
    running when a test interrupts it."""
    folder.mkdir(parents=True, exist_ok=True)
    return _master_with_cell(folder / "sleeping_report.ipynb", f"import time\n\ntime.sleep({seconds})")


def _master_with_cell(target: Path, code: str) -> Path:
    """The master notebook with one code cell inserted right after its parameters cell, written to `target`."""
    import nbformat

    from kpi.core import paths

    nb = nbformat.read(paths.MASTER_NOTEBOOK, as_version=4)
    at = next(n for n, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(code))
    nbformat.write(nb, target)
    return target


def wait_for_report(folder: Path, timeout: float = 60.0) -> bool:
    """Whether a report's notebook is running within `timeout` seconds: a log in <folder>/logs says papermill
    executes its cells (in the worker, or in a kernel)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for log in (Path(folder) / "logs").glob("*.log"):
            try:
                if "Executing Cell" in log.read_text(encoding="utf-8", errors="replace"):
                    return True
            except OSError:
                pass
        time.sleep(0.05)
    return False


@dataclass
class RenderedProvince:
    out: Path  # <out>/province/<period>/: province.html, province.pdf (where Chromium is found), index.html
    packages: Path  # the communes' packages the report was made from


@pytest.fixture(scope="session")
def province_rendered(tmp_path_factory) -> RenderedProvince:
    """`kpi run --packages` on the packages of tests/fixtures/province3 (Xã A, B, C) for 2026-02: the province
    report in HTML and PDF and its index, as the province office gets them; every province page test reads these."""
    import shutil

    from kpi import cli
    from tests.test_package import make_package

    base = tmp_path_factory.mktemp("province_pages")
    box = base / "inbox"
    for d in sorted(p for p in (FIXTURES / "province3").iterdir() if p.is_dir()):
        shutil.copytree(make_package(d, base / "communes_out", "2026-02"), box / d.name)
    code = cli.main(["run", "--packages", str(box), "--out", str(base / "out"), "--format", "html,pdf",
                     "--allow-unsigned"])  # unsigned: the province plan of the fixture lists no keys
    assert code == 0
    return RenderedProvince(base / "out" / "province" / "2026-02", box)


# Examples run by the property tests, printed at the end of every run (`make test`, CI): the count is part of
# what the tests claim, so it is shown, not assumed from the settings. Under pytest-xdist each worker counts its
# own and hands the counts to the controller, which adds them up and prints them.
_EXAMPLES: dict[str, int] = {}


def count_examples(name: str) -> None:
    _EXAMPLES[name] = _EXAMPLES.get(name, 0) + 1


def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)  # set in an xdist worker only
    if workeroutput is not None:
        workeroutput["hypothesis_examples"] = dict(_EXAMPLES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    for name, n in getattr(node, "workeroutput", {}).get("hypothesis_examples", {}).items():
        _EXAMPLES[name] = _EXAMPLES.get(name, 0) + n


def pytest_terminal_summary(terminalreporter) -> None:
    for name, n in sorted(_EXAMPLES.items()):
        terminalreporter.write_line(f"{name}: {n} Hypothesis examples run")


# The suite on every core (pytest-xdist): which tests go together to one worker, heaviest first.
from tests.parallel import (pytest_collection_modifyitems, pytest_configure_node,  # noqa: E402,F401
                            pytest_unconfigure, pytest_xdist_make_scheduler)

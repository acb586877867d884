"""The real master notebook through papermill and nbconvert, on a small month made in the test."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from kpi.cli import main
from tests.test_cli import HEADER, write

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Path:
    data = tmp_path_factory.mktemp("data")
    write(data, "2026-04/ca.csv", HEADER
          + "2026-04,ca,Thôn 1,pop_total,200,2026-05-03\n2026-04,ca,Thôn 1,pop_adult,150,2026-05-03\n")
    write(data, "2026-04/vhxh.csv", HEADER
          + "2026-04,vhxh,Thôn 1,pop_4g5g,120,2026-05-12\n2026-04,vhxh,Thôn 1,adult_digital_health,90,2026-05-12\n"
          + "2026-04,vhxh,Thôn 1,<b>bad</b>,1,2026-05-12\n")
    out = tmp_path_factory.mktemp("out")
    code = main(["run", "--data", str(data), "--out", str(out), "--unit", "commune,vhxh", "--format", "html",
                 "--period", "2026-04"])
    assert code == 0
    return out / "2026-04"


def test_outputs_of_the_period(batch):
    assert {"commune.html", "commune.ipynb", "vhxh.html", "scorecard.csv", "index.html"} <= {p.name for p in batch.iterdir()}
    card = pd.read_csv(batch / "scorecard.csv", dtype={"indicator": str}).set_index("indicator")
    assert len(card) == 19
    assert card.loc["1", "value"] == pytest.approx(60.0)  # 120 / 200
    assert card.loc["3a", "value"] == pytest.approx(60.0)  # 90 / 150


def test_html_has_no_code_and_loads_nothing_from_the_internet(batch):
    html = (batch / "commune.html").read_text(encoding="utf-8")
    assert '<html lang="vi">' in html
    assert "from kpi import" not in html and "report.build(" not in html
    assert not re.search(r"<div[^>]*class=\"[^\"]*jp-InputArea", html)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "an external resource is referenced"
    assert "@import" not in html.replace("@import url(data:", "")
    # the story is there, in Vietnamese
    assert "Bảng tổng hợp chỉ tiêu" in html and "Phủ sóng 4G/5G" in html and "Chất lượng số liệu" in html
    assert "Đạt" in html
    # a data string with markup arrives as text, never as a tag
    assert "<b>bad</b>" not in html


def test_unit_report_shows_only_its_indicators(batch):
    html = (batch / "vhxh.html").read_text(encoding="utf-8")
    assert "Phòng Văn hóa - Xã hội" in html
    assert "Tài khoản VNeID" not in html  # indicator 14 belongs to Công an xã
    assert "Dịch vụ số giao thông" not in html  # 3d too


def test_executed_notebook_carries_the_parameters(batch):
    import nbformat

    nb = nbformat.read(batch / "commune.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and 'period = "2026-04"' in injected[0].source and 'unit = "commune"' in injected[0].source


def test_index_links_the_reports(batch):
    index = (batch / "index.html").read_text(encoding="utf-8")
    assert 'href="commune.html"' in index and ".ipynb" not in index


def test_exploration_notebook_runs(tmp_path):
    import papermill as pm

    from kpi.core import paths
    from kpi.run.job import kernel_name

    out = tmp_path / "explore.ipynb"
    # the period and the data folder come from the one parameters cell at the top
    pm.execute_notebook(str(paths.NOTEBOOKS_DIR / "explore.ipynb"), str(out), kernel_name=kernel_name(),
                        progress_bar=False, cwd=str(paths.NOTEBOOKS_DIR),
                        parameters={"period": "2026-10", "data_dir": str(paths.DATA_DIR)})
    import nbformat

    nb = nbformat.read(out, as_version=4)
    # charts are SVG: the village chart as an image, the trends as a grid of one SVG per indicator (HTML)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/svg+xml" in o.get("data", {}) or "<svg" in o.get("data", {}).get("text/html", "")]
    assert len(images) == 2  # the trends and the village chart
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert f"Số liệu: {paths.DATA_DIR}; kỳ: 2026-10" in printed


def test_exploration_notebook_has_one_parameters_cell_first():
    import nbformat

    from kpi.core import paths

    nb = nbformat.read(paths.NOTEBOOKS_DIR / "explore.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.metadata.get("tags") == ["parameters"]
    assert first.source.startswith('period: str = ""') and 'data_dir: str = ""' in first.source
    assert "2026-11" not in "".join(c.source for c in nb.cells if c.cell_type == "code")


def test_lab_saves_notebooks_without_outputs():
    from kpi.core import paths
    from kpi.lab import strip_outputs

    model = {"type": "notebook", "content": {"cells": [
        {"cell_type": "code", "execution_count": 7, "outputs": [{"output_type": "stream", "text": "50"}],
         "source": "1"},
        {"cell_type": "markdown", "source": "# Tiêu đề"}]}}
    strip_outputs(model=model, path="notebooks/explore.ipynb", contents_manager=None)
    code, text = model["content"]["cells"]
    assert code["outputs"] == [] and code["execution_count"] is None and code["source"] == "1"
    assert text == {"cell_type": "markdown", "source": "# Tiêu đề"}
    strip_outputs(model={"type": "file", "content": "x"})  # other files are left alone
    # make lab starts JupyterLab with the config that installs the hook
    lab = [line for line in (paths.ROOT / "Makefile").read_text().splitlines() if "jupyter lab" in line]
    assert lab and "--config=jupyter_server_config.py" in lab[0]
    assert 'pre_save_hook = "kpi.lab.strip_outputs"' in (paths.ROOT / "jupyter_server_config.py").read_text()


def test_committed_notebooks_carry_no_outputs():
    import nbformat

    from kpi.core import paths

    for path in paths.NOTEBOOKS_DIR.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name
        params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(params) <= 1


def test_an_empty_month_renders_every_report(tmp_path):
    """December with nothing sent yet (the state of every month until the 10th): the five reports are made,
    each unit is 'Chưa gửi', and no error or traceback reaches the HTML or index.html."""
    import nbformat

    data = tmp_path / "data"
    (data / "submissions" / "2026-12").mkdir(parents=True)
    write(data, "2026-11/vhxh.csv", HEADER + "2026-11,vhxh,,officials_total,50,2026-12-05\n")
    out = tmp_path / "out"
    code = main(["run", "--data", str(data), "--out", str(out), "--format", "html", "--period", "2026-12"])
    assert code == 0
    folder = out / "2026-12"
    for unit in ("commune", "vhxh", "kt", "ttpvhcc", "ca"):
        html = (folder / f"{unit}.html").read_text(encoding="utf-8")
        # what must not be there is an error output or its text
        assert "Traceback (most recent" not in html and not re.search(r"\b\w+Error:", html), unit
        assert html.count('<div class="kpi">') >= 8 and "Bảng tổng hợp chỉ tiêu" in html  # the cells showed their results
        nb = nbformat.read(folder / f"{unit}.ipynb", as_version=4)
        assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
                    if o.output_type == "error" or o.get("name") == "stderr"], unit
        assert "Chưa gửi" in html and "Chưa có số liệu" in html, unit
    commune = (folder / "commune.html").read_text(encoding="utf-8")
    assert "Chưa gửi số liệu tháng 12 (4/4 đơn vị)" in commune
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"\b\w+Error", index) and "Chưa tạo được" not in index


@pytest.mark.parametrize("name", ["explore.ipynb", "monthly_report.ipynb", "province_report.ipynb"])
def test_a_notebook_saved_by_jupyterlab_is_byte_for_byte_the_committed_one(name, tmp_path, monkeypatch):
    """Open, run, save in JupyterLab: the server reads the file, the tab gets outputs, counts and the kernel's
    language_info, and saving goes through jupyter_server's FileContentsManager with the kit's pre_save_hook
    (jupyter_server_config.py). The file on disk must then be the committed bytes: nbformat 4.5, a stable id
    on every cell, JupyterLab's JSON layout (indent 1, sorted keys, UTF-8 letters, source as lines)."""
    import shutil

    import nbformat
    from jupyter_server.services.contents.filemanager import FileContentsManager

    from kpi.core import paths

    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))  # the notary's database, not the user's
    committed = (paths.NOTEBOOKS_DIR / name).read_bytes()
    shutil.copy(paths.NOTEBOOKS_DIR / name, tmp_path / name)
    cm = FileContentsManager(root_dir=str(tmp_path), pre_save_hook="kpi.lab.strip_outputs")
    model = cm.get(name, content=True)
    nb = model["content"]
    assert (nb.nbformat, nb.nbformat_minor) == (4, 5)
    ids = [c.get("id") for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids), ids
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):  # as if every cell had run
        cell.execution_count = n + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"{n}\n")]
    nb.metadata["language_info"] = {"codemirror_mode": {"name": "ipython", "version": 3}, "name": "python",
                                    "version": "3.11.2", "file_extension": ".py", "mimetype": "text/x-python"}
    cm.save({"type": "notebook", "format": "json", "content": nb}, name)
    saved = (tmp_path / name).read_bytes()
    assert saved == committed, f"{name}: saving in JupyterLab changes the committed file"
    # and nbformat alone writes it the same (what `python -c "nbformat.write(...)"` would leave)
    assert nbformat.writes(nbformat.read(paths.NOTEBOOKS_DIR / name, as_version=4)) + "\n" == committed.decode()

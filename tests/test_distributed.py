"""`kpi run --scheduler`: report runs, the scorecard and a province's roll-up on a Dask LocalCluster started
here (loopback only)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi.core import paths
from kpi.plan import load_plan

distributed = pytest.importorskip("distributed")  # the `dask` extra

PROVINCE3 = Path(__file__).parent / "fixtures" / "province3"


def kpi_run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", "run", *args], capture_output=True, text=True, cwd=paths.ROOT,
                          env=dict(os.environ))


@pytest.mark.slow
def test_dask_path_gives_the_local_scorecard(tmp_path: Path, demo_data: Path):
    data = demo_data  # `kpi demo-data` at tmp_path/data
    # Worker threads in this process (the report itself still runs in its own worker process), over TCP on
    # the loopback interface, as a remote scheduler would be reached.
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        common = ["--data", str(data), "--period", "2026-11", "--format", "html", "--unit", "kt"]
        remote = subprocess.run([sys.executable, "-m", "kpi", "run", *common, "--out", str(tmp_path / "dask"),
                                 "--scheduler", cluster.scheduler_address],
                                capture_output=True, text=True, cwd=paths.ROOT, env=dict(os.environ))
    assert remote.returncode == 0, remote.stdout + remote.stderr
    local = subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--data", str(data), "--period", "2026-11"],
                           capture_output=True, text=True, cwd=paths.ROOT)
    assert local.returncode == 0
    dask_card = (tmp_path / "dask" / "2026-11" / "scorecard.csv").read_text(encoding="utf-8-sig")
    assert dask_card == local.stdout
    html = (tmp_path / "dask" / "2026-11" / "kt.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and "Phòng Kinh tế" in html
    assert (tmp_path / "dask" / "2026-11" / "logs" / "kt.log").is_file()


@pytest.mark.slow
def test_province_on_the_cluster_gives_the_local_province_report(tmp_path: Path):
    """`kpi run --scheduler` on a province root: the roll-up is computed on the cluster (each commune folder
    read by a worker) and the notebook reads that result; the province tables are the local roll-up's, byte for
    byte, with the fixture's hand-worked numbers. (The local roll-up is computed here, in this process: that a
    local `kpi run` writes exactly these tables is checked by tests/test_province.py, whose test runs one.)"""
    from kpi import province
    from kpi.run.province_batch import write_tables

    root = tmp_path / "province3"
    shutil.copytree(PROVINCE3, root)
    common = ["--data", str(root), "--period", "2026-02", "--format", "html", "--unit", "kt"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        remote = kpi_run(*common, "--out", str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address)
    assert remote.returncode == 0, remote.stdout + remote.stderr
    dask_out, local_out = tmp_path / "dask" / "province" / "2026-02", tmp_path / "local"
    local_out.mkdir()
    plan = load_plan()
    write_tables(province.province_report(province.load_province(root, plan), plan, "2026-02"), local_out)
    for name in ("province_scorecard.csv", "communes.csv"):
        assert (dask_out / name).read_bytes() == (local_out / name).read_bytes(), name

    card = pd.read_csv(dask_out / "province_scorecard.csv", dtype={"indicator": str}).set_index("indicator")
    # (150 + 90 + 30) / (300 + 100 + 300): a ratio of sums over communes, not the mean of 50, 90 and 10
    assert (card.loc["1", "numerator"], card.loc["1", "denominator"], card.loc["1", "communes_reported"]) == (270, 700, 3)
    assert card.loc["1", "value"] == pytest.approx(100 * 270 / 700)
    assert card.loc["10", "value"] == pytest.approx(100 * 34 / 40)  # (14 + 20) / (20 + 20)
    assert card.loc["7", "value"] == 3 and card.loc["15", "status"] == "no_data"
    communes = pd.read_csv(dask_out / "communes.csv", dtype={"indicator": str}).set_index(["commune", "indicator"])
    assert communes.loc[("xa_c", "1"), "value"] == pytest.approx(10.0)  # 30 / 300: one village of two
    assert communes.loc[("xa_b", "1"), "rank"] == 1

    # The notebook was handed the cluster's result (it did not load the communes again) and shows it.
    nb = json.loads((dask_out / "province.ipynb").read_text(encoding="utf-8"))
    injected = "".join("".join(c["source"]) for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert "results_dir" in injected and (dask_out / ".results" / "scorecard.parquet").is_file()
    html = (dask_out / "province.html").read_text(encoding="utf-8")
    assert "38,6%" in html and "Báo cáo tổng hợp cấp tỉnh tháng 2/2026" in html
    assert (tmp_path / "dask" / "xa_a" / "2026-02" / "kt.html").is_file()  # the communes' own reports too


def test_an_unreachable_scheduler_on_a_province_root_is_a_message(tmp_path: Path, monkeypatch, capsys):
    """No traceback: the Vietnamese message and exit code 2 (a closed port on the loopback interface)."""
    from kpi import cli
    from kpi.run import distributed as kpi_distributed

    monkeypatch.setattr(kpi_distributed, "CONNECT_TIMEOUT", "1s")
    code = cli.main(["run", "--data", str(PROVINCE3), "--out", str(tmp_path / "out"), "--format", "html",
                     "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Không kết nối được cụm Dask tcp://127.0.0.1:9" in err and "Traceback" not in err


def _worker_cannot_see(commune_dir: str, plan_file: str, plan_sha256: str):
    from kpi.province.on_dask import NotOnWorker

    raise NotOnWorker(f"Máy worker không thấy thư mục {commune_dir}/submissions: thư mục dữ liệu phải ở cùng "
                      f"đường dẫn trên mọi worker (thư mục dùng chung).")


def test_a_worker_error_in_the_province_roll_up_is_a_message(monkeypatch):
    """A worker that cannot read a commune folder: the run stops with ClusterFailed (exit 2 in `kpi run`),
    whose message carries the worker's own explanation."""
    from kpi.province import on_dask as province_dask
    from kpi.run.distributed import ClusterFailed, province_on_cluster

    monkeypatch.setattr(province_dask, "read_commune", _worker_cannot_see)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp://",
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        with pytest.raises(ClusterFailed, match="không tính được số liệu tổng hợp tỉnh: NotOnWorker: .*cùng đường dẫn"):
            province_on_cluster(cluster.scheduler_address, PROVINCE3, load_plan(), paths.PLAN_FILE)

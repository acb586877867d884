"""`kpi run --scheduler`: report runs and the scorecard on a Dask LocalCluster started here (loopback only)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kpi import paths
from kpi.demo import write_demo
from kpi.plan import load_plan

distributed = pytest.importorskip("distributed")  # the `dask` extra


@pytest.mark.slow
def test_dask_path_gives_the_local_scorecard(tmp_path: Path):
    data = tmp_path / "data"
    write_demo(data, load_plan())
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

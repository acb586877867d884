"""The batch under faults: a full disk, no permission, Ctrl-C, a hung browser, a tampered manifest or cache.
Each fault is injected (an OSError from the writer, a fake browser that sleeps, SIGINT to a real batch)."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from kpi import batch, paths
from kpi.demo import write_demo
from kpi.plan import load_plan

PLAN = load_plan()


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    write_demo(tmp_path / "data", PLAN)
    return tmp_path / "data"


def _spec(unit: str, data: Path, out: Path) -> dict:
    return {"period": "2026-11", "unit": unit, "data_dir": str(data), "out": str(out), "formats": ["html"],
            "lang": "vi", "made_on": "2026-12-11", "chromium": None, "plan_path": str(paths.PLAN_FILE)}


@pytest.fixture()
def full_disk(monkeypatch):
    """Writers that fail with ENOSPC for the paths whose name is in the returned set."""
    names: set[str] = set()
    real = batch.start_log

    def start_log(spec, log_path):
        if Path(log_path).name in names:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(log_path))
        return real(spec, log_path)

    monkeypatch.setattr(batch, "start_log", start_log)
    return names


def test_a_log_on_a_full_disk_fails_its_report_and_the_pool_goes_on(data: Path, tmp_path: Path, full_disk,
                                                                    monkeypatch):
    from kpi.workers import Pool

    monkeypatch.setenv(batch.FAIL_ENV, "ca")  # the second report fails at once in its worker: a quick run
    out = tmp_path / "out" / "2026-11"
    out.mkdir(parents=True)
    full_disk.add("kt.log")
    got: dict = {}
    with Pool(1, out / "logs" / "workers.log") as pool:
        def both():
            got["kt"] = pool.run(_spec("kt", data, out), out / "logs" / "kt.log", time_limit=60)
            got["ca"] = pool.run(_spec("ca", data, out), out / "logs" / "ca.log", time_limit=60)

        t = threading.Thread(target=both, daemon=True)
        t.start()
        t.join(60)
        assert not t.is_alive(), "the second report waited for a worker that was never returned"
        assert pool.idle.qsize() == 1  # the one worker is back
    assert got["kt"]["error"].startswith("Ổ đĩa đầy: không ghi được ")
    assert str(out / "logs" / "kt.log") in got["kt"]["error"] and "giải phóng chỗ trống" in got["kt"]["error"]
    assert got["kt"]["files"] == {}
    assert got["ca"]["error"].startswith("InjectedFailure")  # ran on the same worker, after the fault


def test_write_error_text_names_path_and_fix():
    no_space = batch.write_error_text(OSError(errno.ENOSPC, "No space left on device", "/srv/out/x.html"))
    assert no_space == ("Ổ đĩa đầy: không ghi được /srv/out/x.html. Hãy giải phóng chỗ trống trên ổ đĩa (hoặc "
                        "chọn --out ở ổ khác) rồi chạy lại.")
    denied = batch.write_error_text(OSError(errno.EACCES, "Permission denied", "/srv/out"))
    assert denied.startswith("Không có quyền ghi /srv/out. Hãy cấp quyền ghi")

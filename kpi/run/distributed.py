"""Report runs on an existing Dask distributed cluster (`kpi run --scheduler tcp://HOST:PORT`).

Each report is one task; the task runs the report exactly as a local worker does (its own process, log
file and time limit), so the data folder, the kit and the output folder must be at the same paths on every
Dask worker (a shared folder). On a province root the province roll-up is computed on the cluster too, with
dask.dataframe (kpi/province/on_dask.py), one partition per commune folder."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kpi.core.errors import ClusterFailed, ClusterUnavailable  # noqa: F401 (raised here, caught by kpi.cli)

if TYPE_CHECKING:
    from kpi.plan.model import Plan
    from kpi.province.on_dask import ProvinceTotals


CONNECT_TIMEOUT = "20s"  # how long to keep trying to reach the scheduler


def _connect(scheduler: str):
    try:
        from distributed import Client
    except ImportError:
        raise ClusterUnavailable("Chưa cài Dask: chạy `pip install -e '.[dask]'` để dùng --scheduler.") from None
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=True)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterUnavailable(f"Không kết nối được cụm Dask {scheduler}: {exc}. Kiểm tra địa chỉ "
                                 f"tcp://HOST:PORT và rằng scheduler đang chạy.") from exc


def _report_task(job, time_limit: float, engine) -> tuple[dict, float]:
    from kpi.run.workers import run_in_subprocess

    t0 = time.perf_counter()
    res = run_in_subprocess(job, time_limit, engine=engine)
    return res, time.perf_counter() - t0


def run_on_cluster(scheduler: str, specs: list, keys: list[dict], time_limit: float, engine
                   ) -> Iterator[tuple[dict, dict, dict, float]]:
    """Submit one task per report and yield (spec, key, result, seconds) as each finishes; a task that fails
    on the cluster itself is recorded as that report's error. Each task prints its PDF with `engine`."""
    from distributed import as_completed

    with _connect(scheduler) as client:
        futures = {client.submit(_report_task, spec, time_limit, engine, pure=False): (spec, key)
                   for spec, key in zip(specs, keys)}
        for fut in as_completed(futures):
            spec, key = futures[fut]
            try:
                res, secs = fut.result()
            except Exception as exc:  # the worker died or the task could not run
                res, secs = {"files": {}, "error": f"Lỗi trên cụm Dask: {type(exc).__name__}: {exc}"}, 0.0
            yield spec, key, res, secs


def province_on_cluster(scheduler: str, root: Path, plan: Plan, plan_path: Path) -> ProvinceTotals:
    """A province root's roll-up computed on the cluster (kpi.province.on_dask: one partition per commune folder);
    only small frames come back, for every month of the plan year."""
    try:
        import dask.dataframe  # noqa: F401 - the `dask` extra, with pyarrow
    except ImportError:
        raise ClusterUnavailable("Chưa cài Dask: chạy `pip install -e '.[dask]'` để dùng --scheduler.") from None
    from kpi.province import on_dask as province_dask

    with _connect(scheduler) as client:
        try:
            return province_dask.province_totals(province_dask.read_province(root, plan_path), plan, plan_path, client)
        except Exception as exc:  # a worker's error arrives here re-raised; say what it was, without a traceback
            raise ClusterFailed(f"Cụm Dask {scheduler} không tính được số liệu tổng hợp tỉnh: "
                                f"{type(exc).__name__}: {exc}") from exc

"""The job a worker runs: one report's notebook through papermill, then its HTML, under a log file and a time limit
(its PDF is the batch's: kpi.run.workers.print_pdf). Knows nothing of the batch that plans the jobs, nor of the
pool that runs them (kpi.run.batch, kpi.run.workers and kpi.run.distributed import this module, never the other
way)."""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import kpi
from kpi.core import paths, periods
from kpi.core.files import write_atomic, write_fault
from kpi.outputs import render
from kpi.plan.model import Plan

LOG_DIR = paths.LOG_DIR

def report_title(plan: Plan, period: str, unit: str, lang: str) -> str:
    scope = f"xã {plan.commune}" if unit == "commune" else plan.unit(unit).name
    if lang == "en":
        return f"KPI report {periods.words(period, 'en')}: {scope}"
    if periods.is_month(period):
        return f"Báo cáo chỉ tiêu KHCN, ĐMST, CĐS tháng {periods.month_number(period)}/{periods.year_of(period)}: {scope}"
    return f"Báo cáo chỉ tiêu KHCN, ĐMST, CĐS {periods.words(period)}: {scope}"


def kernel_name() -> str:
    """The kit's registered kernel if `make` installed it, else the current interpreter's own."""
    from jupyter_client.kernelspec import KernelSpecManager

    return paths.KERNEL_NAME if paths.KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


ENGINES = {"worker": "kpi", "kernel": "nbclient"}  # --engine -> papermill's engine (kpi.run.engine, or a kernel)


@dataclass
class Job:
    """One report to make, as the worker receives it: plain values only (it crosses a pipe or a cluster)."""

    period: str
    unit: str
    data_dir: str
    out: str
    plan_path: str
    formats: list[str] = field(default_factory=lambda: ["html"])
    lang: str = "vi"
    made_on: str = ""
    notebook: str | None = None  # another notebook than the master (the province report's, or --notebook)
    title: str | None = None
    parameters: dict | None = None  # that notebook's parameters; the master's are derived from the fields
    cell_timeout: int = 600  # with --engine kernel: seconds one cell may take
    engine: str = "worker"  # worker: the cells run in the worker (kpi.run.engine); kernel: in a Jupyter kernel

    @property
    def log(self) -> Path:
        """The report's log file: <out>/logs/<unit>.log."""
        return Path(self.out) / LOG_DIR / f"{self.unit}.log"


def execute(job: Job):
    """Run the job's notebook (the master notebook unless the job names another) with papermill, in the worker
    itself or in a kernel (`job.engine`); the executed notebook is returned, and written as <unit>.ipynb
    (under a temporary name, then renamed) only when it ran to the end."""
    import nbformat
    import papermill as pm

    out = Path(job.out)
    parameters = job.parameters
    if parameters is None:
        parameters = {"period": job.period, "unit": job.unit, "data_dir": str(Path(job.data_dir).resolve()),
                      "plan_path": str(Path(job.plan_path or paths.PLAN_FILE).resolve()),
                      "output_dir": str(out.resolve()), "lang": job.lang, "made_on": job.made_on}
    kernel = job.engine == "kernel"
    nb = pm.execute_notebook(
        str(job.notebook or paths.MASTER_NOTEBOOK), None, engine_name=ENGINES[job.engine],
        kernel_name=kernel_name() if kernel else None, progress_bar=False, cwd=str(paths.NOTEBOOKS_DIR),
        execution_timeout=job.cell_timeout, language="python", log_output=True, parameters=parameters,
        # the kernel holds nothing the report needs once the last cell has answered: stopped at once, not asked
        **({"shutdown_kernel": "immediate"} if kernel else {}))
    write_atomic(out / f"{job.unit}.ipynb", nbformat.writes(nb))
    return nb


def error_text(exc: BaseException, path: Path | None = None) -> str:
    """One line naming what failed: a failed write (a full disk: what to free) in the kit's words, else papermill's
    error, which carries the cell's exception name and value."""
    fault = write_fault(exc, path)
    if fault:
        return fault
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    text = f"{ename}: {evalue}".strip()
    return text.splitlines()[0][:500]


def run_report(job: Job, given=None) -> dict:
    """One report in its worker (notebook, HTML, the commune's DOCX; its PDF is the batch's); returns {"files",
    "error"} and never raises: a failure is recorded (with its traceback in <unit>.error.txt) so the other reports
    go on. `given`: the period's data the batch computed (kpi.report.PeriodData), handed to the notebook's
    report.build and to the DOCX."""
    out = Path(job.out)
    unit, period = job.unit, job.period
    log = logging.getLogger("kpi.run.batch")
    files: dict[str, str] = {}
    error_file = out / f"{unit}.error.txt"
    try:
        from kpi.plan import load_plan

        plan = load_plan(Path(job.plan_path))
        log.info("Bắt đầu báo cáo %s/%s (định dạng %s)", period, unit, ",".join(job.formats))
        from kpi.report import period_data

        with period_data.handed(given):
            nb = execute(job)
            built = [r for r in period_data.built if r.unit == unit and r.lang == "vi"]  # the DOCX is Vietnamese
        files["ipynb"] = str(out / f"{unit}.ipynb")
        log.info("Đã chạy xong sổ tay: %s.ipynb", unit)
        title = job.title or report_title(plan, period, unit, job.lang)
        html = render.to_html(nb, out / f"{unit}.html", title, job.lang)  # the notebook object, not read back
        files["html"] = str(html)
        log.info("Đã xuất HTML: %s", html.name)
        if unit == "commune" and job.parameters is None:  # the official Báo cáo goes with the commune report
            from kpi.outputs.docx_report import docx_name, for_batch, write_docx

            files["docx"] = str(write_docx(built[-1], out / docx_name(period), built[-1].notes) if built else
                                for_batch(period, job.data_dir, job.plan_path, job.made_on, out))
            log.info("Đã xuất DOCX: %s", Path(files["docx"]).name)
        error_file.unlink(missing_ok=True)
        return {"files": files, "error": ""}
    except Exception as exc:  # one failing report must not stop the others
        text = "".join(traceback.format_exception(exc))
        log.error("Báo cáo %s/%s lỗi:\n%s", period, unit, text)
        error = error_text(exc)
        try:
            write_atomic(error_file, text)
        except OSError:  # a full disk: the error still reaches the summary
            pass
        return {"files": files, "error": error}


def start_log(job: Job, log_path: Path) -> None:
    """A report's log file begins with the kit's version, the report and the time it started."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"kpi {kpi.__version__}: báo cáo {job.period}/{job.unit}, "
                  f"bắt đầu {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n")


def timed_out(job: Job, log_path: Path, time_limit: float) -> dict:
    """After a report was stopped for its time limit: say so in its log, remove its temporary files."""
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"Quá thời gian: dừng sau {time_limit:g} giây.\n")
    except OSError:  # a full disk: the summary still names the time limit
        pass
    for p in Path(job.out).glob(f".{job.unit}.*"):
        p.unlink(missing_ok=True)
    return {"files": {}, "error": f"Quá thời gian: báo cáo chạy quá {time_limit:g} giây nên bị dừng."}

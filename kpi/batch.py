"""The monthly batch: papermill runs the master notebook once per report, then HTML, PDF, scorecard and index."""

from __future__ import annotations

import datetime as dt
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi import compute, excel, paths, publish, render, safety
from kpi.plan import Plan
from kpi.validate import Submissions


@dataclass
class ReportResult:
    unit: str
    files: dict[str, Path] = field(default_factory=dict)  # format -> path
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class BatchResult:
    period: str
    out_dir: Path
    reports: list[ReportResult]
    index: Path | None = None
    scorecard: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[ReportResult]:
        return [r for r in self.reports if not r.ok]


def kernel_name() -> str:
    """The kit's registered kernel if `make` installed it, else the current interpreter's own."""
    from jupyter_client.kernelspec import KernelSpecManager

    return paths.KERNEL_NAME if paths.KERNEL_NAME in KernelSpecManager().find_kernel_specs() else "python3"


def report_title(plan: Plan, period: str, unit: str, lang: str) -> str:
    y, m = period.split("-")
    scope = f"xã {plan.commune}" if unit == "commune" else plan.unit(unit).name
    if lang == "en":
        return f"KPI report {m}/{y}: {scope}"
    return f"Báo cáo chỉ tiêu KHCN, ĐMST, CĐS tháng {int(m)}/{y}: {scope}"


def execute(period: str, unit: str, data_dir: Path, out: Path, lang: str, made_on: str,
            timeout: int = 600) -> Path:
    """Run the master notebook for one report with papermill; the executed notebook lands as <unit>.ipynb."""
    import papermill as pm

    target = out / f"{unit}.ipynb"
    tmp = out / f".{unit}.part.ipynb"
    try:
        pm.execute_notebook(
            str(paths.MASTER_NOTEBOOK), str(tmp), kernel_name=kernel_name(), progress_bar=False,
            cwd=str(paths.NOTEBOOKS_DIR), execution_timeout=timeout, language="python",
            parameters={"period": period, "unit": unit, "data_dir": str(data_dir.resolve()),
                        "plan_path": str(paths.PLAN_FILE.resolve()), "output_dir": str(out.resolve()),
                        "lang": lang, "made_on": made_on},
        )
    finally:
        if tmp.exists():
            tmp.replace(target)  # an executed notebook that failed is kept: it shows the failing cell
    return target


def _error_text(exc: BaseException) -> str:
    """One line naming what failed: papermill's error carries the cell's exception name and value."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    return f"{ename}: {evalue}".strip()[:500]


def run_report(plan: Plan, period: str, unit: str, data_dir: Path, out: Path, formats: list[str], lang: str,
               made_on: str, chromium: str | None) -> ReportResult:
    """One report end to end; any failure is recorded on the result, never raised."""
    result = ReportResult(unit)
    try:
        nb = execute(period, unit, data_dir, out, lang, made_on)
        result.files["ipynb"] = nb
        html = render.to_html(nb, out / f"{unit}.html", report_title(plan, period, unit, lang), lang)
        result.files["html"] = html
        if "pdf" in formats and chromium:
            result.files["pdf"] = render.to_pdf(html, out / f"{unit}.pdf", chromium)
    except Exception as exc:  # one failing report must not stop the others
        result.error = _error_text(exc)
        (out / f"{unit}.error.txt").write_text("".join(traceback.format_exception(exc)), encoding="utf-8")
    return result


def write_scorecard_csv(card: pd.DataFrame, target: Path) -> Path:
    """scorecard.csv: one row per indicator, values unrounded, empty where there is none (UTF-8 with BOM so
    that Excel shows the Vietnamese names)."""
    card = safety.spreadsheet_frame(card)  # plan text starting with = + - @ stays text in Excel
    render.write_atomic(target, card.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return target


def run_batch(plan: Plan, subs: Submissions, period: str, units: list[str], data_dir: Path, out_dir: Path,
              formats: list[str], lang: str = "vi", made_on: str = "") -> BatchResult:
    """All reports of one period into <out>/<period>/, plus scorecard.csv and index.html. A report that fails
    is named with its error and the others still render."""
    out = paths.period_dir(out_dir, period)
    out.mkdir(parents=True, exist_ok=True)
    result = BatchResult(period, out, [])
    chromium = render.find_chromium() if "pdf" in formats else None
    if "pdf" in formats and not chromium:
        result.notes.append("Không tìm thấy Chromium/Chrome nên chưa tạo PDF (chỉ tạo HTML). Cài gói `chromium` "
                            "hoặc đặt biến KPI_CHROMIUM trỏ tới trình duyệt.")
    card = compute.scorecard(subs.data, plan, period, lang)
    result.scorecard = write_scorecard_csv(card, out / "scorecard.csv")
    made = made_on or dt.date.today().isoformat()
    excel.write_scorecard_xlsx(card, plan, period, out / "scorecard.xlsx", lang)
    for unit in units:
        result.reports.append(run_report(plan, period, unit, data_dir, out, formats, lang, made, chromium))
    result.index = publish.write_index(plan, period, card, result.reports, out / "index.html", lang, made)
    return result

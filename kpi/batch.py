"""The monthly batch: papermill runs the master notebook once per report in worker processes, then HTML, PDF,
scorecard and index; a manifest of input hashes lets a re-run skip what has not changed."""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import os
import re
import subprocess
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

import kpi
from kpi import cache, compute, excel, paths, pdf, publish, render, safety
from kpi.plan import Plan
from kpi.validate import Submissions

MANIFEST = "manifest.json"
LOG_DIR = "logs"
LOCK_FILE = ".kpi-run.lock"
PDF_GRACE = 5.0  # seconds a PDF may always take, even when the notebook used up the report's time limit
MAX_TIMEOUT = 7 * 24 * 3600  # --timeout above a week is refused (timers overflow long before 1e300)
DEFAULT_TIMEOUT = 1200  # seconds one report (notebook + HTML + PDF) may take before it is stopped
# Test-only hook: a comma-separated list of report names ("vhxh", or "2026-11/vhxh") whose run raises
# InjectedFailure inside its worker process, to prove that one failing report leaves the others rendered.
FAIL_ENV = "KPI_TEST_FAIL_REPORTS"


class InjectedFailure(RuntimeError):
    """Raised only when KPI_TEST_FAIL_REPORTS names the report (tests of the batch's failure handling)."""


def write_error_text(exc: OSError, path: Path | str | None = None) -> str:
    """A Vietnamese line for a write that failed: a full disk or no permission, naming the path and the fix."""
    where = path or getattr(exc, "filename", None) or "thư mục kết quả"
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return (f"Ổ đĩa đầy: không ghi được {where}. Hãy giải phóng chỗ trống trên ổ đĩa (hoặc chọn --out ở ổ "
                f"khác) rồi chạy lại.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return (f"Không có quyền ghi {where}. Hãy cấp quyền ghi cho thư mục đó (hoặc chọn --out là thư mục "
                f"mình được ghi) rồi chạy lại.")
    return f"Không ghi được {where}: {exc.strerror or exc}. Hãy kiểm tra ổ đĩa và thư mục rồi chạy lại."


WRITE_ERRNOS = {errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EROFS, getattr(errno, "EDQUOT", errno.ENOSPC)}


def check_writable(folder: Path | str) -> None:
    """Write then remove a probe file in `folder`, or, while it does not exist yet, in its nearest existing
    parent (where it would be made), so that a folder the run cannot write is found before any work, and a
    run refused for another reason has made nothing; raises OSError with the folder as filename."""
    folder = Path(folder)
    probe_in = folder
    while not probe_in.exists() and probe_in.parent != probe_in:
        probe_in = probe_in.parent
    try:
        if not probe_in.is_dir():
            raise NotADirectoryError(20, "Not a directory", str(probe_in))
        probe = probe_in / f".kpi-probe-{os.getpid()}.part"
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"kpi")
        finally:
            os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None


class OutputLocked(RuntimeError):
    """Another `kpi run` holds the output folder's lock; the message (Vietnamese) says which and what to do."""


@dataclass
class ReportResult:
    unit: str
    files: dict[str, Path] = field(default_factory=dict)  # format -> path
    error: str = ""
    skipped: bool = False  # inputs unchanged since the manifest recorded it: not remade
    seconds: float = 0.0
    log: Path | None = None

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
    manifest: Path | None = None
    notes: list[str] = field(default_factory=list)
    pdf_engine: str = ""  # the engine that printed this run's PDFs, in words (kpi.pdf.Engine.label)

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


# --- periods --------------------------------------------------------------------------------------------

def expand_periods(spec: str, today: dt.date | None = None) -> list[str]:
    """`YYYY-MM`, a range `YYYY-MM..YYYY-MM` (both ends included), or `last-month`: the month before today's
    month (the scheduled run after the 10th reports on the month just closed)."""
    from kpi.report import ParameterError

    if not isinstance(spec, str) or spec != spec.strip() or not re.fullmatch(r"[0-9a-z.\-]+", spec):
        raise ParameterError(f"Kỳ báo cáo {spec!r} không hợp lệ: dùng một tháng (2026-11), một khoảng "
                             "(2026-01..2026-11) hoặc last-month.")
    if spec == "last-month":
        today = today or dt.date.today()
        y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
        return [f"{y}-{m:02d}"]
    if ".." in spec:
        start, end = spec.split("..", 1)
        try:
            a, b = dt.date.fromisoformat(f"{start}-01"), dt.date.fromisoformat(f"{end}-01")
        except ValueError:
            raise ParameterError(f"Kỳ báo cáo '{spec}' không hợp lệ: dùng một tháng (2026-11), một khoảng (2026-01..2026-11) hoặc last-month.") from None
        if b < a:
            raise ParameterError(f"Kỳ báo cáo '{spec}' không hợp lệ: trong một khoảng, tháng đầu phải trước hoặc bằng tháng cuối.")
        out, y, m = [], a.year, a.month
        while (y, m) <= (b.year, b.month):
            out.append(f"{y}-{m:02d}")
            y, m = (y, m + 1) if m < 12 else (y + 1, 1)
        return out
    return [spec]


# --- what feeds which report ----------------------------------------------------------------------------

def feeding_units(plan: Plan, unit: str) -> list[str]:
    """Units whose submissions a report depends on.

    The commune report shows every indicator, so every unit feeds it. A unit's report shows the indicators
    it leads; each one reads its numerator's and its denominator's element, and an element belongs to the
    unit that submits it. So a unit's report depends on its own files plus the files of every unit owning
    an element its indicators use (VHXH's indicators divide by Công an's pop_adult, pop_total, pop_15plus
    and vneid_level2, so Công an's files feed the VHXH report). The unit's own files always count: its
    timeliness and data-quality sections read them."""
    if unit == "commune":
        return list(plan.unit_codes)
    owner = {e.code: e.unit for e in plan.elements}
    used = {unit}
    for ind in plan.indicators_of(unit):
        used.add(owner[ind.numerator])
        if ind.denominator:
            used.add(owner[ind.denominator])
    return [u for u in plan.unit_codes if u in used]


sha256_file = cache.sha256_file
kit_fingerprint = cache.kit_fingerprint


def file_units(subs: Submissions) -> dict[str, set[tuple[str, str]]]:
    """Each submission file (relative name) -> the (unit, period) pairs its rows claim."""
    out: dict[str, set[tuple[str, str]]] = {f: set() for f in subs.files.get("file", pd.Series(dtype=str))}
    rec = subs.received
    if len(rec):
        for f, u, p in rec[["file", "unit", "period"]].drop_duplicates().itertuples(index=False):
            out.setdefault(f, set()).add((u, p))
    return out


def report_inputs(plan: Plan, subs: Submissions, data_dir: Path, period: str, unit: str,
                  owners: dict[str, set[tuple[str, str]]] | None = None,
                  hashes: dict[str, str] | None = None) -> dict[str, str]:
    """The data files that feed one report, with their SHA-256: files of the feeding units (feeding_units)
    for months of the plan year up to P (year-to-date views and the forecast read January..P), plus every
    file whose unit or period could not be read (it shows in every report's data-quality section)."""
    owners = file_units(subs) if owners is None else owners
    feeding = set(feeding_units(plan, unit))
    root = paths.submissions_dir(data_dir)
    out = {}
    for name, claims in sorted(owners.items()):
        relevant = not claims or any(u in feeding and p.startswith(f"{plan.year}-") and p <= period
                                     for u, p in claims)
        if relevant:
            if hashes is None:
                out[name] = sha256_file(root / name)
            else:  # one hash per file per batch, shared by the reports
                if name not in hashes:
                    hashes[name] = sha256_file(root / name)
                out[name] = hashes[name]
    return out


def hash_submissions(data_dir: Path) -> dict[str, str]:
    """Every submission file (relative name) -> its SHA-256, as it is now."""
    from kpi.load import submission_files

    root = paths.submissions_dir(data_dir)
    return {f.relative_to(root).as_posix(): sha256_file(f) for f in submission_files(root)} if root.is_dir() else {}


def load_stable(data_dir: Path, plan: Plan, load) -> tuple[Submissions, dict[str, str]]:
    """Validate the data folder with `load` and return the files' hashes as they were while it was read: the
    files are hashed before and after; when one changed meanwhile (a unit still copying its file), it is read
    again, so the manifest never records a new file's hash beside the old file's values."""
    for _ in range(3):
        before = hash_submissions(data_dir)
        subs = load(data_dir, plan)
        after = hash_submissions(data_dir)
        if before == after:
            return subs, after
        logging.getLogger("kpi.batch").warning("Tệp số liệu thay đổi trong khi đọc; đọc lại.")
    return subs, {}  # still changing: hash afresh per report (as before), the files' current content


def report_key(spec: dict, inputs: dict[str, str], plan_hash: str, notebook_hash: str, kit: str) -> dict:
    """Everything a report's content depends on; equal keys mean the report need not be remade."""
    params = {k: spec[k] for k in ("period", "unit", "lang", "formats")}
    return {"kit": kit, "plan": plan_hash, "notebook": notebook_hash, "parameters": params, "data": inputs}


# --- lock -----------------------------------------------------------------------------------------------

class OutputLock:
    """An exclusive lock on an output folder (<out>/.kpi-run.lock), held by the OS: a killed run releases
    it. A second run either stops with a clear message or, with wait=True, waits its turn."""

    def __init__(self, out_dir: Path, wait: bool = False, poll: float = 1.0, on_wait=None):
        self.path = Path(out_dir) / LOCK_FILE
        self.wait, self.poll, self.on_wait = wait, poll, on_wait
        self._fh = None

    def _try(self) -> bool:
        if os.name == "nt":  # pragma: no cover - Windows
            import msvcrt
            try:
                msvcrt.locking(self._fh.fileno(), msvcrt.LK_NBLCK, 1)
                return True
            except OSError:
                return False
        import fcntl
        try:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def __enter__(self) -> "OutputLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a+", encoding="utf-8")
        told = False
        while not self._try():
            who = self.holder() or "không rõ"
            if not self.wait:
                self._fh.close()
                raise OutputLocked(f"Thư mục kết quả {self.path.parent} đang được một lần chạy khác sử dụng "
                                   f"({who}). Hãy chờ lần chạy đó xong, hoặc chạy lại với --wait để tự chờ.")
            if not told and self.on_wait:
                self.on_wait(f"Thư mục kết quả {self.path.parent} đang bận ({who}); đang chờ...")
                told = True
            time.sleep(self.poll)
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(f"PID {os.getpid()}, bắt đầu lúc {dt.datetime.now():%H:%M:%S %d/%m/%Y}\n")
        self._fh.flush()
        return self

    def __exit__(self, *exc) -> None:
        if self._fh:
            self._fh.seek(0)
            self._fh.truncate()
            self._fh.close()  # closing releases the lock
            self._fh = None


def clean_partials(out: Path) -> list[Path]:
    """Remove temporary files a killed run left behind (hidden names ending in .part...). Call under the lock."""
    gone = []
    if out.is_dir():
        for p in out.iterdir():
            if p.is_file() and p.name.startswith(".") and ".part" in p.name:
                p.unlink(missing_ok=True)
                gone.append(p)
    return gone


# --- one report (runs in a worker process) -------------------------------------------------------------

def execute(period: str, unit: str, data_dir: Path, out: Path, lang: str, made_on: str,
            timeout: int = 600, plan_path: Path | None = None, notebook: Path | None = None,
            parameters: dict | None = None) -> Path:
    """Run the master notebook (or `notebook` with `parameters`) for one report with papermill; the executed
    notebook lands as <unit>.ipynb (written under a temporary name while it runs, renamed at the end)."""
    import papermill as pm

    target = out / f"{unit}.ipynb"
    tmp = out / f".{unit}.part.ipynb"  # papermill wants the .ipynb ending; the leading dot hides it
    if parameters is None:
        parameters = {"period": period, "unit": unit, "data_dir": str(Path(data_dir).resolve()),
                      "plan_path": str(Path(plan_path or paths.PLAN_FILE).resolve()),
                      "output_dir": str(out.resolve()), "lang": lang, "made_on": made_on}
    pm.execute_notebook(
        str(notebook or paths.MASTER_NOTEBOOK), str(tmp), kernel_name=kernel_name(), progress_bar=False,
        cwd=str(paths.NOTEBOOKS_DIR), execution_timeout=timeout, language="python", log_output=True,
        parameters=parameters,
    )
    # Only a notebook that ran to the end replaces the good one: a failed or interrupted run stays under its
    # temporary name (its traceback is in <unit>.error.txt and the log) and the next run removes it.
    tmp.replace(target)
    return target


def _error_text(exc: BaseException) -> str:
    """One line naming what failed: papermill's error carries the cell's exception name and value."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    text = f"{ename}: {evalue}".strip()
    return text.splitlines()[0][:500]


def _injected(period: str, unit: str) -> bool:
    names = {n.strip() for n in os.environ.get(FAIL_ENV, "").split(",") if n.strip()}
    return unit in names or f"{period}/{unit}" in names


def run_report(spec: dict) -> dict:
    """One report end to end (notebook, HTML, PDF) from a JSON-able spec; returns {"files", "error"} and never
    raises: a failure is recorded (with its traceback in <unit>.error.txt) so the other reports go on."""
    plan_path = Path(spec["plan_path"])
    out = Path(spec["out"])
    unit, period = spec["unit"], spec["period"]
    log = logging.getLogger("kpi.batch")
    files: dict[str, str] = {}
    error_file = out / f"{unit}.error.txt"
    try:
        from kpi.plan import load_plan

        plan = load_plan(plan_path)
        log.info("Bắt đầu báo cáo %s/%s (định dạng %s)", period, unit, ",".join(spec["formats"]))
        if _injected(period, unit):
            raise InjectedFailure(f"Lỗi giả lập cho báo cáo {period}/{unit} (biến {FAIL_ENV}).")
        nb = execute(period, unit, Path(spec["data_dir"]), out, spec["lang"], spec["made_on"],
                     timeout=spec.get("cell_timeout", 600), plan_path=plan_path,
                     notebook=Path(spec["notebook"]) if spec.get("notebook") else None,
                     parameters=spec.get("parameters"))
        files["ipynb"] = str(nb)
        log.info("Đã chạy xong sổ tay: %s", nb.name)
        title = spec.get("title") or report_title(plan, period, unit, spec["lang"])
        html = render.to_html(nb, out / f"{unit}.html", title, spec["lang"])
        files["html"] = str(html)
        log.info("Đã xuất HTML: %s", html.name)
        if "pdf" in spec["formats"] and spec.get("chromium"):
            files["pdf"] = str(render.to_pdf(html, out / f"{unit}.pdf", spec["chromium"]))
            log.info("Đã xuất PDF: %s.pdf", unit)
        elif "pdf" in spec["formats"] and spec.get("pdf_engine") == "weasyprint":
            files["pdf"] = str(pdf.weasy_pdf(html, out / f"{unit}.pdf"))
            log.info("Đã xuất PDF (WeasyPrint): %s.pdf", unit)
        error_file.unlink(missing_ok=True)
        return {"files": files, "error": ""}
    except Exception as exc:  # one failing report must not stop the others
        text = "".join(traceback.format_exception(exc))
        log.error("Báo cáo %s/%s lỗi:\n%s", period, unit, text)
        error = write_error_text(exc) if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS else _error_text(exc)
        try:
            render.write_atomic(error_file, text)
        except OSError:  # a full disk: the error still reaches the summary
            pass
        return {"files": files, "error": error}


def print_pdf(printer: render.PdfPrinter, html: Path, target: Path, files: dict, log_path: Path,
              time_limit: float | None = None) -> str:
    """Print one report's HTML with the batch's browser; the PDF joins `files`, the outcome goes to the
    report's log. Returns the error text ("" when the PDF was made). Past `time_limit` seconds (what is left
    of the report's limit) the browser is killed and the report fails with "Quá thời gian"."""
    try:
        files["pdf"] = str(printer.print(html, target, time_limit))
        error, line = "", f"Đã xuất PDF: {target.name}"
    except Exception as exc:  # the report's PDF failed: named in the summary, the other reports go on
        error = _error_text(exc)
        line = f"Lỗi khi in PDF {target.name}: {error}"
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{dt.datetime.now():%Y-%m-%d %H:%M:%S} {line}\n")
    except OSError:  # a full disk: the outcome still reaches the summary
        pass
    return error


def _kill_tree(proc: subprocess.Popen) -> None:
    """Stop a worker and everything it started (its Jupyter kernel, Chromium)."""
    try:
        import psutil

        parent = psutil.Process(proc.pid)
        for child in parent.children(recursive=True):
            child.kill()
        parent.kill()
    except Exception:
        proc.kill()


def start_log(spec: dict, log_path: Path) -> None:
    """A report's log file begins with the kit's version, the report and the time it started."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", encoding="utf-8") as log:
        log.write(f"kpi {kpi.__version__}: báo cáo {spec['period']}/{spec['unit']}, "
                  f"bắt đầu {dt.datetime.now():%Y-%m-%d %H:%M:%S}\n")


def timed_out(spec: dict, log_path: Path, time_limit: float) -> dict:
    """After a report was stopped for its time limit: say so in its log, remove its temporary files."""
    try:
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"Quá thời gian: dừng sau {time_limit:g} giây.\n")
    except OSError:  # a full disk: the summary still names the time limit
        pass
    for p in Path(spec["out"]).glob(f".{spec['unit']}.*"):
        p.unlink(missing_ok=True)
    return {"files": {}, "error": f"Quá thời gian: báo cáo chạy quá {time_limit:g} giây nên bị dừng."}


def run_in_subprocess(spec: dict, log_path: Path, time_limit: float) -> dict:
    """Run one report in a worker process of its own (kpi.workers, the batch's workers for a single report),
    its output going to the report's log file; a report that passes its time limit is stopped (with its
    kernel) and recorded as timed out. For one-off reports: the province report, a report on a Dask worker."""
    from kpi.workers import Pool

    with Pool(1, log_path.parent / "workers.log") as pool:
        res = pool.run(spec, log_path, time_limit)
    if res is None:
        return timed_out(spec, log_path, time_limit)
    res.pop("seconds", None)
    return res


# --- manifest -------------------------------------------------------------------------------------------

# One report's record. An output is a bare file name of the period folder (no folder, no hidden name), so a
# tampered manifest can neither point index.html at another file nor make a report look up to date.
ENTRY_SCHEMA = {
    "type": "object",
    "required": ["key", "outputs"],
    "properties": {
        "key": {"type": "object"},
        "outputs": {"type": "object", "minProperties": 1,
                    "propertyNames": {"enum": ["ipynb", "html", "pdf"]},
                    "additionalProperties": {"type": "string", "pattern": r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]*$"}},
        "made_at": {"type": "string"},
        "seconds": {"type": "number", "minimum": 0},
        "pdf_engine": {"enum": ["chromium", "weasyprint"]},  # which engine printed the PDF (kpi.pdf)
    },
}


def _valid_entry(entry: object, out: Path) -> bool:
    import jsonschema

    try:
        jsonschema.validate(entry, ENTRY_SCHEMA)
    except jsonschema.ValidationError:
        return False
    root = Path(out).resolve()
    return all((root / name).resolve().parent == root for name in entry["outputs"].values())


def load_manifest(out: Path) -> dict:
    """The period's manifest; an entry of the wrong shape (a tampered or damaged file) is dropped, so its
    report is remade, and an unreadable manifest is an empty one."""
    try:
        data = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"reports": {}}
    reports = data.get("reports") if isinstance(data, dict) else None
    if not isinstance(reports, dict):
        return {"reports": {}}
    kept = {unit: entry for unit, entry in reports.items() if _valid_entry(entry, out)}
    if len(kept) != len(reports):
        logging.getLogger("kpi.batch").warning("manifest.json trong %s có %d mục sai dạng: các báo cáo đó được "
                                               "tạo lại.", out, len(reports) - len(kept))
    return {**{k: v for k, v in data.items() if k == "kit" and isinstance(v, str)}, "reports": kept}


def save_manifest(out: Path, manifest: dict) -> Path:
    target = out / MANIFEST
    render.write_atomic(target, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
    return target


def is_current(entry: dict | None, key: dict, out: Path) -> bool:
    """A report is up to date when the manifest recorded the same inputs and every output it made is there."""
    if not entry or not _valid_entry(entry, out) or entry.get("key") != key:
        return False
    return all((out / name).is_file() for name in entry["outputs"].values())


# --- scorecard and index --------------------------------------------------------------------------------

def write_scorecard_csv(card: pd.DataFrame, target: Path) -> Path:
    """scorecard.csv: one row per indicator, values unrounded, empty where there is none (UTF-8 with BOM so
    that Excel shows the Vietnamese names)."""
    card = safety.spreadsheet_frame(card)  # plan text starting with = + - @ stays text in Excel
    render.write_atomic(target, card.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return target


# --- the batch ------------------------------------------------------------------------------------------

def write_cache(plan: Plan, subs: Submissions, data_dir: Path, plan_path: Path, out: Path, kit: str,
                hashes: dict[str, str]) -> Path | None:
    """Leave the batch's validated data in <out>/<period>/.cache/ for the report notebooks (kpi.cache), so
    they do not validate the same files again. Only when the plan file at plan_path is the plan the data was
    validated against (a province commune's plan file differs only in its names, which validation does not
    read); a report whose own key differs ignores the file and validates by itself."""
    from kpi.plan import load_plan

    def for_validation(p: Plan) -> Plan:  # names and the file name do not change what validation accepts
        return replace(p, commune="", commune_full="", source="")

    try:
        if for_validation(load_plan(plan_path)) != for_validation(plan):
            return None
        return cache.write(subs, out, cache.data_key(data_dir, plan_path, kit, hashes))
    except Exception as exc:  # the cache only saves time: without it every report validates for itself
        logging.getLogger("kpi.batch").warning("Không ghi được bộ nhớ đệm dữ liệu: %s", exc)
        return None


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def plan_jobs(plan: Plan, subs: Submissions, period: str, units: list[str], data_dir: Path, out: Path,
              formats: list[str], lang: str, made_on: str, chromium: str | None, plan_path: Path,
              hashes: dict[str, str] | None = None) -> list[tuple[dict, dict]]:
    """(spec, manifest key) for each report of the period."""
    owners = file_units(subs)
    hashes = {} if hashes is None else hashes
    plan_hash, nb_hash, kit = sha256_file(plan_path), sha256_file(paths.MASTER_NOTEBOOK), kit_fingerprint()
    jobs = []
    for unit in units:
        spec = {"period": period, "unit": unit, "data_dir": str(Path(data_dir).resolve()), "out": str(out.resolve()),
                "formats": sorted(formats), "lang": lang, "made_on": made_on, "chromium": chromium,
                "plan_path": str(Path(plan_path).resolve())}
        inputs = report_inputs(plan, subs, Path(data_dir), period, unit, owners, hashes)
        jobs.append((spec, report_key(spec, inputs, plan_hash, nb_hash, kit)))
    return jobs


def run_batch(plan: Plan, subs: Submissions, period: str, units: list[str], data_dir: Path, out_dir: Path,
              formats: list[str], lang: str = "vi", made_on: str = "", *, workers: int | None = None,
              force: bool = False, time_limit: float = DEFAULT_TIMEOUT, progress: bool | None = None,
              plan_path: Path | None = None, scheduler: str | None = None, hashes: dict[str, str] | None = None,
              lock: bool = True, wait: bool = False, on_wait=None, workers_pool=None,
              printer: render.PdfPrinter | None = None) -> BatchResult:
    """All reports of one period into <out>/<period>/, plus scorecard.csv, index.html and manifest.json.

    Reports run in parallel worker processes (default: one per core); each has a log file in logs/ and a
    time limit. A report whose inputs (data files that feed it, plan, notebook, kit, parameters) match the
    manifest and whose outputs exist is skipped unless `force`. A report that fails or runs out of time is
    named with its error and the others still render. The output folder is locked for the whole run.
    `workers_pool` (kpi.workers.Pool) and `printer` (render.PdfPrinter): workers and a browser the caller
    shares between batches and closes itself; else the batch starts its own when there is something to make."""
    out = paths.period_dir(out_dir, period)
    out.mkdir(parents=True, exist_ok=True)
    guard = OutputLock(out_dir, wait=wait, on_wait=on_wait) if lock else None
    if guard:
        guard.__enter__()
    try:
        return _run_locked(plan, subs, period, units, Path(data_dir), out, formats, lang, made_on,
                           workers or default_workers(), force, time_limit, progress,
                           Path(plan_path or paths.PLAN_FILE), scheduler, hashes, workers_pool, printer)
    finally:
        if guard:
            guard.__exit__(None, None, None)


def _run_locked(plan, subs, period, units, data_dir, out, formats, lang, made_on, workers, force, time_limit,
                progress, plan_path, scheduler, hashes, given_pool=None, given_printer=None) -> BatchResult:
    clean_partials(out)
    result = BatchResult(period, out, [])
    engine = pdf.choose() if "pdf" in formats else pdf.Engine("")
    chromium = engine.path or None
    result.notes.extend(engine.notes)
    result.pdf_engine = engine.label
    made = made_on or dt.date.today().isoformat()
    manifest = load_manifest(out)
    entries = manifest["reports"]
    hashes = {} if hashes is None else hashes
    jobs = plan_jobs(plan, subs, period, units, data_dir, out, formats, lang, made, chromium, plan_path, hashes)
    for spec, _ in jobs:
        spec["pdf_engine"] = engine.name
    by_unit: dict[str, ReportResult] = {}
    todo = []
    for spec, key in jobs:
        unit = spec["unit"]
        entry = entries.get(unit)
        if not force and is_current(entry, key, out):
            by_unit[unit] = ReportResult(unit, {f: out / n for f, n in entry["outputs"].items()}, skipped=True,
                                         log=out / LOG_DIR / f"{unit}.log")
        else:
            todo.append((spec, key))
    # The longest reports first (as the manifest timed them last time), so that the batch does not end on one
    # long report running alone.
    todo.sort(key=lambda job: -float((entries.get(job[0]["unit"]) or {}).get("seconds", 0)))
    kit = kit_fingerprint()
    local = bool(todo) and not scheduler
    workers_pool = printer = None
    try:
        if local:  # started now: their imports and the browser's start overlap the scorecard and the cache
            from kpi.workers import Pool

            workers_pool = given_pool or Pool(min(workers, len(todo)), out / LOG_DIR / "workers.log")
            if engine.name:
                printer = given_printer or pdf.open_printer(engine)
        if scheduler:
            from kpi.distributed import scorecard_on_cluster

            card = scorecard_on_cluster(scheduler, data_dir, plan_path, period, lang)
        else:
            card = compute.scorecard(subs.data, plan, period, lang)
        result.scorecard = write_scorecard_csv(card, out / "scorecard.csv")
        excel.write_scorecard_xlsx(card, plan, period, out / "scorecard.xlsx", lang)
        if local:
            write_cache(plan, subs, data_dir, plan_path, out, kit, hashes)
        lock = threading.Lock()

        def record(spec: dict, key: dict, res: dict, seconds: float) -> None:
            unit = spec["unit"]
            rr = ReportResult(unit, {f: Path(p) for f, p in res["files"].items()}, res["error"], seconds=seconds,
                              log=out / LOG_DIR / f"{unit}.log")
            with lock:
                by_unit[unit] = rr
                if rr.ok:
                    entries[unit] = {"key": key, "outputs": {f: p.name for f, p in rr.files.items()},
                                     "made_at": dt.datetime.now().isoformat(timespec="seconds"),
                                     "seconds": round(seconds, 2)}
                    if "pdf" in rr.files:
                        entries[unit]["pdf_engine"] = engine.name
                else:
                    entries.pop(unit, None)
                manifest["kit"] = kit
                try:
                    save_manifest(out, manifest)
                except OSError as exc:  # the report stands; the next run remakes what is not recorded
                    note = write_error_text(exc, out / MANIFEST)
                    if note not in result.notes:
                        result.notes.append(note)

        if todo and scheduler:
            from kpi.distributed import run_on_cluster

            for spec, key, res, secs in run_on_cluster(scheduler, [s for s, _ in todo], [k for _, k in todo],
                                                       time_limit):
                record(spec, key, res, secs)
        elif todo:
            _run_local(todo, out, period, workers_pool, printer, time_limit, progress, record)
    finally:
        if workers_pool and workers_pool is not given_pool:
            workers_pool.close()
        if printer and printer is not given_printer:
            printer.close()
    result.reports = [by_unit[u] for u in units]
    try:
        result.manifest = save_manifest(out, manifest)
    except OSError as exc:  # a full disk: said once, the reports made are still listed
        note = write_error_text(exc, out / MANIFEST)
        if note not in result.notes:
            result.notes.append(note)
    try:
        result.index = publish.write_index(plan, period, card, result.reports, out / "index.html", lang, made)
    except OSError as exc:
        result.notes.append(write_error_text(exc, out / "index.html"))
    return result


def _run_local(todo, out: Path, period: str, workers_pool, printer, time_limit: float, progress, record) -> None:
    """The reports on this machine: a worker makes each notebook and its HTML; the PDF is printed by the batch's
    one browser while that worker already runs the next report. Each finished report is recorded at once."""
    from tqdm.auto import tqdm

    def one(spec: dict, key: dict):
        log_path = out / LOG_DIR / f"{spec['unit']}.log"
        res = workers_pool.run({**spec, "chromium": None, "pdf_engine": ""} if printer else spec, log_path, time_limit)
        if res is None:
            res = {**timed_out(spec, log_path, time_limit), "seconds": time_limit}
        seconds = res.pop("seconds", 0.0)  # the report's own time, not its wait for a free worker
        if printer and not res["error"] and "pdf" in spec["formats"] and "html" in res["files"]:
            t0 = time.perf_counter()
            res["error"] = print_pdf(printer, Path(res["files"]["html"]), out / f"{spec['unit']}.pdf",
                                     res["files"], log_path, max(PDF_GRACE, time_limit - seconds))
            seconds += time.perf_counter() - t0
        return spec, key, res, seconds

    bar = tqdm(total=len(todo), desc=f"Kỳ {period}", unit="báo cáo",
               disable=(None if progress is None else not progress))
    try:
        with ThreadPoolExecutor(max_workers=len(todo)) as pool:  # threads wait; the workers pool does the work
            try:
                for fut in as_completed([pool.submit(one, spec, key) for spec, key in todo]):
                    spec, key, res, secs = fut.result()
                    record(spec, key, res, secs)
                    bar.set_postfix_str(f"{spec['unit']}: {'LỖI' if res['error'] else 'xong'}")
                    bar.update(1)
            except BaseException:  # Ctrl-C (or a fault here): no report starts, the running ones are stopped
                workers_pool.terminate()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    finally:
        bar.close()


_PYTHON_ERROR = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*(:|$)")  # 'TypeError: …', 'InjectedFailure: …', 'KeyError'



def error_words(error: str) -> str:
    """A report's failure as the terminal says it: the kit's own Vietnamese reason as it is, but a Python
    exception (a bug, or a fault the kit has no words for) as one sentence; its text stays in the log."""
    if not _PYTHON_ERROR.match(error or ""):
        return error
    return "lỗi khi chạy sổ tay báo cáo; chi tiết kỹ thuật ở nhật ký, gửi tệp nhật ký cho người hỗ trợ"


def summary_table(results: list[BatchResult]) -> str:
    """The end-of-run table: every report with its state, time and, for a failure, its error."""
    wide = max([8, *(len(b.period) for b in results)])  # a province run's periods read "xa_001/2026-11"
    lines = [f"{'Kỳ':<{wide}} {'Báo cáo':<9} {'Tình trạng':<22} {'Thời gian':>9}  Chi tiết"]
    for b in results:
        for r in b.reports:
            state = ("bỏ qua (không đổi)" if r.skipped else "LỖI" if r.error else "xong")
            detail = error_words(r.error) + (f" (nhật ký: {r.log})" if r.log else "") if r.error else \
                ", ".join(p.name for f, p in r.files.items() if f != "ipynb")
            secs = "" if r.skipped else f"{r.seconds:.1f} giây"
            lines.append(f"{b.period:<{wide}} {r.unit:<9} {state:<22} {secs:>9}  {detail}")
    engines = list(dict.fromkeys(b.pdf_engine for b in results
                                 if b.pdf_engine and any("pdf" in r.files and not r.skipped for r in b.reports)))
    if engines:
        lines.append(f"PDF in bằng: {', '.join(engines)}")
    return "\n".join(lines)


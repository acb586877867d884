"""The monthly batch: papermill runs the master notebook once per report in worker processes, then HTML, PDF,
scorecard and index; a manifest of input hashes lets a re-run skip what has not changed."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kpi.core import paths, periods, safety
from kpi.core.files import write_atomic, write_error_text
from kpi.indicators import compute
from kpi.intake import cache
from kpi.intake.validate import Submissions
from kpi.outputs import excel, pdf, publish, render
from kpi.plan import Plan
from kpi.run.job import LOG_DIR, PDF_GRACE, print_pdf, timed_out
from kpi.run.lock import OutputLock

MANIFEST = "manifest.json"
MAX_TIMEOUT = 7 * 24 * 3600  # --timeout above a week is refused (timers overflow long before 1e300)
DEFAULT_TIMEOUT = 1200  # seconds one report (notebook + HTML + PDF) may take before it is stopped


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
    unwritten: list[str] = field(default_factory=list)  # outputs a fault kept from being written (a full disk)
    pdf_engine: str = ""  # the engine that printed this run's PDFs, in words (kpi.outputs.pdf.Engine.label)

    @property
    def failed(self) -> list[ReportResult]:
        return [r for r in self.reports if not r.ok]


# --- periods --------------------------------------------------------------------------------------------

PERIOD_FORMS = ("một tháng (2026-11), một khoảng (2026-01..2026-11), last-month, một quý (2026-Q2), "
                "6 tháng đầu năm (2026-H1), 9 tháng (2026-9T) hoặc cả năm (2026)")


def expand_periods(spec: str, today: dt.date | None = None) -> list[str]:
    """`YYYY-MM`, a range of months `YYYY-MM..YYYY-MM` (both ends included), `last-month` (the month before
    today's month: the scheduled run after the 10th reports on the month just closed), or one period of
    another kind (2026-Q2, 2026-H1, 2026-9T, 2026), which the period check reads (kpi.core.periods)."""
    from kpi.report import ParameterError

    if not isinstance(spec, str) or spec != spec.strip() or not re.fullmatch(r"[0-9a-zA-Z.\-]+", spec):
        raise ParameterError(f"Kỳ báo cáo {spec!r} không hợp lệ: dùng {PERIOD_FORMS}.")
    if spec == "last-month":
        return [periods.month_before(today or dt.date.today())]
    if ".." in spec:
        start, end = spec.split("..", 1)
        try:
            return periods.month_range(start, end)
        except periods.PeriodError as exc:
            raise ParameterError(str(exc)) from None
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
        last = periods.last_month(period)
        relevant = not claims or any(u in feeding and p.startswith(f"{plan.year}-") and p <= last
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
    from kpi.intake.load import submission_files

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
        logging.getLogger("kpi.run.batch").warning("Tệp số liệu thay đổi trong khi đọc; đọc lại.")
    return subs, {}  # still changing: hash afresh per report (as before), the files' current content


def report_key(spec: dict, inputs: dict[str, str], plan_hash: str, notebook_hash: str, kit: str) -> dict:
    """Everything a report's content depends on; equal keys mean the report need not be remade."""
    params = {k: spec[k] for k in ("period", "unit", "lang", "formats")}
    return {"kit": kit, "plan": plan_hash, "notebook": notebook_hash, "parameters": params, "data": inputs}


# --- lock -----------------------------------------------------------------------------------------------

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

ENTRY_SCHEMA = {
    "type": "object",
    "required": ["key", "outputs"],
    "properties": {
        "key": {"type": "object"},
        "outputs": {"type": "object", "minProperties": 1,
                    "propertyNames": {"enum": ["ipynb", "html", "pdf", "docx"]},
                    "additionalProperties": {"type": "string", "pattern": r"^[^./\\\x00-\x1f][^/\\\x00-\x1f]*$"}},
        "made_at": {"type": "string"},
        "seconds": {"type": "number", "minimum": 0},
        "pdf_engine": {"enum": ["chromium", "weasyprint"]},  # which engine printed the PDF (kpi.outputs.pdf)
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
        logging.getLogger("kpi.run.batch").warning("manifest.json trong %s có %d mục sai dạng: các báo cáo đó được "
                                               "tạo lại.", out, len(reports) - len(kept))
    return {**{k: v for k, v in data.items() if k == "kit" and isinstance(v, str)}, "reports": kept}


def save_manifest(out: Path, manifest: dict) -> Path:
    target = out / MANIFEST
    write_atomic(target, json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True))
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
    write_atomic(target, card.to_csv(index=False, lineterminator="\n").encode("utf-8-sig"))
    return target


# --- the batch ------------------------------------------------------------------------------------------

def write_cache(plan: Plan, subs: Submissions, data_dir: Path, plan_path: Path, out: Path, kit: str,
                hashes: dict[str, str]) -> Path | None:
    """Leave the batch's validated data in <out>/<period>/.cache/ for the report notebooks (kpi.intake.cache), so
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
        logging.getLogger("kpi.run.batch").warning("Không ghi được bộ nhớ đệm dữ liệu: %s", exc)
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
    `workers_pool` (kpi.run.workers.Pool) and `printer` (render.PdfPrinter): workers and a browser the caller
    shares between batches and closes itself; else the batch starts its own when there is something to make."""
    out = paths.period_dir(Path(out_dir).resolve(), period)  # absolute: the workers run in another folder
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
            from kpi.run.workers import Pool

            workers_pool = given_pool or Pool(min(workers, len(todo)), out / LOG_DIR / "workers.log")
            if engine.name:
                printer = given_printer or pdf.open_printer(engine)
        if scheduler:
            from kpi.run.distributed import scorecard_on_cluster

            card = scorecard_on_cluster(scheduler, data_dir, plan_path, period, lang)
        else:
            card = compute.scorecard(subs.data, plan, period, lang)
        for name, write in (("scorecard.csv", lambda t: write_scorecard_csv(card, t)),
                            ("scorecard.xlsx", lambda t: excel.write_scorecard_xlsx(card, plan, period, t, lang))):
            try:
                written = write(out / name)
            except OSError as exc:  # a full disk: said, counted as not written; the reports still run
                result.notes.append(write_error_text(exc, out / name))
                result.unwritten.append(name)
            else:
                result.scorecard = written if name == "scorecard.csv" else result.scorecard
        if periods.is_month(period):  # the data package for the province, before the reports read its revisions
            from kpi.outputs.package import write_package

            try:
                write_package(plan, subs, period, card, out, data_dir, plan_path, made)
            except OSError as exc:
                result.notes.append(write_error_text(exc, out / "package"))
                result.unwritten.append("package")
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
            from kpi.run.distributed import run_on_cluster

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
        result.unwritten.append("index.html")
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


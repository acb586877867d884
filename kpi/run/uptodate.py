"""A re-run with nothing changed, answered from a record instead of from the data (issue 16).

The last `kpi run` on a commune's data that ended with every report made or kept and every output written leaves
<out>/.kpi-uptodate.json: what it was asked (`request`), the fingerprint of its inputs (kpi.core.fingerprint.Inputs,
the very one its manifest and cache keys came from), the SHA-256 of everything it left in each period's folder and
the lines it printed about the data. A run asked the same that finds the same inputs and outputs prints what the
usual way would print (every report "bỏ qua (không đổi)") without reading a sheet or importing pandas. Any other
run removes the record first, under the output folder's lock, and writes it again only when it ends with nothing
failed or unwritten. Standard library only (and filelock)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kpi.core import fingerprint, paths, periods
from kpi.core.files import write_atomic
from kpi.core.fingerprint import sha256_file
from kpi.run.lock import OutputLock
from kpi.run.summary import BatchResult, ReportResult

RECORD = ".kpi-uptodate.json"
VERSION = 1


def eligible(args) -> bool:
    """Only a plain commune root's run is recorded: a province, its packages, a Dask cluster, a commune of a
    province (its plan is written beside its reports) and --zip go the usual way. (A --force run is recorded,
    when it ends with everything made, but never answered from a record: kpi.run.uptodate.check.)"""
    data = Path(args.data)
    return not (getattr(args, "packages", None) or args.scheduler or args.zip or paths.is_province_root(data)
                or (data / paths.COMMUNE_FILE).is_file())


def request(args) -> dict:
    """What the run was asked, as the reports depend on it: the day counts (the reports' date, `last-month`, the
    send-date checks), as do the kit's KPI_* settings (the size bounds, KPI_TODAY)."""
    notebook = Path(args.notebook) if getattr(args, "notebook", None) else paths.MASTER_NOTEBOOK
    return {"version": VERSION, "period": args.period, "unit": args.unit, "lang": args.lang,
            "formats": sorted(f.strip() for f in args.format.split(",") if f.strip()),
            "data": str(Path(args.data).resolve()), "plan": str(_plan_path(args).resolve()),
            "notebook": str(notebook.resolve()), "day": periods.run_day().isoformat(),
            "settings": {k: v for k, v in sorted(os.environ.items()) if k.startswith("KPI_")}}


def _plan_path(args) -> Path:
    return Path(args.plan) if args.plan else paths.PLAN_FILE


def inputs(args, files: dict[str, str] | None = None) -> fingerprint.Inputs:
    """The fingerprint of what the run reads (`files`: the submissions' hashes when already taken)."""
    notebook = Path(args.notebook) if getattr(args, "notebook", None) else paths.MASTER_NOTEBOOK
    return fingerprint.take(Path(args.data), _plan_path(args), notebook, files)


def outputs(out_root: Path, period: str) -> dict[str, str]:
    """Everything a period's run left, name -> SHA-256: the files of <out>/<period>/ and of its package/ (hidden
    files, the cache and the logs aside) and the period's published revision."""
    folder = paths.period_dir(out_root, period)
    found = {}
    if folder.is_dir():
        for p in sorted(folder.rglob("*")):
            rel = p.relative_to(folder)
            if p.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.parts[0] != paths.LOG_DIR:
                found[f"{period}/{rel.as_posix()}"] = sha256_file(p)
    published = Path(out_root) / "published" / f"{period}.json"
    if published.is_file():
        found[f"published/{published.name}"] = sha256_file(published)
    return found


def forget(out_root: Path) -> None:
    """Any run that goes the usual way starts by removing the record (under the lock): a run killed half-way, or
    one asked something else, leaves no record that would vouch for what it changed."""
    (Path(out_root) / RECORD).unlink(missing_ok=True)


def remember(args, read: fingerprint.Inputs, lines: list[str], units: list[str], results: list[BatchResult]) -> None:
    """Record a run that ended with nothing failed or unwritten, when what it read (`read`, taken before it read
    the data) is still as it was, its submissions by their size and time: a file that changed during the run must
    not be vouched for."""
    if not eligible(args) or any(b.failed or b.unwritten or b.index is None for b in results):
        return
    now = inputs(args, read.files)
    if now.stamps != read.stamps or now.record() != read.record():
        return
    out_root = Path(args.out)
    record = {"request": request(args), "inputs": read.record(), "lines": lines, "units": units,
              "periods": [{"period": b.period, "notes": b.notes, "pdf_engine": b.pdf_engine,
                           "outputs": outputs(out_root, b.period)} for b in results]}
    try:
        write_atomic(out_root / RECORD, json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True))
    except OSError:  # the record only saves time: without it the next run goes the usual way
        forget(out_root)


def check(args) -> tuple[tuple[list[str], list[BatchResult]] | None, fingerprint.Inputs | None]:
    """(the lines about the data, the results) of a run whose record says nothing changed, else None: go the usual
    way; with the fingerprint taken for it, which the usual way then uses (its stamps tell whether a file changed
    since). Under the output folder's lock, like any run: a run at work in the folder is waited for or said."""
    out_root, taken = Path(args.out), None
    if args.force or not (out_root / RECORD).is_file() or not eligible(args):
        return None, None
    with OutputLock(out_root, wait=args.wait, on_wait=print):
        try:
            record = json.loads((out_root / RECORD).read_text(encoding="utf-8"))
            if record["request"] != request(args):
                return None, None
            taken = inputs(args)
            if record["inputs"] != taken.record():  # changed inputs: no output is hashed
                return None, taken
            results = []
            for kept in record["periods"]:
                if kept["outputs"] != outputs(out_root, kept["period"]):
                    return None, taken
                results.append(_result(out_root, kept, record["units"]))
            return (list(record["lines"]), results), taken
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # damaged or foreign: the usual way
            return None, taken


def _result(out_root: Path, kept: dict, units: list[str]) -> BatchResult:
    """A period's result as the usual way reports a batch with every report kept, from its manifest (whose bytes
    the record vouched for)."""
    period = kept["period"]
    folder = paths.period_dir(out_root, period).resolve()
    entries = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]
    reports = [ReportResult.kept(u, entries[u], folder) for u in units]
    return BatchResult(period, folder, reports, index=folder / "index.html", scorecard=folder / "scorecard.csv",
                       manifest=folder / "manifest.json", notes=list(kept["notes"]), pdf_engine=kept["pdf_engine"])

"""A re-run with nothing changed, answered from a record instead of from the data.

The last `kpi run` on a commune's data that ended with every report made or kept and every output written leaves
<out>/.kpi-uptodate.json: what it was asked (periods, units, formats, language, notebook, plan, data folder, the
day and the kit's KPI_* settings), the SHA-256 of everything it read (each submission file, the data folder's
README, the plan, the notebook, the kit's code), the SHA-256 of everything it left in each period's folder (the
reports, manifest, index, scorecards, data package, published revision) and the lines it printed about the data.
A run asked the same that finds every input and every output as recorded prints what the usual way would print
for it (every report "bỏ qua (không đổi)") and stops: it reads no sheet and imports no pandas, so a re-run costs a
small share of the batch (issue 16). Any other run goes the usual way, which removes the record first, under the
output folder's lock, and writes it again only when it ends with nothing failed or unwritten.

Standard library only (and filelock, for the output folder's lock)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from kpi.core import paths, periods
from kpi.core.files import write_atomic
from kpi.core.fingerprint import file_stamps, kit_fingerprint, sha256_file, submission_files
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


def inputs(args, submissions: bool = True) -> dict[str, str]:
    """Everything the run reads, name -> SHA-256 ('-' for a file that is not there)."""
    notebook = Path(args.notebook) if getattr(args, "notebook", None) else paths.MASTER_NOTEBOOK
    data = Path(args.data)
    out = {"kit": kit_fingerprint(), "plan": _digest(_plan_path(args)), "notebook": _digest(notebook),
           "README.md": _digest(data / "README.md"),
           "signing key": _digest(paths.keys_dir() / f"{data.resolve().name}.pub")}  # signs the package
    root = paths.submissions_dir(data)
    for f in submission_files(root) if submissions else []:
        out[f"submissions/{f.relative_to(root).as_posix()}"] = sha256_file(f)
    return out


def submission_hashes(read: dict[str, str] | None) -> dict[str, str] | None:
    """The submission files' hashes among `inputs`, by their name in the submissions folder."""
    prefix = "submissions/"
    return None if read is None else {k[len(prefix):]: v for k, v in read.items() if k.startswith(prefix)}


def unchanged(args, read: dict[str, str], stamps: dict | None) -> bool:
    """Whether everything the run read is as it was: the submission files by their size and time since `stamps`
    (taken before they were hashed), the few other inputs by their hash."""
    if stamps is None:
        return inputs(args) == read
    others = {k: v for k, v in read.items() if not k.startswith("submissions/")}
    return file_stamps(Path(args.data)) == stamps and inputs(args, submissions=False) == others


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


def _digest(path: Path) -> str:
    return sha256_file(path) if path.is_file() else "-"


def forget(out_root: Path) -> None:
    """Any run that goes the usual way starts by removing the record (under the lock): a run killed half-way, or
    one asked something else, leaves no record that would vouch for what it changed."""
    (Path(out_root) / RECORD).unlink(missing_ok=True)


def remember(args, read: dict[str, str], lines: list[str], units: list[str], results: list[BatchResult],
             stamps: dict | None = None) -> None:
    """Record a run that ended with nothing failed or unwritten, when the files it read (`read`, hashed before
    it read them, after `stamps`) are still as they were: a file that changed during the run must not be vouched
    for."""
    if not eligible(args) or any(b.failed or b.unwritten or b.index is None for b in results):
        return
    if not unchanged(args, read, stamps):
        return
    out_root = Path(args.out)
    record = {"request": request(args), "inputs": read, "lines": lines, "units": units,
              "periods": [{"period": b.period, "notes": b.notes, "pdf_engine": b.pdf_engine,
                           "outputs": outputs(out_root, b.period)} for b in results]}
    try:
        write_atomic(out_root / RECORD, json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True))
    except OSError:  # the record only saves time: without it the next run goes the usual way
        forget(out_root)


def check(args) -> tuple[list[str], list[BatchResult]] | None:
    """(the lines about the data, the results) of a run whose record says nothing changed; None: go the usual
    way. Under the output folder's lock, like any run: a run at work in the folder is waited for or said."""
    out_root = Path(args.out)
    if args.force or not (out_root / RECORD).is_file() or not eligible(args):
        return None
    with OutputLock(out_root, wait=args.wait, on_wait=print):
        try:
            record = json.loads((out_root / RECORD).read_text(encoding="utf-8"))
            if record["request"] != request(args) or record["inputs"] != inputs(args):
                return None
            results = []
            for kept in record["periods"]:
                if kept["outputs"] != outputs(out_root, kept["period"]):
                    return None
                results.append(_result(out_root, kept, record["units"]))
            return list(record["lines"]), results
        except (OSError, ValueError, KeyError, TypeError, AttributeError):  # damaged or foreign: the usual way
            return None


def _result(out_root: Path, kept: dict, units: list[str]) -> BatchResult:
    """A period's result as the usual way reports a batch with every report kept, from its manifest (whose bytes
    the record vouched for)."""
    period = kept["period"]
    folder = paths.period_dir(out_root, period).resolve()
    entries = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["reports"]
    reports = [ReportResult(u, {f: folder / name for f, name in entries[u]["outputs"].items()}, skipped=True,
                            log=folder / paths.LOG_DIR / f"{u}.log") for u in units]
    return BatchResult(period, folder, reports, index=folder / "index.html", scorecard=folder / "scorecard.csv",
                       manifest=folder / "manifest.json", notes=list(kept["notes"]), pdf_engine=kept["pdf_engine"])

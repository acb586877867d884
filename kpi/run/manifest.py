"""The period's manifest (manifest.json): what each report was made from, checked against a schema before it is
believed; and the temporary files a killed run left."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from kpi.core import paths
from kpi.core.files import write_atomic
from kpi.core.fingerprint import Inputs, kit_fingerprint, sha256_file

MANIFEST = "manifest.json"


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


def report_key(job, data: dict[str, str], inputs: Inputs | None = None) -> dict:
    """Everything a report's content depends on (the job: kpi.run.job.Job): its parameters, the data files that
    feed it (`data`: name -> SHA-256), its plan, its notebook and the kit, taken from the run's fingerprint
    (`inputs`) or, for a province report, from the job's own files. Equal keys: the report need not be remade."""
    if inputs is None:
        notebook = Path(job.notebook) if job.notebook else paths.MASTER_NOTEBOOK
        inputs = Inputs(kit_fingerprint(), sha256_file(Path(job.plan_path)), "", {}, {}, sha256_file(notebook))
    params = {"period": job.period, "unit": job.unit, "lang": job.lang, "formats": list(job.formats)}
    return {"kit": inputs.kit, "plan": inputs.plan, "notebook": inputs.notebook, "parameters": params, "data": data}


def clean_partials(out: Path) -> list[Path]:
    """Remove temporary files a killed run left behind (hidden names ending in .part...). Call under the lock."""
    gone = []
    if out.is_dir():
        for p in out.iterdir():
            if p.is_file() and p.name.startswith(".") and ".part" in p.name:
                p.unlink(missing_ok=True)
                gone.append(p)
    return gone

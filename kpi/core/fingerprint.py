"""Hashes that say whether something changed: a file's SHA-256, the kit's own fingerprint, the submission files
of a data folder. Standard library only: a re-run with nothing changed checks them before it imports anything
heavy (kpi.run.uptodate)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import kpi


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def kit_fingerprint() -> str:
    """The kit's version plus a hash of its code and templates: a changed kit remakes the reports."""
    h = hashlib.sha256(kpi.__version__.encode())
    root = Path(kpi.__file__).resolve().parent
    for p in sorted([*root.rglob("*.py"), *(root / "templates").rglob("*")]):
        if p.is_file() and "__pycache__" not in p.parts:
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return f"{kpi.__version__}+{h.hexdigest()[:16]}"


def submission_files(root: Path) -> list[Path]:
    """Files under <data>/submissions, sorted; hidden files and Office lock files (~$...) are not submissions."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))

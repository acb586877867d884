"""Hashes that say whether something changed: a file's SHA-256, the kit's own fingerprint, the submission files
of a data folder. Standard library only: a re-run with nothing changed checks them before it imports anything
heavy (kpi.run.uptodate)."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import kpi


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def kit_fingerprint() -> str:
    """The kit's version plus a hash of its code and templates: a changed kit remakes the reports. The files are
    read once per process, and again only when one of them changed (its size or time)."""
    root = Path(kpi.__file__).resolve().parent
    files = sorted(p for p in [*root.rglob("*.py"), *(root / "templates").rglob("*")]
                   if p.is_file() and "__pycache__" not in p.parts)
    return _fingerprint(root, tuple((p, p.stat().st_size, p.stat().st_mtime_ns) for p in files))


@lru_cache(maxsize=4)
def _fingerprint(root: Path, files: tuple) -> str:
    h = hashlib.sha256(kpi.__version__.encode())
    for p, _, _ in files:
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return f"{kpi.__version__}+{h.hexdigest()[:16]}"


def file_stamps(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Every submission file of a data folder (relative name) -> (size, modification time in ns), without reading
    it: taken before the files are hashed and again after they are read, equal stamps mean the hashes hold."""
    from kpi.core import paths

    root = paths.submissions_dir(Path(data_dir))
    return {f.relative_to(root).as_posix(): (st.st_size, st.st_mtime_ns)
            for f in submission_files(root) for st in [f.stat()]}


def submission_files(root: Path) -> list[Path]:
    """Files under <data>/submissions, sorted; hidden files and Office lock files (~$...) are not submissions."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))

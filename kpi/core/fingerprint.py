"""Whether something changed: one fingerprint of a period's inputs (`Inputs`, taken once per run), from which the
manifest's report keys, the validated-data cache's key and the re-run record are all made. Standard library
only: a re-run with nothing changed checks it before it imports anything heavy (kpi.run.uptodate)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import kpi
from kpi.core import paths


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def digest(path: Path) -> str:
    """A file's SHA-256, '-' when it is not there."""
    return sha256_file(path) if path.is_file() else "-"


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


def submission_files(root: Path) -> list[Path]:
    """Files under <data>/submissions, sorted; hidden files and Office lock files (~$...) are not submissions."""
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith((".", "~$")))


def file_stamps(data_dir: Path) -> dict[str, tuple[int, int]]:
    """Every submission file (relative name) -> (size, modification time in ns), without reading it: taken before
    the files are hashed and again after they are read, equal stamps mean the hashes hold."""
    root = paths.submissions_dir(Path(data_dir))
    return {f.relative_to(root).as_posix(): (st.st_size, st.st_mtime_ns)
            for f in submission_files(root) for st in [f.stat()]}


@dataclass(frozen=True)
class Inputs:
    """A data folder's inputs as one run found them: the kit, the plan, the folder's README (the synthetic flag),
    each submission file's SHA-256 and their order of modification (which decides between two files of one report
    date: kpi.intake.versions), and, for the run's own record, its notebook and the commune's signing key.
    `stamps` (kpi.core.fingerprint.file_stamps) were taken before the files were hashed."""

    kit: str
    plan: str
    readme: str
    files: dict[str, str]
    stamps: dict
    notebook: str = "-"
    signing_key: str = "-"

    def cache_key(self) -> str:
        """The key of the validated data (kpi.intake.cache): everything validation reads, nothing else."""
        h = hashlib.sha256(b"kpi-submissions-cache-v2\0")
        for part in (self.kit, self.plan, self.readme, *(f"{n}\0{d}" for n, d in sorted(self.files.items()))):
            h.update(part.encode() + b"\0")
        order = sorted(self.stamps, key=lambda n: (self.stamps[n][1], n))
        h.update(b"order\0" + "\0".join(order).encode())
        return h.hexdigest()

    def record(self) -> dict[str, str]:
        """Everything the run reads, name -> SHA-256 ('-' for a file that is not there): the re-run record's."""
        return {"kit": self.kit, "plan": self.plan, "notebook": self.notebook, "README.md": self.readme,
                "signing key": self.signing_key, **{f"submissions/{n}": d for n, d in self.files.items()}}


def take(data_dir: Path, plan_path: Path | None = None, notebook: Path | None = None,
         files: dict[str, str] | None = None) -> Inputs:
    """The fingerprint of a data folder's inputs now (`files`: the submissions' hashes when already taken)."""
    data = Path(data_dir)
    stamps = file_stamps(data)
    root = paths.submissions_dir(data)
    if files is None:
        files = {name: sha256_file(root / name) for name in stamps}
    return Inputs(kit=kit_fingerprint(), plan=sha256_file(Path(plan_path or paths.PLAN_FILE)),
                  readme=digest(data / "README.md"), files=files, stamps=stamps,
                  notebook=digest(Path(notebook)) if notebook else "-",
                  signing_key=digest(paths.key_file(paths.commune_id(data)).with_suffix(".pub")))

"""The batch's validated-data cache: the batch validates the data folder once and leaves the result where each
report's notebook finds it, so five reports do not read and validate the same files five times.

The cache is a pickle of Submissions in the period's output folder (<out>/<period>/.cache/), named by a key
that hashes everything the validation depends on: every submission file (name and content), the data
folder's README (the synthetic flag), the plan file and the kit's code. A report uses it only when the key it
computes itself from the same inputs matches; otherwise it validates the files as if there were no cache."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import stat
from pathlib import Path

import pandas as pd

import kpi
from kpi import paths
from kpi.load import submission_files

CACHE_DIR = ".cache"
PREFIX = "submissions-"
HEADER_FORMAT = "kpi-submissions-cache-v2"  # first line of the file: JSON with the key and the body's SHA-256
log = logging.getLogger(__name__)


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
    for p in sorted([*root.glob("*.py"), *(root / "templates").rglob("*")]):
        if p.is_file():
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return f"{kpi.__version__}+{h.hexdigest()[:16]}"


def data_key(data_dir: str | Path, plan_path: str | Path | None = None, kit: str | None = None,
             hashes: dict[str, str] | None = None) -> str:
    """SHA-256 over what load_submissions(data_dir, load_plan(plan_path)) reads: each submission file's
    relative name and content, the folder's README.md, the plan file, and the kit fingerprint. `hashes`
    (relative name -> SHA-256) reuses file hashes the batch has already computed."""
    data_dir = Path(data_dir)
    root = paths.submissions_dir(data_dir)
    h = hashlib.sha256(b"kpi-submissions-cache-v1\0")
    h.update((kit or kit_fingerprint()).encode() + b"\0")
    h.update(sha256_file(Path(plan_path or paths.PLAN_FILE)).encode() + b"\0")
    readme = data_dir / "README.md"
    h.update((sha256_file(readme) if readme.is_file() else "-").encode() + b"\0")
    for f in submission_files(root) if root.is_dir() else []:
        name = f.relative_to(root).as_posix()
        digest = hashes.get(name) if hashes else None
        h.update(name.encode() + b"\0" + (digest or sha256_file(f)).encode() + b"\0")
    return h.hexdigest()


def cache_dir(period_out: str | Path) -> Path:
    return Path(period_out) / CACHE_DIR


def cache_file(period_out: str | Path, key: str) -> Path:
    return cache_dir(period_out) / f"{PREFIX}{key}.pkl"


def write(subs, period_out: str | Path, key: str) -> Path:
    """Pickle Submissions under the key, atomically (temporary name, then rename), readable by the owner
    only; older cache files of the folder, and temporary ones a killed run left, are removed. The batch
    calls it under the output folder's lock, so no other writer is at work here."""
    folder = cache_dir(period_out)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for left in folder.glob(f".{PREFIX}*.part"):
        left.unlink(missing_ok=True)
    target = cache_file(period_out, key)
    tmp = folder / f".{target.name}.{os.getpid()}.part"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        body = pickle.dumps(subs, protocol=pickle.HIGHEST_PROTOCOL)
        header = {"format": HEADER_FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest()}
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(header).encode("ascii") + b"\n" + body)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    for old in folder.glob(f"{PREFIX}*.pkl"):
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _trusted(path: Path) -> bool:
    """A cache file is read only if it is this user's own regular file, not a link (symbolic or hard) and not
    writable by anyone else: unpickling runs code, so a file someone else could have placed is never read."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_mode & 0o022:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def read(period_out: str | Path, key: str):
    """The Submissions cached under `key`, or None (no such file, not trusted, or unreadable)."""
    path = cache_file(period_out, key)
    try:
        folder = os.lstat(path.parent)
    except OSError:
        return None
    if not stat.S_ISDIR(folder.st_mode) or not _trusted(path):  # a linked cache folder is not ours either
        return None
    from kpi.validate import Submissions

    try:
        with open(path, "rb") as fh:
            raw = fh.read()
        head, _, body = raw.partition(b"\n")
        header = json.loads(head.decode("ascii"))
        # The header's key and the content's SHA-256 are checked before a byte is unpickled: a damaged,
        # truncated or swapped file is never loaded.
        if not isinstance(header, dict) or header.get("format") != HEADER_FORMAT or header.get("key") != key \
                or header.get("sha256") != hashlib.sha256(body).hexdigest():
            raise ValueError("tiêu đề hoặc mã SHA-256 không khớp nội dung")
        subs = pickle.loads(body)
        if not isinstance(subs, Submissions) or not isinstance(getattr(subs, "data", None), pd.DataFrame):
            raise TypeError(f"nội dung là {type(subs).__name__}, không phải Submissions")
        return subs
    except Exception as exc:  # a damaged or wrong cache only costs the validation it would have saved
        log.warning("Bỏ qua bộ nhớ đệm %s (không đọc được: %s); kiểm tra lại số liệu từ đầu.", path.name, exc)
        return None

"""The batch's validated-data cache: the batch validates the data folder once and leaves the result where each
report's notebook finds it, so five reports do not read and validate the same files five times.

The cache is a folder in the period's output folder (<out>/<period>/.cache/submissions-<key>/): each frame of
Submissions as Parquet (the units' notes too, so that a report does not open the files again for them), the problems and the per-file facts as JSON, and `meta.json` holding the key, the
columns and dtypes of each frame and the SHA-256 of every file. Neither Parquet nor JSON can run code when read.
The key hashes everything the validation depends on (kpi.core.fingerprint.Inputs.cache_key): every submission
file (name, content, order of modification), the data folder's README (the synthetic flag), the plan file and the
kit's code. A report uses the cache only when the
key it computes itself from the same inputs matches and every hash, column and dtype checks out; otherwise it
validates the files as if there were no cache."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import shutil
import stat
from pathlib import Path

import pandas as pd

from kpi.core.files import write_folder
from kpi.core import fingerprint

CACHE_DIR = ".cache"
PREFIX = "submissions-"
FORMAT = "kpi-submissions-cache-v4"  # Parquet frames + JSON; v2 was a pickle, never read again
FRAMES = ("data", "rejected", "files", "received", "revisions")
META = "meta.json"
log = logging.getLogger(__name__)


def data_key(data_dir: str | Path, plan_path: str | Path | None = None, kit: str | None = None) -> str:
    """The key of what load_submissions(data_dir, load_plan(plan_path)) reads, from the folder as it is now
    (kpi.core.fingerprint.Inputs.cache_key; a run takes its fingerprint once and uses that)."""
    inputs = fingerprint.take(Path(data_dir), Path(plan_path) if plan_path else None)
    return (dataclasses.replace(inputs, kit=kit) if kit else inputs).cache_key()


def cache_dir(period_out: str | Path) -> Path:
    return Path(period_out) / CACHE_DIR


def cache_file(period_out: str | Path, key: str) -> Path:
    """The cache of one key: a folder."""
    return cache_dir(period_out) / f"{PREFIX}{key}"


def _plain(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rejected rows keep the raw cells as the unit typed them, of any type: as text (None stays empty),
    which Parquet stores and which is all the kit shows of them."""
    if name != "rejected":
        return frame
    return frame.astype(object).where(frame.notna(), None).map(lambda v: v if v is None else str(v))


def _encode(subs) -> dict[str, bytes]:
    """Each part of Submissions as bytes, with meta.json last."""
    parts, frames = {}, {}
    for name in FRAMES + (("notes",) if subs.notes is not None else ()):  # the units' notes, as they were read
        frame = _plain(getattr(subs, name), name)
        buf = io.BytesIO()
        frame.reset_index(drop=True).to_parquet(buf, index=False)
        parts[f"{name}.parquet"] = buf.getvalue()
        frames[name] = {str(c): str(t) for c, t in frame.dtypes.items()}
    facts = {
        "problems": [dataclasses.asdict(p) for p in subs.problems],
        "synthetic": bool(subs.synthetic),
        "file_periods": {f: list(ps) for f, ps in subs.file_periods.items()},
        "note_messages": [list(m) for m in subs.note_messages],
    }
    parts["facts.json"] = json.dumps(facts, ensure_ascii=False).encode("utf-8")
    return parts, frames


def write(subs, period_out: str | Path, key: str, tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write Submissions under the key, atomically (a temporary folder, then renamed), readable by the owner
    only; older caches of the folder, and temporary ones a killed run left, are removed. The batch calls it
    under the output folder's lock, so no other writer is at work here. `tables` are frames the batch computed
    from these Submissions (the period's scorecard), each then read by name (`read_table`)."""
    folder = cache_dir(period_out)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for left in [*folder.glob(f".{PREFIX}*.part"), *folder.glob(f".{PREFIX}*.old")]:
        shutil.rmtree(left, ignore_errors=True) if left.is_dir() else left.unlink(missing_ok=True)
    target = cache_file(period_out, key)
    parts, frames = _encode(subs)
    kept = {}
    for name, frame in (tables or {}).items():
        buf = io.BytesIO()
        frame.reset_index(drop=True).to_parquet(buf, index=False)
        parts[f"table-{name}.parquet"] = buf.getvalue()
        kept[name] = {str(c): str(t) for c, t in frame.dtypes.items()}
    meta = {"format": FORMAT, "key": key, "frames": frames, "tables": kept,
            "sha256": {n: hashlib.sha256(b).hexdigest() for n, b in parts.items()}}
    write_folder(target, {**parts, META: json.dumps(meta).encode("ascii")}, private=True)
    for old in folder.iterdir():
        if old.name.startswith(PREFIX) and old != target:
            shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
    return target


def _own(st: os.stat_result, kind) -> bool:
    """This user's own file or folder of that kind, writable by nobody else, not hard-linked elsewhere."""
    if not kind(st.st_mode) or st.st_mode & 0o022:
        return False
    if kind is stat.S_ISREG and st.st_nlink != 1:
        return False
    return not hasattr(os, "getuid") or st.st_uid == os.getuid()


def _read_part(folder: Path, name: str, sha256: str) -> bytes:
    st = os.lstat(folder / name)
    if not _own(st, stat.S_ISREG):
        raise ValueError(f"{name} không phải tệp riêng của người chạy")
    body = (folder / name).read_bytes()
    if hashlib.sha256(body).hexdigest() != sha256:
        raise ValueError(f"mã SHA-256 của {name} không khớp nội dung")
    return body


def _frame(body: bytes, name: str, dtypes: dict) -> pd.DataFrame:
    frame = pd.read_parquet(io.BytesIO(body))
    if list(frame.columns) != list(dtypes):
        raise ValueError(f"{name}: các cột {list(frame.columns)} khác với {list(dtypes)}")
    return frame.astype(dtypes) if len(dtypes) else frame


def _own_folder(period_out: str | Path, key: str) -> Path | None:
    """The cache folder of `key` when it is there and the user's own; None for none, or a linked or shared one."""
    path = cache_file(period_out, key)
    try:
        if _own(os.lstat(path.parent), stat.S_ISDIR) and _own(os.lstat(path), stat.S_ISDIR):
            return path
    except OSError:
        pass
    return None


def _meta(path: Path, key: str) -> dict:
    """The folder's meta.json, checked to be of this format and this key (ValueError otherwise)."""
    meta = json.loads(_read_part_unhashed(path))
    if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
        raise ValueError("tiêu đề không khớp khóa của số liệu")
    return meta


def read(period_out: str | Path, key: str):
    """The Submissions cached under `key`, or None (no such cache, not the user's own, or not intact)."""
    from kpi.core.problems import Problem
    from kpi.intake.validate import Submissions

    path = _own_folder(period_out, key)
    if path is None:
        return None
    try:
        meta = _meta(path, key)
        hashes, dtypes = meta["sha256"], meta["frames"]
        frames = {n: _frame(_read_part(path, f"{n}.parquet", hashes[f"{n}.parquet"]), n, dtypes[n])
                  for n in FRAMES + (("notes",) if "notes" in dtypes else ())}
        facts = json.loads(_read_part(path, "facts.json", hashes["facts.json"]).decode("utf-8"))
        problems = [Problem(**p) for p in facts["problems"]]
        periods = {str(f): tuple(str(p) for p in ps) for f, ps in facts["file_periods"].items()}
        said = [(str(f), str(m)) for f, m in facts.get("note_messages", [])]
        return Submissions(problems=problems, synthetic=bool(facts["synthetic"]), file_periods=periods,
                           note_messages=said, **frames)
    except Exception as exc:  # a damaged or wrong cache only costs the validation it would have saved
        log.warning("Bỏ qua bộ nhớ đệm %s (không đọc được: %s); kiểm tra lại số liệu từ đầu.", path.name, exc)
        return None


def read_table(period_out: str | Path, key: str, name: str) -> pd.DataFrame | None:
    """A frame the batch left with the Submissions of `key` (write's `tables`), or None (none of that name, or
    a cache that is not intact): the caller then computes it."""
    path = _own_folder(period_out, key)
    if path is None:
        return None
    try:
        meta = _meta(path, key)
        dtypes = meta.get("tables", {}).get(name)
        if not isinstance(dtypes, dict):
            return None
        part = f"table-{name}.parquet"
        return _frame(_read_part(path, part, meta["sha256"][part]), name, dtypes)
    except Exception as exc:  # like read: a damaged table only costs computing it again
        log.warning("Bỏ qua bảng %s trong bộ nhớ đệm (không đọc được: %s); tính lại.", name, exc)
        return None


def scorecard_name(period: str, lang: str) -> str:
    """The cached scorecard's name: one per period and language."""
    return f"scorecard-{period}-{lang}"


def _read_part_unhashed(folder: Path) -> str:
    """meta.json, which holds the other parts' hashes; it must be the user's own plain file too."""
    if not _own(os.lstat(folder / META), stat.S_ISREG):
        raise ValueError(f"{META} không phải tệp riêng của người chạy")
    return (folder / META).read_text(encoding="ascii")

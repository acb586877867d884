"""Writing files safely: every file under a final name complete (temporary name, then rename), and a write that
fails said in Vietnamese with the path and the fix. Imports nothing of the kit."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from pathlib import Path


def write_atomic(target: Path, data: bytes | str) -> None:
    """Write to a temporary name beside the target, then rename: no half-written file under a final name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:  # a full disk or Ctrl-C: no temporary file left behind, the old target untouched
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_folder(target: Path, parts: dict[str, bytes], private: bool = False) -> Path:
    """Write a folder of files whole: every part into a temporary folder beside the target, then swapped in (the
    old folder moved aside first and removed after), so a final name only ever holds a complete set; a full
    disk or Ctrl-C leaves the old folder untouched and no temporary behind. `private`: readable by the owner
    only (0700 folder, 0600 files)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for left in [*target.parent.glob(f".{target.name}.*.part"), *target.parent.glob(f".{target.name}.*.old")]:
        shutil.rmtree(left, ignore_errors=True)  # what a killed run left (the caller holds the output lock)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part"))
    old = target.with_name(f".{target.name}.{os.getpid()}.old")
    try:
        os.chmod(tmp, 0o700 if private else 0o755)
        for name, body in parts.items():
            fd = os.open(tmp / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644)
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return target


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


def write_fault(exc: BaseException, path: Path | str | None = None) -> str | None:
    """write_error_text for a write that failed (a full disk, no permission); None for any other fault."""
    return write_error_text(exc, path) if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS else None


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

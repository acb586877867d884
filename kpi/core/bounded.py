"""Reading what strangers send, under bounds counted as the bytes stream (a province's inbox of data packages).

Nothing here trusts a size a zip header declares: the declared sizes only refuse early; every member is read in
chunks and its bytes are counted as they come, against the bounds below (environment variables, as in
kpi.core.safety), so a zip bomb is refused after at most one bound's worth of bytes, whatever its header says.

    KPI_MAX_FILE_MB           largest member (one file of a package), default 20 MB
    KPI_MAX_UNZIPPED_MB       most bytes unpacked from one package, default 50 MB
    KPI_MAX_PACKAGE_MEMBERS   most members in one zip (its central directory is read before this), default 500
    KPI_MAX_ZIP_RATIO         most bytes out per compressed byte of a member past its first MB, default 100
"""

from __future__ import annotations

import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from kpi.core.errors import PackageRefused
from kpi.core.safety import display_name, limit

CHUNK = 64 * 1024
RATIO_FLOOR = 1024 * 1024  # a small member may compress very well (a column of zeros); the ratio counts past 1 MB
CENTRAL_ENTRY_MAX = 512  # bytes of central directory allowed per member (46 fixed + name + extra)
_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MB = 1024 * 1024


@dataclass
class Budget:
    """The bytes one package may still unpack (KPI_MAX_UNZIPPED_MB), shared by all its members."""

    source: str
    left: int = -1

    def __post_init__(self):
        if self.left < 0:
            self.left = limit("KPI_MAX_UNZIPPED_MB") * MB


def _refuse(source: str, reason: str) -> PackageRefused:
    return PackageRefused(f"{display_name(source)}: {reason}")


def bad_member_name(name: str) -> str:
    """Why a member name may not be used ('' when it may): absolute, a drive, '..', control characters."""
    if _CONTROL.search(name):
        return "có ký tự điều khiển trong tên"
    if name.startswith(("/", "\\")) or _DRIVE.match(name):
        return "là đường dẫn tuyệt đối"
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        return "có '..' (đi ra ngoài thư mục của gói)"
    return ""


def is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def zip_entries(path: Path) -> tuple[int, int]:
    """(members, size of the central directory) from the zip's end record, read before zipfile builds one object
    per member; (-1, -1) when there is no end record (zipfile then says the file is not a zip)."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 22 - 65535))
        tail = f.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        return -1, -1
    _, _, _, _, entries, cd_size, _, _ = struct.unpack("<4s4H2LH", tail[at:at + 22])
    loc = tail.rfind(_EOCD64_LOCATOR, 0, at)
    if loc >= 0 and at - loc == 20:  # zip64: the counts are in the zip64 end record
        (offset,) = struct.unpack("<Q", tail[loc + 8:loc + 16])
        with open(path, "rb") as f:
            f.seek(offset)
            rec = f.read(56)
        if len(rec) == 56 and rec[:4] == b"PK\x06\x06":
            entries, cd_size = struct.unpack("<QQ", rec[32:48])
    return entries, cd_size


def open_zip(path: Path) -> zipfile.ZipFile:
    """The zip, once its end record says it has at most KPI_MAX_PACKAGE_MEMBERS members in a central directory
    of matching size, and once no member is a link or has a name that leaves the package (each refusal names
    the member)."""
    most = limit("KPI_MAX_PACKAGE_MEMBERS")
    entries, cd_size = zip_entries(path)
    if entries > most or cd_size > most * CENTRAL_ENTRY_MAX:
        raise _refuse(str(path), f"tệp zip có {entries} mục (danh mục {cd_size // 1024} KB), quá giới hạn {most} mục "
                      "(KPI_MAX_PACKAGE_MEMBERS); gói của xã chỉ có vài chục tệp.")
    zf = zipfile.ZipFile(path)
    try:
        if len(zf.infolist()) > most:
            raise _refuse(str(path), f"tệp zip có hơn {most} mục (KPI_MAX_PACKAGE_MEMBERS).")
        seen = set()
        for info in zf.infolist():
            if info.filename in seen:  # two members of one name: which one a reader takes is not defined
                raise _refuse(str(path), f"mục '{display_name(info.filename)}' có hai lần trong tệp zip; không dùng "
                              "gói này, xã cần gửi lại tệp .zip do `kpi run --zip` tạo.")
            seen.add(info.filename)
            why = bad_member_name(info.filename)
            if why:
                raise _refuse(str(path), f"mục '{display_name(info.filename)}' {why}; không dùng gói này, xã cần "
                              "gửi lại tệp .zip do `kpi run --zip` tạo.")
            if is_link(info):
                raise _refuse(str(path), f"mục '{display_name(info.filename)}' là liên kết (symlink), không phải tệp; "
                              "không dùng gói này, xã cần gửi lại tệp .zip do `kpi run --zip` tạo.")
    except BaseException:
        zf.close()
        raise
    return zf


def _check_count(source: str, got: int, budget: Budget, most: int, compressed: int = 0) -> None:
    if got > most:
        raise _refuse(source, f"tệp lớn hơn {most // MB} MB khi giải nén (KPI_MAX_FILE_MB); không đọc tiếp.")
    if got > budget.left:
        raise _refuse(source, f"gói giải nén ra hơn {limit('KPI_MAX_UNZIPPED_MB')} MB (KPI_MAX_UNZIPPED_MB); "
                      "không đọc tiếp (có thể là zip bomb).")
    ratio = limit("KPI_MAX_ZIP_RATIO")
    if compressed and got > RATIO_FLOOR and got > ratio * compressed:
        raise _refuse(source, f"tỷ lệ nén quá {ratio} lần (KPI_MAX_ZIP_RATIO: {compressed} byte nén ra hơn "
                      f"{got // MB} MB); không đọc tiếp (có thể là zip bomb).")


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: Budget, source: str, most: int = 0) -> bytes:
    """A member's bytes, counted as they are inflated against the member, package and ratio bounds (the header's
    size refuses early when it admits to too much; when it lies, the count stops the read)."""
    most = most or limit("KPI_MAX_FILE_MB") * MB
    _check_count(source, info.file_size, budget, most)  # declared: refused before inflating a byte
    parts, got = [], 0
    try:
        with zf.open(info) as f:
            while chunk := f.read(CHUNK):
                got += len(chunk)
                _check_count(source, got, budget, most, max(info.compress_size, 1))
                parts.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise _refuse(source, f"không giải nén được ({display_name(exc)}).") from None
    budget.left -= got
    return b"".join(parts)


def read_file(path: Path, budget: Budget, most: int = 0) -> bytes:
    """A regular file's bytes, never through a link, counted as read against the member and package bounds."""
    most = most or limit("KPI_MAX_FILE_MB") * MB
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    if Path(path).is_symlink():
        raise _refuse(str(path), "là liên kết (symlink), không phải tệp; xã cần gửi tệp thật.")
    try:
        fd = os.open(path, flags | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _refuse(str(path), f"không mở được ({display_name(exc.strerror or exc)}).") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise _refuse(str(path), "không phải tệp thông thường.")
        parts, got = [], 0
        while chunk := f.read(CHUNK):
            got += len(chunk)
            _check_count(str(path), got, budget, most)
            parts.append(chunk)
    budget.left -= got
    return b"".join(parts)

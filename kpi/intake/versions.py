"""Which of two files that give a value for the same place and month was sent later (docs/corrections.md): the
later report date; on the same date, the higher version mark in the file's name ('(1)', '_v2', 'v2', 'lần 2');
then the later modification time; then the name. The rule that decided is said in words."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

import pandas as pd

# A version mark at the end of a file's name (before its extension), read from the right: '(1)' as a browser or
# Windows names a second copy, 'v2' after a space, '_', '-' or '.' (or alone), 'lần 2' / 'lan_2'. Several marks
# read left to right ('ca_v2 (1)': v2, then its copy 1).
_MARK = re.compile(r"(?:\((\d{1,3})\)|(?:^|[\s_.\-])v(\d{1,3})|(?:^|[\s_.\-])l[aàâầ]n[\s_.\-]*(\d{1,3}))[\s_.\-]*$")


def version_mark(name: str) -> tuple[tuple[int, ...], str]:
    """The version marks at the end of a file's name and how they are written: 'ca (1).xlsx' -> ((1,), '(1)');
    'ca_v2.xlsx' -> ((2,), 'v2'); 'ca lần 2.xlsx' -> ((2,), 'lần 2'); 'ca.xlsx' -> ((), '')."""
    stem = unicodedata.normalize("NFC", PurePosixPath(name).stem).lower().rstrip(" _.-")
    numbers, texts = [], []
    while (m := _MARK.search(stem)) is not None:
        numbers.append(int(next(g for g in m.groups() if g is not None)))
        texts.append(m.group(0).strip(" _.-"))
        stem = stem[:m.start()].rstrip(" _.-")
    return tuple(reversed(numbers)), " ".join(reversed(texts))


def file_order(files: Iterable[str], modified: Mapping[str, float]) -> dict[str, int]:
    """Each file's place among files of the same report date, the later last: version mark, then modification
    time (unknown: first), then name."""
    ordered = sorted(set(files), key=lambda f: (version_mark(f)[0], modified.get(f, float("-inf")), f))
    return {f: n for n, f in enumerate(ordered)}


def _day(d: object) -> str:
    return "không rõ" if d is None or pd.isna(d) else f"{d:%d/%m/%Y}"


def _mark_words(name: str) -> str:
    text = version_mark(name)[1]
    return f"dấu '{text}'" if text else "không có dấu lần gửi"


def _time(seconds: float | None) -> str:
    return "không rõ" if seconds is None else f"{dt.datetime.fromtimestamp(seconds):%H:%M:%S %d/%m/%Y}"


def decided_by(new_file: str, new_date: object, old_file: str, old_date: object,
               modified: Mapping[str, float]) -> str:
    """Why the value of `new_file` replaced that of `old_file` (different files), in words."""
    if not (pd.isna(new_date) and pd.isna(old_date)) and (pd.isna(old_date) or pd.isna(new_date)
                                                          or new_date != old_date):
        return "có ngày báo cáo muộn hơn" if pd.notna(new_date) and pd.notna(old_date) else (
            "có ngày báo cáo, bản kia không rõ ngày")
    same = "cùng ngày báo cáo" if pd.notna(new_date) else "cả hai không rõ ngày báo cáo"
    if version_mark(new_file)[0] != version_mark(old_file)[0]:
        return (f"{same}, tên tệp có dấu lần gửi cao hơn ({PurePosixPath(new_file).name}: {_mark_words(new_file)}; "
                f"{PurePosixPath(old_file).name}: {_mark_words(old_file)})")
    new_t, old_t = modified.get(new_file), modified.get(old_file)
    if new_t is not None and old_t is not None and new_t != old_t:
        return (f"{same}, cùng dấu lần gửi trong tên, tệp được lưu sau (lưu lúc {_time(new_t)}, "
                f"bản kia {_time(old_t)})")
    return f"{same}, cùng dấu lần gửi và cùng giờ lưu, tên tệp xếp sau theo thứ tự chữ cái"


def modified_times(root: Path, files: list[Path]) -> dict[str, float]:
    """Each file's modification time by its name under `root` (a file that cannot be examined has none)."""
    out = {}
    for f in files:
        try:
            out[f.relative_to(root).as_posix()] = f.stat().st_mtime
        except (OSError, ValueError):
            continue
    return out

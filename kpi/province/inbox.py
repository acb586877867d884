"""The province's inbox: every data package under a folder (package/ folders and the communes' .zip files), read
under the bounds of kpi.core.bounded. A package is read in two steps: its descriptor and signature first (small,
bounded), so that a package the province will not use is refused before its resources are read; its resources
only once the descriptor is accepted (kpi.province.packages)."""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.core import bounded
from kpi.core.errors import PackageRefused, UsageError
from kpi.core.safety import FORMULA_START, display_name, spreadsheet_text
from kpi.core.signing import MAX_SIGNATURE_BYTES, SIGNATURE_SUFFIX

DESCRIPTOR = "datapackage.json"
SIGNATURE = DESCRIPTOR + SIGNATURE_SUFFIX
MAX_DESCRIPTOR_BYTES = 1024 * 1024  # a real descriptor is ~6 KB
TEXT_COLUMNS = {"notes": ("unit", "indicator", "field", "text"), "revisions": ("file",)}


@dataclass
class Package:
    """One package as found: where it came from, its descriptor (exact bytes and parsed), its signature file,
    and, once loaded, its resources' bytes by name."""

    source: str  # the folder or "<zip>:<member>" shown to the user (control characters made visible)
    raw: bytes
    descriptor: dict
    signature: bytes | None
    origin: tuple  # ("folder", Path) or ("zip", Path, member prefix)
    budget: bounded.Budget
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def kpi(self) -> dict:
        k = self.descriptor.get("kpi")
        return k if isinstance(k, dict) else {}

    @property
    def commune_id(self) -> str:
        return str(self.kpi.get("commune_id") or "")

    @property
    def resources(self) -> list[dict]:
        return self.descriptor.get("resources", [])

    def table(self, name: str) -> pd.DataFrame:
        """A resource as a frame; text a spreadsheet would run as a formula (notes, corrections) gets a leading
        apostrophe (kpi.core.safety.spreadsheet_text), as everywhere the kit writes text."""
        dtype = {"indicator": str, "unit": str, "village": str, "state": str, "text": str, "field": str,
                 "file": str, "period": str, "submitted_on": str}
        frame = pd.read_csv(io.BytesIO(self.files[name]), dtype=dtype, keep_default_na=False,
                            na_values={c: [""] for c in ("numerator", "denominator", "value", "old_value",
                                                         "new_value", "days_late")})
        for col in TEXT_COLUMNS.get(name, ()):
            if col in frame:
                frame[col] = frame[col].map(spreadsheet_text)
        return frame

    def formula_cells(self) -> list[str]:
        """The notes and corrections cells that begin like a formula (= + - @ tab CR), as 'notes.csv dòng 3'."""
        found = []
        for name, cols in TEXT_COLUMNS.items():
            if name not in self.files:
                continue
            frame = pd.read_csv(io.BytesIO(self.files[name]), dtype=str, keep_default_na=False)
            for col in (c for c in cols if c in frame):
                found += [f"{name}.csv dòng {i + 2}, cột {col}" for i, v in enumerate(frame[col])
                          if v.startswith(FORMULA_START)]
        return found


def _descriptor(raw: bytes, source: str) -> dict:
    """datapackage.json as a dict whose resources are dicts; PackageRefused for anything else."""
    try:
        d = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # (nesting deeper than Python's stack)
        raise PackageRefused(f"{source}: {DESCRIPTOR} không đọc được ({display_name(exc)[:200]}); xã cần gửi lại gói "
                             "do `kpi run` tạo ra.") from None
    if not isinstance(d, dict) or not isinstance(d.get("resources", []), list) or not all(
            isinstance(r, dict) for r in d.get("resources", [])):
        raise PackageRefused(f"{source}: {DESCRIPTOR} không đúng dạng Data Package; xã cần gửi lại gói do `kpi run` "
                             "tạo ra.")
    most = bounded.limit("KPI_MAX_PACKAGE_MEMBERS")
    if len(d.get("resources", [])) > most:
        raise PackageRefused(f"{source}: {DESCRIPTOR} kê hơn {most} tệp (KPI_MAX_PACKAGE_MEMBERS).")
    return d


def _from_folder(folder: Path) -> Package:
    source = display_name(str(folder))
    budget = bounded.Budget(source)
    raw = bounded.read_file(folder / DESCRIPTOR, budget, MAX_DESCRIPTOR_BYTES)
    sig_path = folder / SIGNATURE
    sig = bounded.read_file(sig_path, budget, MAX_SIGNATURE_BYTES) if os.path.lexists(sig_path) else None
    return Package(source, raw, _descriptor(raw, source), sig, ("folder", folder), budget)


def _from_zip(path: Path) -> list[Package]:
    out = []
    with bounded.open_zip(path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        for member in (n for n in infos if n == DESCRIPTOR or n.endswith("/" + DESCRIPTOR)):
            base = member[: -len(DESCRIPTOR)]
            source = display_name(f"{path}:{member}")
            budget = bounded.Budget(source)
            raw = bounded.read_member(zf, infos[member], budget, source, MAX_DESCRIPTOR_BYTES)
            sig_info = infos.get(base + SIGNATURE)
            sig = bounded.read_member(zf, sig_info, budget, source, MAX_SIGNATURE_BYTES) if sig_info else None
            out.append(Package(source, raw, _descriptor(raw, source), sig, ("zip", path, base), budget))
    return out


def _resource_name(res: dict, source: str) -> str:
    """A resource's path, which must be a plain file name beside datapackage.json (as `kpi run` writes it)."""
    name = str(res.get("path", ""))
    why = bounded.bad_member_name(name) or ("nằm trong thư mục con" if "/" in name or "\\" in name else "")
    if why or not name:
        raise PackageRefused(f"{source}: tệp '{display_name(name)}' ghi trong {DESCRIPTOR} {why or 'không có tên'}; "
                             "không dùng gói này.")
    return name


def load(pkg: Package) -> None:
    """Read the package's resources, each bounded by the bytes its descriptor declares (and the kit's bounds),
    counted as they stream. PackageRefused names the resource and the reason."""
    wanted = {}
    for res in pkg.resources:
        declared = res.get("bytes")
        most = min(declared, bounded.limit("KPI_MAX_FILE_MB") * bounded.MB) if (
            isinstance(declared, int) and not isinstance(declared, bool) and declared >= 0) else 0
        wanted[str(res.get("name"))] = (_resource_name(res, pkg.source), most)
    if pkg.origin[0] == "folder":
        folder = pkg.origin[1]
        for name, (path, most) in wanted.items():
            if os.path.lexists(folder / path):
                pkg.files[name] = _bounded(lambda m, p=folder / path: bounded.read_file(p, pkg.budget, m), most,
                                           f"{pkg.source}/{path}")
        return
    _, zip_path, base = pkg.origin
    with bounded.open_zip(zip_path) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        for name, (path, most) in wanted.items():
            info = infos.get(base + path)
            if info is not None:
                pkg.files[name] = _bounded(lambda m, i=info: bounded.read_member(zf, i, pkg.budget, pkg.source, m),
                                           most, f"{pkg.source} → {path}")


def _bounded(read, most: int, where: str) -> bytes:
    """A resource read under `most` bytes when its descriptor declares its size: a byte more is refused as such."""
    if not most:
        return read(0)
    try:
        return read(most)
    except PackageRefused as exc:
        if "KPI_MAX_FILE_MB" in str(exc):
            raise PackageRefused(f"{display_name(where)}: tệp dài hơn {most} byte ghi trong {DESCRIPTOR}; không đọc "
                                 "tiếp, không dùng gói này.") from None
        raise


def find_packages(folder: Path) -> tuple[list[Package], list[str]]:
    """Every package under `folder` (never through a link): a folder holding datapackage.json, or a .zip holding
    one (a commune's bao-cao-<P>.zip); with a message for each that cannot be read or is refused unread."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"Không có thư mục {folder}: --packages chỉ tới thư mục chứa các gói số liệu của các xã "
                         "(thư mục package/ hoặc tệp .zip của từng xã).")
    found, problems = [], []
    for top, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(top)
        for name in sorted(dirs + names):
            path = here / name
            if path.is_symlink():  # neither followed nor read: what it points to is not what the commune sent
                problems.append(f"{display_name(str(path))}: là liên kết (symlink), không đọc; hãy chép gói thật vào "
                                "thư mục này.")
                if name in dirs:
                    dirs.remove(name)
        for name in sorted(n for n in names if not n.startswith(".")):
            path = here / name
            if path.is_symlink():
                continue
            try:
                if name == DESCRIPTOR:
                    found.append(_from_folder(here))
                elif name.lower().endswith(".zip"):
                    found += _from_zip(path)
            except PackageRefused as exc:
                problems.append(str(exc))
            except (OSError, ValueError, KeyError, EOFError, bounded.zipfile.BadZipFile) as exc:
                problems.append(f"{display_name(str(path))}: không đọc được gói số liệu ({display_name(exc)}); xã cần "
                                "gửi lại gói do `kpi run` tạo ra.")
    return found, problems

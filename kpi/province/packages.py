"""The province from the communes' data packages (docs/rules.md §8, kpi.outputs.package): each package's sums per
indicator and month go through the same roll-up as the raw-data route (commune_history's frame -> rollup ->
report_from_history), so both give the same tables. A package for another period or plan year, one whose
sha256 does not match, two packages for one commune and a commune with none are named; the rest is rolled up."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.core.errors import UsageError
from kpi.plan import Plan
from kpi.province import ProvinceReport, report_from_history, rollup
from kpi.province.targets import ProvincePlan

DESCRIPTOR = "datapackage.json"
RECEIVED_STATES = ("on_time", "late", "date_unknown")  # a unit that sent something readable for P
HISTORY_COLUMNS = ["commune", "indicator", "month", "numerator", "denominator", "value", "villages_reported",
                   "villages_expected"]


@dataclass
class Package:
    """One package as read: where it came from, its descriptor and its resources' bytes by name."""

    source: str  # the folder or "<zip>:<member>" shown to the user
    descriptor: dict
    files: dict[str, bytes]

    @property
    def kpi(self) -> dict:
        k = self.descriptor.get("kpi")
        return k if isinstance(k, dict) else {}

    @property
    def commune_id(self) -> str:
        return str(self.kpi.get("commune_id") or self.kpi.get("commune") or "")

    def table(self, name: str) -> pd.DataFrame:
        dtype = {"indicator": str, "unit": str, "village": str, "state": str, "text": str, "field": str,
                 "file": str, "period": str, "submitted_on": str}
        return pd.read_csv(io.BytesIO(self.files[name]), dtype=dtype, keep_default_na=False,
                           na_values={c: [""] for c in ("numerator", "denominator", "value", "old_value",
                                                        "new_value", "days_late")})


@dataclass
class PackageSet:
    """The packages of one period: the good ones by commune id, and every problem, in Vietnamese."""

    period: str
    good: dict[str, Package] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # communes expected (province plan) with no good package


def _descriptor(raw: bytes) -> dict:
    """datapackage.json as a dict whose resources are dicts; ValueError for anything else."""
    d = json.loads(raw.decode("utf-8"))
    if not isinstance(d, dict) or not isinstance(d.get("resources", []), list) or not all(
            isinstance(r, dict) for r in d.get("resources", [])):
        raise ValueError(f"{DESCRIPTOR} không đúng dạng Data Package")
    return d


def _from_folder(folder: Path) -> Package:
    descriptor = _descriptor((folder / DESCRIPTOR).read_bytes())
    files = {}
    for res in descriptor.get("resources", []):
        path = folder / str(res.get("path", ""))
        files[str(res.get("name"))] = path.read_bytes() if path.is_file() and path.parent == folder else b""
    return Package(str(folder), descriptor, files)


def _from_zip(path: Path) -> list[Package]:
    out = []
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        for member in (n for n in names if n == DESCRIPTOR or n.endswith("/" + DESCRIPTOR)):
            base = member[: -len(DESCRIPTOR)]
            descriptor = _descriptor(zf.read(member))
            files = {str(r.get("name")): zf.read(base + str(r.get("path"))) if base + str(r.get("path")) in names
                     else b"" for r in descriptor.get("resources", [])}
            out.append(Package(f"{path}:{member}", descriptor, files))
    return out


def find_packages(folder: Path) -> tuple[list[Package], list[str]]:
    """Every package under `folder`: a folder holding datapackage.json, or a .zip holding one (a commune's
    bao-cao-<P>.zip); with a message for each that cannot be read."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"Không có thư mục {folder}: --packages chỉ tới thư mục chứa các gói số liệu của các xã "
                         "(thư mục package/ hoặc tệp .zip của từng xã).")
    found, problems = [], []
    for path in sorted(folder.rglob("*")):
        if path.name.startswith("."):
            continue
        try:
            if path.is_file() and path.name == DESCRIPTOR:
                found.append(_from_folder(path.parent))
            elif path.is_file() and path.suffix.lower() == ".zip":
                found += _from_zip(path)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            problems.append(f"{path}: không đọc được gói số liệu ({exc}); xã cần gửi lại gói do `kpi run` tạo ra.")
    return found, problems


def _who(k: dict, upper: bool = False) -> str:
    """'xã Quảng Ngọc', or the commune's name as it is when it already says 'Xã …'."""
    name = str(k.get("commune") or "")
    text = name if name.lower().startswith("xã ") else f"xã {name}"
    return text[:1].upper() + text[1:] if upper else text


def check(pkg: Package, plan: Plan, period: str) -> str:
    """Why a package cannot be rolled up for P ('' when it can): another period or plan year, a resource
    missing or whose sha256 is not the one its descriptor gives (changed after the commune made it)."""
    k = pkg.kpi
    if not k or not pkg.commune_id:
        return f"{pkg.source}: không phải gói số liệu của bộ công cụ (thiếu mục kpi trong {DESCRIPTOR})."
    if str(k.get("period")) != period:
        return (f"{pkg.source}: gói của {_who(k)} là số liệu kỳ {k.get('period')}, không phải kỳ {period}; "
                f"xã cần gửi gói kỳ {period}.")
    if k.get("plan_year") != plan.year:
        return (f"{pkg.source}: gói của {_who(k)} theo kế hoạch năm {k.get('plan_year')}, không phải năm "
                f"{plan.year}.")
    for res in pkg.descriptor.get("resources", []):
        body = pkg.files.get(str(res.get("name")), b"")
        if not body:
            return f"{pkg.source}: gói của {_who(k)} thiếu tệp {res.get('path')}."
        if res.get("hash") != "sha256:" + hashlib.sha256(body).hexdigest():
            return (f"{pkg.source}: tệp {res.get('path')} trong gói của {_who(k)} không khớp mã sha256 "
                    "ghi trong datapackage.json (tệp đã bị sửa sau khi xã tạo gói); xã cần gửi lại gói nguyên vẹn.")
    for name, columns in (("history", HISTORY_COLUMNS[1:]), ("timeliness", ["unit", "state"]),
                          ("revisions", ["period", "indicator", "old_value", "new_value"])):
        try:
            table = pkg.table(name) if name in pkg.files else None
            ok = table is not None and set(columns) <= set(table.columns)
            if ok and name == "history":
                table.astype({"month": "int64", "numerator": "float64", "denominator": "float64",
                              "villages_reported": "int64", "villages_expected": "int64"})
        except (ValueError, TypeError, pd.errors.ParserError):
            ok = False
        if not ok:
            return (f"{pkg.source}: bảng {name} trong gói của {_who(k)} thiếu hoặc không đúng dạng "
                    f"(cần các cột {', '.join(columns)}); xã cần tạo lại gói bằng `kpi run`.")
    return ""


def collect(folder: Path, plan: Plan, period: str | None = None, pplan: ProvincePlan | None = None) -> PackageSet:
    """The packages for P (default: the latest period any package is of), checked; two packages for one
    commune are both set aside (the province cannot tell which one the commune meant)."""
    pplan = pplan or ProvincePlan()
    found, problems = find_packages(folder)
    if period is None:
        given = sorted(str(p.kpi.get("period")) for p in found if p.kpi.get("period"))
        if not given:
            raise UsageError(f"Không có gói số liệu nào trong {folder}; hãy chép vào đó thư mục package/ (hoặc tệp "
                             ".zip) do `kpi run` tạo cho từng xã.")
        period = given[-1]
    out = PackageSet(period, problems=problems)
    by_commune: dict[str, list[Package]] = {}
    for pkg in found:
        why = check(pkg, plan, period)
        if why:
            out.problems.append(why)
        else:
            by_commune.setdefault(pkg.commune_id, []).append(pkg)
    for cid, pkgs in sorted(by_commune.items()):
        if len(pkgs) > 1:
            out.problems.append(f"{_who(pkgs[0].kpi, upper=True)} ({cid}) có {len(pkgs)} gói cho kỳ {period}: "
                                + "; ".join(p.source for p in pkgs) + ". Chưa tổng hợp xã này: hãy chỉ giữ một gói.")
        else:
            out.good[cid] = pkgs[0]
    twice = {c for c, pkgs in by_commune.items() if len(pkgs) > 1}
    out.missing = [c for c in pplan.communes if c not in out.good]
    for c in out.missing:
        if c not in twice:  # (a commune with two packages is named above)
            out.problems.append(f"Xã mã {c} (có trong kế hoạch của tỉnh) chưa có gói số liệu hợp lệ cho kỳ {period}.")
    out.missing += sorted(c for c in twice if c not in out.missing)
    return out


def province_history(ps: PackageSet, plan: Plan, communes: list[str]) -> pd.DataFrame:
    """commune_history's frame from the packages: the communes' year-to-date sums per indicator and month as
    each commune computed them; a commune without a package has no value (and no villages known)."""
    from kpi.indicators import compute

    months = list(range(1, compute.month_of(ps.period) + 1))
    ids = [i.id for i in plan.indicators]
    grid = pd.MultiIndex.from_product([communes, ids, months], names=["commune", "indicator", "month"]).to_frame(index=False)
    parts = [p.table("history").assign(commune=cid) for cid, p in ps.good.items()]
    sums = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=HISTORY_COLUMNS))
    sums = sums.astype({"month": "int64"})
    out = grid.merge(sums[HISTORY_COLUMNS], on=["commune", "indicator", "month"], how="left")
    for c in ("numerator", "denominator", "value"):
        out[c] = out[c].astype("float64")
    for c in ("villages_reported", "villages_expected"):
        out[c] = out[c].fillna(0).astype("int64")
    return out[HISTORY_COLUMNS]


def received(ps: PackageSet) -> pd.DataFrame:
    """The units that sent something readable for P, per commune, from the packages' timeliness tables."""
    rows = []
    for cid, pkg in ps.good.items():
        tl = pkg.table("timeliness")
        for r in tl[tl["state"].isin(RECEIVED_STATES)].itertuples():
            rows.append({"commune": cid, "unit": r.unit, "period": ps.period, "submitted_on": r.submitted_on,
                         "file": pkg.source})
    return pd.DataFrame(rows, columns=["commune", "unit", "period", "submitted_on", "file"])


def corrections(ps: PackageSet) -> pd.DataFrame:
    """Every correction the communes' packages list (their `revisions` table), with the commune."""
    parts = [p.table("revisions").assign(commune=p.kpi.get("commune"), revision=p.kpi.get("revision"))
             for p in ps.good.values() if "revisions" in p.files]
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["period", "indicator", "old_value", "new_value", "file", "submitted_on", "commune", "revision"])


def report_from_packages(ps: PackageSet, plan: Plan, pplan: ProvincePlan | None = None) -> ProvinceReport:
    """The province report for P from the packages, through the raw-data route's roll-up."""
    communes = sorted(set(ps.good) | set(ps.missing))
    hist = province_history(ps, plan, communes)
    return report_from_history(hist, rollup(hist, plan), received(ps), communes, plan, ps.period, pplan)


def commune_names(ps: PackageSet) -> dict[str, str]:
    return {cid: str(p.kpi.get("commune") or cid) for cid, p in ps.good.items()}

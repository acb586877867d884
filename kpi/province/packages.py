"""The province from the communes' data packages (docs/rules.md §8, kpi.outputs.package): each package's sums per
indicator and month go through the same roll-up as the raw-data route (commune_history's frame -> rollup ->
report_from_history), so both give the same tables. Only packages whose signature verifies with the province's
key for the commune they name are rolled up (docs/security.md); every other package is named with its reason
(identity, period, plan, size, names, hashes, a second package for one commune), and the rest is rolled up."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kpi.core import signing
from kpi.core.errors import PackageRefused, UsageError
from kpi.core.safety import display_name, limit
from kpi.plan import Plan
from kpi.plan.rules import rules_sha256
from kpi.province import ProvinceReport, report_from_history, rollup
from kpi.province.inbox import DESCRIPTOR, Package, find_packages, load
from kpi.province.targets import ProvincePlan

__all__ = ["DESCRIPTOR", "NOTE", "Package", "PackageSet", "collect", "find_packages", "package_note",
           "report_from_packages"]

NOTE = "packages.json"  # package_note, beside the computed province report in .results/ (kpi.report.province_trust)

RECEIVED_STATES = ("on_time", "late", "date_unknown")  # a unit that sent something readable for P
HISTORY_COLUMNS = ["commune", "indicator", "month", "numerator", "denominator", "value", "villages_reported",
                   "villages_expected"]


@dataclass
class PackageSet:
    """The packages of one period: the good ones by commune id, and every problem, in Vietnamese."""

    period: str
    good: dict[str, Package] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # communes expected (province plan) with no good package
    verified: set[str] = field(default_factory=set)  # good communes whose signature verified with the plan's key
    notices: list[str] = field(default_factory=list)  # what was done to a good package (formula-like text)

    @property
    def unverified(self) -> list[str]:
        """Good communes rolled up without a verified signature (only with --allow-unsigned)."""
        return sorted(c for c in self.good if c not in self.verified)


def _who(k: dict, upper: bool = False) -> str:
    """'xã Quảng Ngọc', or the commune's name as it is when it already says 'Xã …'."""
    name = display_name(str(k.get("commune") or ""))
    text = name if name.lower().startswith("xã ") else f"xã {name}"
    return text[:1].upper() + text[1:] if upper else text


def identity(pkg: Package, pplan: ProvincePlan, allow_unsigned: bool = False) -> tuple[str, bool]:
    """(why the package cannot be taken as the commune's it names, or ''; whether its signature verified).

    A package counts only if its signature over the exact bytes of its datapackage.json verifies with the key the
    province plan gives for the commune the package names. With `allow_unsigned`, a package of a commune for which
    the province holds no key is taken unverified; a commune whose key the province holds is always checked."""
    k, cid = pkg.kpi, display_name(pkg.commune_id)
    if not k or not cid:
        return f"{pkg.source}: không phải gói số liệu của bộ công cụ (thiếu mục kpi trong {DESCRIPTOR}).", False
    key = pplan.keys.get(pkg.commune_id)
    if key is None:
        if allow_unsigned:
            return "", False
        if not pplan.keys:
            why = ("tỉnh chưa có khóa công khai của xã nào: ghi khóa của từng xã vào kế hoạch của tỉnh "
                   "(--province-plan, xem docs/province.md), hoặc chạy với --allow-unsigned (số liệu chưa xác minh)")
        elif pkg.commune_id in pplan.communes:
            why = f"kế hoạch của tỉnh chưa ghi khóa công khai của xã {cid}: hãy xin xã dòng `kpi keys` in ra"
        else:
            why = f"xã mã {cid} không có trong kế hoạch của tỉnh (không có khóa để xác minh)"
        return f"{pkg.source}: gói của {_who(k)} ({cid}) không được tổng hợp: {why}.", False
    fp = signing.fingerprint(key)
    if pkg.signature is None:
        return (f"{pkg.source}: gói của {_who(k)} ({cid}) chưa được ký (không có {DESCRIPTOR}.sig); không tổng hợp. "
                f"Xã cần chạy lại `kpi run` trên máy giữ khóa của xã rồi gửi lại gói."), False
    try:
        sig = signing.read_signature(pkg.signature)
    except ValueError as exc:
        return f"{pkg.source}: gói của {_who(k)} ({cid}): {exc}; không tổng hợp, xã cần gửi lại gói.", False
    if signing.verifies(pkg.raw, sig, key):
        return "", True
    if sig.key is not None and sig.key != key:
        return (f"{pkg.source}: gói nói là của {_who(k)} ({cid}) nhưng được ký bằng khóa khác (dấu vân tay "
                f"{sig.fingerprint}), không phải khóa tỉnh giữ cho xã này ({fp}); không tổng hợp. Gói không phải do "
                f"xã {cid} tạo, hoặc xã đã đổi khóa: gọi điện cho xã đối chiếu dấu vân tay."), False
    return (f"{pkg.source}: chữ ký của gói {_who(k)} ({cid}) không khớp với {DESCRIPTOR}: tệp đã bị sửa sau khi xã "
            f"ký; không tổng hợp, xã cần gửi lại gói nguyên vẹn."), False


def check_head(pkg: Package, plan: Plan, period: str) -> str:
    """Why a package whose identity holds is not for this report ('' when it is): another period, plan year or
    plan (the plan's rules: elements, how indicators are computed and targeted)."""
    k = pkg.kpi
    if str(k.get("period")) != period:
        return (f"{pkg.source}: gói của {_who(k)} là số liệu kỳ {display_name(k.get('period'))}, không phải kỳ "
                f"{period}; xã cần gửi gói kỳ {period}.")
    if k.get("plan_year") != plan.year:
        return (f"{pkg.source}: gói của {_who(k)} theo kế hoạch năm {display_name(k.get('plan_year'))}, không phải "
                f"năm {plan.year}.")
    if k.get("plan_rules") != rules_sha256(plan):
        return (f"{pkg.source}: gói của {_who(k)} được tính theo một kế hoạch khác kế hoạch của tỉnh (số liệu, cách "
                "tính hoặc chỉ tiêu giao khác nhau); xã cần dùng kế hoạch năm của tỉnh và bộ công cụ mới rồi tạo "
                "lại gói.")
    return ""


def check_body(pkg: Package) -> str:
    """Why a package's resources cannot be rolled up ('' when they can): a resource missing or whose sha256 is
    not the one its descriptor gives (changed after the commune made it), a table without its columns."""
    k = pkg.kpi
    for res in pkg.resources:
        body = pkg.files.get(str(res.get("name")), b"")
        if not body:
            return f"{pkg.source}: gói của {_who(k)} thiếu tệp {display_name(res.get('path'))}."
        if res.get("hash") != "sha256:" + hashlib.sha256(body).hexdigest():
            return (f"{pkg.source}: tệp {display_name(res.get('path'))} trong gói của {_who(k)} không khớp mã sha256 "
                    "ghi trong datapackage.json (tệp đã bị sửa sau khi xã tạo gói); xã cần gửi lại gói nguyên vẹn.")
    most_rows, most_cols = limit("KPI_MAX_ROWS"), limit("KPI_MAX_COLUMNS")
    for name, body in pkg.files.items():  # before pandas parses it: a table's shape bounds its memory too
        rows, cols = body.count(b"\n"), body.split(b"\n", 1)[0].count(b",") + 1
        if rows > most_rows or cols > most_cols:
            return (f"{pkg.source}: bảng {display_name(name)} trong gói của {_who(k)} có {rows} dòng, {cols} cột, quá "
                    f"giới hạn {most_rows} dòng (KPI_MAX_ROWS), {most_cols} cột (KPI_MAX_COLUMNS); không dùng gói này.")
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


def check(pkg: Package, plan: Plan, period: str) -> str:
    """Why a package (identity aside) cannot be rolled up for P ('' when it can); reads its resources, bounded."""
    why = check_head(pkg, plan, period)
    if why:
        return why
    try:
        load(pkg)
    except PackageRefused as exc:
        return str(exc)
    return check_body(pkg)


def _revision(pkg: Package) -> int:
    r = pkg.kpi.get("revision")
    return r if isinstance(r, int) and not isinstance(r, bool) else 0


def _one_per_commune(cid: str, pkgs: list[Package], period: str, out: PackageSet) -> Package | None:
    """Of several packages for one commune: the one with the highest revision (the others named); copies of one
    package count once; two different packages claiming the same highest revision: neither (both named)."""
    distinct = list({p.raw: p for p in reversed(pkgs)}.values())[::-1]  # the first of identical copies
    for copy in (p for p in pkgs if p not in distinct):
        out.notices.append(f"{copy.source}: bản sao giống hệt gói đã có của {_who(copy.kpi)} ({cid}); chỉ tính một lần.")
    if len(distinct) == 1:
        return distinct[0]
    top = max(_revision(p) for p in distinct)
    latest = [p for p in distinct if _revision(p) == top]
    if len(latest) > 1:
        out.problems.append(f"{_who(latest[0].kpi, upper=True)} ({cid}) có {len(latest)} gói khác nhau cho kỳ {period} "
                            f"cùng ghi lần công bố {top}: " + "; ".join(p.source for p in latest)
                            + ". Chưa tổng hợp xã này: hãy hỏi xã gói nào đúng và chỉ giữ gói đó.")
        return None
    for old in (p for p in distinct if p is not latest[0]):
        out.problems.append(f"{old.source}: gói cũ của {_who(old.kpi)} ({cid}), lần công bố {_revision(old)}; đã "
                            f"dùng gói mới hơn (lần công bố {top}) {latest[0].source}.")
    return latest[0]


def collect(folder: Path, plan: Plan, period: str | None = None, pplan: ProvincePlan | None = None,
            allow_unsigned: bool = False) -> PackageSet:
    """The packages for P (default: the latest period of a package whose identity holds), each refusal named:
    identity (kpi.province.packages.identity), period, plan year and plan, sizes and names (kpi.province.inbox),
    hashes and tables; of two packages for one commune the later revision is taken."""
    pplan = pplan or ProvincePlan()
    found, problems = find_packages(folder)
    trusted, verified = [], set()
    for pkg in found:
        why, ok = identity(pkg, pplan, allow_unsigned)
        if why:
            problems.append(why)
        else:
            trusted.append(pkg)
            if ok:
                verified.add(id(pkg))
    if period is None:  # only trusted packages choose it: a forged package cannot move the month
        given = sorted(str(p.kpi.get("period")) for p in trusted if p.kpi.get("period"))
        if not given:
            raise UsageError(f"Không có gói số liệu nào dùng được trong {folder}"
                             + (f" ({len(problems)} gói bị từ chối:\n  " + "\n  ".join(problems) + "\n)" if problems
                                else "") + "; hãy chép vào đó thư mục package/ (hoặc tệp .zip) do `kpi run` tạo cho "
                             "từng xã.")
        period = given[-1]
    out = PackageSet(period, problems=problems)
    by_commune: dict[str, list[Package]] = {}
    for pkg in trusted:
        why = check(pkg, plan, period)
        if why:
            out.problems.append(why)
            pkg.files.clear()
        else:
            by_commune.setdefault(pkg.commune_id, []).append(pkg)
    for cid, pkgs in sorted(by_commune.items()):
        chosen = _one_per_commune(display_name(cid), pkgs, period, out)
        if chosen is not None:
            out.good[cid] = chosen
            if id(chosen) in verified:
                out.verified.add(cid)
            cells = chosen.formula_cells()
            if cells:
                out.notices.append(f"{chosen.source}: {len(cells)} ô ghi chú của {_who(chosen.kpi)} bắt đầu như công "
                                   f"thức bảng tính (= + - @): {', '.join(cells[:5])}{' …' if len(cells) > 5 else ''}; "
                                   "đã thêm dấu ' ở đầu để bảng tính hiện là chữ, không chạy.")
        for p in pkgs:
            if p is not chosen:
                p.files.clear()
    out.missing = [c for c in pplan.communes if c not in out.good]
    tied = {c for c in by_commune if c not in out.good}
    for c in out.missing:
        if c not in tied:  # (a commune with two packages is named above)
            out.problems.append(f"Xã mã {c} (có trong kế hoạch của tỉnh) chưa có gói số liệu hợp lệ cho kỳ {period}.")
    out.missing += sorted(c for c in tied if c not in out.missing)
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


def commune_names(ps: PackageSet, pplan: ProvincePlan | None = None) -> dict[str, str]:
    """Each good commune's name: the province plan's when it gives one, else the package's own."""
    given = pplan.names if pplan else {}
    return {cid: given.get(cid) or display_name(str(p.kpi.get("commune") or cid)) for cid, p in ps.good.items()}


def signer(pkg: Package) -> str:
    """The fingerprint of the key that signed a package ('' when it is not signed or the signature unreadable)."""
    try:
        return signing.read_signature(pkg.signature).fingerprint if pkg.signature else ""
    except ValueError:
        return ""


def package_note(ps: PackageSet) -> dict:
    """What the province report says about the packages: which were rolled up, which not and why, and the
    corrections the communes listed."""
    fixes = corrections(ps)
    return {"period": ps.period, "problems": ps.problems, "missing": ps.missing, "notices": ps.notices,
            "used": [{"commune_id": c, "commune": p.kpi.get("commune"), "revision": p.kpi.get("revision"),
                      "made_on": p.kpi.get("made_on"), "source": p.source, "verified": c in ps.verified,
                      "fingerprint": signer(p) if c in ps.verified else ""} for c, p in sorted(ps.good.items())],
            "unverified": ps.unverified,
            "corrections": json.loads(fixes.to_json(orient="records", force_ascii=False))}

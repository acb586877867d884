"""The commune's data package for the province (docs/rules.md §8): <out>/<P>/package/, a Frictionless Tabular Data
Package of CSV resources, each with its Table Schema and sha256, and a `kpi` property naming the commune, plan,
period and revision. The province rolls communes up from these alone (kpi.province.packages)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pandas as pd

import kpi
from kpi.core import periods, signing
from kpi.core.signing import commune_id, unsigned_note  # noqa: F401 (said by kpi run and kpi keys)
from kpi.core.files import write_folder
from kpi.core.fingerprint import sha256_file
from kpi.indicators import compute, history
from kpi.intake.validate import Submissions
from kpi.outputs import published
from kpi.plan import Plan
from kpi.plan.rules import rules_sha256

PACKAGE_DIR = "package"
DESCRIPTOR = "datapackage.json"
PROFILE = "tabular-data-package"

# resource -> [(field, Table Schema type, description)]
FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "scorecard": [("indicator", "string", "mã chỉ tiêu"), ("value", "number", "giá trị lũy kế đến hết kỳ"),
                  ("numerator", "number", "tử số (với chỉ tiêu đếm: số đếm)"),
                  ("denominator", "number", "mẫu số; trống với chỉ tiêu đếm"),
                  ("target", "number", "chỉ tiêu giao cho xã; trống: khuyến khích"),
                  ("status", "string", "trạng thái"), ("villages_reported", "integer", "số thôn có số liệu"),
                  ("villages_expected", "integer", "số thôn phải có"), ("month_value", "number", "giá trị của riêng kỳ")],
    "villages": [("indicator", "string", "mã chỉ tiêu"), ("village", "string", "thôn"),
                 ("numerator", "number", "tử số"), ("denominator", "number", "mẫu số"), ("value", "number", "tỷ lệ, %")],
    "timeliness": [("unit", "string", "mã đơn vị"), ("state", "string", "on_time, late, date_unknown, unreadable, missing"),
                   ("submitted_on", "date", "ngày gửi"), ("days_late", "integer", "số ngày muộn")],
    "notes": [("unit", "string", "mã đơn vị"), ("indicator", "string", "mã chỉ tiêu; trống: ghi chú chung"),
              ("field", "string", "loại ghi chú"), ("text", "string", "nội dung")],
    "revisions": [("period", "string", "kỳ có số liệu đã công bố bị điều chỉnh"), ("indicator", "string", "mã chỉ tiêu"),
                  ("old_value", "number", "giá trị đã công bố"), ("new_value", "number", "giá trị mới"),
                  ("file", "string", "tệp đã thay đổi số liệu"), ("submitted_on", "date", "ngày gửi tệp đó")],
    # each month's year-to-date sums January..P: the province's forecast and status need the months before P
    "history": [("indicator", "string", "mã chỉ tiêu"), ("month", "integer", "tháng 1..P"),
                ("numerator", "number", "tổng tử số lũy kế"), ("denominator", "number", "tổng mẫu số lũy kế"),
                ("value", "number", "giá trị lũy kế"), ("villages_reported", "integer", "số thôn có số liệu"),
                ("villages_expected", "integer", "số thôn phải có")],
}
KPI_KEYS = ("commune", "commune_id", "plan_year", "plan_sha256", "plan_rules", "period", "revision", "kit_version",
            "made_on")
SIGNATURE = DESCRIPTOR + signing.SIGNATURE_SUFFIX


def csv_bytes(frame: pd.DataFrame, fields: list[str]) -> bytes:
    """RFC 4180 CSV in UTF-8 without BOM, empty for a missing value; floats written in full (repr), so the
    province reads back the very numbers the commune computed."""
    buf = io.StringIO()
    frame[fields].to_csv(buf, index=False, lineterminator="\n")
    return buf.getvalue().encode("utf-8")


def _date_text(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")


def resources(plan: Plan, subs: Submissions, period: str, card: pd.DataFrame, notes: pd.DataFrame,
              revisions: pd.DataFrame, given=None) -> dict[str, pd.DataFrame]:
    """The package's tables for month P, each with the columns of FIELDS (`given`: the period's data the batch
    computed, kpi.report.period_data, whose villages and timeliness are taken as they are)."""
    villages = compute.village_table(subs.data, plan, period) if given is None else given.villages
    tl = compute.timeliness(subs.received, plan, period, subs.problems) if given is None else given.timeliness
    tl = pd.DataFrame({"unit": tl["unit"], "state": tl["status"], "submitted_on": _date_text(tl["submitted_on"]),
                       "days_late": tl["days_late"]})
    hist = given.history if given is not None else history.one_commune(subs.data, plan, period)  # the one history
    revisions = revisions.assign(submitted_on=revisions["submitted_on"].astype(str))
    return {"scorecard": card, "villages": villages, "timeliness": tl,
            "notes": notes.fillna("").astype({"indicator": str}), "revisions": revisions, "history": hist}


def slug(text: str) -> str:
    """A package name Frictionless accepts: lower-case letters, digits, '-', '_', '.'."""
    import unicodedata

    flat = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    flat = "".join(c for c in flat if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9._-]+", "-", flat).strip("-") or "xa"


def write_package(plan: Plan, subs: Submissions, period: str, card: pd.DataFrame, out: Path,
                  data_dir: Path, plan_path: Path, made_on: str = "") -> Path:
    """<out>/package/ for month P (`out` is <out>/<P>/): the resources, then datapackage.json last, so a
    package with a descriptor is whole. Records the published values (kpi.outputs.published) and carries
    the corrections found, with P's revision number. Signed (datapackage.json.sig) when the commune has its key
    (`kpi keys`, kpi.core.signing); else unsigned, and `unsigned_note` says so."""
    from kpi.report import period_data

    return write_period_package(period_data.compute_period(plan, subs, period, "vi", data_dir, plan_path, card),
                                out, made_on)


def write_period_package(given, out: Path, made_on: str = "") -> Path:
    """write_package from the period's data the batch computed once (kpi.report.period_data), its tables as they
    are; the corrections found become the data's `corrections`, which the period's reports show."""
    plan, subs, period, card = given.plan, given.submissions, given.period, given.scorecard
    data_dir, plan_path = Path(given.data_dir), Path(given.plan_path)
    made_on = made_on or periods.run_day().isoformat()
    revision, changes, records = published.publish(plan, subs.data, period, card, Path(out).parent, made_on)
    tables = resources(plan, subs, period, card, given.notes, published.revisions_frame(changes), given)
    parts, entries = {}, []
    for name, fields in FIELDS.items():
        body = parts[f"{name}.csv"] = csv_bytes(tables[name], [f for f, _, _ in fields])
        entries.append({
            "name": name, "path": f"{name}.csv", "profile": "tabular-data-resource", "format": "csv",
            "mediatype": "text/csv", "encoding": "utf-8", "bytes": len(body),
            "hash": "sha256:" + hashlib.sha256(body).hexdigest(),
            "schema": {"fields": [{"name": f, "type": t, "description": d} for f, t, d in fields]}})
    descriptor = {
        "profile": PROFILE, "name": slug(f"kpi-{plan.commune}-{period}"),
        "title": f"Số liệu chỉ tiêu KHCN, ĐMST và CĐS của xã {plan.commune}, kỳ {period}",
        "resources": entries,
        "kpi": {"commune": plan.commune, "commune_id": commune_id(data_dir), "plan_year": plan.year,
                "plan_sha256": sha256_file(plan_path), "plan_rules": rules_sha256(plan), "period": period,
                "revision": revision,
                "kit_version": kpi.__version__, "made_on": made_on},
    }
    parts[DESCRIPTOR] = json.dumps(descriptor, ensure_ascii=False, indent=2).encode("utf-8")
    pair = signing.load_key(commune_id(data_dir))
    if pair is not None:  # over the descriptor's exact bytes, which carry every resource's sha256
        parts[SIGNATURE] = signing.signature_bytes(parts[DESCRIPTOR], pair)
    from kpi.report import corrections  # the reports' corrections: these very rows, read as revisions.csv is read

    given.corrections = corrections.parse(io.BytesIO(parts["revisions.csv"]))
    final = write_folder(Path(out) / PACKAGE_DIR, parts)  # made whole aside, then put in place
    published.save(records)  # recorded as published once the package is whole
    return final



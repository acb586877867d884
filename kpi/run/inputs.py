"""Which data files feed which report; the data folder read once (or taken from the cache) and left for the notebooks."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from kpi.core import fingerprint, paths, periods
from kpi.core.fingerprint import Inputs, sha256_file
from kpi.intake import cache
from kpi.intake.validate import Submissions
from kpi.plan.model import Plan


def feeding_units(plan: Plan, unit: str) -> list[str]:
    """Units whose submissions a report depends on.

    The commune report shows every indicator, so every unit feeds it. A unit's report shows the indicators
    it leads; each one reads its numerator's and its denominator's element, and an element belongs to the
    unit that submits it. So a unit's report depends on its own files plus the files of every unit owning
    an element its indicators use (VHXH's indicators divide by Công an's pop_adult, pop_total, pop_15plus
    and vneid_level2, so Công an's files feed the VHXH report). The unit's own files always count: its
    timeliness and data-quality sections read them."""
    if unit == "commune":
        return list(plan.unit_codes)
    owner = {e.code: e.unit for e in plan.elements}
    used = {unit}
    for ind in plan.indicators_of(unit):
        used.add(owner[ind.numerator])
        if ind.denominator:
            used.add(owner[ind.denominator])
    return [u for u in plan.unit_codes if u in used]


def file_units(subs: Submissions) -> dict[str, set[tuple[str, str]]]:
    """Each submission file (relative name) -> the (unit, period) pairs its rows claim."""
    out: dict[str, set[tuple[str, str]]] = {f: set() for f in subs.files.get("file", pd.Series(dtype=str))}
    rec = subs.received
    if len(rec):
        for f, u, p in rec[["file", "unit", "period"]].drop_duplicates().itertuples(index=False):
            out.setdefault(f, set()).add((u, p))
    return out


def report_inputs(plan: Plan, subs: Submissions, period: str, unit: str, hashes: dict[str, str],
                  owners: dict[str, set[tuple[str, str]]] | None = None) -> dict[str, str]:
    """The data files that feed one report, with their SHA-256 (`hashes`, the run's fingerprint's): files of the
    feeding units (feeding_units) for months of the plan year up to P (year-to-date views and the forecast read
    January..P) and, for the commune report, every month of the year before (it shows last year's final values,
    kpi.report.last_year_values: a December file arriving in January changes them), plus every file whose unit or
    period could not be read (it shows in every report's data-quality section)."""
    owners = file_units(subs) if owners is None else owners
    feeding, last = set(feeding_units(plan, unit)), periods.last_month(period)
    before = f"{plan.year - 1}-" if unit == "commune" else None

    def feeds(u: str, p: str) -> bool:
        return u in feeding and ((p.startswith(f"{plan.year}-") and p <= last) or (before and p.startswith(before)))

    return {name: hashes.get(name, "-") for name, claims in sorted(owners.items())
            if not claims or any(feeds(u, p) for u, p in claims)}


def load_stable(data_dir: Path, plan: Plan, load, known: dict[str, str] | None = None,
                stamps: dict | None = None) -> tuple[Submissions, dict[str, str]]:
    """Validate the data folder with `load` and return the files' hashes as they were read: the SHA-256 of the
    bytes the intake read (Submissions.hashes; `known` or a hash of its own for a file it refused unread), when
    every file's size and time after the read are those of `stamps` (taken before anything was hashed or read);
    when one changed meanwhile (a unit still copying its file), it is read again, so the manifest never records
    a new file's hash beside the old file's values."""
    from kpi.core.fingerprint import file_stamps

    root = paths.submissions_dir(data_dir)
    for _ in range(3):
        stamps = file_stamps(data_dir) if stamps is None else stamps
        subs = load(data_dir, plan)
        if file_stamps(data_dir) == stamps:
            read = getattr(subs, "hashes", {})
            return subs, {n: read.get(n) or (known or {}).get(n) or sha256_file(root / n) for n in stamps}
        known = stamps = None
        logging.getLogger("kpi.run.batch").warning("Tệp số liệu thay đổi trong khi đọc; đọc lại.")
    return subs, {}  # still changing: hash afresh per report (as before), the files' current content


def cached(inputs: Inputs, period_dirs: list[Path]) -> Submissions | None:
    """The validated data a previous batch left (kpi.intake.cache) in one of these period folders, when it was
    made from the same inputs: a re-run with nothing changed does not validate again."""
    key = inputs.cache_key()
    return next((s for s in (cache.read(d, key) for d in period_dirs) if s is not None), None)


def read(data_dir: Path, plan: Plan, inputs: Inputs, load=None) -> tuple[Submissions, Inputs]:
    """The data folder read and validated (load_stable, with `load` or load_submissions), with the fingerprint of
    what was read: the hashes of the bytes read (a file that changed meanwhile has its new hash; its old stamps
    stay, so no re-run record vouches for it)."""
    from kpi.intake.validate import load_submissions

    subs, hashes = load_stable(data_dir, plan, load or load_submissions, dict(inputs.files), inputs.stamps)
    if hashes != inputs.files:
        inputs = replace(inputs, files=hashes or fingerprint.take(data_dir).files)
    return subs, inputs


def write_cache(plan: Plan, subs: Submissions, own: Plan, out: Path, key: str,
                tables: dict | None = None) -> Path | None:
    """Leave the batch's validated data in <out>/<period>/.cache/ for the report notebooks (kpi.intake.cache), so
    they do not validate the same files again. Only when the plan the reports read (`own`, from their plan file) is
    the plan the data was validated against (a province commune's plan file differs only in its names, which
    validation does not read); a report whose own key differs ignores the file and validates by itself."""

    def for_validation(p: Plan) -> Plan:  # names and the file name do not change what validation accepts
        return replace(p, commune="", commune_full="", source="")

    try:
        if for_validation(own) != for_validation(plan):
            return None
        # computed tables (the scorecard) only for the very plan a report reads: they show the plan's words
        return cache.write(subs, out, key, tables if own == plan else None)
    except Exception as exc:  # the cache only saves time: without it every report validates for itself
        from kpi.core.files import write_fault

        logging.getLogger("kpi.run.batch").warning("Không ghi được bộ nhớ đệm dữ liệu: %s", write_fault(exc) or exc)
        return None

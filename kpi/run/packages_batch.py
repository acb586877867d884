"""`kpi run --packages DIR`: the province report from the communes' data packages (kpi.province.packages), into
<out>/province/<P>/ like the raw-data route: province_scorecard.csv, communes.csv, the rendered report."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kpi import province
from kpi.core.files import write_atomic
from kpi.plan import Plan
from kpi.province import packages as pk
from kpi.province.targets import ProvincePlan
from kpi.run.executor import Executor, RunOptions
from kpi.run.manifest import load_manifest, report_key
from kpi.run.province_batch import PROVINCE_DIR, RESULTS_DIR, province_job, run_province_job
from kpi.run.summary import BatchResult

PACKAGES_NOTE = "packages.json"  # beside the computed report in .results/: problems, corrections, sources


def package_note(ps: pk.PackageSet) -> dict:
    """What the province report says about the packages: which were rolled up, which not and why, and the
    corrections the communes listed."""
    fixes = pk.corrections(ps)
    return {"period": ps.period, "problems": ps.problems, "missing": ps.missing, "notices": ps.notices,
            "used": [{"commune_id": c, "commune": p.kpi.get("commune"), "revision": p.kpi.get("revision"),
                      "made_on": p.kpi.get("made_on"), "source": p.source, "verified": c in ps.verified,
                      "fingerprint": pk.signer(p) if c in ps.verified else ""} for c, p in sorted(ps.good.items())],
            "unverified": ps.unverified,
            "corrections": json.loads(fixes.to_json(orient="records", force_ascii=False))}


def compute(folder: Path, plan: Plan, period: str | None, pplan: ProvincePlan,
            allow_unsigned: bool = False) -> tuple[pk.PackageSet, province.ProvinceReport]:
    ps = pk.collect(folder, plan, period, pplan, allow_unsigned)
    return ps, pk.report_from_packages(ps, plan, pplan)


def run_packages(folder: Path, out_root: Path, plan: Plan, plan_path: Path, period: str | None,
                 opts: RunOptions, pplan: ProvincePlan, allow_unsigned: bool = False
                 ) -> tuple[pk.PackageSet, BatchResult | None]:
    """The province report of P from the packages under `folder`, into <out>/province/<P>/ like the raw-data
    route (the same province job). The caller holds the output folder's lock. No usable package: no result."""
    folder, out_root = Path(folder), Path(out_root).resolve()  # absolute: the worker runs elsewhere
    ps, rep = compute(folder, plan, period, pplan, allow_unsigned)
    if not ps.good:
        return ps, None
    results = out_root / PROVINCE_DIR / ps.period / RESULTS_DIR
    with Executor(opts) as ex:  # the same executor as every report; the packages are rolled up at every run
        job, result = province_job(plan_path, ps.period, out_root, opts, folder,
                                   {"results_dir": str(results.resolve())}, ex.engine)
        result.period, out = f"tỉnh/{ps.period}", result.out_dir
        province.write_report(rep, results)
        note = json.dumps(package_note(ps), ensure_ascii=False, indent=1)
        write_atomic(results / PACKAGES_NOTE, note)
        inputs = {f"{c}/{name}": hashlib.sha256(data).hexdigest()
                  for c, p in sorted(ps.good.items()) for name, data in sorted(p.files.items())}
        inputs[PACKAGES_NOTE] = hashlib.sha256(note.encode("utf-8")).hexdigest()  # refusals, signatures: on the page
        run_province_job(ex, job, report_key(job, inputs), rep, result, load_manifest(out))
    from kpi.outputs.publish import write_province_index

    names = pk.commune_names(ps, pplan)
    communes = sorted(set(ps.good) | set(ps.missing))
    states = {names.get(c, c): (f"đã tổng hợp gói số liệu (lần công bố {ps.good[c].kpi.get('revision')}"
                                + ("" if c in ps.verified else ", CHƯA XÁC MINH chữ ký") + ")"
                                if c in ps.good else "chưa có gói số liệu hợp lệ") for c in communes}
    result.index = write_province_index(ps.period, [(names.get(c, c), out_root / c / ps.period, []) for c in communes],
                                        out, opts.lang, states=states)
    return ps, result

"""`kpi run --packages DIR`: the province report from the communes' data packages (kpi.province.packages), into
<out>/province/<P>/ like the raw-data route: province_scorecard.csv, communes.csv, the rendered report."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

from kpi import province
from kpi.core import paths
from kpi.core.files import write_atomic
from kpi.outputs import pdf
from kpi.plan import Plan
from kpi.province import packages as pk
from kpi.province.targets import ProvincePlan
from kpi.run import batch
from kpi.run.job import LOG_DIR, Job
from kpi.run.manifest import clean_partials
from kpi.run.province_batch import PROVINCE_DIR, RESULTS_DIR, write_tables
from kpi.run.summary import BatchResult, ReportResult, summary_table
from kpi.run.workers import run_in_subprocess

PACKAGES_NOTE = "packages.json"  # beside the computed report in .results/: problems, corrections, sources


def package_note(ps: pk.PackageSet) -> dict:
    """What the province report says about the packages: which were rolled up, which not and why, and the
    corrections the communes listed."""
    fixes = pk.corrections(ps)
    return {"period": ps.period, "problems": ps.problems, "missing": ps.missing,
            "used": [{"commune_id": c, "commune": p.kpi.get("commune"), "revision": p.kpi.get("revision"),
                      "made_on": p.kpi.get("made_on"), "source": p.source} for c, p in sorted(ps.good.items())],
            "corrections": json.loads(fixes.to_json(orient="records", force_ascii=False))}


def compute(folder: Path, plan: Plan, period: str | None, pplan: ProvincePlan) -> tuple[pk.PackageSet,
                                                                                         province.ProvinceReport]:
    ps = pk.collect(folder, plan, period, pplan)
    return ps, pk.report_from_packages(ps, plan, pplan)


def say_problems(ps: pk.PackageSet) -> None:
    print(f"Tỉnh từ gói số liệu: kỳ {ps.period}, {len(ps.good)} xã được tổng hợp.")
    for text in ps.problems:
        print(f"  Gói không dùng được: {text}", file=sys.stderr)


def run_packages(args, plan: Plan, formats: list[str], pplan: ProvincePlan) -> int:
    """The province report of P from --packages DIR, under the output folder's lock."""
    folder, out_root = Path(args.packages), Path(args.out).resolve()  # absolute: the worker runs elsewhere
    with batch.OutputLock(out_root, wait=args.wait, on_wait=print):
        ps, rep = compute(folder, plan, args.period, pplan)
        say_problems(ps)
        if not ps.good:
            print(f"kpi: không có gói số liệu hợp lệ nào cho kỳ {ps.period} trong {folder}.", file=sys.stderr)
            return 1
        out = out_root / PROVINCE_DIR / ps.period
        out.mkdir(parents=True, exist_ok=True)
        clean_partials(out)
        write_tables(rep, out)
        results = out / RESULTS_DIR
        province.write_report(rep, results)
        write_atomic(results / PACKAGES_NOTE, json.dumps(package_note(ps), ensure_ascii=False, indent=1))
        engine = pdf.choose() if "pdf" in formats else pdf.Engine("")
        y, m = ps.period.split("-")
        plan_path = Path(args.plan) if args.plan else paths.PLAN_FILE
        spec = Job(period=ps.period, unit="province", data_dir=str(folder.resolve()), out=str(out.resolve()),
                   plan_path=str(plan_path.resolve()), formats=sorted(formats), lang=args.lang,
                   made_on=dt.date.today().isoformat(), chromium=engine.path or None, pdf_engine=engine.name,
                   notebook=str(paths.PROVINCE_NOTEBOOK),
                   title=f"Báo cáo tổng hợp cấp tỉnh tháng {int(m)}/{y}" if args.lang == "vi" else f"Province roll-up {m}/{y}",
                   parameters={"period": ps.period, "data_root": "", "plan_path": str(plan_path.resolve()),
                               "lang": args.lang, "output_dir": str(out.resolve()), "results_dir": str(results.resolve())})
        t0 = time.perf_counter()
        res = run_in_subprocess(spec, out / LOG_DIR / "province.log", args.timeout)
        rr = ReportResult("province", {f: Path(p) for f, p in res["files"].items()}, res["error"],
                                seconds=time.perf_counter() - t0, log=out / LOG_DIR / "province.log")
        from kpi.outputs.publish import write_province_index

        names = pk.commune_names(ps)
        states = {names.get(c, c): (f"đã tổng hợp gói số liệu (lần công bố {ps.good[c].kpi.get('revision')})"
                                    if c in ps.good else "chưa có gói số liệu hợp lệ") for c in set(ps.good) | set(ps.missing)}
        write_province_index(ps.period, [(names.get(c, c), out_root / c / ps.period, []) for c in
                                         sorted(set(ps.good) | set(ps.missing))], out, args.lang, states=states)
    result = BatchResult(f"tỉnh/{ps.period}", out, [rr])
    print(summary_table([result]))
    print(f"Báo cáo tỉnh: {(out / 'index.html').resolve()}")
    if not rr.ok:
        print(f"kpi: báo cáo tỉnh lỗi: {rr.error} (xem {rr.log}).", file=sys.stderr)
    return 0 if rr.ok else 1

"""`kpi run` on a province root: every commune's reports, then the province report, resumable like a commune batch;
and `kpi run --packages DIR`, the same province report from the communes' data packages (kpi.province.packages)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from kpi import province
from kpi.core import fingerprint, paths, periods
from kpi.core.errors import UsageError
from kpi.core.files import write_atomic
from kpi.core.periods import expand_periods
from kpi.outputs.tables import write_scorecard_csv
from kpi.plan import load_plan
from kpi.plan.model import Plan
from kpi.province import packages as pk
from kpi.province.targets import ProvincePlan
from kpi.run import batch
from kpi.run.executor import Executor, RunOptions, default_workers, pending, save
from kpi.run.inputs import cached, read, sha256_file
from kpi.run.job import Job
from kpi.run.manifest import clean_partials, load_manifest, report_key
from kpi.run.summary import BatchResult

PROVINCE_DIR = "province"  # <out>/province/<P>/: the province report, its scorecard and the commune table
RESULTS_DIR = ".results"  # <out>/province/<P>/.results/: the cluster's province report, for the notebook


def province_inputs(root: Path, read: dict[str, batch.DataSet], period: str, year: int) -> dict[str, str]:
    """The province report reads every commune's files of the plan year up to P (and any file whose month it
    cannot tell from its path: conservatively included), with their hashes from each commune's fingerprint."""
    out = {}
    for name, commune in read.items():
        for rel, digest in commune.inputs.files.items():
            month = rel[:7]
            if not (month[:4].isdigit() and month[4:5] == "-") or (month.startswith(f"{year}-") and month <= period):
                out[f"{name}/{rel}"] = digest
        spec = root / name / province.COMMUNE_FILE
        if spec.is_file():
            out[f"{name}/{province.COMMUNE_FILE}"] = sha256_file(spec)
    return out


def rolled(communes: dict[str, batch.DataSet]) -> province.ProvinceData:
    """The province's roll-up data from each commune's as the run read it once (kpi.province.province_data)."""
    return province.province_data({name: (c.subs, len(c.plan.villages)) for name, c in communes.items()})


def write_tables(rep: province.ProvinceReport, out: Path) -> None:
    """province_scorecard.csv and communes.csv, as scorecard.csv is written: UTF-8 with BOM, and text that a
    spreadsheet would take for a formula (a commune folder named "=…") kept as text."""
    write_scorecard_csv(rep.scorecard, out / "province_scorecard.csv")
    write_scorecard_csv(rep.communes, out / "communes.csv")


def province_job(plan_path: Path, period: str, out_root: Path, opts: RunOptions, data_dir: Path, parameters: dict
                 ) -> tuple[Job, BatchResult]:
    """The province report of P as a job, the same for the raw-data route and the packages route: the province
    notebook with its parameters (`parameters` adds data_root and, where there is one, results_dir and the
    province plan); with the result of its folder, <out>/province/<P>/, made ready."""
    out = (out_root / PROVINCE_DIR / period).resolve()
    out.mkdir(parents=True, exist_ok=True)
    clean_partials(out)
    params = {"period": period, "data_root": "", "plan_path": str(plan_path.resolve()), "lang": opts.lang,
              "output_dir": str(out), **parameters}
    title = (f"Báo cáo tổng hợp cấp tỉnh {periods.label(period)}" if opts.lang == "vi"
             else f"Province roll-up {periods.label(period, 'en')}")
    job = Job(period=period, unit="province", data_dir=str(Path(data_dir).resolve()), out=str(out),
              plan_path=str(plan_path.resolve()), formats=sorted(opts.formats), lang=opts.lang,
              made_on=periods.run_day().isoformat(), notebook=str(paths.PROVINCE_NOTEBOOK), parameters=params,
              title=title, engine=opts.engine)
    return job, BatchResult(period, out, [], scorecard=out / "province_scorecard.csv")


def run_province_job(ex: Executor, job: Job, key: dict, rep: province.ProvinceReport, result: BatchResult,
                     manifest: dict) -> None:
    """The province's tables, then its report through the run's executor (recorded in the period's manifest like
    any report)."""
    out = Path(job.out)
    result.attempt("province_scorecard.csv, communes.csv", out, lambda: write_tables(rep, out))
    result.reports.append(ex.run([(job, key)], out, manifest, result)["province"])


def run_province_period(plan_path: Path, out_root: Path, period: str, ex: Executor, parameters: dict,
                        inputs: dict[str, str], rollup: Callable[[], province.ProvinceReport]) -> BatchResult:
    """The province report of one period: roll-up scorecard CSV, commune table CSV, and the rendered notebook,
    unless the manifest holds them made from the same `inputs`. The roll-up (`rollup`: from the communes' data the
    run read, or from a Dask cluster's totals) is computed once, here, and left in .results/ for the notebook,
    which reads it instead of loading every commune again."""
    results_dir = (out_root / PROVINCE_DIR / period / RESULTS_DIR).resolve()
    job, result = province_job(plan_path, period, out_root, ex.opts, Path(parameters["data_root"]),
                               {**parameters, "results_dir": str(results_dir)})
    out, key = result.out_dir, report_key(job, inputs)
    manifest = load_manifest(out)
    tables = [out / "province_scorecard.csv", out / "communes.csv"]
    done, todo = pending([(job, key)], manifest, out, ex.opts.force or not all(t.is_file() for t in tables))
    if done:  # the same inputs made these tables and this report: nothing is computed again
        result.reports.append(done["province"])
        save(result, manifest)
        return result
    rep = rollup()
    province.write_report(rep, results_dir)
    run_province_job(ex, job, key, rep, result, manifest)
    return result


@dataclass
class ProvinceRun:
    """What a province run made: every batch (each commune's periods, then the province's) and its periods."""

    results: list[BatchResult]
    periods: list[str]
    out_root: Path


def run_province(root: Path, out_root: Path, plan: Plan, plan_path: Path, period_spec: str | None,
                 units: list[str], opts: RunOptions, pplan: ProvincePlan | None = None) -> ProvinceRun:
    """Each commune's reports into <out>/<commune>/<P>/ (the commune's own plan file beside them), then the
    province report into <out>/province/<P>/. The caller holds the output folder's lock.

    With a scheduler the reports run on the Dask cluster and so does the province roll-up, in one pass over
    the commune folders for every period of the run (made first when the latest period must be found, else
    after the communes' reports)."""
    root, out_root = Path(root), Path(out_root).resolve()  # absolute: the workers run elsewhere
    say = opts.say or (lambda _text: None)
    communes = paths.commune_dirs(root)
    totals = pdata = None
    # each commune's data as the run read it once (its plan: the file beside its reports), for its reports and the
    # province's roll-up
    communes_read: dict[str, batch.DataSet] = {}
    # Locally several communes are read and planned at once, so the workers always have a report waiting, not only
    # the 5 of one commune; on a cluster, one commune after another.
    at_once = 1 if opts.scheduler else max(1, min(len(communes), opts.workers or default_workers()))

    def read_commune(d: Path, periods: list[str]) -> None:
        """The commune's own plan file written beside its reports, its fingerprint taken once, and its data: what a
        previous run left validated for these very inputs (kpi.intake.cache), else the folder read and validated.
        Kept for its reports and for the province's roll-up."""
        cplan = province.commune_plan(plan, d)
        cplan_file = out_root / d.name / "plan.yml"
        text = province.commune_plan_yaml(plan_path, cplan)
        if not cplan_file.is_file() or cplan_file.read_text(encoding="utf-8") != text:
            write_atomic(cplan_file, text)
        cplan = load_plan(cplan_file)
        inputs = fingerprint.take(d, cplan_file, opts.notebook or paths.MASTER_NOTEBOOK, {} if opts.force else None)
        subs = None if opts.force else cached(inputs, [paths.period_dir(out_root / d.name, p) for p in periods])
        if subs is None:
            subs, inputs = read(d, cplan, inputs)
        communes_read[d.name] = batch.DataSet(cplan, subs, d, cplan_file, inputs)

    if period_spec:
        periods = expand_periods(period_spec)
    else:  # the latest month with data
        if opts.scheduler:
            from kpi.run.distributed import province_on_cluster

            totals = province_on_cluster(opts.scheduler, root, plan, plan_path)
            latest = totals.latest
        else:  # every commune read now, once: its reports and the roll-up use what was read
            with ThreadPoolExecutor(max_workers=at_once) as pool:
                list(pool.map(lambda d: read_commune(d, []), communes))
            pdata = rolled({d.name: communes_read[d.name] for d in communes})
            latest = pdata.data["period"].max() if len(pdata.data) else None
        if latest is None:
            raise UsageError(f"không có số liệu nào trong {root}; hãy ghi rõ --period.")
        periods = [str(latest)]
    from kpi.report import check_parameters

    for period in periods:  # the province roll-up is monthly (a quarter or a year: the commune report only)
        check_parameters(plan, period, "commune", month_only=True)
    say(f"Tỉnh: {len(communes)} xã trong {root}; kỳ {', '.join(periods)}; {len(units)} báo cáo mỗi xã.")
    results = []
    # One executor for the whole run: every commune's reports and the province report share its workers and
    # its browser, started with the first report to make (a re-run with nothing to make starts neither).
    with Executor(replace(opts, progress=False), size=len(communes) * len(units) * len(periods) + len(periods)) as ex:

        def one_commune(d: Path) -> list[BatchResult]:
            if d.name not in communes_read:
                read_commune(d, periods)
            made = []
            for period in periods:
                r = batch.run_batch(communes_read[d.name], period, units, out_root / d.name, ex.opts, lock=False, executor=ex)
                r.period = f"{d.name}/{period}"
                made.append(r)
            return made

        with ThreadPoolExecutor(max_workers=at_once) as pool:
            try:
                for d, made in zip(communes, pool.map(one_commune, communes)):
                    results += made
                    say(f"  Xong xã {d.name}.")
            except BaseException:  # Ctrl-C: the communes' threads must not wait for their reports
                ex.terminate()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
        if opts.scheduler and totals is None:
            from kpi.run.distributed import province_on_cluster

            totals = province_on_cluster(opts.scheduler, root, plan, plan_path)
        in_order = {d.name: communes_read[d.name] for d in communes}
        parameters = {"data_root": str(root.resolve())}
        if pplan is not None and pplan.file:  # the province's own targets (docs/rules.md §9), in the tables and report
            parameters["province_plan"] = str(Path(pplan.file).resolve())
        if totals is None and pdata is None:
            pdata = rolled(in_order)
        for period in periods:
            def rollup(period: str = period) -> province.ProvinceReport:
                if totals is None:
                    return province.province_report(pdata, plan, period, pplan)
                from kpi.province import on_dask

                return on_dask.province_report(totals, plan, period, pplan)

            r = run_province_period(plan_path, out_root, period, ex, parameters,
                                    province_inputs(root, in_order, period, plan.year), rollup)
            r.period = f"tỉnh/{period}"
            results.append(r)
    from kpi.outputs.publish import write_province_index

    names = {name: c.plan.commune for name, c in in_order.items()}  # each commune's plan as the run read it
    ran = {b.period: b.reports for b in results}
    for period in periods:
        write_province_index(period, [(names[d.name], out_root / d.name / period, ran.get(f"{d.name}/{period}", []))
                                      for d in communes], out_root / PROVINCE_DIR / period, opts.lang)
    return ProvinceRun(results, periods, out_root)


def run_packages(folder: Path, out_root: Path, plan: Plan, plan_path: Path, period: str | None,
                 opts: RunOptions, pplan: ProvincePlan, allow_unsigned: bool = False
                 ) -> tuple[pk.PackageSet, BatchResult | None]:
    """The province report of P from the packages under `folder`, into <out>/province/<P>/ like the raw-data
    route (the same province job). The caller holds the output folder's lock. No usable package: no result."""
    folder, out_root = Path(folder), Path(out_root).resolve()  # absolute: the worker runs elsewhere
    ps = pk.collect(folder, plan, period, pplan, allow_unsigned)
    if not ps.good:
        return ps, None
    rep = pk.report_from_packages(ps, plan, pplan)
    results = out_root / PROVINCE_DIR / ps.period / RESULTS_DIR
    with Executor(opts) as ex:  # the same executor as every report; the packages are rolled up at every run
        job, result = province_job(plan_path, ps.period, out_root, opts, folder,
                                   {"results_dir": str(results.resolve())})
        result.period, out = f"tỉnh/{ps.period}", result.out_dir
        province.write_report(rep, results)
        note = json.dumps(pk.package_note(ps), ensure_ascii=False, indent=1)
        write_atomic(results / pk.NOTE, note)
        inputs = {f"{c}/{name}": hashlib.sha256(data).hexdigest()
                  for c, p in sorted(ps.good.items()) for name, data in sorted(p.files.items())}
        inputs[pk.NOTE] = hashlib.sha256(note.encode("utf-8")).hexdigest()  # refusals, signatures: on the page
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

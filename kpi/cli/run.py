"""kpi run: the month's (or a longer period's) reports, for a commune root or a province root."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import threading
from pathlib import Path

from kpi.cli.common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEMS,
    _check_writable,
    _period,
    _plan,
)
from kpi.core import paths, safety
from kpi.core.errors import UsageError

MAX_TIMEOUT = 7 * 24 * 3600  # --timeout above a week is refused (timers overflow long before 1e300)


def _run_periods(args, plan, subs) -> list[str]:
    """The periods `kpi run` covers: --period as YYYY-MM, a range YYYY-MM..YYYY-MM or last-month; default the
    latest month with data."""
    from kpi.core.periods import expand_periods
    from kpi.report import check_parameters

    if not args.period:
        return [_period(args, plan, subs)]
    periods = expand_periods(args.period)
    for period in periods:
        check_parameters(plan, period, "commune")
    return periods


def batch_cache(args, inputs):
    """The validated data a previous batch left (kpi.intake.cache) in the output folder of a requested period, when
    it was made from the same inputs (`inputs`, the run's fingerprint): a re-run with nothing changed does not
    validate again."""
    from kpi.core.periods import expand_periods
    from kpi.run.inputs import cached

    try:
        periods = expand_periods(args.period) if args.period else []
    except ValueError:
        return None  # the usual path below reports the bad period
    return cached(inputs, [paths.period_dir(Path(args.out), p) for p in periods])


def cmd_run(args) -> int:
    """`kpi run`; Ctrl-C stops it at once: no new report starts, workers, kernels and the browser are stopped,
    nothing under a final name is replaced, exit code 130 with one line."""
    import signal

    def interrupted(*_):  # the first Ctrl-C stops the run; more of them do not break the clean-up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        # the browser's driver, stopped mid-print, leaves futures whose errors asyncio would print at exit
        # ("Future exception was never retrieved"): the run's one line says what happened
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise KeyboardInterrupt

    main = threading.current_thread() is threading.main_thread()
    before = signal.signal(signal.SIGINT, interrupted) if main else None
    try:
        return _cmd_run(args)
    except KeyboardInterrupt:
        print("kpi: Đã dừng theo yêu cầu (Ctrl-C): các báo cáo đang chạy bị hủy, báo cáo đã có giữ nguyên; "
              "chạy lại lệnh để tạo nốt.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        if main:
            signal.signal(signal.SIGINT, before)


def run_options(args, formats: list[str]):
    """The run's options from the command line, the same for a commune root and a province root."""
    from kpi.run.batch import RunOptions

    notebook = getattr(args, "notebook", None)
    if notebook and not Path(notebook).is_file():
        raise UsageError(f"Không tìm thấy sổ tay báo cáo {notebook}: ghi đường dẫn tới một tệp .ipynb có ô tham số "
                         "như notebooks/monthly_report.ipynb, hoặc bỏ --notebook để dùng sổ tay mẫu.")
    return RunOptions(formats=tuple(formats), lang=args.lang, workers=args.workers, force=args.force,
                      time_limit=args.timeout, scheduler=args.scheduler, wait=args.wait, on_wait=print,
                      notebook=Path(notebook) if notebook else None, say=lambda text: print(text, flush=True),
                      engine=getattr(args, "engine", "worker"))


def _cmd_run(args) -> int:
    safety.check_out_dir(args.out, args.data)  # before anything is read or written
    _check_writable(Path(args.out))  # before the data is read: a folder the run cannot write is said at once
    if args.period:
        from kpi.core.periods import expand_periods

        asked = []
        with contextlib.suppress(Exception):  # a bad period is refused below, with its message
            asked = expand_periods(args.period)
        for period in asked:
            if paths.period_dir(Path(args.out), period).exists():
                _check_writable(paths.period_dir(Path(args.out), period))
    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
        raise UsageError(f"--timeout {args.timeout:g} không hợp lệ: ghi số giây tối đa cho mỗi báo cáo, một số "
                         f"dương không quá {MAX_TIMEOUT} (một tuần), ví dụ --timeout 1200.")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers phải là số nguyên dương (số tiến trình chạy song song).")
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("html", "pdf")]
    if bad:
        raise UsageError(f"Định dạng '{', '.join(bad)}' không hợp lệ: dùng html, pdf hoặc html,pdf.")
    from kpi.run import uptodate

    kept, inputs = uptodate.check(args)  # the last run's record says nothing changed: its answer, without the data
    if kept is not None:
        lines, results = kept
        return _say_run(args, lines, results)
    plan = _plan(args)
    opts = run_options(args, formats)  # a --notebook that is not there is refused here, before any work
    if args.packages and args.period:  # the province roll-up is monthly
        from kpi.report import check_parameters

        check_parameters(plan, args.period, "commune", month_only=True)
    data = Path(args.data)
    from kpi.core.periods import expand_periods
    from kpi.report import check_parameters
    from kpi.run.batch import OutputLock

    # A period or unit the kit refuses is refused before the lock makes anything in --out, the same way on a
    # commune root and on a province root.
    for period in expand_periods(args.period) if args.period else plan.periods[:1]:
        for unit in ([] if args.unit == "all" else args.unit.split(",")) or ["commune"]:
            check_parameters(plan, period, unit, args.lang)
    with contextlib.ExitStack() as stack:
        # The lock first, for every route: a run refused by it has read nothing and started no worker, and a
        # run that waited (--wait) reads the data as it is when its turn comes, not as it was when it waited.
        stack.enter_context(OutputLock(Path(args.out), wait=args.wait, on_wait=print))
        uptodate.forget(Path(args.out))  # written again only by a run that ends with everything made
        if args.packages:
            return _run_packages(args, plan, opts)
        if paths.is_province_root(data):
            return _run_province(args, plan, opts)
        # the run's one fingerprint (taken by check, or now), before the read; with --force, which trusts no cache,
        # the submissions are hashed by the intake from the very bytes it reads
        inputs = inputs or uptodate.inputs(args, {} if args.force else None)
        subs = None if args.force else batch_cache(args, inputs)  # --force trusts nothing a run left
        from kpi.run.executor import Executor

        at_most = _reports_at_most(args, plan)
        ex = stack.enter_context(Executor(opts, size=at_most))
        if subs is None:
            from kpi.run.inputs import read

            if not args.scheduler:
                # New or changed data: there will be reports to make, so the workers (and the browser) start now
                # and import the kit while this process reads and validates the data. (With the batch's cache
                # there is usually nothing to remake, and starting workers would only cost time.)
                ex.start(at_most, Path(args.out) / ".kpi-workers.log")
            subs, inputs = read(data, plan, inputs, _loader(args))
        return _run_loaded(args, plan, data, subs, ex, inputs)


def _loader(args):
    """load_submissions for the run: when it makes the commune report, which shows last year's values, the same
    bytes of each file are validated under last year's plan too (each file read once)."""
    from kpi.intake.validate import load_submissions
    from kpi.report.period_data import year_before_plan

    if args.unit != "all" and "commune" not in args.unit.split(","):
        return load_submissions
    return lambda folder, plan: load_submissions(folder, plan, year_before_plan(plan, Path(folder)))


def _run_province(args, plan, opts) -> int:
    """A province root: every commune's reports, then the province's (kpi.run.province_batch)."""
    from kpi.province.targets import load_province_plan
    from kpi.run.province_batch import PROVINCE_DIR, run_province

    units = ["commune", *plan.unit_codes] if args.unit == "all" else args.unit.split(",")
    run = run_province(Path(args.data), Path(args.out), plan, Path(args.plan) if args.plan else paths.PLAN_FILE,
                       args.period, units, opts, load_province_plan(getattr(args, "province_plan", None), plan))
    links = [f"Báo cáo tỉnh và các xã: {(run.out_root / PROVINCE_DIR / p / 'index.html').resolve()}"
             for p in run.periods]
    return finish(run.results, links)


def _run_packages(args, plan, opts) -> int:
    """--packages DIR: the province report from the communes' data packages (kpi.run.province_batch)."""
    from kpi.province.targets import load_province_plan
    from kpi.run.province_batch import run_packages

    ps, result = run_packages(Path(args.packages), Path(args.out), plan,
                              Path(args.plan) if args.plan else paths.PLAN_FILE, args.period, opts,
                              load_province_plan(args.province_plan, plan), args.allow_unsigned)
    print(f"Tỉnh từ gói số liệu: kỳ {ps.period}, {len(ps.good)} xã được tổng hợp"
          f" ({len(ps.verified)} xã đã xác minh chữ ký).")
    say_packages(ps)
    if result is None:
        print(f"kpi: không có gói số liệu hợp lệ nào cho kỳ {ps.period} trong {args.packages}.", file=sys.stderr)
        return EXIT_PROBLEMS
    return finish([result], [f"Báo cáo tỉnh: {result.index.resolve()}"] if result.index else [])


def say_packages(ps) -> None:
    """On the terminal (stderr): every package refused with its reason, what was done to a good one, and the
    communes rolled up without a verified signature."""
    for text in ps.problems:
        print(f"  Gói không dùng được: {text}", file=sys.stderr)
    for text in ps.notices:
        print(f"  Lưu ý về gói: {text}", file=sys.stderr)
    if ps.unverified:
        print(f"  CHƯA XÁC MINH: số liệu của {len(ps.unverified)} xã ({', '.join(ps.unverified)}) được tổng hợp khi "
              "chưa kiểm tra chữ ký (--allow-unsigned); báo cáo ghi rõ số liệu chưa được xác minh.", file=sys.stderr)


def _unsigned_note(results: list, data: Path) -> None:
    """A commune's run that wrote its data package without a signature (no key yet) says once how to sign it."""
    from kpi.core.signing import unsigned_note  # no pandas: the quick re-run answer says it too

    for b in results:
        if (b.out_dir / "package" / "datapackage.json").is_file():
            note = unsigned_note(b.out_dir / "package", data)
            if note:
                print(f"  Lưu ý: {note}")
            return


def finish(results: list, links: list[str]) -> int:
    """The end of every run, whatever its root: the notes, the summary table, the totals, where to open the
    reports, what failed and what could not be written; exit 1 for a failed report or output, else 0."""
    from kpi.run.summary import error_words, summary_table

    for note in dict.fromkeys(n for b in results for n in b.notes):
        print(f"  Lưu ý: {note}")
    print(summary_table(results))
    failed = [(b.period, r) for b in results for r in b.failed]
    skipped = sum(r.skipped for b in results for r in b.reports)
    made = sum(1 for b in results for r in b.reports if r.ok and not r.skipped)
    print(f"Tổng: {made} báo cáo tạo mới, {skipped} bỏ qua vì không đổi, {len(failed)} lỗi.")
    for line in links:
        print(line)
    if failed:
        print("Báo cáo lỗi: " + "; ".join(f"{p}/{r.unit}: {error_words(r.error)}" for p, r in failed), file=sys.stderr)
    unwritten = [f"{b.period}/{name}" for b in results for name in b.unwritten]
    if unwritten:
        print("Chưa ghi được: " + ", ".join(unwritten) + " (xem lưu ý ở trên).", file=sys.stderr)
    return EXIT_PROBLEMS if failed or unwritten else EXIT_OK


def unsent_notes(plan, subs, periods: list[str], data: str) -> list[str]:
    """A month of the run that some unit has not sent (kpi.indicators.compute.not_sent: nothing, or only a file
    that could not be read), said before the reports are made, which say it unit by unit: a month nobody has
    sent yet must not look like a normal month in the terminal."""
    from kpi.core.periods import is_month, month_number, year_of
    from kpi.indicators import compute

    lines = []
    for period in (p for p in periods if is_month(p)):
        missing = list(compute.not_sent(compute.timeliness(subs.received, plan, period, subs.problems))["unit"])
        if missing:
            lines.append(f"tháng {month_number(period)}/{year_of(period)} chưa có số liệu của {len(missing)}/"
                         f"{len(plan.unit_codes)} đơn vị ({', '.join(missing)}); báo cáo ghi các đơn vị này là "
                         f"chưa gửi (nhắc các đơn vị: `kpi remind --period {period} --data {data}`).")
    return lines


def _reports_at_most(args, plan) -> int:
    """How many reports the run can make at most, from its parameters alone (before the data is read)."""
    from kpi.core.periods import expand_periods

    units = len(plan.unit_codes) + 1 if args.unit == "all" else len(args.unit.split(","))
    try:
        periods = len(expand_periods(args.period)) if args.period else 1
    except Exception:  # a bad period is refused later, with its message
        periods = 1
    return units * periods


def data_notes(args, plan, subs, periods: list[str]) -> list[str]:
    """The lines said about the data before the reports are made: the errors of the periods run and the months
    some unit has not sent."""
    from kpi.core.periods import months

    lines = []
    covered = [m for period in periods for m in months(period)]
    errors = [p for p in subs.problems_for(covered) if p.severity == "error"]  # the periods run, not every month
    if errors:
        lines.append(f"{len(errors)} lỗi trong số liệu gửi lên của {', '.join(periods)}; các dòng lỗi không được "
                     f"tính (xem mục Chất lượng số liệu hoặc chạy `kpi validate --period {covered[0]} --data "
                     f"{args.data}`).")
    return lines + unsent_notes(plan, subs, periods, args.data)


def _period_line(args, period: str, units: list[str]) -> str:
    return f"Kỳ báo cáo {period}: {len(units)} báo cáo ({', '.join(units)}); số liệu: {args.data}"


def _say_run(args, lines: list[str], results: list) -> int:
    """A run whose every report was kept (kpi.run.uptodate), said as the usual way says it."""
    for line in lines:
        print(f"  Lưu ý: {line}")
    for b in results:
        print(_period_line(args, b.period, [r.unit for r in b.reports]))
    _unsigned_note(results, Path(args.data))
    return finish(results, [f"Mở báo cáo: {b.index.resolve()}" for b in results if b.index is not None])


def _run_loaded(args, plan, data: Path, subs, ex, inputs) -> int:
    """The reports of the loaded data; `inputs`: the fingerprint of what the run read (kpi.run.uptodate records
    the run with it when it ends with everything made)."""
    from kpi.run.batch import DataSet, run_batch

    opts = ex.opts

    periods = _run_periods(args, plan, subs)
    # each unit was checked before the lock (_cmd_run); not stripped: "ca\n" is refused, never quietly mended
    units = ["commune", *plan.unit_codes] if args.unit == "all" else args.unit.split(",")
    lines = data_notes(args, plan, subs, periods)
    for line in lines:
        print(f"  Lưu ý: {line}")
    for period in periods:
        _check_writable(paths.period_dir(Path(args.out), period))
    results = []
    dataset = DataSet(plan, subs, data, Path(args.plan) if args.plan else paths.PLAN_FILE, inputs)
    # (cmd_run holds the output folder's lock)
    for period in periods:
        print(_period_line(args, period, units))
        result = run_batch(dataset, period, units, Path(args.out), opts, lock=False, executor=ex)
        results.append(result)
    for b in results:
        if args.zip:
            from kpi.core.files import write_error_text
            from kpi.outputs.publish import write_zip

            try:
                print(f"Tệp nén để gửi (HTML, PDF, Word, Excel, CSV, index.html): {write_zip(b.out_dir, b.period).resolve()}")
            except OSError as exc:  # a full disk: the zip is not made, the reports stand
                print(f"  Lưu ý: {write_error_text(exc, b.out_dir / f'bao-cao-{b.period}.zip')}", file=sys.stderr)
                b.unwritten.append(f"bao-cao-{b.period}.zip")
    _unsigned_note(results, data)
    code = finish(results, [f"Mở báo cáo: {b.index.resolve()}" for b in results if b.index is not None])
    if code == EXIT_OK:
        from kpi.run import uptodate

        uptodate.remember(args, inputs, lines, units, results)
    return code

"""The `kpi` command line: run, scorecard, validate, template, plan, demo-data."""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
import threading
from pathlib import Path

from kpi.core import paths, safety
from kpi.core.errors import EXIT_BUSY as EXIT_BUSY_
from kpi.core.errors import EXIT_FAILED, KpiError, UsageError
from kpi.core.errors import EXIT_USAGE as EXIT_USAGE_

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_BUSY = 0, EXIT_FAILED, EXIT_USAGE_, EXIT_BUSY_  # kpi.core.errors


# argparse writes its own messages (usage, missing or unknown arguments, bad values) through the module's
# gettext function `_`, looked up when each message is made; the kit speaks Vietnamese everywhere, so those
# msgids are translated here. An msgid not in the table stays as argparse wrote it.
_ARGPARSE_VI = {
    "usage: ": "cách dùng: ",
    "options": "tùy chọn",
    "positional arguments": "tham số vị trí",
    "show this help message and exit": "in hướng dẫn này rồi thoát",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n"
                                       "Xem hướng dẫn: %(prog)s --help (hoặc kpi LỆNH --help).\n",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "unrecognized arguments: %s": "tham số không hiểu được: %s",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "invalid choice: %(value)r (choose from %(choices)s)": "giá trị %(value)r không hợp lệ (chọn một trong: %(choices)s)",
    "invalid %(type)s value: %(value)r": "giá trị %(value)r không đúng kiểu (%(type)s)",
    "expected one argument": "cần một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn %(option)s chưa rõ, có thể là %(matches)s",
    "not allowed with argument %s": "không dùng cùng tham số %s",
    "ignored explicit argument %r": "bỏ qua giá trị %r",
}
_argparse_gettext = argparse._


def _vi(message: str) -> str:
    return _ARGPARSE_VI.get(message, _argparse_gettext(message))


argparse._ = _vi


def period_arg(text: str) -> str:
    """A period as typed (kpi.core.periods.normalize): `YYYY-MM`, `MM/YYYY` or `M/YYYY` as data files write a month
    (also at either end of a range `A..B`), `2026-q2`, `2026-h1`, `2026-9t` in any case; anything else goes on
    unchanged for the period check to refuse."""
    from kpi.core import periods

    return "..".join(periods.normalize(part) for part in text.split("..")) if isinstance(text, str) else text


def unit_arg(text: str) -> str:
    """Unit codes are case-insensitive (`CA` is `ca`); nothing else is mended (`ca\n` is still refused)."""
    return text.lower()


def check_data_dir(data: str | Path) -> Path:
    """The data folder must exist: a mistyped --data is said as such, with where the kit looks by default."""
    path = Path(data)
    if not path.is_dir():
        raise UsageError(f"Không có thư mục dữ liệu {path}. Hãy chỉ --data (hoặc biến môi trường KPI_DATA) tới "
                         f"thư mục chứa submissions/ của xã; số liệu mẫu ở {paths.DATA_DIR}.")
    return path


def _plan(args):
    from kpi.plan import load_plan

    plan = load_plan(args.plan)
    data = getattr(args, "data", None)
    if args.command in ("run", "scorecard", "validate") and data and not getattr(args, "packages", None):
        from kpi.province import COMMUNE_FILE, commune_plan, commune_plan_yaml

        if (Path(data) / COMMUNE_FILE).is_file():  # one commune of a province: its own name and villages
            plan = commune_plan(plan, Path(data))
            if args.command == "run":  # the notebooks read the plan from a file: the commune's, beside its reports
                from kpi.core.files import write_atomic

                target = Path(args.out) / "plan.yml"
                write_atomic(target, commune_plan_yaml(Path(args.plan) if args.plan else paths.PLAN_FILE, plan))
                args.plan = str(target)
                plan = load_plan(target)
    return plan


def _period(args, plan, subs) -> str:
    from kpi.indicators import compute
    from kpi.report import check_parameters

    period = args.period or compute.latest_period(subs.data, plan)
    if period is None:
        raise UsageError(f"Không có số liệu nào của năm {plan.year} trong {args.data}; hãy ghi rõ --period.")
    check_parameters(plan, period, "commune")
    return period


def cmd_plan(args) -> int:
    plan = _plan(args)
    if args.format == "json":
        print(plan.to_json())
    else:
        print(f"{plan.title}\nXã {plan.commune}, năm {plan.year}: {len(plan.units)} đơn vị, {len(plan.villages)} thôn, "
              f"{len(plan.elements)} số liệu, {len(plan.indicators)} chỉ số.")
        for ind in plan.indicators:
            deadline = ind.deadline.isoformat() if ind.deadline else "thường xuyên"
            print(f"  {ind.id:>3}  {ind.name}  [{ind.target_text}; hạn {deadline}; {plan.unit(ind.lead).short}]")
    return EXIT_OK


def cmd_demo(args) -> int:
    from kpi.demo import write_demo

    _check_writable(Path(args.out))
    if args.communes:
        from kpi.demo.province import write_province_demo

        if args.communes < 1:
            raise UsageError("--communes phải là số nguyên dương.")
        files = write_province_demo(args.out, _plan(args), args.communes, seed=args.seed)
        print(f"Đã ghi {len(files)} tệp dữ liệu giả lập của {args.communes} xã vào {Path(args.out)}")
        return EXIT_OK
    files = write_demo(args.out, _plan(args), seed=args.seed)
    print(f"Đã ghi {len(files)} tệp dữ liệu giả lập vào {Path(args.out) / 'submissions'}")
    return EXIT_OK


def cmd_validate(args) -> int:
    from kpi.intake.validate import load_submissions

    plan = _plan(args)
    folder = paths.submissions_dir(Path(args.data))
    if not folder.is_dir():
        raise UsageError(f"Không có thư mục {folder}: các đơn vị gửi tệp vào <thư mục dữ liệu>/submissions/.")
    subs = load_submissions(args.data, plan)
    problems = subs.problems
    files = subs.files
    if args.period:
        from kpi.report import check_parameters

        check_parameters(plan, args.period, "commune", month_only=True)
        # the period's folder, the files whose rows name it, and the files that name no period
        names = subs.period_files(args.period)
        problems = subs.problems_for(args.period)
        files = files[files["file"].isin(names)]
    print(f"Kiểm tra số liệu trong {paths.submissions_dir(Path(args.data))}")
    for f in files.itertuples():
        extra = f" (trong đó {f.replaced} giá trị đã được bản gửi sau sửa)" if f.replaced else ""
        gaps = f"; thiếu số liệu ở {f.villages_missing} thôn" if f.villages_missing else ""
        print(f"  {f.file}: đọc {f.rows_read} dòng, nhận {f.accepted}, loại {f.rejected}{extra}{gaps}")
    print(f"  Tổng: đọc {files['rows_read'].sum()} dòng, nhận {files['accepted'].sum()}, loại {files['rejected'].sum()}")
    revised = [p for p in problems if p.code == "W_REVISED"]
    if revised:
        print(f"  Số liệu được sửa: {len(revised)} giá trị được thay bằng bản gửi sau (mục W_REVISED bên dưới).")
    ordered = sorted(problems, key=lambda p: (p.file, p.sheet, p.row or 0, p.code))
    shown: dict[tuple[str, str], int] = {}
    for p in ordered:
        n = shown[(p.file, p.code)] = shown.get((p.file, p.code), 0) + 1
        if args.all or n <= args.max_per_code:
            print(safety.display_name(p.describe()))  # a cell's control characters never reach the terminal
    hidden = {k: n - args.max_per_code for k, n in shown.items() if not args.all and n > args.max_per_code}
    for (file, code), n in sorted(hidden.items()):
        print(f"  … và {n} vấn đề {code} khác trong {safety.display_name(file)} (xem tất cả: --all, hoặc "
              f"--problems-csv TỆP để ghi ra tệp CSV).")
    if args.problems_csv:
        from kpi.core.files import write_error_text
        from kpi.core.problems import problems_frame
        from kpi.run.batch import write_scorecard_csv

        target = Path(args.problems_csv)
        try:
            write_scorecard_csv(problems_frame(ordered), target)  # every problem; formula-like cells stay text
        except OSError as exc:
            raise UsageError(write_error_text(exc, target)) from None
        print(f"Đã ghi {len(ordered)} vấn đề vào {target}")
    from kpi.intake.notes import read_notes  # the units' notes cut or left out (they do not change the figures)

    for message in read_notes(args.data, plan, args.period)[1]:
        print(f"  Ghi chú: {safety.display_name(message)}")
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    print(f"Kết quả: {errors} lỗi, {warnings} cảnh báo.")
    return EXIT_PROBLEMS if errors else EXIT_OK


def cmd_template(args) -> int:
    from kpi.intake.template import default_name, write_template
    from kpi.intake.validate import load_submissions
    from kpi.report import check_parameters

    plan = _plan(args)
    if args.unit not in plan.unit_codes:
        raise UsageError(f"Đơn vị '{args.unit}' không có trong kế hoạch; dùng một trong: {', '.join(plan.unit_codes)}.")
    check_parameters(plan, args.period, "commune", month_only=True)
    data = None
    if args.data and Path(args.data).is_dir():
        data = load_submissions(args.data, plan).data
    out = Path(args.out) if args.out else Path(default_name(args.unit, args.period))
    _check_writable(out.parent)
    write_template(plan, args.unit, args.period, out, data)
    print(f"Đã ghi mẫu báo cáo của {plan.unit(args.unit).name}, kỳ {args.period}: {out}")
    return EXIT_OK


def cmd_scorecard(args) -> int:
    from kpi.indicators import compute
    from kpi.intake.validate import load_submissions

    plan = _plan(args)
    if args.packages:  # the province scorecard from the communes' data packages
        from kpi.province.targets import load_province_plan
        from kpi.run.packages_batch import compute as from_packages

        ps, rep = from_packages(Path(args.packages), plan, args.period, load_province_plan(args.province_plan, plan))
        for text in ps.problems:
            print(f"kpi: gói không dùng được: {text}", file=sys.stderr)
        card, period = rep.scorecard, ps.period
    else:
        subs = load_submissions(args.data, plan)
        period = _period(args, plan, subs)
        card = compute.scorecard(subs.data, plan, period, args.lang)
        _scorecard_note(subs, plan, period)
    if args.format == "json":
        records = json.loads(card.to_json(orient="records", force_ascii=False, double_precision=15))
        print(json.dumps({"period": period, "indicators": records}, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(safety.spreadsheet_frame(card).to_csv(index=False, lineterminator="\n"))  # often saved as .csv
    return EXIT_OK


def _scorecard_note(subs, plan, period: str) -> None:
    """On stderr (stdout stays the table): which units have not sent P, and the errors in P's files, so that
    a column of "Chưa có số liệu" is never left unexplained."""
    from kpi.core import periods
    from kpi.report import period_timeliness

    states = period_timeliness(subs, plan, period)
    words = {"missing": "chưa gửi", "unreadable": "đã gửi nhưng không đọc được"}
    one_month = periods.is_month(period)
    gaps = [f"{plan.unit(u).short} ({words[s]}{'' if one_month else ' tháng ' + str(int(m[5:]))})"
            for u, s, m in zip(states["unit"], states["status"], states["period"]) if s in words]
    if gaps:
        print(f"kpi: kỳ {period}: {', '.join(gaps)}; chỉ số của các đơn vị này là \"Chưa có số liệu\".",
              file=sys.stderr)
    errors = [p for p in subs.problems_for(periods.months(period)) if p.severity == "error"]
    if errors:
        print(f"kpi: kỳ {period}: {len(errors)} lỗi trong số liệu gửi lên, các dòng lỗi không được tính; "
              f"xem `kpi validate --period {periods.last_month(period)}`.", file=sys.stderr)


def _run_periods(args, plan, subs) -> list[str]:
    """The periods `kpi run` covers: --period as YYYY-MM, a range YYYY-MM..YYYY-MM or last-month; default the
    latest month with data."""
    from kpi.report import check_parameters
    from kpi.run.batch import expand_periods

    if not args.period:
        return [_period(args, plan, subs)]
    periods = expand_periods(args.period)
    for period in periods:
        check_parameters(plan, period, "commune")
    return periods


def batch_cache(args, data: Path):
    """The validated data a previous batch left (kpi.intake.cache) in the output folder of a requested period, when
    it was made from the same files, plan and kit: a re-run with nothing changed does not validate again."""
    if not args.period:
        return None
    from kpi.intake import cache
    from kpi.run.batch import expand_periods

    try:
        periods = expand_periods(args.period)
    except ValueError:
        return None  # the usual path below reports the bad period
    key = cache.data_key(data, Path(args.plan) if args.plan else None)
    for period in periods:
        subs = cache.read(paths.period_dir(Path(args.out), period), key)
        if subs is not None:
            return subs
    return None


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as a shell reports it


def cmd_run(args) -> int:
    """`kpi run`; Ctrl-C stops it at once: no new report starts, workers, kernels and the browser are stopped,
    nothing under a final name is replaced, exit code 130 with one line."""
    import signal

    def interrupted(*_):  # the first Ctrl-C stops the run; more of them do not break the clean-up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
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


def _cmd_run(args) -> int:
    from kpi.intake.validate import load_submissions

    safety.check_out_dir(args.out, args.data)  # before anything is read or written
    _check_writable(Path(args.out))  # before the data is read: a folder the run cannot write is said at once
    if args.period:
        from kpi.run.batch import expand_periods

        asked = []
        with contextlib.suppress(Exception):  # a bad period is refused below, with its message
            asked = expand_periods(args.period)
        for period in asked:
            if paths.period_dir(Path(args.out), period).exists():
                _check_writable(paths.period_dir(Path(args.out), period))
    plan = _plan(args)
    from kpi.run.batch import MAX_TIMEOUT

    if not (math.isfinite(args.timeout) and 0 < args.timeout <= MAX_TIMEOUT):
        raise UsageError(f"--timeout {args.timeout:g} không hợp lệ: ghi số giây tối đa cho mỗi báo cáo, một số "
                         f"dương không quá {MAX_TIMEOUT} (một tuần), ví dụ --timeout 1200.")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers phải là số nguyên dương (số tiến trình chạy song song).")
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    bad = [f for f in formats if f not in ("html", "pdf")]
    if bad:
        raise UsageError(f"Định dạng '{', '.join(bad)}' không hợp lệ: dùng html, pdf hoặc html,pdf.")
    if args.packages:  # the province from the communes' data packages (kpi.run.packages_batch)
        from kpi.province.targets import load_province_plan
        from kpi.run.packages_batch import run_packages

        if args.period:
            from kpi.report import check_parameters

            check_parameters(plan, args.period, "commune", month_only=True)
        return run_packages(args, plan, formats, load_province_plan(args.province_plan, plan))
    data = Path(args.data)
    from kpi.report import check_parameters
    from kpi.run.batch import OutputLock, expand_periods, load_stable

    # A period or unit the kit refuses is refused before the lock makes anything in --out, the same way on a
    # commune root and on a province root.
    for period in expand_periods(args.period) if args.period else plan.periods[:1]:
        for unit in ([] if args.unit == "all" else args.unit.split(",")) or ["commune"]:
            check_parameters(plan, period, unit, args.lang)
    if paths.is_province_root(data):
        from kpi.run.province_batch import run_province

        return run_province(args, plan, formats)

    with contextlib.ExitStack() as stack:
        # The lock first: a run refused by it has read nothing and started no worker, and a run that waited
        # (--wait) reads the data as it is when its turn comes, not as it was when it started waiting.
        stack.enter_context(OutputLock(Path(args.out), wait=args.wait, on_wait=print))
        subs = None if args.force else batch_cache(args, data)  # --force trusts nothing a previous run left
        if subs is None and not args.scheduler:
            # New or changed data: there will be reports to make, so the workers start now and import the kit
            # while this process reads and validates the data. (With the batch's cache there is usually
            # nothing to remake, and starting workers would only cost time.)
            from kpi.run.batch import default_workers
            from kpi.run.workers import Pool

            size = min(args.workers or default_workers(), _reports_at_most(args, plan))
            pool = stack.enter_context(Pool(size, Path(args.out) / ".kpi-workers.log"))
            subs, hashes = load_stable(data, plan, load_submissions)
        else:
            pool = None
            subs, hashes = (subs, None) if subs is not None else load_stable(data, plan, load_submissions)
        return _run_loaded(args, plan, data, subs, formats, pool, hashes or None)


def _check_writable(folder: Path) -> None:
    """Refuse (exit 2, Vietnamese, naming the folder) an output folder the kit cannot create or write into."""
    from kpi.core.files import check_writable, write_error_text

    try:
        check_writable(folder)
    except OSError as exc:
        raise UsageError(write_error_text(exc, folder)) from None


def _reports_at_most(args, plan) -> int:
    """How many reports the run can make at most, from its parameters alone (before the data is read)."""
    from kpi.run.batch import expand_periods

    units = len(plan.unit_codes) + 1 if args.unit == "all" else len(args.unit.split(","))
    try:
        periods = len(expand_periods(args.period)) if args.period else 1
    except Exception:  # a bad period is refused later, with its message
        periods = 1
    return units * periods


def _run_loaded(args, plan, data: Path, subs, formats: list[str], pool, hashes: dict | None = None) -> int:
    from kpi.report import check_parameters
    from kpi.run.batch import run_batch, summary_table

    periods = _run_periods(args, plan, subs)
    if args.unit == "all":
        units = ["commune", *plan.unit_codes]
    else:
        units = args.unit.split(",")  # not stripped: "ca\n" is refused, never quietly mended
        for unit in units:
            check_parameters(plan, periods[0], unit, args.lang)
    from kpi.core.periods import months

    covered = [m for period in periods for m in months(period)]
    errors = [p for p in subs.problems_for(covered) if p.severity == "error"]  # the periods run, not every month
    if errors:
        print(f"  Lưu ý: {len(errors)} lỗi trong số liệu gửi lên của {', '.join(periods)}; các dòng lỗi không được "
              f"tính (xem mục Chất lượng số liệu hoặc chạy `kpi validate --period {covered[0]}`).")
    for period in periods:
        _check_writable(paths.period_dir(Path(args.out), period))
    results = []
    # (cmd_run holds the output folder's lock)
    for period in periods:
        print(f"Kỳ báo cáo {period}: {len(units)} báo cáo ({', '.join(units)}); số liệu: {args.data}")
        result = run_batch(plan, subs, period, units, data, Path(args.out), formats, args.lang,
                           workers=args.workers, force=args.force, time_limit=args.timeout,
                           plan_path=Path(args.plan) if args.plan else None, scheduler=args.scheduler,
                           lock=False, workers_pool=pool, hashes=hashes)
        for note in result.notes:
            print(f"  Lưu ý: {note}")
        results.append(result)
    print(summary_table(results))
    failed = [(b.period, r) for b in results for r in b.failed]
    skipped = sum(r.skipped for b in results for r in b.reports)
    made = sum(1 for b in results for r in b.reports if r.ok and not r.skipped)
    print(f"Tổng: {made} báo cáo tạo mới, {skipped} bỏ qua vì không đổi, {len(failed)} lỗi.")
    for b in results:
        if args.zip:
            from kpi.core.files import write_error_text
            from kpi.outputs.publish import write_zip

            try:
                print(f"Tệp nén để gửi (HTML, PDF, Word, Excel, CSV, index.html): {write_zip(b.out_dir, b.period).resolve()}")
            except OSError as exc:  # a full disk: the zip is not made, the reports stand
                print(f"  Lưu ý: {write_error_text(exc, b.out_dir / f'bao-cao-{b.period}.zip')}", file=sys.stderr)
                b.unwritten.append(f"bao-cao-{b.period}.zip")
        if b.index is not None:
            print(f"Mở báo cáo: {b.index.resolve()}")
    if failed:
        from kpi.run.batch import error_words

        print("Báo cáo lỗi: " + "; ".join(f"{p}/{r.unit}: {error_words(r.error)}" for p, r in failed), file=sys.stderr)
    unwritten = [f"{b.period}/{name}" for b in results for name in b.unwritten]
    if unwritten:
        print("Chưa ghi được: " + ", ".join(unwritten) + " (xem lưu ý ở trên).", file=sys.stderr)
    return EXIT_PROBLEMS if failed or unwritten else EXIT_OK


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpi", description="Bộ công cụ báo cáo chỉ tiêu KHCN, ĐMST và chuyển đổi số "
                                "cấp xã (commune KPI reporting kit).")
    p.add_argument("--plan", default=None, help="tệp kế hoạch YAML (mặc định params/plan_2026.yml hoặc $KPI_PLAN)")
    sub = p.add_subparsers(dest="command", required=True, metavar="LỆNH", title="lệnh")

    def data_arg(sp):
        sp.add_argument("--data", default=str(paths.DATA_DIR), help="thư mục dữ liệu chứa submissions/ "
                        "(mặc định data/sample hoặc $KPI_DATA)")

    def packages_args(sp):
        sp.add_argument("--packages", default=None, help="thư mục chứa gói số liệu (package/ hoặc .zip) của các xã: "
                        "tổng hợp cấp tỉnh từ các gói, không cần số liệu gốc")
        sp.add_argument("--province-plan", default=None, help="kế hoạch của tỉnh (YAML): chỉ tiêu cấp tỉnh và danh "
                        "sách xã; không có: chỉ tiêu đếm bằng tổng chỉ tiêu các xã, chỉ tiêu tỷ lệ bằng chỉ tiêu xã")

    r = sub.add_parser("run", help="chạy bộ báo cáo tháng (papermill + nbconvert)")
    r.add_argument("--period", type=period_arg, help="kỳ báo cáo YYYY-MM, khoảng YYYY-MM..YYYY-MM, last-month (tháng trước "
                   "tháng hiện tại), quý YYYY-Q1..Q4, 6 tháng đầu năm YYYY-H1, 9 tháng YYYY-9T hoặc cả năm YYYY; "
                   "mặc định: tháng mới nhất có số liệu")
    r.add_argument("--unit", default="all", type=unit_arg, help="all | commune | vhxh | kt | ttpvhcc | ca, hoặc vài mã cách nhau "
                   "bởi dấu phẩy")
    data_arg(r)
    r.add_argument("--out", default=str(paths.OUTPUTS_DIR), help="thư mục kết quả (mặc định outputs/)")
    r.add_argument("--format", default="html,pdf", help="html,pdf | html | pdf")
    r.add_argument("--lang", default="vi", choices=["vi", "en"], help="ngôn ngữ báo cáo (mặc định vi)")
    r.add_argument("--workers", type=int, default=None, help="số tiến trình chạy song song (mặc định: số lõi CPU)")
    r.add_argument("--timeout", type=float, default=1200, help="thời gian tối đa cho mỗi báo cáo, giây (mặc định 1200)")
    r.add_argument("--force", action="store_true", help="tạo lại mọi báo cáo, kể cả báo cáo không có gì thay đổi")
    r.add_argument("--wait", action="store_true", help="nếu thư mục kết quả đang bận, chờ thay vì dừng")
    r.add_argument("--scheduler", default=None, help="địa chỉ cụm Dask (tcp://HOST:PORT) để chạy báo cáo trên đó")
    packages_args(r)
    r.add_argument("--zip", action="store_true",
                   help="đóng gói HTML, PDF, scorecard.xlsx/.csv và index.html của kỳ vào một tệp .zip")
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("scorecard", help="in bảng tổng hợp chỉ tiêu, không cần notebook")
    s.add_argument("--period", type=period_arg, help="kỳ báo cáo YYYY-MM, YYYY-Q1..Q4, YYYY-H1, YYYY-9T hoặc YYYY "
                   "(mặc định: tháng mới nhất có số liệu)")
    data_arg(s)
    packages_args(s)
    s.add_argument("--format", default="csv", choices=["csv", "json"])
    s.add_argument("--lang", default="vi", choices=["vi", "en"])
    s.set_defaults(func=cmd_scorecard)

    v = sub.add_parser("validate", help="liệt kê mọi lỗi số liệu kèm vị trí")
    data_arg(v)
    v.add_argument("--period", type=period_arg, help="chỉ các tệp của kỳ này")
    v.add_argument("--max-per-code", type=int, default=20, help="số vấn đề in tối đa cho mỗi mã lỗi trong mỗi tệp "
                   "(mặc định 20)")
    v.add_argument("--all", action="store_true", help="in mọi vấn đề, không giới hạn")
    v.add_argument("--problems-csv", default=None, help="ghi mọi vấn đề (kèm vị trí, cách sửa) ra tệp CSV này")
    v.set_defaults(func=cmd_validate)

    t = sub.add_parser("template", help="ghi mẫu báo cáo Excel của một đơn vị cho một tháng")
    t.add_argument("--unit", required=True, type=unit_arg, help="vhxh | kt | ttpvhcc | ca")
    t.add_argument("--period", type=period_arg, required=True, help="kỳ báo cáo YYYY-MM")
    t.add_argument("--out", help="tệp .xlsx đích (mặc định mau_bao_cao_<đơn vị>_<kỳ>.xlsx)")
    t.add_argument("--data", default=str(paths.DATA_DIR),
                   help="thư mục dữ liệu: mẫu số của đơn vị khác đã gửi được điền sẵn để tham khảo")
    t.set_defaults(func=cmd_template)

    pl = sub.add_parser("plan", help="in kế hoạch đã nạp")
    pl.add_argument("--format", default="text", choices=["text", "json"])
    pl.set_defaults(func=cmd_plan)

    d = sub.add_parser("demo-data", help="ghi bộ dữ liệu giả lập")
    d.add_argument("--out", required=True, help="thư mục đích")
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--communes", type=int, default=0,
                   help="số xã: ghi một tỉnh giả lập <out>/<xã>/submissions/... thay vì một xã")
    d.set_defaults(func=cmd_demo)

    from kpi.outputs.remind import (
        add_parser as add_remind,  # `kpi remind`: its words and logic live in kpi.outputs.remind
    )

    add_remind(sub, data_arg, period_arg)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    args = parser().parse_args(argv)
    try:
        if getattr(args, "data", None) is not None and args.command in ("run", "scorecard", "validate", "remind"):
            check_data_dir(args.data)
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a closed pipe shows here, not in Python's flush at exit
        return code
    except BrokenPipeError:
        # `kpi validate | head`: the reader has gone; say nothing more, and keep Python's own flush at exit
        # from raising again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KpiError as exc:  # every fault the kit names: its Vietnamese message and its exit code (kpi.core.errors)
        print(f"kpi: {exc}", file=sys.stderr)
        return exc.exit_code
    except FileNotFoundError as exc:
        print(f"kpi: không tìm thấy tệp hoặc thư mục: {exc.filename}", file=sys.stderr)
        return EXIT_USAGE

"""kpi plan, demo-data, validate, template and scorecard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kpi.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    _check_writable,
    _period,
    _plan,
)
from kpi.core import paths, safety
from kpi.core.errors import UsageError


def cmd_plan(args) -> int:
    plan = _plan(args)
    if args.format == "json":
        print(plan.to_json())
    else:
        print(f"{plan.title}\nXã {plan.commune}, năm {plan.year}: {len(plan.units)} đơn vị, {len(plan.villages)} thôn, "
              f"{len(plan.elements)} số liệu, "
              f"{plan.group_count} chỉ tiêu ({plan.measure_count} chỉ số đo).")
        for ind in plan.indicators:
            deadline = ind.deadline.isoformat() if ind.deadline else "thường xuyên"
            print(f"  {ind.id:>3}  {ind.name}  [{ind.target_text}; hạn {deadline}; {plan.unit(ind.lead).short}]")
        for ind in plan.not_assigned:
            print(f"  {ind.id:>3}  {ind.name}  [không giao cho xã]")
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


def _years_to_validate(args) -> list[tuple[int | None, Path | None]]:
    """(year, plan file) pairs to validate a data folder with: each year its submission folders name, under its
    own plan, when the folder spans years and no plan or period was named; else one pass, year None."""
    if args.period or getattr(args, "plan_named", True):
        return [(None, None)]
    plans = paths.plan_files(Path(args.data))
    years = [y for y in paths.data_years(Path(args.data)) if y in plans]
    if len(years) < 2:
        return [(None, None)]
    return [(y, plans[y]) for y in years]


def cmd_validate(args) -> int:
    from kpi.intake.validate import load_submissions
    from kpi.plan import load_plan

    folder = paths.submissions_dir(Path(args.data))
    if not folder.is_dir():
        raise UsageError(f"Không có thư mục {folder}: các đơn vị gửi tệp vào <thư mục dữ liệu>/submissions/.")
    print(f"Kiểm tra số liệu trong {paths.submissions_dir(Path(args.data))}")
    years = _years_to_validate(args)
    errors = warnings = 0
    every: list = []
    for n, (year, plan_file) in enumerate(years):
        plan = load_plan(plan_file) if plan_file else _plan(args)
        subs = load_submissions(args.data, plan)
        problems, files = subs.problems, subs.files
        if year is not None:  # this year's files; a file that names no period goes with the last year
            names = {f for f in files["file"] if subs.file_periods.get(f)
                     and all(str(p).startswith(f"{year}-") for p in subs.file_periods[f])
                     or not subs.file_periods.get(f) and n == len(years) - 1}
            problems = [p for p in problems if p.file in names]
            files = files[files["file"].isin(names)]
            print(f"Năm {year}, theo kế hoạch {plan.source}:")
        if args.period:
            from kpi.report import check_parameters

            check_parameters(plan, args.period, "commune", month_only=True)
            # the period's folder, the files whose rows name it, and the files that name no period
            names = subs.period_files(args.period)
            problems = subs.problems_for(args.period)
            files = files[files["file"].isin(names)]
        _print_validation(args, plan, files, problems, subs)
        every += problems
        errors += sum(p.severity == "error" for p in problems)
        warnings += sum(p.severity != "error" for p in problems)
    if args.problems_csv:
        from kpi.core.files import write_error_text
        from kpi.core.problems import problems_frame
        from kpi.outputs.tables import write_scorecard_csv

        target = Path(args.problems_csv)
        try:  # every problem; formula-like cells stay text
            write_scorecard_csv(problems_frame(sorted(every, key=lambda p: (p.file, p.sheet, p.row or 0, p.code))),
                                target)
        except OSError as exc:
            raise UsageError(write_error_text(exc, target)) from None
        print(f"Đã ghi {len(every)} vấn đề vào {target}")
    print(f"Kết quả: {errors} lỗi, {warnings} cảnh báo.")
    return EXIT_PROBLEMS if errors else EXIT_OK


def _print_validation(args, plan, files, problems, subs) -> None:
    """One plan's files and problems, as `kpi validate` prints them (`subs`: what was read, with the units' notes)."""
    resent: dict[str, int] = {}  # a file's values that a later file sent again unchanged (W_RESENT_SAME)
    for p in problems:
        if p.code == "W_RESENT_SAME":
            resent[p.expected] = resent.get(p.expected, 0) + int(p.found)
    for f in files.itertuples():
        parts = [f"{f.replaced} giá trị đã được bản gửi sau sửa"] if f.replaced else []
        parts += [f"{resent[f.file]} giá trị được gửi lại không đổi"] if resent.get(f.file) else []
        extra = f" (trong đó {', '.join(parts)})" if parts else ""
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
    from kpi.intake.notes import of_submissions  # the units' notes cut or left out (they do not change the figures)

    for message in of_submissions(subs, args.data, plan, args.period)[1]:
        print(f"  Ghi chú: {safety.display_name(message)}")


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
        from kpi.province import packages as pk

        from kpi.cli.run import say_packages

        pplan = load_province_plan(args.province_plan, plan)
        ps = pk.collect(Path(args.packages), plan, args.period, pplan, args.allow_unsigned)
        rep = pk.report_from_packages(ps, plan, pplan)
        say_packages(ps)
        card, period = _province_card(rep.scorecard, plan, args.lang), ps.period
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


def _province_card(card, plan, lang: str):
    """The province scorecard as `kpi scorecard` prints a commune's: the plan's short name and kind, the status in
    words beside its code, the value as the report writes it (kpi.core.formats: '38,6%'), numbers to 4 decimals
    (38.5714, not 38.57142857142857) and the deadline as YYYY-MM-DD in JSON too; still one number a cell, for a
    spreadsheet or a program."""
    import pandas as pd

    from kpi.core import formats
    from kpi.core.i18n import STATUS_LABELS

    by_id = {i.id: i for i in plan.indicators}
    kinds = card["indicator"].map(lambda i: by_id[i].kind)
    out = card.assign(short=card["indicator"].map(lambda i: by_id[i].short), kind=kinds,
                      name=card["indicator"].map(lambda i: by_id[i].name),
                      status_label=card["status"].map(STATUS_LABELS[lang]),
                      value_text=[formats.value(v, k, lang) for v, k in zip(card["value"], kinds)],
                      deadline=[d.strftime("%Y-%m-%d") if hasattr(d, "strftime") and not pd.isna(d) else ""
                                for d in card["deadline"]])
    for col in ("value", "forecast", "numerator", "denominator", "target"):
        out[col] = out[col].astype("float64").round(4)
    columns = ["indicator", "name", "short", "kind", "value", "value_text", "numerator", "denominator", "target",
               "target_text", "deadline", "status", "status_label", "forecast", "communes_reported",
               "communes_expected", "target_rule"]
    return out[columns]


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

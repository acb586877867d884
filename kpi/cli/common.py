"""What every command shares: exit codes, argument types, the plan and the period a command works on."""

from __future__ import annotations

from pathlib import Path

from kpi.core import paths
from kpi.core.errors import EXIT_BUSY as EXIT_BUSY_
from kpi.core.errors import EXIT_FAILED, UsageError
from kpi.core.errors import EXIT_USAGE as EXIT_USAGE_

EXIT_OK = 0


EXIT_PROBLEMS = EXIT_FAILED  # a report or an output failed, or `kpi validate` found errors


EXIT_USAGE = EXIT_USAGE_


EXIT_BUSY = EXIT_BUSY_


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


def _period_year(period: str | None) -> int | None:
    """The calendar year a period as typed names (the first end of a range), or None."""
    import re

    m = re.match(r"(\d{4})", period or "")
    return int(m[1]) if m else None


def plan_source(args) -> Path | None:
    """The data folder a command reads (its plan may live there, written by `kpi init`)."""
    folder = getattr(args, "out", None) if args.command == "demo-data" else getattr(args, "data", None)
    return Path(folder) if folder else None


def resolve_plan(args) -> None:
    """Choose the plan of the year the command works on, unless --plan or KPI_PLAN names one: the year of
    --period, else the latest year of the data folder that has a plan, else the latest plan the data folder
    holds. The choice is written into args.plan, so that every later step (reports, notebooks, the package)
    reads the same file. With a plan named, a period of another year is refused with the way out."""
    import os

    data = plan_source(args)
    plans = paths.plan_files(data)
    year = _period_year(getattr(args, "period", None))
    first, dots, last = (getattr(args, "period", None) or "").partition("..")
    if dots and _period_year(last) not in (None, year):  # each year is computed under its own plan
        raise UsageError(f"Khoảng kỳ {args.period} trải qua hai năm, mà mỗi năm tính theo kế hoạch của năm đó: "
                         f"chạy riêng từng năm, ví dụ --period {first}..{year}-12 rồi --period "
                         f"{_period_year(last)}-01..{last}.")
    named = args.plan or (os.environ.get("KPI_PLAN") or None)
    args.plan_named = bool(named)
    if named:
        if year is not None and args.command in ("run", "scorecard", "validate", "template", "remind"):
            from kpi.plan import load_plan

            plan_year = load_plan(named).year
            if plan_year != year:
                other = f" ({plans[year]})" if year in plans else ""
                raise UsageError(f"Kỳ báo cáo '{args.period}' thuộc năm {year}, nhưng kế hoạch {named} là của năm {plan_year}: "
                                 f"--plan (hoặc KPI_PLAN) chỉ chạy các kỳ của năm đó. Bỏ --plan/KPI_PLAN để bộ công cụ "
                                 f"tự chọn kế hoạch năm {year}{other}, hoặc chỉ --plan tới kế hoạch năm {year}.")
        return
    if year is None and data is not None:
        with_plan = [y for y in paths.data_years(data) if y in plans]
        own = bool(plans) and data.is_dir() and plans[max(plans)].parent.resolve() == data.resolve()
        # no month folders to go by: a commune's own latest plan, else the default (the sample's, or $KPI_PLAN)
        year = max(with_plan) if with_plan else max(plans) if own else None
    if year in plans:
        args.plan = str(plans[year])
    elif year is not None and plans and args.command in ("run", "scorecard", "validate", "template", "remind"):
        where = plans[max(plans)].parent
        raise UsageError(f"Kỳ báo cáo '{args.period}' không hợp lệ: chưa có kế hoạch năm {year} trong {where} (có "
                         f"kế hoạch các năm {', '.join(map(str, sorted(plans)))}). Lập kế hoạch năm {year} bằng "
                         f"kpi init --data {data or where} --year {year}, hoặc kiểm tra lại kỳ báo cáo.")


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


EXIT_INTERRUPTED = 130  # Ctrl-C (SIGINT), as a shell reports it


def _check_writable(folder: Path) -> None:
    """Refuse (exit 2, Vietnamese, naming the folder) an output folder the kit cannot create or write into."""
    from kpi.core.files import check_writable, write_error_text

    try:
        check_writable(folder)
    except OSError as exc:
        raise UsageError(write_error_text(exc, folder)) from None

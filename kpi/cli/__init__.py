"""The `kpi` command line: run, scorecard, validate, template, plan, demo-data."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from kpi.cli.common import EXIT_OK, EXIT_USAGE, check_data_dir, period_arg, resolve_plan, unit_arg
from kpi.core import paths
from kpi.core.errors import KpiError

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


def _command(name: str):
    """A command's function, imported when the command runs: `kpi run` with nothing to remake answers before
    pandas would have been imported (kpi.run.uptodate)."""
    module, _, func = name.rpartition(".")

    def run(args):
        return getattr(importlib.import_module(module), func)(args)

    run.__qualname__ = func
    return run


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kpi", description="Bộ công cụ báo cáo chỉ tiêu KHCN, ĐMST và chuyển đổi số "
                                "cấp xã (commune KPI reporting kit).")
    p.add_argument("--plan", default=None, help="tệp kế hoạch YAML; mặc định $KPI_PLAN, hoặc kế hoạch của năm "
                   "có kỳ báo cáo: plan_<năm>.yml của thư mục dữ liệu (nếu thư mục có kế hoạch riêng), không thì của params/")
    sub = p.add_subparsers(dest="command", required=True, metavar="LỆNH", title="lệnh")

    def data_arg(sp):
        sp.add_argument("--data", default=str(paths.DATA_DIR), help="thư mục dữ liệu chứa submissions/ "
                        "(mặc định data/sample hoặc $KPI_DATA)")

    def packages_args(sp):
        sp.add_argument("--packages", default=None, help="thư mục chứa gói số liệu (package/ hoặc .zip) của các xã: "
                        "tổng hợp cấp tỉnh từ các gói, không cần số liệu gốc")
        sp.add_argument("--province-plan", default=None, help="kế hoạch của tỉnh (YAML): chỉ tiêu cấp tỉnh và danh "
                        "sách xã kèm khóa công khai; không có: chỉ tiêu đếm bằng tổng chỉ tiêu các xã, chỉ tiêu tỷ lệ "
                        "bằng chỉ tiêu xã")
        sp.add_argument("--allow-unsigned", action="store_true", help="tổng hợp cả gói của xã mà tỉnh chưa có khóa "
                        "công khai (chưa xác minh ai gửi; báo cáo ghi rõ số liệu chưa được xác minh)")

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
    r.add_argument("--notebook", default=None, help="sổ tay báo cáo dùng thay notebooks/monthly_report.ipynb (cùng ô "
                   "tham số): một bản đã chỉnh của cán bộ phân tích")
    r.add_argument("--engine", choices=["worker", "kernel"], default="worker",
                   help="nơi chạy các ô của sổ tay: worker (trong tiến trình chạy báo cáo, mặc định) hoặc kernel "
                   "(một nhân Jupyter cho mỗi báo cáo, như khi mở sổ tay bằng JupyterLab)")
    packages_args(r)
    r.add_argument("--zip", action="store_true",
                   help="đóng gói HTML, PDF, scorecard.xlsx/.csv và index.html của kỳ vào một tệp .zip")
    r.set_defaults(func=_command("kpi.cli.run.cmd_run"))

    s = sub.add_parser("scorecard", help="in bảng tổng hợp chỉ tiêu, không cần notebook")
    s.add_argument("--period", type=period_arg, help="kỳ báo cáo YYYY-MM, YYYY-Q1..Q4, YYYY-H1, YYYY-9T hoặc YYYY "
                   "(mặc định: tháng mới nhất có số liệu)")
    data_arg(s)
    packages_args(s)
    s.add_argument("--format", default="csv", choices=["csv", "json"])
    s.add_argument("--lang", default="vi", choices=["vi", "en"])
    s.set_defaults(func=_command("kpi.cli.commands.cmd_scorecard"))

    v = sub.add_parser("validate", help="liệt kê mọi lỗi số liệu kèm vị trí")
    data_arg(v)
    v.add_argument("--period", type=period_arg, help="chỉ các tệp của kỳ này")
    v.add_argument("--max-per-code", type=int, default=20, help="số vấn đề in tối đa cho mỗi mã lỗi trong mỗi tệp "
                   "(mặc định 20)")
    v.add_argument("--all", action="store_true", help="in mọi vấn đề, không giới hạn")
    v.add_argument("--problems-csv", default=None, help="ghi mọi vấn đề (kèm vị trí, cách sửa) ra tệp CSV này")
    v.set_defaults(func=_command("kpi.cli.commands.cmd_validate"))

    t = sub.add_parser("template", help="ghi mẫu báo cáo Excel của một đơn vị cho một tháng")
    t.add_argument("--unit", required=True, type=unit_arg, help="vhxh | kt | ttpvhcc | ca")
    t.add_argument("--period", type=period_arg, required=True, help="kỳ báo cáo YYYY-MM")
    t.add_argument("--out", help="tệp .xlsx đích (mặc định mau_bao_cao_<đơn vị>_<kỳ>.xlsx)")
    t.add_argument("--data", default=str(paths.DATA_DIR),
                   help="thư mục dữ liệu: mẫu số của đơn vị khác đã gửi được điền sẵn để tham khảo")
    t.set_defaults(func=_command("kpi.cli.commands.cmd_template"))

    pl = sub.add_parser("plan", help="in kế hoạch đã nạp")
    pl.add_argument("--format", default="text", choices=["text", "json"])
    pl.add_argument("--data", default=None, help="thư mục dữ liệu của xã (kế hoạch plan_<năm>.yml của xã ở đó)")
    pl.set_defaults(func=_command("kpi.cli.commands.cmd_plan"))

    d = sub.add_parser("demo-data", help="ghi bộ dữ liệu giả lập")
    d.add_argument("--out", required=True, help="thư mục đích")
    d.add_argument("--seed", type=int, default=2026)
    d.add_argument("--communes", type=int, default=0,
                   help="số xã: ghi một tỉnh giả lập <out>/<xã>/submissions/... thay vì một xã")
    d.set_defaults(func=_command("kpi.cli.commands.cmd_demo"))

    k = sub.add_parser("keys", help="tạo khóa ký gói số liệu của xã (một lần) và in khóa công khai gửi tỉnh")
    data_arg(k)
    k.add_argument("--replace", action="store_true", help="đổi khóa (mất máy, lộ khóa): khóa cũ được cất sang bên, "
                   "khóa mới phải gửi lại cho tỉnh")
    k.add_argument("--fingerprint", metavar="KHÓA", default=None, help="ở tỉnh: in dấu vân tay của một khóa công "
                   "khai \"ed25519:…\" xã gửi đến, để đối chiếu qua điện thoại trước khi ghi vào kế hoạch của tỉnh")
    k.set_defaults(func=_command("kpi.cli.keys.cmd_keys"))

    from kpi.cli.init import add_parser as add_init  # a commune's plan for a year
    from kpi.cli.remind import add_parser as add_remind  # its words and logic live in kpi.outputs.remind

    add_init(sub)

    add_remind(sub, data_arg, period_arg)
    return p


def main(argv: list[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    args = parser().parse_args(argv)
    try:
        if getattr(args, "data", None) is not None and args.command in ("run", "scorecard", "validate", "remind", "keys"):
            check_data_dir(args.data)
        if args.command != "init":
            resolve_plan(args)  # the plan of the period's own year (params/plan_<year>.yml or the data folder's)
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

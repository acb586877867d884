"""`kpi init`: a commune's plan for a year, from questions in Vietnamese, flags or a filled spreadsheet."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from kpi.cli.common import EXIT_OK
from kpi.cli.init_sheet import _deadline_default, _target_default
from kpi.core import paths
from kpi.core.errors import PlanError, UsageError

SHEET_HELP = "Điền bảng tính này rồi chạy: kpi init --data THƯ_MỤC --sheet TỆP.xlsx"


def add_parser(sub) -> None:
    i = sub.add_parser("init", help="lập kế hoạch của xã cho một năm (hỏi từng mục, hoặc theo tham số, hoặc từ "
                       "bảng tính đã điền)")
    i.add_argument("--data", required=True, help="thư mục dữ liệu của xã: kế hoạch ghi vào <data>/plan_<năm>.yml, "
                   "các đơn vị gửi tệp vào <data>/submissions/")
    i.add_argument("--from", dest="base", default=None, help="kế hoạch gốc (của tỉnh, hoặc của xã năm trước); "
                   "mặc định kế hoạch mới nhất trong params/")
    i.add_argument("--year", type=int, default=None, help="năm kế hoạch (mặc định năm của kế hoạch gốc)")
    i.add_argument("--commune", default=None, help="tên xã, ví dụ \"Quảng Ngọc\" (không ghi chữ 'xã')")
    i.add_argument("--province", default=None, help="tên tỉnh")
    i.add_argument("--villages", default=None, help="tên các thôn, cách nhau bởi dấu chấm phẩy: "
                   "\"Xóm Đông; Xóm Tây; Tổ dân phố 3\"")
    i.add_argument("--not-assigned", default="", help="mã các chỉ tiêu không giao cho xã, cách nhau bởi dấu phẩy: 7,13")
    i.add_argument("--target", action="append", default=[], metavar="MÃ=GIÁ_TRỊ",
                   help="chỉ tiêu giao khác kế hoạch gốc: --target 1=40 --target 4=\"khuyến khích\"")
    i.add_argument("--deadline", action="append", default=[], metavar="MÃ=NGÀY",
                   help="hạn khác kế hoạch gốc: --deadline 1=30/06/2027 --deadline 8=\"thường xuyên\"")
    i.add_argument("--officer", action="append", default=[], metavar="ĐƠN_VỊ=HỌ_TÊN,ĐIỆN_THOẠI",
                   help="cán bộ thực hiện (Phụ lục II): --officer vhxh=\"Nguyễn Văn A,0912345678\"")
    i.add_argument("--signer", default=None, help="người ký Báo cáo, ví dụ \"Lê Văn B, Phó Chủ tịch UBND xã\"")
    i.add_argument("--recipient", action="append", default=[], help="một nơi nhận Báo cáo (ghi nhiều lần)")
    i.add_argument("--sheet", default=None, help="đọc mọi mục từ bảng tính đã điền (xem --sheet-form)")
    i.add_argument("--sheet-form", default=None, help="ghi bảng tính để điền (mẫu theo kế hoạch gốc) rồi dừng")
    i.add_argument("--force", action="store_true", help="ghi đè kế hoạch đã có của năm đó")
    i.set_defaults(func=cmd_init)


def _pairs(items: list[str], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"{what} '{item}' cần dạng MÃ=GIÁ_TRỊ, ví dụ 1=40.")
        out[key.strip()] = value.strip()
    return out


def _base(args) -> tuple[Path, dict, int]:
    from kpi.plan import _dates_to_text, load_plan

    if args.base:
        base = Path(args.base)
    else:
        plans = paths.plan_files()
        base = plans[max(plans)] if plans else paths.PLAN_FILE
    plan = load_plan(base)  # the base must itself be a sound plan
    raw = _dates_to_text(yaml.safe_load(base.read_text(encoding="utf-8")))
    return base, raw, plan.year


def _ask(prompt: str, default: str = "") -> str:
    shown = f"{prompt} [{default}]: " if default else f"{prompt}: "
    answer = input(shown).strip()
    return answer or default


def _interview(args, raw: dict, base_year: int):
    """Ask in Vietnamese for what the flags did not give."""
    from kpi.plan.setup import Answers

    print("Lập kế hoạch của xã. Nhấn Enter để giữ giá trị trong ngoặc vuông.")
    commune = args.commune or _ask("Tên xã (không ghi chữ 'xã')")
    province = args.province or _ask("Tỉnh", raw.get("province", ""))
    year = args.year or int(_ask("Năm kế hoạch", str(base_year)))
    villages = [v.strip() for v in (args.villages or "").split(";") if v.strip()]
    if not villages:
        print("Tên các thôn (tổ dân phố, xóm…), mỗi dòng một tên; dòng trống để kết thúc:")
        while name := input("  Thôn: ").strip():
            villages.append(name)
    a = Answers(commune=commune, year=year, villages=villages, province=province)
    given = set(args.not_assigned.replace(" ", "").split(",")) - {""}
    for d in raw["indicators"]:
        i = str(d["id"])
        if i in given:
            a.not_assigned.add(i)
            continue
        if _ask(f"Chỉ tiêu {i} ({d['short']}): giao cho xã? (c/k)", "c").lower().startswith("k"):
            a.not_assigned.add(i)
            continue
        a.targets[i] = _ask("  Chỉ tiêu giao (số, hoặc 'khuyến khích')", _target_default(d))
        a.deadlines[i] = _ask("  Hạn (ngày/tháng/năm hoặc 'thường xuyên')", _deadline_default(d, year))
    for u in raw["units"]:
        name = _ask(f"Cán bộ thực hiện của {u['name']} (Enter: để trống)")
        if name:
            a.officers[u["code"]] = [{"name": name, "phone": _ask("  Điện thoại")}]
    a.signed_by = args.signer or _ask("Người ký Báo cáo (họ tên, chức vụ)", raw.get("signed_by", ""))
    a.recipients = list(args.recipient)
    return a


def _from_flags(args, base_year: int):
    from kpi.plan.setup import Answers

    officers: dict[str, list[dict]] = {}
    for unit, text in _pairs(args.officer, "--officer").items():
        name, _, phone = text.partition(",")
        officers.setdefault(unit, []).append({"name": name.strip(), "phone": phone.strip()})
    return Answers(commune=args.commune, year=args.year or base_year, province=args.province,
                   villages=[v.strip() for v in args.villages.split(";") if v.strip()],
                   targets=_pairs(args.target, "--target"), deadlines=_pairs(args.deadline, "--deadline"),
                   not_assigned=set(args.not_assigned.replace(" ", "").split(",")) - {""}, officers=officers,
                   signed_by=args.signer, recipients=list(args.recipient))


def cmd_init(args) -> int:
    from kpi.core.files import write_atomic
    from kpi.plan.setup import checked, make_plan

    base, raw, base_year = _base(args)
    if args.sheet_form:
        from kpi.cli.init_sheet import write_form

        write_form(raw, Path(args.sheet_form))
        print(f"Đã ghi bảng tính để điền: {args.sheet_form}. {SHEET_HELP}")
        return EXIT_OK
    if args.sheet:
        from kpi.cli.init_sheet import read_form

        answers = read_form(Path(args.sheet), raw, base_year)
    elif args.commune and args.villages:
        answers = _from_flags(args, base_year)
    elif sys.stdin.isatty():
        answers = _interview(args, raw, base_year)
    else:
        raise UsageError("Thiếu tên xã hoặc tên các thôn: ghi --commune và --villages, hoặc --sheet TỆP.xlsx, "
                         "hoặc chạy kpi init trong cửa sổ lệnh để trả lời từng câu hỏi.")
    target = Path(args.data) / f"plan_{answers.year}.yml"
    if target.exists() and not args.force:
        raise UsageError(f"Đã có kế hoạch {target}. Sửa trực tiếp tệp đó, hoặc chạy lại với --force để ghi đè.")
    try:
        text, plan = checked(make_plan(raw, base_year, answers), str(base), str(target))
    except PlanError as exc:
        raise PlanError(f"Chưa ghi kế hoạch (sửa rồi chạy lại kpi init):\n{exc}") from None
    paths.submissions_dir(Path(args.data)).mkdir(parents=True, exist_ok=True)
    write_atomic(target, text)
    absent = f"; không giao: {', '.join(i.id for i in plan.not_assigned)}" if plan.not_assigned else ""
    print(f"Đã ghi kế hoạch năm {plan.year} của xã {plan.commune}: {target}\n"
          f"  {len(plan.villages)} thôn, {plan.group_count} chỉ tiêu ({plan.measure_count} chỉ số đo){absent}.\n"
          f"Bước tiếp theo: kpi template --data {args.data} --unit {plan.unit_codes[0]} --period {plan.year}-01")
    return EXIT_OK

"""kpi remind: the units not sent for a period, their officers and a message to paste; e-mailed with --smtp."""

from __future__ import annotations


def cmd_remind(args) -> int:
    """`kpi remind --period P [--data DIR] [--smtp HOST:PORT] [--sender ADDR]`."""
    from kpi.intake.validate import load_submissions, run_day
    from kpi.outputs.remind import ReminderError, parse_smtp, reminders, send, text_table
    from kpi.plan import load_plan
    from kpi.report import check_parameters

    plan = load_plan(args.plan)
    check_parameters(plan, args.period, "commune")
    if args.smtp:
        try:
            parse_smtp(args.smtp)
        except ReminderError as exc:
            print(f"kpi: {exc}")
            return 1
    today = run_day()
    items = reminders(plan, load_submissions(args.data, plan), args.period, today)
    print(text_table(items, args.period, today))
    if args.smtp and items:
        sender = args.sender or (plan.focal_point or {}).get("email") or f"kpi@{args.smtp.rpartition(':')[0]}"
        try:
            mailed, without = send(plan, items, args.period, args.smtp, sender)
        except ReminderError as exc:
            print(f"kpi: {exc}")
            return 1
        if mailed:
            print(f"\nĐã gửi thư nhắc tới: {', '.join(mailed)}.")
        if without:
            print(f"Chưa gửi thư cho: {', '.join(without)} (kế hoạch chưa có email cán bộ; thêm 'email:' vào "
                  "officers của đơn vị trong tệp kế hoạch).")
    return 0


def add_parser(sub, data_arg, period_arg) -> None:
    """The `remind` command's arguments (kpi.cli registers it)."""
    p = sub.add_parser("remind", help="nhắc các đơn vị chưa gửi báo cáo của một kỳ (tin nhắn Zalo/SMS, thư)")
    p.add_argument("--period", type=period_arg, required=True, help="kỳ báo cáo YYYY-MM")
    data_arg(p)
    p.add_argument("--smtp", default=None, help="MÁY:CỔNG của máy chủ thư để gửi tin nhắc qua email cho cán bộ "
                   "có email trong kế hoạch")
    p.add_argument("--sender", default=None, help="địa chỉ người gửi (mặc định email của chuyên viên đầu mối)")
    p.set_defaults(func=cmd_remind)

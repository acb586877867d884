"""Reminders before the 10th: the units that have not sent a period, their officers, the days left, a message.

`kpi remind --period P` prints a short Vietnamese message per unit, ready to paste into Zalo or SMS; with
`--smtp HOST:PORT` it also e-mails it to the unit's officers who have an `email` in the plan (Phụ lục II)."""

from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formataddr

from kpi.core import formats, periods
from kpi.indicators import compute
from kpi.plan.model import Plan

SMTP_TIMEOUT = 20  # seconds


class ReminderError(ValueError):
    """An --smtp address that is not HOST:PORT, or a mail server that cannot be reached; said in Vietnamese."""


@dataclass
class Reminder:
    unit: str
    unit_name: str
    state: str  # missing | unreadable (compute.not_sent)
    due: dt.date
    days_left: int  # negative: days past the due date
    officers: list[dict] = field(default_factory=list)
    message: str = ""

    @property
    def emails(self) -> list[str]:
        return [o["email"] for o in self.officers if o.get("email")]


def days_phrase(days_left: int) -> str:
    if days_left > 0:
        return f"còn {days_left} ngày"
    if days_left == 0:
        return "hạn là hôm nay"
    return f"đã quá hạn {-days_left} ngày"


def message(plan: Plan, r: Reminder, period: str) -> str:
    """The short message: whom, what, by when, how many days, what to do and whom to call."""
    what = "gửi lại báo cáo (tệp đã gửi không đọc được)" if r.state == "unreadable" else "gửi báo cáo"
    text = (f"Kính gửi {r.unit_name}: đề nghị {what} chỉ tiêu KHCN, ĐMST và CĐS {periods.label(period)}. "
            f"Hạn: {formats.date(r.due)} ({days_phrase(r.days_left)}).")
    focal = plan.focal_point or {}
    if focal.get("name"):
        text += f" Liên hệ: {focal['name']}" + (f", {focal['phone']}" if focal.get("phone") else "") + "."
    return text


def reminders(plan: Plan, subs, period: str, today: dt.date) -> list[Reminder]:
    """One reminder per unit that has not sent P (state missing, or a file that could not be read), in plan order,
    with the days left until the due date (the 10th of the month after P) counted from `today`."""
    states = compute.timeliness(subs.received, plan, period, subs.problems)
    due = plan.due_date(period)
    out = []
    for row in compute.not_sent(states).itertuples(index=False):
        unit = plan.unit(row.unit)
        officers = [o for o in unit.officers if o.get("name") and not o["name"].startswith("(")]
        r = Reminder(row.unit, unit.name, row.status, due, (due - today).days, officers)
        r.message = message(plan, r, period)
        out.append(r)
    return out


def text_table(items: list[Reminder], period: str, today: dt.date) -> str:
    """What the terminal shows: each unit, its officers and phones, the days left, then the message."""
    if not items:
        return f"Mọi đơn vị đã gửi báo cáo {periods.label(period)}; không cần nhắc."
    lines = [f"{len(items)} đơn vị chưa gửi báo cáo {periods.label(period)} (hạn {formats.date(items[0].due)}, "
             f"tính đến ngày {formats.date(today)}: {days_phrase(items[0].days_left)}):", ""]
    for r in items:
        people = "; ".join(f"{o['name']}" + (f", {o['phone']}" if o.get("phone") else "") for o in r.officers)
        lines.append(f"- {r.unit_name}: {people or 'chưa có cán bộ đầu mối trong kế hoạch (Phụ lục II)'}")
        lines.append(f"  Tin nhắn: {r.message}")
    return "\n".join(lines)


def parse_smtp(text: str) -> tuple[str, int]:
    host, _, port = (text or "").rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ReminderError(f"--smtp '{text}' không hợp lệ: ghi dạng MÁY:CỔNG, ví dụ 127.0.0.1:25 hoặc "
                            "smtp.xa.gov.vn:587.")
    return host, int(port)


def build_mail(plan: Plan, r: Reminder, period: str, sender: str) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"Nhắc gửi báo cáo chỉ tiêu chuyển đổi số {periods.label(period)} - {r.unit_name}"
    mail["From"] = formataddr((f"UBND xã {plan.commune}", sender))
    mail["To"] = ", ".join(formataddr((o["name"], o["email"])) for o in r.officers if o.get("email"))
    mail.set_content(r.message + "\n")
    return mail


def send(plan: Plan, items: list[Reminder], period: str, smtp: str, sender: str) -> tuple[list[str], list[str]]:
    """E-mail each reminder to its officers' addresses over SMTP (no login: a local or relay server). Returns
    (units mailed, units without an address)."""
    host, port = parse_smtp(smtp)
    mailed, without = [], []
    try:
        with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT) as server:
            for r in items:
                if not r.emails:
                    without.append(r.unit_name)
                    continue
                server.send_message(build_mail(plan, r, period, sender))
                mailed.append(r.unit_name)
    except (OSError, smtplib.SMTPException) as exc:
        raise ReminderError(f"Không gửi được thư qua máy chủ {host}:{port} ({type(exc).__name__}: {exc}). Kiểm tra "
                            "địa chỉ, cổng và máy chủ thư; các tin nhắn ở trên vẫn dùng được để gửi qua Zalo/SMS.") from None
    return mailed, without



"""kpi remind (kpi.outputs.remind): the units not sent, their officers, the days left from the run day, the message, and
the e-mail a local aiosmtpd server receives."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from pathlib import Path

import pytest

from kpi.cli import main
from kpi.intake.validate import load_submissions
from kpi.outputs import remind
from kpi.plan import load_plan, paths

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def plan_with_emails(tmp_path) -> Path:
    """The real plan with e-mail addresses for VHXH's and Kinh tế's officers (Phụ lục II)."""
    text = Path(paths.PLAN_FILE).read_text(encoding="utf-8")
    text = text.replace('        phone: "0778540708"\n        note: Chuyên viên đầu mối',
                        '        phone: "0778540708"\n        email: ninh.vhxh@quangngoc.example\n'
                        '        note: Chuyên viên đầu mối', 1)
    kt = text.index("  - code: kt")
    text = text[:kt] + text[kt:].replace("      - name: (chưa cử cán bộ)\n        phone: \"\"",
                                         "      - name: Trần Thị Hoa\n        phone: \"0912345678\"\n"
                                         "        email: hoa.kt@quangngoc.example", 1)
    target = tmp_path / "plan_2026.yml"
    target.write_text(text, encoding="utf-8")
    return target


def test_days_left_and_message_worked_by_hand(plan):
    subs = load_submissions(SAMPLE, plan)
    # December is due on 10/01/2027; from 02/12/2026: 29 days to 31/12 and 10 more = 39
    items = remind.reminders(plan, subs, "2026-12", dt.date(2026, 12, 2))
    assert [r.unit for r in items] == ["vhxh", "kt", "ttpvhcc", "ca"]  # the sample stops at November
    assert {r.days_left for r in items} == {39} and items[0].due == dt.date(2027, 1, 10)
    assert items[1].message == ("Kính gửi Phòng Kinh tế: đề nghị gửi báo cáo chỉ tiêu KHCN, ĐMST và CĐS tháng "
                                "12/2026. Hạn: 10/01/2027 (còn 39 ngày). Liên hệ: Nguyễn Văn Ninh, 0778540708.")
    assert len(items[1].message) <= 200  # short enough for one Zalo/SMS
    late = remind.reminders(plan, subs, "2026-12", dt.date(2027, 1, 13))
    assert "đã quá hạn 3 ngày" in late[0].message
    assert remind.reminders(plan, subs, "2026-11", dt.date(2026, 12, 20)) == []  # every unit sent November


def test_cli_lists_units_with_officers(capsys, monkeypatch):
    monkeypatch.setenv("KPI_TODAY", "2027-01-08")
    assert main(["remind", "--period", "2026-12", "--data", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("4 đơn vị chưa gửi báo cáo tháng 12/2026 (hạn 10/01/2027, tính đến ngày 08/01/2027: "
                          "còn 2 ngày):")
    assert "- Phòng Văn hóa - Xã hội: Nguyễn Văn Ninh, 0778540708" in out
    assert "- Công an xã: chưa có cán bộ đầu mối trong kế hoạch (Phụ lục II)" in out


def test_bad_smtp_address_and_unreachable_server_are_said(capsys):
    assert main(["remind", "--period", "2026-12", "--data", str(SAMPLE), "--smtp", "mailserver"]) == 1
    assert "--smtp 'mailserver' không hợp lệ: ghi dạng MÁY:CỔNG" in capsys.readouterr().out
    port = free_port()  # nobody listens there
    assert main(["remind", "--period", "2026-12", "--data", str(SAMPLE), "--smtp", f"127.0.0.1:{port}"]) == 1
    out = capsys.readouterr().out
    assert f"Không gửi được thư qua máy chủ 127.0.0.1:{port}" in out and "Traceback" not in out


def test_mail_reaches_a_local_smtp_server(plan_with_emails, capsys, monkeypatch):
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")

    class Keep:
        def __init__(self):
            self.got = []

        async def handle_DATA(self, server, session, envelope):
            self.got.append(envelope)
            return "250 OK"

    handler = Keep()
    port = free_port()
    controller = aiosmtpd.Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("KPI_TODAY", "2027-01-05")
        code = main(["--plan", str(plan_with_emails), "remind", "--period", "2026-12", "--data", str(SAMPLE),
                     "--smtp", f"127.0.0.1:{port}"])
    finally:
        controller.stop()
    out = capsys.readouterr().out
    assert code == 0
    assert "Đã gửi thư nhắc tới: Phòng Văn hóa - Xã hội, Phòng Kinh tế." in out
    assert "Chưa gửi thư cho: Trung tâm Phục vụ hành chính công, Công an xã" in out
    assert [e.rcpt_tos for e in handler.got] == [["ninh.vhxh@quangngoc.example"], ["hoa.kt@quangngoc.example"]]
    assert all(e.mail_from == "kpi@127.0.0.1" for e in handler.got)  # the plan's focal point has no e-mail
    raw = handler.got[1].content
    assert b"=?utf-8?" in raw.lower()  # the Vietnamese subject travels encoded (RFC 2047)
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(mail["Subject"]) == "Nhắc gửi báo cáo chỉ tiêu chuyển đổi số tháng 12/2026 - Phòng Kinh tế"
    assert mail["To"].addresses[0].display_name == "Trần Thị Hoa"
    body = mail.get_content()
    assert "Kính gửi Phòng Kinh tế: đề nghị gửi báo cáo chỉ tiêu KHCN, ĐMST và CĐS tháng 12/2026. " \
           "Hạn: 10/01/2027 (còn 5 ngày)." in body


def test_plan_refuses_a_malformed_email(tmp_path, plan_with_emails):
    from kpi.plan import PlanError

    bad = tmp_path / "bad.yml"
    bad.write_text(plan_with_emails.read_text(encoding="utf-8").replace("hoa.kt@quangngoc.example", "hoa at kt"),
                   encoding="utf-8")
    with pytest.raises(PlanError, match=r"bad\.yml:\d+: units\.1\.officers\.0\.email"):
        load_plan(bad)

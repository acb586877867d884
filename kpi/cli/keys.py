"""`kpi keys`: the commune's signing key, made once (kpi.core.signing), and what to send the province."""

from __future__ import annotations

import json
from pathlib import Path

from kpi.cli.common import EXIT_OK


def cmd_keys(args) -> int:
    from kpi.core import signing
    from kpi.outputs.package import commune_id
    from kpi.plan import load_plan
    from kpi.province import COMMUNE_FILE, commune_plan

    if args.fingerprint is not None:  # at the province: the key a commune sent, before it goes into the plan
        from kpi.core.errors import UsageError

        try:
            key = signing.parse_public(args.fingerprint)
        except ValueError as exc:
            raise UsageError(f"--fingerprint: {exc}.") from None
        print(f"Dấu vân tay: {signing.fingerprint(key)} (xã đọc qua điện thoại phải đúng dãy này)")
        return EXIT_OK
    data = Path(args.data)
    plan = load_plan(args.plan)
    name = commune_plan(plan, data).commune if (data / COMMUNE_FILE).is_file() else plan.commune
    cid = commune_id(data)
    who = name if name.lower().startswith("xã ") else f"xã {name}"  # 'Xã Mẫu 1' or 'xã Quảng Ngọc'
    pair = None if args.replace else signing.load_key(cid)
    if pair is None:
        pair, old = signing.make_key(cid, name, replace=args.replace)
        print(f"Đã tạo khóa ký gói số liệu của {who} ({cid}): {pair.path}")
        print("  Chỉ tài khoản này đọc được tệp khóa. Đừng gửi, đừng chép tệp này vào thư mục kết quả; hãy sao lưu nó "
              "(USB cất riêng): mất tệp là phải tạo khóa mới và báo lại cho tỉnh.")
        if old is not None:
            print(f"  Khóa cũ được cất ở {old}. Gói ký bằng khóa mới chỉ được tỉnh nhận khi tỉnh đã thay khóa công khai "
                  "mới dưới đây vào kế hoạch của tỉnh.")
    else:
        print(f"{who[:1].upper()}{who[1:]} ({cid}) đã có khóa: {pair.path} (không tạo lại).")
    print(f"Khóa công khai (gửi cho tỉnh): {signing.public_text(pair.public)}")
    print(f"Dấu vân tay (đọc cho tỉnh qua điện thoại để đối chiếu): {signing.fingerprint(pair.public)}")
    print("Dòng cho kế hoạch của tỉnh (communes:):")
    print(f'  - {{id: {json.dumps(cid)}, name: {json.dumps(name, ensure_ascii=False)}, '
          f'key: "{signing.public_text(pair.public)}"}}')
    print("Từ nay mỗi lần `kpi run` ký gói số liệu (package/datapackage.json.sig).")
    return EXIT_OK

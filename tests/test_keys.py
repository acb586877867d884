"""`kpi keys` and the package's signature (kpi/core/signing.py, kpi/cli/keys.py, kpi/outputs/package.py): one key pair
per commune, made once, private half readable by its owner only and outside the outputs; the package signed over
the exact bytes of its datapackage.json."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from nacl.signing import VerifyKey

from kpi.core import signing
from tests.test_package import make_package

FIXTURE = Path(__file__).parent / "fixtures" / "province3"


def kpi(*args: str, keys: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpi", *args], capture_output=True, text=True, encoding="utf-8",
                          env={**os.environ, "KPI_KEYS": str(keys)})


def test_kpi_keys_makes_the_key_once_owner_only_and_prints_key_and_fingerprint(tmp_path):
    keys = tmp_path / "khoa"
    proc = kpi("keys", "--data", str(FIXTURE / "xa_b"), keys=keys)
    assert proc.returncode == 0, proc.stderr
    private = keys / "xa_b.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and stat.S_IMODE(keys.stat().st_mode) == 0o700
    printed = re.search(r"Khóa công khai \(gửi cho tỉnh\): (ed25519:\S+)", proc.stdout).group(1)
    raw = base64.b64decode(printed.removeprefix("ed25519:"))
    assert len(raw) == 32 and (keys / "xa_b.pub").read_text().strip() == printed
    digits = hashlib.sha256(raw).hexdigest()[:16].upper()  # the first 16 hex digits, in groups of four
    assert f"Dấu vân tay (đọc cho tỉnh qua điện thoại để đối chiếu): {digits[:4]} {digits[4:8]} {digits[8:12]} " \
           f"{digits[12:]}" in proc.stdout
    assert f'- {{id: "xa_b", name: "Xã B", key: "{printed}"}}' in proc.stdout  # the line for the province plan
    at_province = kpi("keys", "--fingerprint", printed, keys=tmp_path / "tinh")  # the key received, checked
    assert f"Dấu vân tay: {digits[:4]} {digits[4:8]} {digits[8:12]} {digits[12:]}" in at_province.stdout
    again = kpi("keys", "--data", str(FIXTURE / "xa_b"), keys=keys)
    assert again.returncode == 0 and "đã có khóa" in again.stdout and printed in again.stdout  # never overwritten
    new = kpi("keys", "--data", str(FIXTURE / "xa_b"), "--replace", keys=keys)
    assert new.returncode == 0 and printed not in new.stdout and "Khóa cũ được cất ở" in new.stdout
    kept = [p for p in keys.iterdir() if p.name.startswith("xa_b.key.old-")]
    assert len(kept) == 1 and json.loads(kept[0].read_text())["public"] == printed


def test_a_broken_key_file_is_said_not_a_traceback(tmp_path):
    keys = tmp_path / "khoa"
    keys.mkdir()
    (keys / "xa_b.key").write_text("hỏng", encoding="utf-8")
    proc = kpi("keys", "--data", str(FIXTURE / "xa_b"), keys=keys)
    assert proc.returncode == 2 and "bị hỏng" in proc.stderr and "Traceback" not in proc.stderr


def test_the_package_is_signed_over_the_exact_descriptor_bytes_and_carries_no_private_key(tmp_path, monkeypatch):
    monkeypatch.setenv("KPI_KEYS", str(tmp_path / "khoa"))
    pair, _ = signing.make_key("xa_c", "Xã C")
    pkg = make_package(FIXTURE / "xa_c", tmp_path / "out", "2026-02")
    sig = json.loads((pkg / "datapackage.json.sig").read_text(encoding="utf-8"))
    assert sig["key"] == signing.public_text(pair.public) and sig["fingerprint"] == signing.fingerprint(pair.public)
    descriptor = (pkg / "datapackage.json").read_bytes()
    VerifyKey(pair.public).verify(descriptor, base64.b64decode(sig["signature"]))  # raises if it does not verify
    with pytest.raises(Exception):
        VerifyKey(pair.public).verify(descriptor.replace(b'"revision": 1', b'"revision": 2'),
                                      base64.b64decode(sig["signature"]))
    seed = base64.b64encode(pair.private)
    assert not any(seed in p.read_bytes() for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert not pair.path.is_relative_to(tmp_path / "out")


def test_without_a_key_the_package_is_unsigned_and_the_run_says_so(tmp_path, monkeypatch):
    from kpi.outputs.package import unsigned_note

    monkeypatch.setenv("KPI_KEYS", str(tmp_path / "khong_co"))
    pkg = make_package(FIXTURE / "xa_c", tmp_path / "out", "2026-02")
    assert not (pkg / "datapackage.json.sig").exists()
    note = unsigned_note(pkg, FIXTURE / "xa_c")
    assert "chưa được ký" in note and f"kpi keys --data {FIXTURE / 'xa_c'}" in note

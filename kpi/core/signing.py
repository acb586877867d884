"""Who made a data package: one Ed25519 key pair per commune (PyNaCl), the commune's kit signs the exact bytes of
its package's datapackage.json, the province checks them with the public key it collected (docs/security.md).

The private key lives outside the kit and its outputs, in the keys folder: `$KPI_KEYS`, else the user's config
folder (`$XDG_CONFIG_HOME/kpi-kit/keys`, `~/.config/kpi-kit/keys`; `%APPDATA%\\kpi-kit\\keys` on Windows), one file
`<commune id>.key` readable by its owner only (mode 0600, folder 0700), and its public half `<commune id>.pub`."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from kpi.core.errors import UsageError
from kpi.core.files import write_atomic
from kpi.core.paths import commune_id, key_file, keys_dir
from kpi.core.periods import run_day

KEY_PREFIX = "ed25519:"
SIGNATURE_SUFFIX = ".sig"  # datapackage.json.sig beside datapackage.json
ALGORITHM = "ed25519"
MAX_SIGNATURE_BYTES = 4096  # a real .sig is ~300 bytes


def public_text(key: bytes) -> str:
    """'ed25519:<base64 of the 32 bytes>', as the province plan writes it."""
    return KEY_PREFIX + base64.b64encode(key).decode("ascii")


def fingerprint(key: bytes) -> str:
    """The first 16 hex digits of the key's sha256 in groups of four ('1A2B 3C4D 5E6F 7081'): read out over the
    phone so that the province knows the key it was sent is the commune's."""
    digits = hashlib.sha256(key).hexdigest()[:16].upper()
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def parse_public(text: object) -> bytes:
    """The 32 bytes of an 'ed25519:…' public key; ValueError (Vietnamese) for anything else."""
    if not isinstance(text, str) or not text.startswith(KEY_PREFIX):
        raise ValueError(f"khóa công khai phải bắt đầu bằng '{KEY_PREFIX}' (dòng `kpi keys` in ra ở xã)")
    try:
        raw = base64.b64decode(text[len(KEY_PREFIX):].strip(), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(f"khóa công khai '{text[:60]}' không đúng: sau '{KEY_PREFIX}' phải là 44 ký tự base64 "
                         "(32 byte); hãy chép lại nguyên dòng `kpi keys` in ra ở xã")
    return raw


@dataclass(frozen=True)
class KeyPair:
    commune_id: str
    private: bytes  # the 32-byte seed
    path: Path

    @property
    def public(self) -> bytes:
        return bytes(SigningKey(self.private).verify_key)


def load_key(commune_id: str, folder: Path | None = None) -> KeyPair | None:
    """The commune's key pair, or None when `kpi keys` has not made one. A key file that is not one is said."""
    path = key_file(commune_id, folder)
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        seed = base64.b64decode(info["private"], validate=True)
        if len(seed) != 32:
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, binascii.Error):
        raise UsageError(f"Tệp khóa {path} bị hỏng hoặc không phải khóa do `kpi keys` tạo. Nếu có bản sao lưu, hãy chép "
                         f"lại; nếu không, tạo khóa mới (`kpi keys --replace`) và gửi khóa công khai mới cho tỉnh.") from None
    return KeyPair(commune_id, seed, path)


def make_key(commune_id: str, commune: str, folder: Path | None = None, replace: bool = False) -> tuple[KeyPair, Path | None]:
    """A new key pair for the commune, written once, readable by its owner only. An existing key is never
    overwritten: with `replace` it is kept aside as `<id>.key.old-<date>` (returned) and a new one made."""
    folder = folder or keys_dir()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(folder, 0o700)
    except OSError:  # a folder the user does not own: the file's own mode still protects the key
        pass
    path = key_file(commune_id, folder)
    old = None
    if path.exists():
        if not replace:
            raise UsageError(f"Xã {commune_id} đã có khóa ({path}); không tạo đè. Muốn đổi khóa (mất máy, lộ khóa): "
                             f"`kpi keys --replace`, rồi gửi khóa công khai mới cho tỉnh.")
        old = path.with_name(f"{path.name}.old-{dt.datetime.now():%Y%m%d-%H%M%S}")
        path.rename(old)
    seed = bytes(SigningKey.generate())
    body = json.dumps({"commune_id": commune_id, "commune": commune, "algorithm": ALGORITHM,
                       "private": base64.b64encode(seed).decode("ascii"),
                       "public": public_text(bytes(SigningKey(seed).verify_key)),
                       "made_on": run_day().isoformat()}, ensure_ascii=False, indent=1)
    # mkstemp makes the file 0600 (never readable by others, even briefly); link: whole, and never over a key
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
        os.chmod(tmp, 0o600)
        os.link(tmp, path)
    finally:
        os.unlink(tmp)
    pair = KeyPair(commune_id, seed, path)
    # the public half beside it, to send to the province (and what tells a re-run that the key changed)
    write_atomic(path.with_suffix(".pub"), public_text(pair.public) + "\n")
    return pair, old


def signature_bytes(descriptor: bytes, pair: KeyPair) -> bytes:
    """datapackage.json.sig: the signature of the descriptor's exact bytes, with the signer's public key and
    fingerprint (which say who signed; only the province's own copy of the key says whether to trust it)."""
    signed = SigningKey(pair.private).sign(descriptor)
    return json.dumps({"algorithm": ALGORITHM, "signed": "datapackage.json",
                       "key": public_text(pair.public), "fingerprint": fingerprint(pair.public),
                       "signature": base64.b64encode(signed.signature).decode("ascii")}, indent=1).encode("utf-8")


@dataclass(frozen=True)
class Signature:
    signature: bytes
    key: bytes | None  # the public key the package says signed it (not trusted: only shown)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.key) if self.key else "?"


def read_signature(raw: bytes) -> Signature:
    """The .sig file's signature and claimed key; ValueError (Vietnamese) when it is not one."""
    try:
        info = json.loads(raw.decode("utf-8"))
        sig = base64.b64decode(info["signature"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValueError("tệp chữ ký không đúng dạng") from None
    if len(sig) != 64 or info.get("algorithm") != ALGORITHM:
        raise ValueError("tệp chữ ký không phải chữ ký Ed25519")
    try:
        key = parse_public(info.get("key"))
    except ValueError:
        key = None
    return Signature(sig, key)


def verifies(descriptor: bytes, sig: Signature, public: bytes) -> bool:
    """Whether `sig` is the signature of these exact bytes by the holder of `public`."""
    try:
        VerifyKey(public).verify(descriptor, sig.signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def unsigned_note(package_dir: Path, data_dir: Path) -> str:
    """What the run says when it wrote a package without a signature ('' when signed)."""
    if (Path(package_dir) / f"datapackage.json{SIGNATURE_SUFFIX}").is_file():
        return ""
    return (f"gói số liệu {package_dir} chưa được ký: xã {commune_id(data_dir)} chưa có khóa. Chạy một lần "
            f"`kpi keys --data {data_dir}`, gửi khóa công khai cho tỉnh, rồi chạy lại; tỉnh không tổng hợp gói chưa ký.")

"""A province's inbox holding hostile packages (kpi.province.inbox, kpi.province.packages, kpi.core.bounded): each
one is built here, from the communes' real signed packages, and each must be named with its reason while the good
communes are rolled up exactly as from an inbox without it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tracemalloc
import zipfile
from pathlib import Path

import pytest
import yaml

from kpi.core import signing
from kpi.province import packages as pk
from kpi.province.targets import load_province_plan
from kpi.run.province_batch import write_tables
from tests.test_package import PLAN, make_package

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "province3"
PERIOD = "2026-02"
PREFIX = f"bao-cao-{PERIOD}/package/"
MB = 1024 * 1024
COMMUNES = ["xa_a", "xa_b", "xa_c"]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    """Each commune's signed package folder for February, made by the kit (each commune ran `kpi keys` once)."""
    root = tmp_path_factory.mktemp("communes")
    out = {}
    for cid in COMMUNES:
        if signing.load_key(cid) is None:
            signing.make_key(cid, cid)
        out[cid] = make_package(FIXTURE / cid, root / "out", PERIOD)
    return out


@pytest.fixture(scope="module")
def pplan(made, tmp_path_factory):
    entries = [{"id": c, "name": f"Xã {c[-1].upper()}", "key": signing.public_text(signing.load_key(c).public)}
               for c in COMMUNES]
    f = tmp_path_factory.mktemp("tinh") / "tinh.yml"
    f.write_text(yaml.safe_dump({"province": "Tỉnh Thử", "communes": entries}, allow_unicode=True), encoding="utf-8")
    return load_province_plan(f, PLAN)


def zip_package(files: dict[str, bytes], target: Path, extra: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> Path:
    """A commune's zip as `kpi run --zip` lays it out: the package under bao-cao-P/package/, plus `extra` members."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in files.items():
            zf.writestr(PREFIX + name, body)
        for info, body in extra:
            zf.writestr(info, body)
    return target


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def clean(made, tmp_path) -> Path:
    box = tmp_path / "clean"
    box.mkdir()
    for cid, folder in made.items():
        zip_package(files_of(folder), box / f"{cid}.zip")
    return box


def tables(box: Path, pplan, folder: Path, allow_unsigned: bool = False) -> tuple[pk.PackageSet, dict[str, bytes]]:
    ps = pk.collect(box, PLAN, PERIOD, pplan, allow_unsigned)
    folder.mkdir(parents=True)
    write_tables(pk.report_from_packages(ps, PLAN, pplan), folder)
    return ps, {n: (folder / n).read_bytes() for n in ("province_scorecard.csv", "communes.csv")}


def edited(files: dict[str, bytes], resource: str, old: bytes, new: bytes) -> dict[str, bytes]:
    """The package with one value changed and the descriptor's sha256 and size recomputed, as a person would."""
    out = dict(files)
    assert old in out[resource]
    out[resource] = out[resource].replace(old, new, 1)
    d = json.loads(out["datapackage.json"])
    for r in d["resources"]:
        if r["path"] == resource:
            r["hash"] = "sha256:" + hashlib.sha256(out[resource]).hexdigest()
            r["bytes"] = len(out[resource])
    out["datapackage.json"] = json.dumps(d, ensure_ascii=False, indent=2).encode("utf-8")
    return out


def signed(files: dict[str, bytes], pair: signing.KeyPair) -> dict[str, bytes]:
    return {**files, "datapackage.json.sig": signing.signature_bytes(files["datapackage.json"], pair)}


def stranger() -> signing.KeyPair:
    from nacl.signing import SigningKey

    return signing.KeyPair("nguoi_la", bytes(SigningKey.generate()), Path("/nonexistent"))


def lying_zip(target: Path, member: str, real_size: int, claimed: int) -> Path:
    """A zip bomb whose central directory claims `claimed` bytes for a member that inflates to `real_size`."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(member, "w") as f:
        zero = bytes(MB)
        for _ in range(real_size // MB):
            f.write(zero)
    data = bytearray(target.read_bytes())
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<L", data, cd + 24, claimed)  # the uncompressed size in the central directory
    target.write_bytes(bytes(data))
    return target


def test_the_clean_inbox_is_rolled_up_and_verified(clean, pplan, tmp_path):
    ps, _ = tables(clean, pplan, tmp_path / "t")
    assert ps.problems == [] and ps.notices == [] and ps.verified == set(COMMUNES) and ps.unverified == []


def test_an_inbox_of_every_hostile_kind_names_each_and_rolls_up_the_good_ones_unchanged(made, clean, pplan, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(clean, box)
    a, b = files_of(made["xa_a"]), files_of(made["xa_b"])
    # 1. a zip bomb whose header lies (says 1 000 bytes, inflates to 64 MB), as the descriptor itself
    lying_zip(box / "bomb_lying.zip", PREFIX + "datapackage.json", 64 * MB, 1000)
    # 2. a zip bomb whose header admits it (64 MB of zeros in a 64 KB zip)
    with zipfile.ZipFile(box / "bomb_honest.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(PREFIX + "datapackage.json", bytes(64 * MB))
    # 3. traversal and absolute member names
    zip_package(a, box / "traversal.zip", [(zipfile.ZipInfo("../../evil.txt"), b"x")])
    zip_package(a, box / "absolute.zip", [(zipfile.ZipInfo("/tmp/evil2.txt"), b"x")])
    zip_package(a, box / "dotdot.zip", [(zipfile.ZipInfo("package/../../../../evil3.txt"), b"x")])
    # 4. a link inside a zip, and a link in the inbox to a package folder elsewhere
    link = zipfile.ZipInfo(PREFIX + "scorecard.csv")
    link.external_attr = (0o120777 << 16)
    zip_package({k: v for k, v in a.items() if k != "scorecard.csv"}, box / "link.zip", [(link, b"/etc/passwd")])
    os.symlink(made["xa_a"], box / "lien_ket")
    # 5. a forged id: xa_b's own package made to say xa_c, signed with xa_b's key
    forged = dict(b)
    d = json.loads(forged["datapackage.json"])
    d["kpi"]["commune_id"], d["kpi"]["commune"] = "xa_c", "Xã C"
    forged["datapackage.json"] = json.dumps(d, ensure_ascii=False, indent=2).encode("utf-8")
    zip_package(signed(forged, signing.load_key("xa_b")), box / "forged.zip")
    # 6. an edit re-signed with another key; 7. an edit left with the commune's signature; 8. unsigned
    zip_package(signed(edited(a, "history.csv", b"150.0", b"250.0"), stranger()), box / "resigned.zip")
    zip_package(edited(a, "history.csv", b"150.0", b"250.0"), box / "edited.zip")
    zip_package({k: v for k, v in a.items() if not k.endswith(".sig")}, box / "unsigned.zip")
    # 9. a stranger's package for a commune the province does not know, claiming a later month
    d = json.loads(a["datapackage.json"])
    d["kpi"].update(commune_id="xa_z", period="2026-03")
    zip_package(signed({**a, "datapackage.json": json.dumps(d).encode()}, stranger()), box / "la.zip")
    # 10. control characters in a file name (a terminal escape)
    shutil.copy(box / "unsigned.zip", box / "x\x1b[31mdo.zip")

    ps, got = tables(box, pplan, tmp_path / "hostile")
    _, want = tables(clean, pplan, tmp_path / "clean_tables")
    assert got == want  # byte for byte, as if the hostile packages were not there
    assert sorted(ps.good) == COMMUNES and ps.verified == set(COMMUNES)
    by_file = {name: [p for p in ps.problems if name in p] for name in
               ("bomb_lying", "bomb_honest", "traversal", "absolute", "dotdot", "link.zip", "lien_ket", "forged",
                "resigned", "edited", "unsigned", "la.zip")}
    assert all(len(v) == 1 for v in by_file.values()), by_file
    said = {k: v[0] for k, v in by_file.items()}
    assert "không giải nén được" in said["bomb_lying"] and "CRC" in said["bomb_lying"]
    assert "lớn hơn 1 MB" in said["bomb_honest"]
    assert "'../../evil.txt' có '..'" in said["traversal"]
    assert "'/tmp/evil2.txt' là đường dẫn tuyệt đối" in said["absolute"]
    assert "'package/../../../../evil3.txt' có '..'" in said["dotdot"]
    assert "là liên kết (symlink)" in said["link.zip"] and "là liên kết (symlink)" in said["lien_ket"]
    fp_b, fp_c = (signing.fingerprint(signing.load_key(c).public) for c in ("xa_b", "xa_c"))
    assert f"nói là của Xã C (xa_c) nhưng được ký bằng khóa khác (dấu vân tay {fp_b})" in said["forged"]
    assert f"khóa tỉnh giữ cho xã này ({fp_c})" in said["forged"]
    assert "ký bằng khóa khác" in said["resigned"]
    assert "chữ ký của gói Xã A (xa_a) không khớp" in said["edited"] and "bị sửa sau khi xã ký" in said["edited"]
    assert "chưa được ký" in said["unsigned"]
    assert "xã mã xa_z không có trong kế hoạch của tỉnh" in said["la.zip"]
    assert ps.period == PERIOD  # the stranger's later month did not become the report's
    escaped = [p for p in ps.problems if "do.zip" in p]
    assert len(escaped) == 1 and "\x1b" not in escaped[0] and "x\ufffd[31mdo.zip" in escaped[0]
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil2.txt").exists()


def test_a_bomb_in_a_signed_package_is_stopped_by_the_count_not_the_header(made, pplan, tmp_path, monkeypatch):
    """A hostile commune (its own key) declares a 15 MB history.csv of zeros: read in chunks and counted, it is
    refused at the compression ratio bound past the first MB; memory stays far below what it would inflate to."""
    a = files_of(made["xa_a"])
    bomb = b"0" * (15 * MB)
    zip_package(signed(edited(a, "history.csv", a["history.csv"], bomb), signing.load_key("xa_a")),
                (tmp_path / "box").mkdir() or tmp_path / "box" / "xa_a.zip")
    tracemalloc.start()
    ps = pk.collect(tmp_path / "box", PLAN, PERIOD, pplan)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert ps.good == {} and len(ps.problems) == 1 + 3  # the bomb, then xa_a, xa_b, xa_c without a package
    assert "tỷ lệ nén quá 100 lần" in ps.problems[0] and "KPI_MAX_ZIP_RATIO" in ps.problems[0]
    assert peak < 6 * MB, peak
    monkeypatch.setenv("KPI_MAX_ZIP_RATIO", "100000")  # the ratio allowed: the package total stops it
    monkeypatch.setenv("KPI_MAX_UNZIPPED_MB", "4")
    ps = pk.collect(tmp_path / "box", PLAN, PERIOD, pplan)
    assert "gói giải nén ra hơn 4 MB (KPI_MAX_UNZIPPED_MB)" in ps.problems[0]


def test_too_many_members_are_refused_before_the_directory_is_read(tmp_path, pplan, monkeypatch):
    monkeypatch.setenv("KPI_MAX_PACKAGE_MEMBERS", "50")
    (tmp_path / "box").mkdir()
    with zipfile.ZipFile(tmp_path / "box" / "many.zip", "w") as zf:
        for n in range(51):
            zf.writestr(f"f{n}.txt", b"")
    with pytest.raises(Exception) as err:  # nothing else in the inbox: no package for any month
        pk.collect(tmp_path / "box", PLAN, None, pplan)
    assert "tệp zip có 51 mục" in str(err.value) and "quá giới hạn 50 mục" in str(err.value)


def test_a_resource_longer_than_its_descriptor_says_is_refused(made, pplan, tmp_path):
    """A folder package whose history.csv grew after signing (same hash impossible, so: its declared size)."""
    box = tmp_path / "box"
    shutil.copytree(made["xa_a"], box / "xa_a")
    with open(box / "xa_a" / "history.csv", "ab") as f:
        f.write(b"x" * 10_000)
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    assert ps.good == {} and "tệp dài hơn" in ps.problems[0] and "ghi trong datapackage.json" in ps.problems[0]


def test_a_link_inside_a_package_folder_is_not_followed(made, pplan, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(made["xa_a"], box / "xa_a")
    secret = tmp_path / "bi_mat.csv"
    secret.write_bytes((box / "xa_a" / "history.csv").read_bytes())
    (box / "xa_a" / "history.csv").unlink()
    os.symlink(secret, box / "xa_a" / "history.csv")
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    assert ps.good == {} and "history.csv: là liên kết (symlink)" in ps.problems[0]


def test_two_revisions_the_later_is_taken_the_other_named(made, pplan, tmp_path):
    out = tmp_path / "out"
    first = make_package(FIXTURE / "xa_a", out, PERIOD)
    published = out / "xa_a" / "published" / f"{PERIOD}.json"  # a value published before, changed since
    published.write_text(published.read_text(encoding="utf-8").replace("50.0", "49.0"), encoding="utf-8")
    box = tmp_path / "box"
    zip_package(files_of(first), (box.mkdir() or box) / "xa_a_lan1.zip")
    second = make_package(FIXTURE / "xa_a", out, PERIOD, made_on="2026-03-09")
    assert json.loads((second / "datapackage.json").read_bytes())["kpi"]["revision"] == 2
    zip_package(files_of(second), box / "xa_a_lan2.zip")
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    assert sorted(ps.good) == ["xa_a"] and ps.good["xa_a"].source.endswith("xa_a_lan2.zip:" + PREFIX + "datapackage.json")
    old = [p for p in ps.problems if "xa_a_lan1" in p]
    assert len(old) == 1 and "gói cũ của Xã A (xa_a), lần công bố 1; đã dùng gói mới hơn (lần công bố 2)" in old[0]


def test_another_plan_is_named(pplan, tmp_path):
    from dataclasses import replace

    from kpi import province
    from kpi.core import paths
    from kpi.indicators import compute
    from kpi.intake.validate import load_submissions
    from kpi.outputs.package import write_package

    cplan = province.commune_plan(PLAN, FIXTURE / "xa_a")
    cplan = replace(cplan, indicators=tuple(replace(i, target=1.0) if i.id == "1" else i for i in cplan.indicators))
    subs = load_submissions(FIXTURE / "xa_a", cplan)
    pkg = write_package(cplan, subs, PERIOD, compute.scorecard(subs.data, cplan, PERIOD), tmp_path / "o" / PERIOD,
                        FIXTURE / "xa_a", paths.PLAN_FILE, "2026-03-06")
    ps = pk.collect(pkg.parent, PLAN, PERIOD, pplan)
    assert ps.good == {} and "được tính theo một kế hoạch khác kế hoạch của tỉnh" in ps.problems[0]


def test_formula_like_notes_are_neutralised_and_named(made, pplan, tmp_path):
    a = files_of(made["xa_a"])
    notes = a["notes.csv"].decode().splitlines()[0] + '\nkt,7,reason,"=HYPERLINK(""http://x/"",""Bấm"")"\n'
    pkg = signed(edited({**a}, "notes.csv", a["notes.csv"], notes.encode()), signing.load_key("xa_a"))
    box = tmp_path / "box"
    zip_package(pkg, (box.mkdir() or box) / "xa_a.zip")
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    assert sorted(ps.good) == ["xa_a"] and ps.verified == {"xa_a"}
    assert len(ps.notices) == 1 and "1 ô ghi chú" in ps.notices[0] and "notes.csv dòng 2, cột text" in ps.notices[0]
    assert ps.good["xa_a"].table("notes")["text"].tolist() == ['\'=HYPERLINK("http://x/","Bấm")']


def test_without_keys_nothing_is_rolled_up_unless_allowed_and_then_it_says_so(clean, tmp_path):
    from kpi.province.targets import ProvincePlan

    with pytest.raises(Exception) as err:
        pk.collect(clean, PLAN, None, ProvincePlan())
    assert "tỉnh chưa có khóa công khai của xã nào" in str(err.value) and "--allow-unsigned" in str(err.value)
    ps = pk.collect(clean, PLAN, None, ProvincePlan(), allow_unsigned=True)
    assert sorted(ps.good) == COMMUNES and ps.verified == set() and ps.unverified == COMMUNES
    from kpi.core.files import write_atomic
    from kpi.report.province_trust import trust_note, trust_section
    from kpi.province.packages import NOTE as PACKAGES_NOTE, package_note

    write_atomic(tmp_path / "r" / PACKAGES_NOTE, json.dumps(package_note(ps), ensure_ascii=False))
    page1 = trust_note(tmp_path / "r").data
    assert "SỐ LIỆU CHƯA ĐƯỢC XÁC MINH:" in page1 and "3/3 xã (xa_a, xa_b, xa_c)" in page1
    assert trust_section(tmp_path / "r").data.count("CHƯA XÁC MINH") == 3


def test_allow_unsigned_still_checks_a_commune_whose_key_the_province_holds(made, pplan, tmp_path):
    a = files_of(made["xa_a"])
    box = tmp_path / "box"
    zip_package(signed(edited(a, "history.csv", b"150.0", b"250.0"), stranger()), (box.mkdir() or box) / "a.zip")
    ps = pk.collect(box, PLAN, PERIOD, pplan, allow_unsigned=True)
    assert ps.good == {} and "ký bằng khóa khác" in ps.problems[0]


def test_the_province_plan_refuses_a_bad_or_shared_key(tmp_path):
    from kpi.core.errors import PlanError

    key = signing.public_text(bytes(32))
    f = tmp_path / "tinh.yml"
    f.write_text(yaml.safe_dump({"communes": [{"id": "xa_a", "key": key}, {"id": "xa_b", "key": key},
                                              {"id": "xa_c", "key": "ed25519:abc"}, "xa_a"]}), encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load_province_plan(f, PLAN)
    text = str(err.value)
    assert "3 lỗi" in text and "xã xa_b và xã xa_a có cùng một khóa" in text
    assert "xã xa_c: khóa công khai 'ed25519:abc' không đúng" in text and "xã xa_a ghi hai lần" in text


def test_other_shapes_are_refused_by_name(made, pplan, tmp_path):
    """A descriptor nested deeper than Python's stack, a zip with two members of one name, a signed table of
    100 000 columns (pandas would make one object per column)."""
    a = files_of(made["xa_a"])
    box = tmp_path / "box"
    box.mkdir()
    zip_package({**a, "datapackage.json": b"[" * 200_000}, box / "deep.zip")
    with pytest.warns(UserWarning, match="Duplicate name"):  # zipfile warns the one who writes it, not who reads
        zip_package(a, box / "twice.zip", [(zipfile.ZipInfo(PREFIX + "history.csv"), b"indicator\n")])
    wide = signed(edited(a, "notes.csv", a["notes.csv"], b"," * 100_000 + b"\n"), signing.load_key("xa_a"))
    zip_package(wide, box / "wide.zip")
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    said = {n: [p for p in ps.problems if n in p] for n in ("deep.zip", "twice.zip", "wide.zip")}
    assert ps.good == {} and all(len(v) == 1 for v in said.values()), said
    assert "datapackage.json không đọc được" in said["deep.zip"][0]
    assert f"mục '{PREFIX}history.csv' có hai lần" in said["twice.zip"][0]
    assert "bảng notes" in said["wide.zip"][0] and "100001 cột" in said["wide.zip"][0]


def test_another_plan_year_signed_by_the_commune_is_named(made, pplan, tmp_path):
    a = files_of(made["xa_a"])
    d = json.loads(a["datapackage.json"])
    d["kpi"]["plan_year"] = 2025
    box = tmp_path / "box"
    zip_package(signed({**a, "datapackage.json": json.dumps(d).encode()}, signing.load_key("xa_a")),
                (box.mkdir() or box) / "a.zip")
    ps = pk.collect(box, PLAN, PERIOD, pplan)
    assert ps.good == {} and "theo kế hoạch năm 2025, không phải năm 2026" in ps.problems[0]


def test_a_resource_path_leaving_the_package_is_named_not_read(made, pplan, tmp_path):
    """A signed descriptor (the commune's own key) whose history resource points at ../../secret.csv."""
    (tmp_path / "secret.csv").write_text("indicator,month\n1,1\n", encoding="utf-8")
    a = files_of(made["xa_a"])
    d = json.loads(a["datapackage.json"])
    next(r for r in d["resources"] if r["name"] == "history")["path"] = "../../secret.csv"
    box = tmp_path / "box" / "deep"
    box.mkdir(parents=True)
    for name, body in signed({**a, "datapackage.json": json.dumps(d).encode()}, signing.load_key("xa_a")).items():
        (box / name).write_bytes(body)
    ps = pk.collect(tmp_path / "box", PLAN, PERIOD, pplan)
    assert ps.good == {} and "tệp '../../secret.csv' ghi trong datapackage.json có '..'" in ps.problems[0]

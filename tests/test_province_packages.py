"""The province from the communes' data packages (kpi/province/packages.py) equals the province from their raw
data, byte for byte; bad packages are named and the rest rolled up; province targets worked out by hand."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpi import province
from kpi.core import signing
from kpi.province import packages as pk
from kpi.province.targets import load_province_plan
from kpi.run.province_batch import write_tables
from tests.test_package import PLAN, make_package

FIXTURE = Path(__file__).parent / "fixtures" / "province3"


@pytest.fixture(scope="module")
def province_root(tmp_path_factory) -> Path:
    """Four communes of 2, 1, 2 and 3 villages; xa_d's units sent nothing at all."""
    root = tmp_path_factory.mktemp("prov") / "data"
    shutil.copytree(FIXTURE, root)
    (root / "xa_d" / "submissions").mkdir(parents=True)
    (root / "xa_d" / "commune.yml").write_text(
        yaml.safe_dump({"commune": "Xã D", "villages": ["Thôn 1", "Thôn 2", "Thôn 3"]}, allow_unicode=True),
        encoding="utf-8")
    return root


def signed_plan(folder: Path, communes: list[str], unkeyed: tuple[str, ...] = ()) -> Path:
    """The province plan listing each commune with the public key of the key pair it made once (`kpi keys`),
    and the communes in `unkeyed` without a key."""
    entries = []
    for cid in communes:
        pair = signing.load_key(cid) or signing.make_key(cid, cid)[0]
        entries.append({"id": cid, "key": signing.public_text(pair.public)})
    entries += [{"id": cid} for cid in unkeyed]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tinh.yml").write_text(yaml.safe_dump({"communes": entries}), encoding="utf-8")
    return folder / "tinh.yml"


@pytest.fixture(scope="module")
def pplan_file(tmp_path_factory) -> Path:
    return signed_plan(tmp_path_factory.mktemp("tinh"), ["xa_a", "xa_b", "xa_c", "xa_d"])


@pytest.fixture(scope="module")
def pplan(pplan_file):
    return load_province_plan(pplan_file, PLAN)


@pytest.fixture(scope="module")
def inbox(province_root, tmp_path_factory, pplan) -> Path:
    """Each commune's package for February, signed with the commune's key, as the province receives them."""
    box = tmp_path_factory.mktemp("inbox")
    for d in sorted(p for p in province_root.iterdir() if p.is_dir()):
        shutil.copytree(make_package(d, box.parent / "communes_out", "2026-02"), box / d.name)
    return box


def _tables(rep, folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    write_tables(rep, folder)
    return {n: (folder / n).read_bytes() for n in ("province_scorecard.csv", "communes.csv")}


def test_from_packages_equals_from_raw_data_byte_for_byte(province_root, inbox, pplan, tmp_path):
    raw = province.province_report(province.load_province(province_root, PLAN), PLAN, "2026-02")
    ps = pk.collect(inbox, PLAN, "2026-02", pplan)
    assert ps.problems == [] and sorted(ps.good) == ["xa_a", "xa_b", "xa_c", "xa_d"]
    assert ps.verified == {"xa_a", "xa_b", "xa_c", "xa_d"} and ps.unverified == []
    from_packages = pk.report_from_packages(ps, PLAN)
    assert _tables(raw, tmp_path / "raw") == _tables(from_packages, tmp_path / "packages")
    # and by hand: indicator 1 = (150 + 90 + 30) / (300 + 100 + 300), xa_d has no value, 3 communes reported
    p = from_packages.scorecard.set_index("indicator")
    assert p.loc["1", "value"] == pytest.approx(100 * 270 / 700) and p.loc["1", "communes_reported"] == 3
    assert p.loc["1", "communes_expected"] == 4
    nr = from_packages.not_reported.set_index("commune")
    assert nr.loc["xa_d", "missing"] == 4 and nr.loc["xa_c", "missing_units"] == "kt, ttpvhcc"


def test_zips_are_read_like_folders(inbox, pplan, tmp_path):
    box = tmp_path / "zips"
    box.mkdir()
    for d in inbox.iterdir():
        shutil.make_archive(str(box / d.name), "zip", root_dir=d.parent, base_dir=d.name)
    ps = pk.collect(box, PLAN, pplan=pplan)  # the period: the latest the packages are of
    assert ps.period == "2026-02" and sorted(ps.good) == ["xa_a", "xa_b", "xa_c", "xa_d"]


def test_each_bad_package_is_named_and_the_rest_rolled_up(province_root, inbox, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(inbox, box)
    shutil.rmtree(box / "xa_a")  # xa_a sent January's package instead of February's
    shutil.copytree(make_package(province_root / "xa_a", tmp_path / "o", "2026-01"), box / "xa_a_jan")
    card = box / "xa_b" / "scorecard.csv"  # xa_b's scorecard changed after the commune made the package
    card.write_bytes(card.read_bytes().replace(b"90.0", b"99.0"))
    shutil.copytree(box / "xa_c", box / "xa_c_again")  # xa_c's package twice: counted once
    pplan_file = signed_plan(tmp_path, ["xa_a", "xa_b", "xa_c", "xa_d"], unkeyed=("xa_e",))
    ps = pk.collect(box, PLAN, "2026-02", load_province_plan(pplan_file, PLAN))
    text = "\n".join(ps.problems)
    assert "xa_a_jan" in text and "kỳ 2026-01, không phải kỳ 2026-02" in text
    assert "xa_b" in text and "không khớp mã sha256" in text
    assert "xa_c_again" in "\n".join(ps.notices) and "bản sao giống hệt" in "\n".join(ps.notices)
    assert "Xã mã xa_e" in text and "chưa có gói" in text
    assert "xã Xã" not in text and "Xã Xã" not in text
    assert sorted(ps.good) == ["xa_c", "xa_d"] and ps.missing == ["xa_a", "xa_b", "xa_e"]
    rep = pk.report_from_packages(ps, PLAN)
    assert sorted(rep.communes["commune"].unique()) == ["xa_a", "xa_b", "xa_c", "xa_d", "xa_e"]
    assert rep.scorecard["communes_expected"].iloc[0] == 5


def test_province_count_target_is_the_sum_over_reporting_communes(inbox, pplan_file, pplan, tmp_path):
    rep = pk.report_from_packages(pk.collect(inbox, PLAN, "2026-02", pplan), PLAN)
    p = rep.scorecard.set_index("indicator")
    # indicator 7: xa_a 1 + 0, xa_b 2 applications = 3; xa_c and xa_d sent no kt file: 2 communes × 2 = 4
    assert p.loc["7", "value"] == 3 and p.loc["7", "communes_reported"] == 2
    assert p.loc["7", "target"] == 4 and p.loc["7", "target_rule"] == "sum_of_communes"
    assert p.loc["7", "status"] != "achieved"  # 3 < 4 (one commune's 2 would have said 'Đạt')
    assert p.loc["7", "target_text"] == "≥ 4 (tổng chỉ tiêu của các xã có số liệu)"
    assert p.loc["14", "target"] == 65 and p.loc["14", "target_rule"] == "commune_target"
    assert p.loc["6", "target_rule"] == "encouraged" and pd.isna(p.loc["6", "target"])
    raw = yaml.safe_load(pplan_file.read_text(encoding="utf-8"))
    (tmp_path / "tinh.yml").write_text(yaml.safe_dump({**raw, "targets": {"7": 3, "1": 40}}), encoding="utf-8")
    with_targets = load_province_plan(tmp_path / "tinh.yml", PLAN)
    rep = pk.report_from_packages(pk.collect(inbox, PLAN, "2026-02", with_targets), PLAN, with_targets)
    p = rep.scorecard.set_index("indicator")
    assert (p.loc["7", "target"], p.loc["7", "target_rule"], p.loc["7", "status"]) == (3, "province_plan", "achieved")
    assert p.loc["1", "target"] == 40 and p.loc["1", "status"] == "behind"  # 270/700 = 38.6 % < 40 %


def test_a_bad_province_plan_is_refused_with_every_problem(tmp_path):
    from kpi.core.errors import PlanError

    bad = tmp_path / "tinh.yml"
    bad.write_text(yaml.safe_dump({"targets": {"99": 3, "7": "nhiều"}, "communes": "xa_a"}), encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load_province_plan(bad, PLAN)
    assert "3 lỗi" in str(err.value) and "'99'" in str(err.value) and "'nhiều'" in str(err.value)


def test_kpi_scorecard_packages_prints_the_province_and_names_bad_ones(inbox, pplan_file, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(inbox, box)
    (box / "xa_d" / "history.csv").write_text("hỏng", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--packages", str(box), "--format", "json",
                           "--province-plan", str(pplan_file)],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["period"] == "2026-02"
    by_id = {r["indicator"]: r for r in out["indicators"]}
    assert by_id["7"]["value"] == 3 and by_id["7"]["target"] == 4
    assert "xa_d" in proc.stderr and "sha256" in proc.stderr


@pytest.mark.slow
def test_kpi_run_packages_makes_the_province_report_and_names_bad_ones(province_root, inbox, pplan_file, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(inbox, box)
    # xa_b sent two different packages that both say revision 1 (made again a day later in another folder)
    shutil.copytree(make_package(province_root / "xa_b", tmp_path / "again", "2026-02", "2026-03-07"),
                    box / "xa_b_lan2")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "kpi", "run", "--packages", str(box), "--out", str(out),
                           "--format", "html", "--province-plan", str(pplan_file)],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Xã B (xa_b) có 2 gói" in proc.stderr and "Traceback" not in proc.stderr
    folder = out / "province" / "2026-02"
    assert {"province.html", "province_scorecard.csv", "communes.csv", "index.html"} <= {p.name for p in folder.iterdir()}
    html = (folder / "province.html").read_text(encoding="utf-8")
    assert "Các gói số liệu của xã" in html and "Xã B (xa_b) có 2 gói" in html
    assert "≥ 4 (tổng chỉ tiêu của các xã có số liệu)" not in html  # xa_b set aside: only xa_a reported 7
    assert "≥ 2 (tổng chỉ tiêu của các xã có số liệu)" in html
    assert "Đã xác minh:</strong> số liệu của cả 3 xã" in html  # page 1: xa_a, xa_c, xa_d, each signed
    assert "SỐ LIỆU CHƯA ĐƯỢC XÁC MINH" not in html
    fp = signing.fingerprint(signing.load_key("xa_a").public)
    assert "Xác minh người gửi gói số liệu" in html and f"<td class=\"fp\">{fp}</td>" in html


def test_a_package_that_is_not_one_is_named_not_a_traceback(inbox, pplan, tmp_path):
    box = tmp_path / "box"
    shutil.copytree(inbox, box)
    (box / "xa_a" / "datapackage.json").write_text("[1, 2]", encoding="utf-8")  # JSON, but no package
    (box / "rac.zip").write_bytes(b"not a zip")
    ps = pk.collect(box, PLAN, "2026-02", pplan)
    text = "\n".join(ps.problems)
    assert "xa_a" in text and "rac.zip" in text and "không đọc được gói số liệu" in text
    assert sorted(ps.good) == ["xa_b", "xa_c", "xa_d"]

"""The commune's data package (docs/rules.md §8, kpi/outputs/package.py): a valid Frictionless package whose numbers are
the commune's own, worked out by hand on tests/fixtures/province3/xa_a."""

from __future__ import annotations

import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from frictionless import validate

from kpi import province
from kpi.core import paths
from kpi.indicators import compute
from kpi.intake.validate import load_submissions
from kpi.outputs.package import write_package
from kpi.outputs.publish import write_zip
from kpi.plan import load_plan

PLAN = load_plan()
ROOT = Path(__file__).parent / "fixtures" / "province3"


def make_package(commune_dir: Path, out_root: Path, period: str, made_on: str = "2026-03-06") -> Path:
    """What a commune's `kpi run` writes for P, without the notebooks: <out_root>/<commune>/<P>/package/."""
    cplan = province.commune_plan(PLAN, commune_dir)
    subs = load_submissions(commune_dir, cplan)
    card = compute.scorecard(subs.data, cplan, period)
    out = out_root / commune_dir.name / period
    return write_package(cplan, subs, period, card, out, commune_dir, paths.PLAN_FILE, made_on)


@pytest.fixture
def package(tmp_path) -> Path:
    return make_package(ROOT / "xa_a", tmp_path / "out", "2026-02")


def test_frictionless_finds_the_package_valid(package):
    report = validate(str(package / "datapackage.json"))
    assert report.valid, report.flatten(["type", "note"])


def test_descriptor_names_commune_plan_period_and_each_resource_hash(package):
    d = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    assert d["profile"] == "tabular-data-package"
    assert [r["name"] for r in d["resources"]] == ["scorecard", "villages", "timeliness", "notes", "revisions",
                                                    "history"]
    k = d["kpi"]
    assert (k["commune"], k["commune_id"], k["plan_year"], k["period"], k["revision"]) == ("Xã A", "xa_a", 2026,
                                                                                           "2026-02", 1)
    assert k["plan_sha256"] == hashlib.sha256(paths.PLAN_FILE.read_bytes()).hexdigest()
    assert k["made_on"] == "2026-03-06" and k["kit_version"]
    for r in d["resources"]:
        assert r["hash"] == "sha256:" + hashlib.sha256((package / r["path"]).read_bytes()).hexdigest()
        assert r["schema"]["fields"][0]["name"] in ("indicator", "unit", "period")


def test_the_numbers_are_the_communes_by_hand(package):
    card = (package / "scorecard.csv").read_text(encoding="utf-8").splitlines()
    assert card[0] == "indicator,value,numerator,denominator,target,status,villages_reported,villages_expected,month_value"
    rows = {line.split(",")[0]: line.split(",") for line in card[1:]}
    # indicator 1 in February: (50 + 100) / (100 + 200) = 50 %, both villages
    assert rows["1"][1:4] == ["50.0", "150.0", "300.0"] and rows["1"][6:8] == ["2", "2"]
    # indicator 10, flows January + February: (5 + 9) / (10 + 10) = 70 %; indicator 7: 1 + 0 applications
    assert rows["10"][1:4] == ["70.0", "14.0", "20.0"]
    assert rows["7"][1:4] == ["1.0", "1.0", ""] and rows["7"][4] == "2.0"
    villages = (package / "villages.csv").read_text(encoding="utf-8").splitlines()
    assert "1,Thôn Đông,50.0,100.0,50.0" in villages and "1,Thôn Tây,100.0,200.0,50.0" in villages
    history = (package / "history.csv").read_text(encoding="utf-8").splitlines()
    # indicator 1 in January: (40 + 80) / 300 = 40 %
    assert "1,1,120.0,300.0,40.0,2,2" in history and "1,2,150.0,300.0,50.0,2,2" in history
    timeliness = (package / "timeliness.csv").read_text(encoding="utf-8").splitlines()
    assert "vhxh,on_time,2026-03-05,0" in timeliness  # sent 5 March, due 10 March


def test_a_changed_resource_no_longer_matches_its_hash(package):
    path = package / "scorecard.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("50.0,150.0", "90.0,150.0"), encoding="utf-8")
    report = validate(str(package / "datapackage.json"))
    assert not report.valid
    assert "hash-count" in {row[0] for row in report.flatten(["type"])}


def test_the_zip_carries_the_package(tmp_path):
    out = tmp_path / "out"
    pkg = make_package(ROOT / "xa_b", out, "2026-02")
    (pkg.parent / "commune.html").write_text("<html></html>", encoding="utf-8")
    with zipfile.ZipFile(write_zip(pkg.parent, "2026-02")) as zf:
        names = set(zf.namelist())
    assert {"bao-cao-2026-02/commune.html", "bao-cao-2026-02/package/datapackage.json",
            "bao-cao-2026-02/package/history.csv", "bao-cao-2026-02/package/revisions.csv"} <= names


def test_a_copy_of_the_data_folder_elsewhere_is_the_same_commune(tmp_path):
    shutil.copytree(ROOT / "xa_c", tmp_path / "xa_c")
    pkg = make_package(tmp_path / "xa_c", tmp_path / "out", "2026-02")
    assert json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))["kpi"]["commune_id"] == "xa_c"


def test_a_commune_folder_with_commune_yml_is_read_with_its_own_villages():
    """`kpi scorecard --data <commune folder>` (as each commune of a province runs the kit alone): commune.yml
    gives the commune's villages, so Thôn Đông and Thôn Tây count: indicator 1 = 150 / 300 = 50 %."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "kpi", "scorecard", "--data", str(ROOT / "xa_a"), "--period",
                           "2026-02", "--format", "json"], capture_output=True, text=True, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    by_id = {r["indicator"]: r for r in json.loads(proc.stdout)["indicators"]}
    assert by_id["1"]["value"] == 50 and by_id["1"]["villages_expected"] == 2

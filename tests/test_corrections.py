"""Published values and corrections (kpi/outputs/published.py): a value a later run changes for a month already
published is listed with its old and new value, the package carries a revision number, nothing is deleted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kpi.outputs import published
from kpi.report import corrections
from tests.test_package import PLAN, make_package

FIXTURE = Path(__file__).parent / "fixtures" / "province3" / "xa_a"


@pytest.fixture
def commune(tmp_path) -> Path:
    d = tmp_path / "xa_a"
    shutil.copytree(FIXTURE, d)
    return d


def _kpi(pkg: Path) -> dict:
    return json.loads((pkg / "datapackage.json").read_text(encoding="utf-8"))["kpi"]


def _correct_january(commune: Path) -> None:
    """Phòng VHXH re-sends January on 8 March: Thôn Đông had 60 people under 4G/5G, not 40."""
    (commune / "submissions" / "2026-01" / "vhxh_sua.csv").write_text(
        "period,unit,village,element,value,submitted_on\n"
        "2026-01,vhxh,Thôn Đông,pop_4g5g,60,2026-03-08\n"
        "2026-01,vhxh,Thôn Tây,pop_4g5g,80,2026-03-08\n", encoding="utf-8")


def test_a_correction_of_an_earlier_month_is_listed_with_old_and_new_value(commune, tmp_path):
    out = tmp_path / "out"
    jan = make_package(commune, out, "2026-01", made_on="2026-02-06")
    assert _kpi(jan)["revision"] == 1
    _correct_january(commune)
    feb = make_package(commune, out, "2026-02", made_on="2026-03-09")
    # indicator 1 in January was (40 + 80) / (100 + 200) = 40 %; now (60 + 80) / 300 = 46.67 %
    rows = (feb / "revisions.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "period,indicator,old_value,new_value,file,submitted_on"
    assert rows[1:] == ["2026-01,1,40.0,46.666666667,2026-01/vhxh_sua.csv,2026-03-08"]
    assert _kpi(feb)["revision"] == 1  # February's first publication
    text = corrections.lines(PLAN, corrections.read(feb.parent))
    assert text == ["Số liệu tháng 1 đã điều chỉnh: 1. Phủ sóng 4G/5G 40,0 % → 46,7 % "
                    "(tệp 2026-01/vhxh_sua.csv, gửi ngày 08/03/2026)."]
    # nothing published is deleted: January's record keeps both publications
    pubs = published.read_record(out / "xa_a", "2026-01")["publications"]
    assert [p["values"]["1"] for p in pubs] == [40.0, 46.666666667]
    assert pubs[1]["noted_in"] == "2026-02"


def test_a_rerun_that_changes_nothing_keeps_the_revision_and_the_list(commune, tmp_path):
    out = tmp_path / "out"
    make_package(commune, out, "2026-01")
    _correct_january(commune)
    make_package(commune, out, "2026-02")
    again = make_package(commune, out, "2026-02")
    assert _kpi(again)["revision"] == 1
    assert len((again / "revisions.csv").read_text(encoding="utf-8").splitlines()) == 2  # still listed
    assert len(published.read_record(out / "xa_a", "2026-02")["publications"]) == 1


def test_a_changed_value_of_the_month_itself_raises_its_revision(commune, tmp_path):
    out = tmp_path / "out"
    first = make_package(commune, out, "2026-02")
    assert _kpi(first)["revision"] == 1
    # Phòng Kinh tế re-sends February: 2 applications, not 0; indicator 7 year to date 1 + 0 = 1 -> 1 + 2 = 3
    (commune / "submissions" / "2026-02" / "kt_sua.csv").write_text(
        "period,unit,village,element,value,submitted_on\n2026-02,kt,,ip_applications_new,2,2026-03-12\n",
        encoding="utf-8")
    second = make_package(commune, out, "2026-02")
    assert _kpi(second)["revision"] == 2
    rows = (second / "revisions.csv").read_text(encoding="utf-8").splitlines()
    assert rows[1:] == ["2026-02,7,1.0,3.0,2026-02/kt_sua.csv,2026-03-12"]
    assert corrections.lines(PLAN, corrections.read(second.parent)) == [
        "Số liệu tháng 2 đã điều chỉnh: 7. Đơn đăng ký sở hữu trí tuệ 1 → 3 (tệp 2026-02/kt_sua.csv, gửi ngày "
        "12/03/2026)."]
    assert [p["revision"] for p in published.read_record(out / "xa_a", "2026-02")["publications"]] == [1, 2]


def test_the_province_report_lists_a_communes_correction(commune, tmp_path):
    import shutil as sh

    from kpi.core.files import write_atomic
    from kpi.province import packages as pk
    from kpi.report import province_views as pv
    from kpi.province.packages import NOTE as PACKAGES_NOTE, package_note

    out = tmp_path / "out"
    make_package(commune, out, "2026-01")
    _correct_january(commune)
    feb = make_package(commune, out, "2026-02")
    box = tmp_path / "box"
    sh.copytree(feb, box / "xa_a")
    note = package_note(pk.collect(box, PLAN, "2026-02", allow_unsigned=True))
    write_atomic(tmp_path / "results" / PACKAGES_NOTE, json.dumps(note, ensure_ascii=False))
    html = pv.packages_section(tmp_path / "results", PLAN).data
    assert "Xã A: tháng 1, chỉ tiêu 1 40,0% → 46,7% (tệp 2026-01/vhxh_sua.csv, gửi ngày 08/03/2026)" in html

"""kpi init (a second commune's plan), plans of several years side by side, demo data for any villages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from kpi.cli import main
from kpi.plan import load_plan

VILLAGES = ["Xóm Đông", "Xóm Tây", "Xóm Nam", "Xóm Bắc", "Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 3",
            "Thôn Trung", "Thôn Hạ", "Thôn Thượng", "Xóm Mới", "Xóm Chợ"]
HEADER = "period,unit,village,element,value,submitted_on\n"


def init(folder: Path, *extra: str) -> int:
    return main(["init", "--data", str(folder), "--year", "2027", "--commune", "Hải Bình", "--villages",
                 "; ".join(VILLAGES), "--not-assigned", "7", "--target", "1=40", "--deadline", "1=30/06/2027",
                 "--officer", "vhxh=Nguyễn Thị Lan,0912345678", "--signer", "Lê Văn Bình, Phó Chủ tịch UBND xã",
                 *extra])


def test_init_from_flags(tmp_path, capsys):
    assert init(tmp_path / "xa") == 0
    plan = load_plan(tmp_path / "xa" / "plan_2027.yml")
    assert (plan.commune, plan.year) == ("Hải Bình", 2027)
    assert plan.village_names == VILLAGES
    assert [v.code for v in plan.villages][:5] == ["xom_dong", "xom_tay", "xom_nam", "xom_bac", "to_dan_pho_1"]
    # the sample plan: 16 groups (3 has parts 3a-3d), 19 measured; indicator 7 left out of both
    assert (plan.group_count, plan.measure_count) == (15, 18)
    assert [i.id for i in plan.not_assigned] == ["7"]
    one = plan.indicator("1")
    assert (one.target, one.target_text, one.deadline) == (40, "40%", dt.date(2027, 6, 30))
    assert plan.indicator("2").deadline == dt.date(2027, 5, 30)  # 2026-05-30 moved to the new year
    assert plan.unit("vhxh").officers == ({"name": "Nguyễn Thị Lan", "phone": "0912345678"},)
    assert plan.signed_by == "Lê Văn Bình, Phó Chủ tịch UBND xã"
    assert (tmp_path / "xa" / "submissions").is_dir()
    assert "15 chỉ tiêu (18 chỉ số đo); không giao: 7" in capsys.readouterr().out


def test_init_refuses_a_bad_target_and_writes_nothing(tmp_path, capsys):
    assert init(tmp_path / "xa", "--target", "5=mười") != 0
    err = capsys.readouterr().err
    assert "Chỉ tiêu 5: chỉ tiêu giao 'mười' không phải một số" in err
    assert not (tmp_path / "xa" / "plan_2027.yml").exists()


def test_init_does_not_overwrite_without_force(tmp_path, capsys):
    assert init(tmp_path / "xa") == 0
    assert init(tmp_path / "xa") == 2
    assert "--force" in capsys.readouterr().err


def test_init_from_a_filled_sheet(tmp_path):
    form = tmp_path / "ke-hoach.xlsx"
    assert main(["init", "--data", str(tmp_path / "xa"), "--sheet-form", str(form)]) == 0
    wb = openpyxl.load_workbook(form)
    wb["Xã"]["B2"] = "Hải Bình"
    wb["Xã"]["B4"] = 2027
    for name in VILLAGES[:3]:
        wb["Thôn"].append([name])
    ws = wb["Chỉ tiêu"]
    ids = [ws.cell(r, 1).value for r in range(2, ws.max_row + 1)]
    ws.cell(ids.index("7") + 2, 3).value = "không"
    ws.cell(ids.index("13") + 2, 4).value = "55"
    wb.save(form)
    assert main(["init", "--data", str(tmp_path / "xa"), "--sheet", str(form)]) == 0
    plan = load_plan(tmp_path / "xa" / "plan_2027.yml")
    assert plan.village_names == VILLAGES[:3]
    assert plan.indicator("13").target == 55 and plan.indicator("13").deadline == dt.date(2027, 10, 30)
    assert [i.id for i in plan.not_assigned] == ["7"]


def test_demo_data_for_villages_not_named_thon_n(tmp_path):
    assert init(tmp_path / "xa") == 0
    assert main(["demo-data", "--out", str(tmp_path / "xa")]) == 0
    jan = pd.read_csv(tmp_path / "xa" / "submissions" / "2027-01" / "ttpvhcc.csv", encoding="utf-8-sig")
    assert set(jan["submitted_on"]) == {"05/02/2027"}  # the plan's year, not 2026
    nov = pd.read_csv(tmp_path / "xa" / "submissions" / "2027-11" / "ca.csv", encoding="utf-8-sig")
    assert "xóm đông" not in set(nov["Thôn"])  # village 7 is 'Tổ dân phố 3', typed 'tổ dân phố 03'
    assert "tổ dân phố 03" in set(nov["Thôn"])


def test_demo_data_failure_leaves_nothing(tmp_path, monkeypatch):
    import kpi.demo as demo

    assert init(tmp_path / "xa") == 0
    calls = []

    def fail(*args):
        calls.append(args)
        if len(calls) > 3:
            raise OSError(28, "No space left on device")
        return real(*args)

    real = demo._write_template
    monkeypatch.setattr(demo, "_write_template", fail)
    with pytest.raises(OSError):
        demo.write_demo(tmp_path / "xa", load_plan(tmp_path / "xa" / "plan_2027.yml"))
    assert sorted(p.name for p in (tmp_path / "xa").iterdir()) == ["plan_2027.yml", "submissions"]
    assert not any((tmp_path / "xa" / "submissions").iterdir())


def _two_years(root: Path) -> Path:
    """March 2026 and January 2027 files of the sample commune: each valid under its own year's plan."""
    for period, sent in (("2026-03", "2026-04-03"), ("2027-01", "2027-02-03")):
        folder = root / "submissions" / period
        folder.mkdir(parents=True)
        (folder / "ca.csv").write_text(HEADER + f"{period},ca,Thôn 1,pop_total,200,{sent}\n", encoding="utf-8")
    return root


def test_validate_a_folder_spanning_two_years(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KPI_TODAY", "2027-03-01")
    monkeypatch.delenv("KPI_PLAN", raising=False)
    data = _two_years(tmp_path / "data")
    assert main(["validate", "--data", str(data)]) == 0
    out = capsys.readouterr().out
    assert "Năm 2026, theo kế hoạch" in out and "plan_2026.yml" in out and "plan_2027.yml" in out
    assert "Kết quả: 0 lỗi" in out
    # December's or January's month alone goes to its own year's plan
    assert main(["validate", "--data", str(data), "--period", "2026-03"]) == 0
    assert main(["validate", "--data", str(data), "--period", "2027-01"]) == 0


def test_a_named_plan_refuses_another_years_period_with_the_way_out(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("KPI_PLAN", raising=False)
    data = _two_years(tmp_path / "data")
    from kpi.core import paths

    code = main(["--plan", str(paths.PARAMS_DIR / "plan_2027.yml"), "validate", "--data", str(data),
                 "--period", "2026-03"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Kỳ báo cáo '2026-03' thuộc năm 2026" in err and "plan_2026.yml" in err


def test_plan_errors_name_the_real_file(tmp_path):
    from kpi.core.errors import PlanError

    bad = tmp_path / "plan_2027.yml"
    bad.write_text("commune: X\nyear: 2027\n", encoding="utf-8")
    with pytest.raises(PlanError) as err:
        load_plan(bad)
    assert str(bad) in str(err.value) and "params/plan.yml" not in str(err.value)


def test_last_years_final_value_beside_a_continuing_indicator(tmp_path, monkeypatch):
    """Indicator 1 in 2026 (latest month March): 120 / 200 = 60 %; in January 2027: 50 / 200 = 25 %. With a 2027
    plan whose indicator 1 divides by another element, it no longer continues and last year's value is not shown."""
    from kpi.core import paths
    from kpi.indicators import compute
    from kpi.intake.validate import load_submissions
    from kpi.report import last_year_values

    monkeypatch.setenv("KPI_TODAY", "2027-03-01")
    data = tmp_path / "data"
    for period, sent, covered in (("2026-03", "2026-04-03", 120), ("2027-01", "2027-02-03", 50)):
        folder = data / "submissions" / period
        folder.mkdir(parents=True)
        (folder / "ca.csv").write_text(HEADER + f"{period},ca,Thôn 1,pop_total,200,{sent}\n", encoding="utf-8")
        (folder / "vhxh.csv").write_text(HEADER + f"{period},vhxh,Thôn 1,pop_4g5g,{covered},{sent}\n",
                                         encoding="utf-8")
    plan = load_plan(paths.PARAMS_DIR / "plan_2027.yml")
    last = last_year_values(plan, data).set_index("indicator")
    assert last.at["1", "value"] == pytest.approx(60.0) and last.at["1", "period"] == "2026-03"
    now = compute.scorecard(load_submissions(data, plan).data, plan, "2027-01").set_index("indicator")
    assert now.at["1", "value"] == pytest.approx(25.0)  # the year to date starts afresh in January
    text = (paths.PARAMS_DIR / "plan_2027.yml").read_text(encoding="utf-8")
    # a folder with plans of its own uses only those (kpi.core.paths.plan_files): both years go there
    (data / "plan_2026.yml").write_text((paths.PARAMS_DIR / "plan_2026.yml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    (data / "plan_2027.yml").write_text(text.replace("    denominator: pop_total\n", "    denominator: pop_adult\n", 1),
                                        encoding="utf-8")
    changed = load_plan(data / "plan_2027.yml")
    assert "1" not in set(last_year_values(changed, data)["indicator"])
    assert "2" in set(last_year_values(changed, data)["indicator"])


def test_page_one_counts_come_from_the_plan(tmp_path, monkeypatch):
    """The second commune: 16 groups less indicator 7 = 15, 19 measured less one = 18; January says so."""
    from kpi import report
    from kpi.report import views

    monkeypatch.setenv("KPI_TODAY", "2027-03-01")
    assert init(tmp_path / "xa") == 0
    r = report.build("2027-01", "commune", tmp_path / "xa", tmp_path / "xa" / "plan_2027.yml", made_on="2027-02-11")
    page = views.summary(r).data
    assert "15 chỉ tiêu của kế hoạch" in page and "18 chỉ số đo" in page
    assert "16 chỉ tiêu" not in page and "19 chỉ số" not in page
    assert "Không giao cho xã: 7. Đơn đăng ký sở hữu trí tuệ." in page
    assert "Tháng 1: lũy kế năm 2027 bắt đầu lại" in page
    # every unit missing, so all 15 plan indicators are counted under one status or another
    assert sum(compute_counts(r)) == 15


def compute_counts(r) -> list[int]:
    from kpi.indicators import compute

    return [int(n) for n in compute.status_counts(r.card)["plan"]]


def test_init_asks_in_vietnamese(tmp_path, monkeypatch, capsys):
    """Answers typed at the prompts: Enter keeps the suggestion; indicator 7 not assigned; indicator 1 at 45."""
    import builtins
    import sys

    from kpi.core import paths

    ids = [i.id for i in load_plan(paths.PARAMS_DIR / "plan_2027.yml").indicators]
    answers = ["Hải Bình", "", "2027", "Xóm Đông", "Tổ dân phố 3", ""]
    for i in ids:
        answers += ["k"] if i == "7" else ["", "45" if i == "1" else "", ""]
    answers += ["Nguyễn Thị Lan", "0912345678", "", "", "", ""]  # VHXH's officer; the other units left empty
    asked: list[str] = []

    def typed(prompt: str = "") -> str:
        asked.append(prompt)
        return answers.pop(0)

    monkeypatch.setattr(builtins, "input", typed)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    assert main(["init", "--data", str(tmp_path / "xa")]) == 0
    plan = load_plan(tmp_path / "xa" / "plan_2027.yml")
    assert plan.village_names == ["Xóm Đông", "Tổ dân phố 3"]
    assert [i.id for i in plan.not_assigned] == ["7"]
    assert plan.indicator("1").target == 45 and plan.indicator("2").target == 100
    assert plan.indicator("1").deadline == dt.date(2027, 6, 20)
    assert plan.unit("vhxh").officers[0]["name"] == "Nguyễn Thị Lan"
    assert asked[0] == "Tên xã (không ghi chữ 'xã'): " and "Chỉ tiêu 7 (" in "".join(asked)
    assert answers == []


def test_a_communes_folder_uses_only_its_own_plans(tmp_path, capsys, monkeypatch):
    """The second commune has a 2027 plan only: its 2026 period is refused rather than read under the sample
    commune's params/plan_2026.yml."""
    monkeypatch.delenv("KPI_PLAN", raising=False)
    assert init(tmp_path / "xa") == 0
    capsys.readouterr()
    assert main(["template", "--data", str(tmp_path / "xa"), "--unit", "ca", "--period", "2026-05",
                 "--out", str(tmp_path / "a.xlsx")]) == 2
    err = capsys.readouterr().err
    assert "chưa có kế hoạch năm 2026" in err and "kpi init --data" in err and "--year 2026" in err
    assert not (tmp_path / "a.xlsx").exists()
    assert main(["template", "--data", str(tmp_path / "xa"), "--unit", "ca", "--period", "2027-05",
                 "--out", str(tmp_path / "b.xlsx")]) == 0
    book = openpyxl.load_workbook(tmp_path / "b.xlsx")
    cells = {c.value for ws in book.worksheets for row in ws.iter_rows() for c in row}
    assert "Xóm Đông" in cells and "Thôn 1" not in cells  # the commune's own villages


def test_a_range_across_two_years_is_refused_with_the_way_out(tmp_path, capsys):
    data = _two_years(tmp_path / "data")
    assert main(["run", "--data", str(data), "--out", str(tmp_path / "out"), "--period", "2026-11..2027-01"]) == 2
    err = capsys.readouterr().err
    assert "trải qua hai năm" in err and "--period 2026-11..2026-12 rồi --period 2027-01..2027-01" in err
    assert not (tmp_path / "out").exists()

"""The plan YAML: every file under params/ passes the schema; a typo is named with its key and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kpi.core import paths
from kpi.plan import PlanError, load_plan, parse_plan


@pytest.mark.parametrize("path", sorted(paths.PARAMS_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_every_yaml_under_params_loads(path: Path):
    plan = load_plan(path)
    assert plan.year >= 2026


def test_plan_matches_the_commune_plan(plan):
    assert plan.commune == "Quảng Ngọc"
    assert [i.id for i in plan.indicators] == ["1", "2", "3a", "3b", "3c", "3d", "4", "5", "6", "7", "8", "9",
                                                "10", "11", "12", "13", "14", "15", "16"]
    assert len({i.group for i in plan.indicators}) == 16
    assert plan.unit_codes == ["vhxh", "kt", "ttpvhcc", "ca"]
    assert len(plan.villages) == 26 and plan.villages[0].name == "Thôn 1"
    assert len(plan.elements) == 29
    i16 = plan.indicator("16")
    assert (i16.target, i16.deadline, i16.lead) == (35.4, dt.date(2026, 8, 30), "vhxh")
    assert plan.indicator("11").denominator_constant == 20
    assert plan.indicator("8").deadline is None  # Thực hiện thường xuyên
    assert plan.indicator("4").encouraged and plan.indicator("6").encouraged
    assert plan.indicator("7").target == 2
    assert plan.indicator("3d").lead == "ca"
    assert "chữ ký số" in plan.indicator("16").name
    assert plan.indicator("14").tasks  # section III tasks are carried
    assert plan.report_due_day == 10


def _plan_text() -> str:
    return paths.PLAN_FILE.read_text(encoding="utf-8")


def test_a_typo_names_the_key_and_the_line():
    text = _plan_text().replace("    numerator: pop_4g5g\n", "    numerater: pop_4g5g\n", 1)
    line = text.splitlines().index("    numerater: pop_4g5g") + 1
    with pytest.raises(PlanError) as err:
        parse_plan(text, "plan.yml")
    message = str(err.value)
    assert "numerater" in message and "indicators.0" in message
    # the error points at the indicator's mapping; the typo sits a few lines below its first line
    reported = int(message.split("plan.yml:")[1].split(":")[0])
    assert 0 <= line - reported <= 8


def test_a_wrong_reference_is_refused():
    text = _plan_text().replace("    lead: kt\n", "    lead: kinhte\n", 1)
    with pytest.raises(PlanError, match="kinhte"):
        parse_plan(text, "plan.yml")


def test_a_wrong_deadline_format_is_refused():
    text = _plan_text().replace("deadline: 2026-06-20", "deadline: 20/6/2026", 1)
    with pytest.raises(PlanError, match="deadline"):
        parse_plan(text, "plan.yml")


def test_not_yaml_is_refused():
    with pytest.raises(PlanError, match="YAML"):
        parse_plan("commune: [unclosed", "plan.yml")


def _plan_text() -> str:
    return (paths.PARAMS_DIR / "plan_2026.yml").read_text(encoding="utf-8")


def test_an_impossible_date_is_named_with_its_line():
    text = _plan_text()
    line = next(n for n, ln in enumerate(text.splitlines(), start=1) if "deadline: 20" in ln)
    first = next(ln for ln in text.splitlines() if "deadline: 20" in ln)
    bad = text.replace(first, first.split("deadline:")[0] + "deadline: 2026-13-40", 1)
    with pytest.raises(PlanError) as err:
        parse_plan(bad, source="plan.yml")
    assert f"plan.yml:{line}: ngày '2026-13-40' không có thật" in str(err.value)
    assert "Tệp kế hoạch có lỗi" in str(err.value)


def test_villages_are_unique_as_the_data_matching_sees_them():
    text = _plan_text()
    # a second "Thôn 5" spelled "thôn  05" (two spaces, a leading zero, lower case): one village for the data
    bad = text.replace("name: Thôn 6}", "name: \"thôn  05\"}", 1)
    assert bad != text
    with pytest.raises(PlanError) as err:
        parse_plan(bad, source="plan.yml")
    assert "'thôn  05' có hai lần trong danh sách" in str(err.value)


ENGLISH = ("is not of type", "is a required property", "Additional properties", "is not one of", "does not match",
           "is too short", "is too long", "is not valid under", "top level", "is not declared", "needs exactly")


@pytest.mark.parametrize("old, new, where, words", [
    ("year: 2026", "year: hai nghìn", "year", "không đúng kiểu; cần một số nguyên"),
    ("commune: ", "xa: ", "(gốc tệp)", "thiếu mục bắt buộc 'commune'"),
    ("commune: ", "xa: ", "(gốc tệp)", "mục không được biết 'xa'"),
    ("level: village, time: stock}", "level: thon, time: stock}", "elements.0.level",
     "'thon' không được chấp nhận; chọn một trong: village, commune"),
    ("    lead: kt\n", "    lead: kinhte\n", "lead", "đơn vị 'kinhte' không có trong units"),
    ("    numerator: pop_4g5g\n", "    numerator: pop_5g\n", "numerator",
     "mã số liệu 'pop_5g' chưa được khai báo trong elements"),
])
def test_every_schema_error_is_said_in_vietnamese_with_its_line(old: str, new: str, where: str, words: str):
    text = _plan_text()
    assert old in text
    bad = text.replace(old, new, 1)
    line = next(n for n, ln in enumerate(bad.splitlines(), start=1) if new.strip().split(":")[0] in ln
                and new.strip() in ln) if "\n" in new or "level" in new or "year" in new else None
    with pytest.raises(PlanError) as err:
        parse_plan(bad, source="plan.yml")
    message = str(err.value)
    assert words in message and where in message
    assert not [w for w in ENGLISH if w in message]
    if line is not None:  # the line named is the line changed, or the mapping it sits in (at most 8 above)
        named = [int(x.split(":")[0]) for x in message.split("plan.yml:")[1:]]
        assert any(0 <= line - n <= 8 for n in named), (line, named)


# --- a target said once: its words follow its value -------------------------------------------------------------

def test_a_target_changed_without_its_words_is_a_located_error():
    """Indicator 1's value raised from 30 to 40 with its words left at "30%": the plan says two things, so it does
    not load; the error names the file, the key and the line of target_text, and the words that would fit."""
    text = _plan_text().replace('target: {op: ">=", value: 30}', 'target: {op: ">=", value: 40}', 1)
    line = text.splitlines().index("    target_text: 30%") + 1
    with pytest.raises(PlanError) as err:
        parse_plan(text, "plan_2026.yml")
    assert (f"plan_2026.yml:{line}: indicators.0.target_text: target_text '30%' ghi 30 nhưng target.value là 40"
            in str(err.value))
    assert "'≥ 40%'" in str(err.value)


@pytest.mark.parametrize("old, new, words", [
    ("    target_text: 35.4%\n", "    target_text: 35,4\n", "thiếu dấu %"),  # a ratio's words without %
    ("    target_text: 86%\n", "    target_text: Khuyến khích\n", "không ghi con số"),
    ("    target: encouraged\n    target_text: Khuyến khích\n", "    target: encouraged\n    target_text: 5 doanh nghiệp\n",
     "target là encouraged"),
])
def test_words_that_contradict_the_target_are_refused(old, new, words):
    text = _plan_text().replace(old, new, 1)
    assert text != _plan_text()
    with pytest.raises(PlanError, match=words):
        parse_plan(text, "plan.yml")


def test_a_target_without_words_gets_them_from_its_value():
    """target_text may be left out: the words come from the value and the operator (≥ 30% for a ratio, ≥ 2 for a
    count, Khuyến khích for an encouraged indicator). The plan's own words pass their check as written: "2-3 đơn
    đăng ký/năm" starts with the target 2, "35.4%" is 35,4 %."""
    plan = parse_plan(_plan_text())
    assert plan.indicator("7").target_text == "2-3 đơn đăng ký/năm" and plan.indicator("16").target_text == "35.4%"
    bare = "\n".join(line for line in _plan_text().splitlines() if not line.startswith("    target_text:"))
    derived = {i.id: i.target_text for i in parse_plan(bare).indicators}
    assert (derived["1"], derived["7"], derived["16"], derived["4"]) == ("≥ 30%", "≥ 2", "≥ 35,4%", "Khuyến khích")

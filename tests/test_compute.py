"""docs/rules.md §3 rule by rule, with numbers worked out by hand in each test."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi.indicators import compute
from tests.conftest import long_frame


def card_row(data, plan, period, indicator):
    card = compute.scorecard(data, plan, period)
    return card.set_index("indicator").loc[indicator]


# --- rule 2: ratio of sums --------------------------------------------------------------------------------

def test_ratio_of_sums_not_mean_of_village_ratios(plan):
    # Thôn 1: 1 of 1 covered (100%); Thôn 2: 0 of 99 (0%). Mean of ratios would be 50%;
    # ratio of sums is 100 × (1 + 0) / (1 + 99) = 1%.
    data = long_frame([
        ("2026-03", "vhxh", "Thôn 1", "pop_4g5g", 1), ("2026-03", "ca", "Thôn 1", "pop_total", 1),
        ("2026-03", "vhxh", "Thôn 2", "pop_4g5g", 0), ("2026-03", "ca", "Thôn 2", "pop_total", 99),
    ])
    row = card_row(data, plan, "2026-03", "1")
    assert row["value"] == pytest.approx(1.0)
    assert (row["numerator"], row["denominator"]) == (1, 100)
    assert (row["villages_reported"], row["villages_expected"]) == (2, 26)


def test_a_village_counts_only_with_both_numerator_and_denominator(plan):
    # Thôn 3 has a numerator but no denominator: left out. 50 / 200 = 25%.
    data = long_frame([
        ("2026-03", "vhxh", "Thôn 1", "pop_4g5g", 50), ("2026-03", "ca", "Thôn 1", "pop_total", 200),
        ("2026-03", "vhxh", "Thôn 3", "pop_4g5g", 500), ("2026-03", "ca", "Thôn 4", "pop_total", 300),
    ])
    row = card_row(data, plan, "2026-03", "1")
    assert row["value"] == pytest.approx(25.0)
    assert row["villages_reported"] == 1


def test_zero_denominator_gives_no_value(plan):
    data = long_frame([("2026-03", "vhxh", "", "officials_trained", 0),
                       ("2026-03", "vhxh", "", "officials_total", 0)])
    row = card_row(data, plan, "2026-03", "2")
    assert math.isnan(row["value"])
    assert row["status"] == "no_data"
    assert (row["villages_reported"], row["villages_expected"]) == (1, 1)


def test_commune_level_not_reported_is_zero_of_one(plan):
    row = card_row(long_frame([("2026-03", "ca", "Thôn 1", "pop_total", 10)]), plan, "2026-03", "2")
    assert (row["villages_reported"], row["villages_expected"]) == (0, 1)
    assert row["status"] == "no_data"


def test_constant_denominator_of_indicator_11(plan):
    # 19 points of 20 = 95%, exactly the target.
    row = card_row(long_frame([("2026-05", "ttpvhcc", "", "satisfaction_points", 19)]), plan, "2026-05", "11")
    assert row["denominator"] == 20 and row["value"] == pytest.approx(95.0)
    assert row["status"] == "achieved"


# --- rule 1: year-to-date view: stock against flow ----------------------------------------------------------

def test_flow_sums_from_january_and_stock_takes_month_p(plan):
    data = long_frame([
        # flows: records 100 in January, 50 in February; digitised 100 then 40
        ("2026-01", "ttpvhcc", "", "records_total", 100), ("2026-02", "ttpvhcc", "", "records_total", 50),
        ("2026-01", "ttpvhcc", "", "records_digitized", 100), ("2026-02", "ttpvhcc", "", "records_digitized", 40),
        # stocks: 10 of 40 enterprises innovate in January, 12 of 48 in February
        ("2026-01", "kt", "", "enterprises_innovating", 10), ("2026-01", "kt", "", "enterprises_total", 40),
        ("2026-02", "kt", "", "enterprises_innovating", 12), ("2026-02", "kt", "", "enterprises_total", 48),
    ])
    card = compute.scorecard(data, plan, "2026-02").set_index("indicator")
    # year to date: 140 / 150 = 93.33%; the month alone: 40 / 50 = 80%; January alone was 100%
    assert (card.loc["8", "numerator"], card.loc["8", "denominator"]) == (140, 150)
    assert card.loc["8", "value"] == pytest.approx(100 * 140 / 150)
    assert card.loc["8", "month_value"] == pytest.approx(80.0)
    assert card.loc["8", "change"] == pytest.approx(-20.0)
    # stock: February's own values, not summed: 12 / 48 = 25%
    assert (card.loc["5", "numerator"], card.loc["5", "denominator"]) == (12, 48)
    assert card.loc["5", "value"] == pytest.approx(25.0)
    assert card.loc["5", "month_value"] == pytest.approx(25.0)
    assert card.loc["5", "change"] == pytest.approx(0.0)  # 25% in January too


def test_a_flow_month_missing_adds_nothing(plan):
    data = long_frame([("2026-01", "kt", "", "startups_new", 2), ("2026-03", "kt", "", "startups_new", 1)])
    row = card_row(data, plan, "2026-03", "6")
    assert row["value"] == 3  # 2 + (nothing in February) + 1
    assert row["denominator"] != row["denominator"]  # a count has no denominator (NaN)
    assert row["month_value"] == 1


def test_a_stock_is_not_carried_forward(plan):
    data = long_frame([("2026-01", "vhxh", "Thôn 1", "pop_4g5g", 5), ("2026-01", "ca", "Thôn 1", "pop_total", 10)])
    assert card_row(data, plan, "2026-01", "1")["value"] == pytest.approx(50.0)
    row = card_row(data, plan, "2026-02", "1")
    assert math.isnan(row["value"]) and row["status"] == "no_data"


def test_counts_use_the_year_to_date_view(plan):
    # One IP application in March and one in July: 2 by July, the plan's minimum, so achieved.
    data = long_frame([("2026-03", "kt", "", "ip_applications_new", 1), ("2026-07", "kt", "", "ip_applications_new", 1)])
    row = card_row(data, plan, "2026-07", "7")
    assert row["value"] == 2 and row["target"] == 2
    assert row["status"] == "achieved"
    assert card_row(data, plan, "2026-06", "7")["value"] == 1


# --- rule 4: every status branch ----------------------------------------------------------------------------

def _ent(month: int, innovating: float, total: float = 100):
    return [(f"2026-{month:02d}", "kt", "", "enterprises_innovating", innovating),
            (f"2026-{month:02d}", "kt", "", "enterprises_total", total)]


def test_status_encouraged(plan):
    row = card_row(long_frame([("2026-05", "kt", "", "st_enterprises", 3)]), plan, "2026-05", "4")
    assert row["status"] == "encouraged" and row["value"] == 3 and math.isnan(row["target"])


def test_status_achieved_at_exactly_the_target(plan):
    # 30 of 100 is 30%, the target of indicator 1.
    data = long_frame([("2026-05", "vhxh", "Thôn 1", "pop_4g5g", 30), ("2026-05", "ca", "Thôn 1", "pop_total", 100)])
    assert card_row(data, plan, "2026-05", "1")["status"] == "achieved"


def test_status_achieved_35_4_percent(plan):
    # 354 of 1000 adults with a digital signature = 35.4%, the target exactly.
    data = long_frame([("2026-05", "vhxh", "Thôn 2", "adult_digital_signature", 354),
                       ("2026-05", "ca", "Thôn 2", "pop_adult", 1000)])
    assert card_row(data, plan, "2026-05", "16")["status"] == "achieved"


def test_status_continuous_below_target_is_behind(plan):
    data = long_frame([("2026-05", "ttpvhcc", "", "records_digitized", 99), ("2026-05", "ttpvhcc", "", "records_total", 100)])
    row = card_row(data, plan, "2026-05", "8")
    assert row["status"] == "behind" and math.isnan(row["forecast"])


def test_status_missed_after_the_deadline(plan):
    # Indicator 1's deadline is 20/06/2026; July ends after it; 29% < 30%.
    data = long_frame([("2026-07", "vhxh", "Thôn 1", "pop_4g5g", 29), ("2026-07", "ca", "Thôn 1", "pop_total", 100)])
    assert card_row(data, plan, "2026-07", "1")["status"] == "missed"


def test_deadline_on_the_last_day_of_p_is_not_yet_missed(plan):
    # Indicator 7's deadline is 30/11/2026, the last day of November: not after it, so the forecast decides.
    data = long_frame([("2026-11", "kt", "", "ip_applications_new", 1)])
    row = card_row(data, plan, "2026-11", "7")
    assert row["status"] == "behind"  # one value only: no forecast line


def test_status_on_track_by_forecast(plan):
    # Indicator 5 (≥ 15%, deadline 30/10/2026) in August: 10%, 12%, 14% in June, July, August.
    # Line: slope 2 points a month, 14% at month 8, so 18% at month 10 ≥ 15%: on track.
    data = long_frame(_ent(6, 10) + _ent(7, 12) + _ent(8, 14))
    row = card_row(data, plan, "2026-08", "5")
    assert row["forecast"] == pytest.approx(18.0)
    assert row["status"] == "on_track"


def test_status_behind_by_forecast(plan):
    # 10%, 10.5%, 11%: slope 0.5, 11% at month 8, so 12% at month 10 < 15%: behind.
    data = long_frame(_ent(6, 20, 200) + _ent(7, 21, 200) + _ent(8, 22, 200))
    row = card_row(data, plan, "2026-08", "5")
    assert row["forecast"] == pytest.approx(12.0)
    assert row["status"] == "behind"


def test_forecast_uses_only_the_last_three_months_with_a_value(plan):
    # April 0% (then no May), June 10%, July 10.5%, August 11%. Through the last three: 12% at October,
    # behind. A line through all four would give about 18.4% (on track): the rule says three.
    data = long_frame(_ent(4, 0, 200) + _ent(6, 20, 200) + _ent(7, 21, 200) + _ent(8, 22, 200))
    row = card_row(data, plan, "2026-08", "5")
    assert row["forecast"] == pytest.approx(12.0)
    assert row["status"] == "behind"


def test_forecast_skips_months_without_a_value(plan):
    # June 10%, (July missing), August 14%: two values, slope 2 → 18% in October: on track.
    data = long_frame(_ent(6, 10) + _ent(8, 14))
    row = card_row(data, plan, "2026-08", "5")
    assert row["forecast"] == pytest.approx(18.0)
    assert row["status"] == "on_track"


def test_fewer_than_two_values_is_behind(plan):
    row = card_row(long_frame(_ent(8, 14)), plan, "2026-08", "5")
    assert math.isnan(row["forecast"]) and row["status"] == "behind"


def test_status_no_data(plan):
    assert card_row(long_frame(_ent(8, 14)), plan, "2026-08", "15")["status"] == "no_data"


def test_status_order_value_before_deadline(plan):
    # Achieved even though the deadline has passed: 31 of 100 in December for indicator 1.
    data = long_frame([("2026-12", "vhxh", "Thôn 1", "pop_4g5g", 31), ("2026-12", "ca", "Thôn 1", "pop_total", 100)])
    assert card_row(data, plan, "2026-12", "1")["status"] == "achieved"


# --- plan groups: indicator 3 counts once -------------------------------------------------------------------

def test_indicator_3_is_achieved_only_when_all_parts_are(plan):
    card = pd.DataFrame({"group": ["3", "3", "3", "3", "4"], "status": ["achieved", "achieved", "behind", "achieved", "encouraged"]})
    assert compute.group_status(card).set_index("group")["status"].to_dict() == {"3": "behind", "4": "encouraged"}
    card["status"] = ["achieved"] * 4 + ["encouraged"]
    assert compute.group_status(card).set_index("group").loc["3", "status"] == "achieved"


def test_status_counts_16_and_19(plan):
    card = compute.scorecard(long_frame(_ent(8, 14)), plan, "2026-08")
    counts = compute.status_counts(card).set_index("status")
    assert counts["plan"].sum() == 16 and counts["measured"].sum() == 19


# --- rule 5: timeliness --------------------------------------------------------------------------------------

def _received(rows):
    return pd.DataFrame([{"unit": u, "period": p, "submitted_on": pd.Timestamp(d), "file": f"{u}.csv"} for u, p, d in rows])


def test_submission_on_the_10th_is_on_time_on_the_11th_late(plan):
    tl = compute.timeliness(_received([("vhxh", "2026-11", "2026-12-10"), ("kt", "2026-11", "2026-12-11"),
                                       ("ca", "2026-10", "2026-11-02")]), plan, "2026-11").set_index("unit")
    assert tl.loc["vhxh", "status"] == "on_time" and tl.loc["vhxh", "days_late"] == 0
    assert tl.loc["kt", "status"] == "late" and tl.loc["kt", "days_late"] == 1
    assert tl.loc["ttpvhcc", "status"] == "missing"
    assert tl.loc["ca", "status"] == "missing"  # its October file does not count for November


def test_december_is_due_on_10_january_next_year(plan):
    tl = compute.timeliness(_received([("vhxh", "2026-12", "2027-01-10")]), plan, "2026-12").set_index("unit")
    assert tl.loc["vhxh", "due"] == pd.Timestamp("2027-01-10") and tl.loc["vhxh", "status"] == "on_time"


def test_the_first_submission_counts_for_timeliness(plan):
    # A correction sent on the 20th does not make an on-time unit late.
    tl = compute.timeliness(_received([("kt", "2026-05", "2026-06-08"), ("kt", "2026-05", "2026-06-20")]),
                            plan, "2026-05").set_index("unit")
    assert tl.loc["kt", "status"] == "on_time"


# --- completeness and villages ---------------------------------------------------------------------------------

def test_completeness_counts_places(plan):
    data = long_frame([("2026-04", "ca", "Thôn 1", "pop_total", 10), ("2026-04", "ca", "Thôn 2", "pop_total", 10),
                       ("2026-04", "vhxh", "", "officials_total", 30), ("2026-03", "ca", "Thôn 3", "pop_total", 10)])
    comp = compute.completeness(data, plan, "2026-04").set_index("element")
    assert (comp.loc["pop_total", "reported"], comp.loc["pop_total", "expected"]) == (2, 26)
    assert (comp.loc["officials_total", "reported"], comp.loc["officials_total", "expected"]) == (1, 1)
    assert comp.loc["pop_adult", "reported"] == 0


def test_village_table_share_of_target(plan):
    # Thôn 5: 45 of 50 adults use digital health services = 90%, target 80% → 1.125 of target.
    data = long_frame([("2026-04", "vhxh", "Thôn 5", "adult_digital_health", 45), ("2026-04", "ca", "Thôn 5", "pop_adult", 50)])
    v = compute.village_table(data, plan, "2026-04").set_index(["indicator", "village"])
    assert v.loc[("3a", "Thôn 5"), "value"] == pytest.approx(90.0)
    assert v.loc[("3a", "Thôn 5"), "share_of_target"] == pytest.approx(1.125)
    assert math.isnan(v.loc[("3a", "Thôn 6"), "value"])
    assert len(v) == 26 * 9  # nine village-level ratio indicators × 26 villages


def test_latest_period(plan):
    data = long_frame(_ent(3, 1) + _ent(9, 1))
    assert compute.latest_period(data, plan) == "2026-09"
    assert compute.latest_period(data.iloc[0:0], plan) is None


def test_timeliness_states_unit_by_unit(plan):
    """docs/rules.md §4a for 2026-11 (due 10/12/2026): vhxh dated 09/12 on time; kt dated 25/12 late by 15 days
    (25 − 10); ttpvhcc sent values with no date: date unknown; ca sent only a file that could not be read."""
    from kpi.core.problems import Problem

    received = pd.DataFrame([
        {"unit": "vhxh", "period": "2026-11", "submitted_on": pd.Timestamp("2026-12-09"), "file": "vhxh.csv"},
        {"unit": "kt", "period": "2026-11", "submitted_on": pd.Timestamp("2026-12-25"), "file": "kt.csv"},
        {"unit": "ttpvhcc", "period": "2026-11", "submitted_on": pd.NaT, "file": "ttpvhcc.csv"}])
    problems = [Problem("E_FILE_UNREADABLE", file="2026-11/ca.xlsx", unit="ca", period="2026-11"),
                Problem("E_FILE_UNREADABLE", file="2026-10/kt.xlsx", unit="kt", period="2026-10")]
    tl = compute.timeliness(received, plan, "2026-11", problems).set_index("unit")
    assert tl["status"].to_dict() == {"vhxh": "on_time", "kt": "late", "ttpvhcc": "date_unknown", "ca": "unreadable"}
    assert tl.loc["kt", "days_late"] == 15 and tl.loc["vhxh", "days_late"] == 0
    assert pd.isna(tl.loc["ttpvhcc", "days_late"])
    assert list(compute.not_sent(tl.reset_index())["unit"]) == ["ca"]


def test_a_month_with_nothing_received_is_every_unit_missing(plan):
    empty = pd.DataFrame(columns=["unit", "period", "submitted_on", "file"])
    tl = compute.timeliness(empty, plan, "2026-12")
    assert list(tl["status"]) == ["missing"] * 4 and tl["submitted_on"].isna().all()
    # a file of another month received, nothing for December: still missing
    other = _received([("vhxh", "2026-11", "2026-12-05")])
    assert list(compute.timeliness(other, plan, "2026-12")["status"]) == ["missing"] * 4

"""The year-to-date history (docs/rules.md §3), the one implementation the report, the data package and the province
share (kpi.indicators.history), against numbers worked out by hand on a small data set: two villages, a ratio of
stocks, a ratio of flows, a constant denominator, a count of a stock and a count of a flow, January..March."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kpi.indicators import compute, history
from tests.conftest import long_frame

ROWS = [
    # 1: pop_4g5g / pop_total, stocks, per village. Jan: both villages (30 + 10) / (100 + 50); Feb: Thôn 2 has no
    # denominator, so Thôn 1 alone 40 / 100; Mar: nothing (a stock is not carried forward).
    ("2026-01", "vhxh", "Thôn 1", "pop_4g5g", 30), ("2026-01", "ca", "Thôn 1", "pop_total", 100),
    ("2026-01", "vhxh", "Thôn 2", "pop_4g5g", 10), ("2026-01", "ca", "Thôn 2", "pop_total", 50),
    ("2026-02", "vhxh", "Thôn 1", "pop_4g5g", 40), ("2026-02", "ca", "Thôn 1", "pop_total", 100),
    ("2026-02", "vhxh", "Thôn 2", "pop_4g5g", 20),
    # 8: records_digitized / records_total, flows of the commune, summed from January: numerator 5, 5, 5 + 15;
    # denominator 10, 10 + 10, 20 + 20.
    ("2026-01", "ttpvhcc", "", "records_digitized", 5), ("2026-01", "ttpvhcc", "", "records_total", 10),
    ("2026-02", "ttpvhcc", "", "records_total", 10),
    ("2026-03", "ttpvhcc", "", "records_digitized", 15), ("2026-03", "ttpvhcc", "", "records_total", 20),
    # 11: satisfaction_points over the constant 20, a stock: 18 / 20 in January, nothing in February, 19 / 20 in March.
    ("2026-01", "ttpvhcc", "", "satisfaction_points", 18), ("2026-03", "ttpvhcc", "", "satisfaction_points", 19),
    # 4: st_enterprises, a count of a stock: 7, nothing, 9.
    ("2026-01", "kt", "", "st_enterprises", 7), ("2026-03", "kt", "", "st_enterprises", 9),
    # 6: startups_new, a count of a flow: nothing in January (no value before its first month), 2, 2 + 1.
    ("2026-02", "kt", "", "startups_new", 2), ("2026-03", "kt", "", "startups_new", 1),
]
NAN = math.nan
# (indicator, month): (numerator, denominator, value, villages_reported), worked out from ROWS by hand.
EXPECTED = {
    ("1", 1): (40, 150, 100 * 40 / 150, 2), ("1", 2): (40, 100, 40.0, 1), ("1", 3): (NAN, NAN, NAN, 0),
    ("8", 1): (5, 10, 50.0, 1), ("8", 2): (5, 20, 25.0, 1), ("8", 3): (20, 40, 50.0, 1),
    ("11", 1): (18, 20, 90.0, 1), ("11", 2): (NAN, NAN, NAN, 0), ("11", 3): (19, 20, 95.0, 1),
    ("4", 1): (7, NAN, 7.0, 1), ("4", 2): (NAN, NAN, NAN, 0), ("4", 3): (9, NAN, 9.0, 1),
    ("6", 1): (NAN, NAN, NAN, 0), ("6", 2): (2, NAN, 2.0, 1), ("6", 3): (3, NAN, 3.0, 1),
}


def _same(got, want) -> bool:
    return math.isnan(got) if math.isnan(want) else got == pytest.approx(want)


def _check(frame: pd.DataFrame, expected_villages: int) -> None:
    rows = frame.set_index(["indicator", "month"])
    for key, want in EXPECTED.items():
        row = rows.loc[key]
        got = (row["numerator"], row["denominator"], row["value"], row["villages_reported"])
        assert all(_same(g, w) for g, w in zip(got, want)), (key, got, want)
        assert row["villages_expected"] == (expected_villages if key[0] == "1" else 1), key


def test_the_commune_history_by_hand(plan):
    """The report's history (compute.history, also its package's history.csv): every indicator and month 1..3,
    the hand-made numbers, the plan's 26 villages expected for a village indicator."""
    got = compute.history(long_frame(ROWS), plan, "2026-03")
    assert len(got) == len(plan.indicators) * 3
    assert list(got["indicator"].drop_duplicates()) == [i.id for i in plan.indicators]
    assert rows_without_data(got) == {i.id for i in plan.indicators} - {"1", "4", "6", "8", "11"}
    _check(got, expected_villages=len(plan.villages))


def rows_without_data(frame: pd.DataFrame) -> set[str]:
    has = frame.groupby("indicator")["villages_reported"].sum()
    return set(has[has == 0].index)


def test_the_province_history_by_hand(plan):
    """The same rule vectorised over communes (the province's route): each commune's rows are its own sums, with
    its own villages expected; a commune with other numbers does not leak into the first."""
    a = long_frame(ROWS).assign(commune="Xã A")
    b = long_frame([("2026-01", "vhxh", "Thôn 1", "pop_4g5g", 1), ("2026-01", "ca", "Thôn 1", "pop_total", 4)])
    data = pd.concat([a, b.assign(commune="Xã B")], ignore_index=True)
    got = history.commune_history(data, plan, "2026-03", pd.Series({"Xã A": 2, "Xã B": 3}))
    assert list(got["commune"].drop_duplicates()) == ["Xã A", "Xã B"]
    _check(got[got["commune"] == "Xã A"].drop(columns="commune"), expected_villages=2)
    b_rows = got[got["commune"] == "Xã B"].set_index(["indicator", "month"])
    assert b_rows.loc[("1", 1), ["numerator", "denominator", "value"]].tolist() == [1, 4, 25.0]
    assert b_rows.loc[("1", 1), "villages_expected"] == 3
    assert b_rows["villages_reported"].sum() == 1  # January's indicator 1 only


def test_the_scorecard_is_the_history_at_the_last_month(plan):
    """The scorecard takes the history's last month: indicator 8 at March is 20 / 40 = 50 %, not March's own 15 / 20."""
    card = compute.scorecard(long_frame(ROWS), plan, "2026-03").set_index("indicator")
    assert card.loc["8", ["numerator", "denominator", "value"]].tolist() == [20, 40, 50.0]
    assert card.loc["8", "month_value"] == pytest.approx(75.0)
    assert math.isnan(card.loc["1", "value"])  # a stock with nothing in March

"""The province aggregation of kpi/province/__init__.py written in DuckDB SQL: the benchmark's yardstick.

Same rules: year-to-date view (flows summed January..month, stocks the month's own value), a place counts
toward a ratio only when it has both numerator and denominator, commune value = 100 × Σnum / Σden over its
villages, province value = 100 × Σnum / Σden over communes that have a value; counts are sums."""

from __future__ import annotations

import duckdb
import pandas as pd

from kpi.plan import Plan

SQL = """
WITH pm AS (  -- month of each distinct period text, read once per period, not once per row
    SELECT period, CAST(substr(CAST(period AS VARCHAR), 6, 2) AS INTEGER) AS month
    FROM (SELECT DISTINCT period FROM data) WHERE CAST(period AS VARCHAR) LIKE '{year}-%'
),
d AS (
    SELECT data.commune, data.village, CAST(data.element AS VARCHAR) AS element, pm.month,
           CAST(data.value AS DOUBLE) AS value
    FROM data JOIN pm ON data.period = pm.period
    WHERE pm.month <= {upto}
),
months AS (SELECT CAST(range AS INTEGER) AS m FROM range(1, {upto} + 1)),
ytd AS (
    SELECT commune, village, element, month, value FROM d WHERE element NOT IN (SELECT code FROM flows)
    UNION ALL
    SELECT d.commune, d.village, d.element, months.m AS month, SUM(d.value) AS value
    FROM d JOIN months ON d.month <= months.m
    WHERE d.element IN (SELECT code FROM flows)
    GROUP BY d.commune, d.village, d.element, months.m
),
places AS (
    SELECT i.indicator, n.commune, n.village, n.month, n.value AS num, dn.value AS den
    FROM ind i JOIN ytd n ON n.element = i.num_element
    JOIN ytd dn ON dn.element = i.den_element AND dn.commune = n.commune AND dn.village = n.village
               AND dn.month = n.month
    WHERE i.den_element IS NOT NULL
    UNION ALL
    SELECT i.indicator, n.commune, n.village, n.month, n.value, i.constant
    FROM ind i JOIN ytd n ON n.element = i.num_element WHERE i.constant IS NOT NULL
    UNION ALL
    SELECT i.indicator, n.commune, n.village, n.month, n.value, NULL
    FROM ind i JOIN ytd n ON n.element = i.num_element WHERE i.kind = 'count'
),
per_commune AS (
    SELECT commune, indicator, month, SUM(num) AS numerator, SUM(den) AS denominator,
           COUNT(*) AS villages_reported
    FROM places GROUP BY commune, indicator, month
)
SELECT 'commune' AS level, CAST(p.commune AS VARCHAR) AS commune, p.indicator, p.month, p.numerator, p.denominator,
       CASE WHEN i.kind = 'count' THEN p.numerator
            WHEN p.denominator > 0 THEN 100 * p.numerator / p.denominator END AS value, p.villages_reported AS places
FROM per_commune p JOIN ind i USING (indicator)
UNION ALL
SELECT 'province', NULL, p.indicator, p.month, SUM(p.numerator), SUM(p.denominator),
       CASE WHEN any_value(i.kind) = 'count' THEN SUM(p.numerator)
            WHEN SUM(p.denominator) > 0 THEN 100 * SUM(p.numerator) / SUM(p.denominator) END, COUNT(*)
FROM per_commune p JOIN ind i USING (indicator)
GROUP BY p.indicator, p.month
"""


def duckdb_history(data: pd.DataFrame, plan: Plan, period: str, threads: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per-commune, province) indicator values for every month January..P, computed by DuckDB."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    ind = pd.DataFrame([{"indicator": i.id, "kind": i.kind, "num_element": i.numerator,
                         "den_element": i.denominator, "constant": i.denominator_constant}
                        for i in plan.indicators])
    flows = pd.DataFrame({"code": [e.code for e in plan.elements if e.time == "flow"]})
    con.register("data", data)
    con.register("ind", ind)
    con.register("flows", flows)
    out = con.execute(SQL.format(year=plan.year, upto=int(period[5:7]))).df()
    con.close()
    communes = out[out["level"] == "commune"].drop(columns="level").rename(columns={"places": "villages_reported"})
    prov = out[out["level"] == "province"].drop(columns=["level", "commune"]).rename(
        columns={"places": "communes_reported"})
    return communes.reset_index(drop=True), prov.reset_index(drop=True)

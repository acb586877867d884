"""The plan's rules as one fingerprint: what makes two communes' figures comparable (the year, the report's due
day, the data elements and how each indicator is computed and targeted), without what differs between communes
of one province (name, villages, officers). A commune's data package carries it; the province compares it with
its own plan's (kpi.province.packages)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json

from kpi.plan.model import Plan

INDICATOR_RULES = ("id", "kind", "numerator", "denominator", "denominator_constant", "target", "deadline", "lead")


def _plain(value):
    return value.isoformat() if isinstance(value, dt.date) else value


def rules_sha256(plan: Plan) -> str:
    rules = {"year": plan.year, "report_due_day": plan.report_due_day,
             "elements": [dataclasses.asdict(e) for e in plan.elements],
             "indicators": [{k: _plain(getattr(i, k)) for k in INDICATOR_RULES} for i in plan.indicators]}
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()

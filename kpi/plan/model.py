"""The plan's model: units, villages, data elements and indicators, and how names compare."""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from kpi.core import periods


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    short: str
    role: str = ""
    officers: tuple[dict, ...] = ()


@dataclass(frozen=True)
class Village:
    code: str
    name: str


@dataclass(frozen=True)
class Element:
    code: str
    label: str
    unit: str
    level: str  # village | commune
    time: str  # stock | flow
    max: float | None = None
    decimals: bool = False


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str
    name: str
    short: str
    kind: str  # ratio | count
    numerator: str
    denominator: str | None
    denominator_constant: float | None
    target: float | None  # None: encouraged (Khuyến khích)
    target_text: str
    deadline: dt.date | None  # None: continuous (thường xuyên)
    lead: str
    partners: str = ""
    method: str = ""
    purpose: str = ""
    note: str = ""
    tasks: tuple[str, ...] = ()

    @property
    def encouraged(self) -> bool:
        return self.target is None

    @property
    def continuous(self) -> bool:
        return self.deadline is None


@dataclass(frozen=True)
class Plan:
    commune: str
    year: int
    report_due_day: int
    units: tuple[Unit, ...]
    villages: tuple[Village, ...]
    elements: tuple[Element, ...]
    indicators: tuple[Indicator, ...]
    title: str = ""
    commune_full: str = ""
    province: str = ""
    consolidating_unit: str = "vhxh"
    focal_point: dict = field(default_factory=dict)
    signed_by: str = ""
    general_tasks: tuple[str, ...] = ()
    report_recipients: tuple[str, ...] = ()
    source: str = ""
    not_assigned: tuple[Indicator, ...] = ()  # in the province's list but not assigned to this commune

    @property
    def group_count(self) -> int:
        """The plan's indicators as it counts them ("16 chỉ tiêu"): a group with parts (3a-3d) is one."""
        return len(dict.fromkeys(i.group for i in self.indicators))

    @property
    def measure_count(self) -> int:
        """The measured indicators ("19 chỉ số đo"): every part counts."""
        return len(self.indicators)

    # Lookups used everywhere; cheap to rebuild, so derived rather than stored.
    def unit(self, code: str) -> Unit:
        return {u.code: u for u in self.units}[code]

    def element(self, code: str) -> Element:
        return {e.code: e for e in self.elements}[code]

    def indicator(self, ind_id: str) -> Indicator:
        return {i.id: i for i in self.indicators}[ind_id]

    @property
    def unit_codes(self) -> list[str]:
        return [u.code for u in self.units]

    @property
    def village_names(self) -> list[str]:
        return [v.name for v in self.villages]

    @property
    def periods(self) -> list[str]:
        return [f"{self.year}-{m:02d}" for m in range(1, 13)]

    def due_date(self, period: str) -> dt.date:
        """Units send a month's figures on or before day `report_due_day` (the 10th) of the month after it
        (Chế độ thông tin báo cáo); December's are due in January of the next year."""
        year, month = periods.year_of(period), periods.month_number(period)
        return dt.date(year + month // 12, month % 12 + 1, self.report_due_day)

    def indicators_of(self, unit: str | None) -> list[Indicator]:
        """Indicators a unit leads, or all of them for the commune report (unit None or 'commune')."""
        if unit in (None, "commune", "all"):
            return list(self.indicators)
        return [i for i in self.indicators if i.lead == unit]

    def elements_of(self, unit: str) -> list[Element]:
        return [e for e in self.elements if e.unit == unit]

    def to_dict(self) -> dict:
        d = asdict(self)
        for ind in d["indicators"] + d["not_assigned"]:
            ind["deadline"] = ind["deadline"].isoformat() if ind["deadline"] else "continuous"
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def fold(text: object) -> str:
    """Compare-friendly text: NFC, no diacritics, lower case, single spaces (đ -> d)."""
    return _fold(str(text))


@functools.lru_cache(maxsize=1 << 16)  # a month's files repeat the same few hundred names, units and labels
def _fold(text: str) -> str:
    s = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", s).strip().casefold()


def village_key(name: object) -> str:
    """A village name as the data matching compares it: folded, and numbers without leading zeros, so
    'thôn  05', 'Thon 5' and 'Thôn 5' are one village."""
    return _village_key(str(name))


@functools.lru_cache(maxsize=1 << 16)
def _village_key(name: str) -> str:
    return re.sub(r"\b0+(\d)", r"\1", _fold(name))

"""Period arithmetic, the one place that knows it (docs/rules.md §7): a month `2026-11`, a quarter `2026-Q2`, the first
half-year `2026-H1`, nine months `2026-9T` or the year `2026`: its kind, months, last month, previous period
of the same kind, and its name in words."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kpi.core.errors import ParameterError, PeriodError

if TYPE_CHECKING:  # pandas is imported where a frame is read: `kpi run`'s up-to-date check reads none
    import pandas as pd

KINDS = ("month", "quarter", "half", "nine", "year")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
FORMS = "một tháng (2026-11), một quý (2026-Q1 … 2026-Q4), 6 tháng đầu năm (2026-H1), 9 tháng (2026-9T) hoặc cả năm (2026)"
# (the examples name the plan year 2026; check_in_year writes the plan's own year)

_MONTH = re.compile(r"(\d{4})-(\d{2})")
_QUARTER = re.compile(r"(\d{4})-Q([1-4])")
_HALF = re.compile(r"(\d{4})-H1")
_NINE = re.compile(r"(\d{4})-9T")
_YEAR = re.compile(r"(\d{4})")
_SLASH = re.compile(r"(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class Period:
    text: str  # as written: 2026-11, 2026-Q2, 2026-H1, 2026-9T, 2026
    year: int
    kind: str  # one of KINDS
    first: int  # first month number
    last: int  # last month E

    @property
    def is_month(self) -> bool:
        return self.kind == "month"

    @property
    def month_numbers(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def months(self) -> list[str]:
        return [month_text(self.year, m) for m in self.month_numbers]

    @property
    def last_month(self) -> str:
        return month_text(self.year, self.last)

    @property
    def end(self) -> dt.date:
        """The last day of the period's last month."""
        return dt.date(self.year, self.last, calendar.monthrange(self.year, self.last)[1])


def month_text(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def parse(text: str) -> Period:
    """`2026-11`, `2026-Q1`..`2026-Q4`, `2026-H1`, `2026-9T`, `2026` -> Period; anything else PeriodError."""
    if not isinstance(text, str):
        raise PeriodError(f"Kỳ báo cáo {text!r} không hợp lệ: dùng {FORMS}.")
    if m := _MONTH.fullmatch(text):
        month = int(m[2])
        if 1 <= month <= 12:
            return Period(text, int(m[1]), "month", month, month)
    elif m := _QUARTER.fullmatch(text):
        q = int(m[2])
        return Period(text, int(m[1]), "quarter", 3 * q - 2, 3 * q)
    elif m := _HALF.fullmatch(text):
        return Period(text, int(m[1]), "half", 1, 6)
    elif m := _NINE.fullmatch(text):
        return Period(text, int(m[1]), "nine", 1, 9)
    elif m := _YEAR.fullmatch(text):
        return Period(text, int(m[1]), "year", 1, 12)
    raise PeriodError(f"Kỳ báo cáo '{text}' không hợp lệ: dùng {FORMS}.")


def normalize(text: str) -> str:
    """A period as typed to its written form: `11/2026` and `5/2026` (as data files write a month) to
    `2026-11`, `2026-05`; `2026-q2`, `2026-h1`, `2026-9t` to upper case. Anything else goes on unchanged, for
    parse() to refuse with its message."""
    if not isinstance(text, str):
        return text
    if (m := _SLASH.fullmatch(text)) and 1 <= int(m[1]) <= 12:
        return month_text(int(m[2]), int(m[1]))
    if re.fullmatch(r"\d{4}-(q[1-4]|h1|9t)", text):
        return text.upper()
    return text


def kind(text: str) -> str:
    return parse(text).kind


def is_month(text: str) -> bool:
    return parse(text).is_month


def months(text: str) -> list[str]:
    """The months `YYYY-MM` a period covers, in order."""
    return parse(text).months


def last_month(text: str) -> str:
    """The period's last month E as `YYYY-MM` (a month is its own last month)."""
    return parse(text).last_month


def month_number(text: str) -> int:
    """The number (1..12) of the period's last month E."""
    return parse(text).last


def year_of(text: str) -> int:
    return parse(text).year


def end_date(text: str) -> dt.date:
    return parse(text).end


def previous(text: str) -> str | None:
    """The previous period of the same kind within the plan year: the month before (none for January), the
    quarter before (none for Q1); none for H1, 9T and the year, which have no earlier period of their kind in
    the year."""
    p = parse(text)
    if p.kind == "month":
        return None if p.last == 1 else month_text(p.year, p.last - 1)
    if p.kind == "quarter":
        q = p.last // 3
        return None if q == 1 else f"{p.year}-Q{q - 1}"
    return None


def words(text: str, lang: str = "vi") -> str:
    """The period in words, as a Báo cáo writes it: 'tháng 11 năm 2026', 'quý II năm 2026', '6 tháng đầu năm
    2026', '9 tháng năm 2026', 'năm 2026'."""
    p = parse(text)
    q = (p.last // 3) if p.kind == "quarter" else 0
    if lang == "en":
        return {"month": f"{calendar.month_name[p.last]} {p.year}", "quarter": f"Q{q} {p.year}",
                "half": f"first half of {p.year}", "nine": f"first nine months of {p.year}",
                "year": f"year {p.year}"}[p.kind]
    return {"month": f"tháng {p.last} năm {p.year}", "quarter": f"quý {ROMAN.get(q, '')} năm {p.year}",
            "half": f"6 tháng đầu năm {p.year}", "nine": f"9 tháng năm {p.year}", "year": f"năm {p.year}"}[p.kind]


def next_words(text: str) -> str:
    """The period that comes after, in words, as a Báo cáo's section III plans for it: the next month, the next
    quarter, the second half-year after H1, the last quarter after nine months, next year after a year."""
    p = parse(text)
    if p.kind == "month":
        return words(month_text(p.year, p.last + 1) if p.last < 12 else month_text(p.year + 1, 1))
    if p.kind == "quarter":
        q = p.last // 3
        return words(f"{p.year}-Q{q + 1}" if q < 4 else f"{p.year + 1}-Q1")
    return {"half": f"6 tháng cuối năm {p.year}", "nine": f"quý IV năm {p.year}", "year": f"năm {p.year + 1}"}[p.kind]


def label(text: str, lang: str = "vi") -> str:
    """The period as a heading names it: a month short ('tháng 11/2026', '11/2026' in English), any other
    period in words (words())."""
    p = parse(text)
    if p.is_month:
        return f"tháng {p.last}/{p.year}" if lang == "vi" else f"{p.last:02d}/{p.year}"
    return words(text, lang)


def period_words(period: str) -> str:
    """The period in Vietnamese words (for the DOCX Báo cáo and the HTML/PDF): see words()."""
    return words(period, "vi")


def check_in_year(text: str, year: int) -> Period:
    """Parse, and refuse a period outside the plan year."""
    p = parse(text)
    if p.year != year:
        raise PeriodError(f"Kỳ báo cáo '{text}' không hợp lệ: không thuộc năm kế hoạch {year}; dùng một kỳ của năm "
                          f"{year}: {FORMS.replace('2026', str(year))}.")
    return p


def check_ended(text: str, today: dt.date) -> None:
    """A period other than a month is reported only once its last month has ended: a half-year report made on
    25/06 would call the year-to-date at June final while June's figures are still to come."""
    p = parse(text)
    if p.end >= today:
        raise PeriodError(
            f"Kỳ báo cáo '{text}' ({words(text)}) chưa kết thúc: tháng cuối của kỳ ({p.last}/{p.year}) hết vào ngày "
            f"{p.end:%d/%m/%Y}, hôm nay là {today:%d/%m/%Y}. Hãy lập báo cáo kỳ này sau ngày đó, hoặc chọn một kỳ "
            f"đã kết thúc.")


def month_range(start: str, end: str) -> list[str]:
    """Every month from `start` to `end` (both `YYYY-MM`, both included); PeriodError when either is not a
    month or the range runs backwards."""
    a, b = parse(start), parse(end)
    if not (a.is_month and b.is_month):
        raise PeriodError(f"Khoảng kỳ '{start}..{end}' không hợp lệ: một khoảng đi từ tháng đến tháng, ví dụ "
                          f"2026-01..2026-11.")
    if (b.year, b.last) < (a.year, a.last):
        raise PeriodError(f"Khoảng kỳ '{start}..{end}' không hợp lệ: trong một khoảng, tháng đầu phải trước hoặc "
                          f"bằng tháng cuối.")
    out, y, m = [], a.year, a.last
    while (y, m) <= (b.year, b.last):
        out.append(month_text(y, m))
        y, m = (y, m + 1) if m < 12 else (y + 1, 1)
    return out


def month_before(today: dt.date) -> str:
    """The month before today's month (`last-month`)."""
    return month_text(today.year, today.month - 1) if today.month > 1 else month_text(today.year - 1, 12)


def parse_month_cells(values: pd.Series) -> pd.Series:
    """A data file's period cells, YYYY-MM (also YYYY-M, MM/YYYY, a date in the month, an Excel date) ->
    'YYYY-MM'; else NaN. Data is sent per month, so only months are read here."""
    import pandas as pd

    as_text = values.map(lambda v: v.strftime("%Y-%m") if hasattr(v, "strftime") else (None if v is None else str(v).strip()))
    iso = as_text.str.extract(r"^(\d{4})[-/.](\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?$")
    vn = as_text.str.extract(r"^(\d{1,2})[-/.](\d{4})$")
    year = iso[0].fillna(vn[1])
    month = pd.to_numeric(iso[1].fillna(vn[0]), errors="coerce")
    ok = year.notna() & month.between(1, 12)
    # one dtype on both sides: with pyarrow installed pandas makes some of these columns Arrow strings, and
    # an all-empty column object, which cannot be added together
    text = year.astype(object) + "-" + month.fillna(0).astype(int).map("{:02d}".format).astype(object)
    return text.where(ok).astype(object)


PERIOD_FORMS = ("một tháng (2026-11), một khoảng (2026-01..2026-11), last-month, một quý (2026-Q2), "
                "6 tháng đầu năm (2026-H1), 9 tháng (2026-9T) hoặc cả năm (2026)")


def run_day() -> dt.date:
    """The day of the run: the calendar's today, or $KPI_TODAY (YYYY-MM-DD) to run as on another day (a re-run of a
    past month, a scheduled job's test, the tests). Every use of "today" in the kit reads it here."""
    import os

    text = os.environ.get("KPI_TODAY", "").strip()
    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"KPI_TODAY={text!r} không phải một ngày dạng NNNN-TT-NN (ví dụ 2027-01-11): sửa "
                             "hoặc bỏ biến môi trường này.") from None


def expand_periods(spec: str, today: dt.date | None = None) -> list[str]:
    """`YYYY-MM`, a range of months `YYYY-MM..YYYY-MM` (both ends included), `last-month` (the month before
    today's month: the scheduled run after the 10th reports on the month just closed), or one period of
    another kind (2026-Q2, 2026-H1, 2026-9T, 2026), which the period check reads (kpi.core.periods)."""
    if not isinstance(spec, str) or spec != spec.strip() or not re.fullmatch(r"[0-9a-zA-Z.\-]+", spec):
        raise ParameterError(f"Kỳ báo cáo {spec!r} không hợp lệ: dùng {PERIOD_FORMS}.")
    if spec == "last-month":
        return [month_before(today or run_day())]
    if ".." in spec:
        start, end = spec.split("..", 1)
        try:
            return month_range(start, end)
        except PeriodError as exc:
            raise ParameterError(str(exc)) from None
    return [spec]

"""Reporting periods: YYYY, YYYY-Qn, YYYY-MM, or a custom date range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from unidecode import unidecode

from surveyapp.services.errors import N_, InvalidInput

PERIOD_RE = re.compile(r"^([0-9]{4})(?:-(?:Q([1-4])|(0[1-9]|1[0-2])))?$")
# Years a report or a stored response may fall in (the responses table checks the same range).
FIRST_YEAR, LAST_YEAR = 1900, 2999


@dataclass(frozen=True)
class Period:
    """An inclusive range of local dates, with the YYYYMM months it spans."""

    label: str
    start: date
    end: date

    @property
    def first_month(self) -> int:
        return self.start.year * 100 + self.start.month

    @property
    def last_month(self) -> int:
        return self.end.year * 100 + self.end.month

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def bounds(self, timezone: str) -> tuple[datetime, datetime]:
        """[start, end) as moments: local midnight of the first day and of the day after the
        last, in ``timezone``."""
        zone = ZoneInfo(timezone)
        return (
            datetime.combine(self.start, time(0), tzinfo=zone),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=zone),
        )

    @property
    def whole_months(self) -> bool:
        """True when the period starts on a 1st and ends on a month's last day (rollup-able)."""
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1


def _month_end(year: int, month: int) -> date:
    following = date(year + month // 12, month % 12 + 1, 1)
    return following - timedelta(days=1)


RANGE_SEPARATOR = ".."
BAD_PERIOD = N_(
    "Kỳ báo cáo '%(text)s' không hợp lệ; dùng YYYY, YYYY-Qn, YYYY-MM hoặc "
    "YYYY-MM-DD..YYYY-MM-DD (hoặc 06/2026, Q2/2026, quý II/2026, "
    "01/01/2026-31/03/2026), năm từ 1900 đến 2999."
)
ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# The forms officials type, read without diacritics: "06/2026", "T6/2026", "tháng 6 năm 2026",
# "Q2/2026", "quý II/2026", "năm 2026", "01/01/2026 - 31/03/2026".
_MONTH_RE = re.compile(r"^(?:t|thang)?\s*(\d{1,2})\s*(?:[/.-]|nam)\s*(\d{4})$")
_QUARTER_RE = re.compile(r"^(?:q|quy)\s*([1-4]|iv|i{1,3})\s*(?:[/.-]|nam|\s)\s*(\d{4})$")
_YEAR_RE = re.compile(r"^(?:nam\s*)?(\d{4})$")
_DAYS_RE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})\s*(?:\.\.|-|–|den)\s*(\d{1,2})/(\d{1,2})/(\d{4})$"
)


def canonical_period(text: str) -> str:
    """``text`` in the canonical form (2026, 2026-Q2, 2026-06, 2026-01-01..2026-03-31) when it is
    one of the Vietnamese forms officials type; otherwise unchanged."""
    plain = " ".join(unidecode(text).lower().replace("nam", " nam ").split()).replace(" / ", "/")
    if match := _MONTH_RE.match(plain):
        month, year = int(match.group(1)), match.group(2)
        return f"{year}-{month:02d}" if 1 <= month <= 12 else text
    if match := _QUARTER_RE.match(plain):
        quarter = match.group(1)
        return f"{match.group(2)}-Q{ROMAN.get(quarter) or int(quarter)}"
    if match := _YEAR_RE.match(plain):
        return match.group(1)
    if match := _DAYS_RE.match(plain):
        d1, m1, y1, d2, m2, y2 = (int(g) for g in match.groups())
        try:
            return f"{date(y1, m1, d1).isoformat()}{RANGE_SEPARATOR}{date(y2, m2, d2).isoformat()}"
        except ValueError:
            return text
    return text


def parse_period(text: str) -> Period:
    """Parse ``2026``, ``2026-Q2``, ``2026-05`` or a custom range ``2026-01-15..2026-03-10`` (or
    the Vietnamese forms of ``canonical_period``); raise InvalidInput with the accepted forms."""
    shown = text
    text = canonical_period(text)
    if RANGE_SEPARATOR in text:
        first, _, last = text.strip().partition(RANGE_SEPARATOR)
        start: date | None
        end: date | None
        try:
            start, end = date.fromisoformat(first), date.fromisoformat(last)
        except ValueError:
            start = end = None
        if (
            start is None
            or end is None
            or end < start
            or start.year < FIRST_YEAR
            or end.year > LAST_YEAR
        ):
            raise InvalidInput(
                BAD_PERIOD,
                field="period",
                text=shown[:40],
            )
        return Period(text.strip(), start, end)
    match = PERIOD_RE.match(text.strip())
    if not match or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise InvalidInput(
            BAD_PERIOD,
            field="period",
            text=shown[:40],
        )
    quarter, month = match.group(2), match.group(3)
    return _named(
        int(match.group(1)), int(quarter) if quarter else None, int(month) if month else None
    )


def _named(year: int, quarter: int | None = None, month: int | None = None) -> Period:
    """The year, quarter or month as a period (no bounds check: see parse_period)."""
    if quarter:
        first = 3 * quarter - 2
        return Period(f"{year}-Q{quarter}", date(year, first, 1), _month_end(year, first + 2))
    if month:
        return Period(f"{year}-{month:02d}", date(year, month, 1), _month_end(year, month))
    return Period(str(year), date(year, 1, 1), date(year, 12, 31))


def previous_period(period: Period) -> Period:
    """The period of the same kind just before: last year, last quarter, last month, or the same
    number of days before a custom range."""
    match = PERIOD_RE.match(period.label)
    if match and RANGE_SEPARATOR not in period.label:
        year = int(match.group(1))
        if match.group(2):
            quarter = int(match.group(2))
            year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
            return _named(year, quarter=quarter)
        if match.group(3):
            month = int(match.group(3))
            year, month = (year - 1, 12) if month == 1 else (year, month - 1)
            return _named(year, month=month)
        return _named(year - 1)
    days = (period.end - period.start).days + 1
    end = period.start - timedelta(days=1)
    start = end - timedelta(days=days - 1)
    return Period(f"{start.isoformat()}{RANGE_SEPARATOR}{end.isoformat()}", start, end)


def months_of(period: Period) -> list[int]:
    """The YYYYMM months the period touches, in order."""
    out = []
    year, month = period.start.year, period.start.month
    while year * 100 + month <= period.last_month:
        out.append(year * 100 + month)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def trailing_months(period: Period, count: int = 12) -> Period:
    """The ``count`` whole months ending with the period's last month (for trend charts)."""
    year, month = period.end.year, period.end.month - count + 1
    while month < 1:
        year, month = year - 1, month + 12
    start, end = date(year, month, 1), _month_end(period.end.year, period.end.month)
    return Period(f"{start.isoformat()}{RANGE_SEPARATOR}{end.isoformat()}", start, end)


def local_period(moment: datetime, timezone: str) -> int:
    """The YYYYMM month of ``moment`` in the province's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    return local.year * 100 + local.month


def local_date(moment: datetime, timezone: str) -> date:
    return moment.astimezone(ZoneInfo(timezone)).date()

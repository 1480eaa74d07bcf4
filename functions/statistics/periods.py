"""Statistics periods: calendar windows in the business time zone (`Settings.business_timezone`).

Periods end today: `day` (today), `week` (the last 7 days), `month` (the last 30 days, the default),
`year` (the last 365 days). There is no unbounded "all time" period, so a query's cost follows at
most 366 days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.config import get_settings
from shared.http.errors import ApiError, FieldError

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def zone() -> ZoneInfo:
    return ZoneInfo(get_settings().business_timezone)


def today() -> date:
    return datetime.now(zone()).date()


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone())


@dataclass(frozen=True)
class Window:
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware
    first_day: date
    last_day: date


def period_window(period: str) -> Window:
    if period not in PERIOD_DAYS:
        raise ApiError("validation", errors=[FieldError("period", "must be one of: day, week, month, year")])
    last = today()
    end = local_midnight(last + timedelta(days=1))
    days = PERIOD_DAYS[period]
    first = last - timedelta(days=days - 1)
    return Window(local_midnight(first), end, first, last)


def month_window(year: int, month: int) -> tuple[datetime, datetime]:
    start = local_midnight(date(year, month, 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, local_midnight(nxt)


def year_window(year: int) -> tuple[datetime, datetime]:
    return local_midnight(date(year, 1, 1)), local_midnight(date(year + 1, 1, 1))

"""Trading calendar and intraday sessions of SSE/SZSE/BSE (ASHARE_RULES §4).

Trading days come from `exchange_calendars` XSHG plus `PROJECT_CLOSURES` for years it does not
cover yet; a date beyond both raises `CalendarNotAvailable` rather than guessing (weekend
make-up workdays are never trading days, so holidays cannot be derived from a rule).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# Weekday closures for years past exchange_calendars' data, keyed by year. Add a year only
# from the exchanges' own notice (published each December); a year absent here and beyond
# exchange_calendars is refused.
PROJECT_CLOSURES: Final[Mapping[int, frozenset[date]]] = {}


class CalendarNotAvailable(LookupError):
    """The date lies outside every calendar source we trust."""


class Session(StrEnum):
    """The market phase at a moment; values are API.md's `/trading/status` strings."""

    CLOSED = "closed"
    PRE_OPEN = "pre_open"
    CALL_AUCTION = "call_auction"
    CONTINUOUS = "continuous"
    LUNCH_BREAK = "lunch_break"
    CLOSING_AUCTION = "closing_auction"


# (start, end, session); half-open [start, end). 09:25-09:30 is the pause after the opening
# uncross: the counter takes orders but holds them, as it does before 09:15.
_TIMETABLE: Final = (
    (time(9, 0), time(9, 15), Session.PRE_OPEN),
    (time(9, 15), time(9, 25), Session.CALL_AUCTION),
    (time(9, 25), time(9, 30), Session.PRE_OPEN),
    (time(9, 30), time(11, 30), Session.CONTINUOUS),
    (time(11, 30), time(13, 0), Session.LUNCH_BREAK),
    (time(13, 0), time(14, 57), Session.CONTINUOUS),
    (time(14, 57), time(15, 0), Session.CLOSING_AUCTION),
)
NO_CANCEL_WINDOWS: Final = ((time(9, 20), time(9, 25)), (time(14, 57), time(15, 0)))
OPEN_UNCROSS: Final = time(9, 25)
CLOSE_UNCROSS: Final = time(15, 0)


@functools.cache
def _xshg() -> tuple[date, date, frozenset[date]]:
    import exchange_calendars  # slow import (pandas); only paid when hours are enforced

    # exchange_calendars trips pandas deprecation warnings on construction; they are its
    # business, and our test suite turns warnings into errors.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = exchange_calendars.get_calendar("XSHG")
        days = frozenset(ts.date() for ts in cal.sessions)
        return cal.first_session.date(), cal.last_session.date(), days


class TradingCalendar:
    """Trading days from exchange_calendars XSHG, extended by per-year closure lists."""

    def __init__(self, extra_closures: Mapping[int, Iterable[date]] = PROJECT_CLOSURES) -> None:
        self._extra = {year: frozenset(days) for year, days in extra_closures.items()}

    def is_trading_day(self, day: date) -> bool:
        first, last, days = _xshg()
        if first <= day <= last:
            return day in days
        if day > last and day.year in self._extra:
            return day.weekday() < 5 and day not in self._extra[day.year]
        raise CalendarNotAvailable(
            f"无 {day} 的交易日历 / no trading calendar for {day} "
            f"(exchange_calendars covers {first}..{last}; add the exchange's closures for "
            f"{day.year} to PROJECT_CLOSURES)"
        )

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after `day`."""
        day += timedelta(days=1)
        while not self.is_trading_day(day):
            day += timedelta(days=1)
        return day

    def previous_trading_day(self, day: date) -> date:
        """The last trading day strictly before `day`."""
        day -= timedelta(days=1)
        while not self.is_trading_day(day):
            day -= timedelta(days=1)
        return day


DEFAULT_CALENDAR: Final = TradingCalendar()


def is_trading_day(day: date) -> bool:
    return DEFAULT_CALENDAR.is_trading_day(day)


def to_shanghai(dt: datetime) -> datetime:
    """Exchange local time; a naive datetime is taken to be Beijing time already."""
    return dt.replace(tzinfo=SHANGHAI) if dt.tzinfo is None else dt.astimezone(SHANGHAI)


def phase_at(t: time) -> Session:
    """The session at a wall-clock time of a trading day."""
    for start, end, session in _TIMETABLE:
        if start <= t < end:
            return session
    return Session.CLOSED


def session_at(dt: datetime, calendar: TradingCalendar = DEFAULT_CALENDAR) -> Session:
    """Market phase at `dt` (any timezone): closed on non-trading days and outside hours."""
    local = to_shanghai(dt)
    if not calendar.is_trading_day(local.date()):
        return Session.CLOSED
    return phase_at(local.time().replace(tzinfo=None))


def cancel_allowed_at(t: time) -> bool:
    """Exchanges refuse cancels 09:20-09:25 and in the closing auction (§4.1)."""
    return not any(start <= t < end for start, end in NO_CANCEL_WINDOWS)

"""Trading calendar and intraday sessions of SSE/SZSE/BSE (ASHARE_RULES §4).

Trading days come from `exchange_calendars` XSHG, then `PROJECT_CLOSURES` for years it does not
cover yet, plus the user's closures (`CALENDAR_FILE`, `add_closures`). The calendar never
raises: beyond the known data it assumes Monday-Friday are trading days (minus any closure it
knows) and `assumed(day)` says so, so a caller can report it. Weekend make-up workdays are
never trading days, so the assumption can only be wrong by treating a holiday as open.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

SHANGHAI: Final = ZoneInfo("Asia/Shanghai")

# Weekday closures for years past exchange_calendars' data, keyed by year, from the exchanges'
# own notice (published each December). 2027's notice is not out yet (2026-12-01): the days
# below are only the statutory holidays the 2025 holiday law fixes (元旦 1/1; 春节 除夕-初三,
# 2/5-2/8; 清明 4/5; 端午 6/9; 中秋 9/15; 国庆 10/1-10/3) that fall on weekdays. The make-up
# closures are unknown, so 2027 stays PROVISIONAL: its other weekdays are assumed open.
PROJECT_CLOSURES: Final[Mapping[int, frozenset[date]]] = {
    2027: frozenset({
        date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 4, 5),
        date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1),
    }),
}  # fmt: skip
PROVISIONAL_YEARS: Final = frozenset({2027})


class CalendarNotAvailable(LookupError):
    """Kept for callers written against the old calendar; it is no longer raised."""


def read_closures(path: str | Path) -> frozenset[date]:
    """`CALENDAR_FILE`: one `YYYY-MM-DD` per line; blank lines and `#` comments are skipped.
    Raises ValueError naming the bad line (a start-up configuration error)."""
    out: set[date] = set()
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.add(date.fromisoformat(line))
        except ValueError:
            raise ValueError(f"{path}:{number}: {line!r} is not a YYYY-MM-DD date") from None
    return frozenset(out)


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
    """Trading days from exchange_calendars XSHG, extended by per-year closure lists and the
    user's closures; beyond all of them, weekdays (and `assumed()` says so)."""

    def __init__(
        self,
        extra_closures: Mapping[int, Iterable[date]] = PROJECT_CLOSURES,
        provisional: Iterable[int] = PROVISIONAL_YEARS,
    ) -> None:
        self._extra = {year: frozenset(days) for year, days in extra_closures.items()}
        self._provisional = frozenset(provisional)
        self._user: frozenset[date] = frozenset()
        self._terminal: dict[int, frozenset[date]] = {}  # year -> trading days (live mode)

    def set_terminal_year(self, year: int, trading_days: Iterable[date]) -> None:
        """The terminal's own trading days of `year` (xtdata, live mode): they win over the
        bundled data for that year."""
        self._terminal[year] = frozenset(d for d in trading_days if d.year == year)

    def forget_terminal_years(self) -> None:
        self._terminal.clear()

    def add_closures(self, days: Iterable[date]) -> None:
        """The user's closures (CALENDAR_FILE): closed whatever any other source says."""
        self._user = self._user | frozenset(days)

    def is_trading_day(self, day: date) -> bool:
        if day in self._user:
            return False
        if day.year in self._terminal:
            return day in self._terminal[day.year]
        first, last, days = _xshg()
        if first <= day <= last:
            return day in days
        return day.weekday() < 5 and day not in self._extra.get(day.year, frozenset())

    def known_until(self) -> date:
        """The last day whose answer comes from complete data (not an assumption)."""
        _, last, _ = _xshg()
        year = last.year + 1
        while year in self._terminal or (year in self._extra and year not in self._provisional):
            year += 1
        return date(year - 1, 12, 31) if year > last.year + 1 else last

    def assumed(self, day: date) -> bool:
        """True when `day`'s answer is the weekday assumption, not known data."""
        first, _, _ = _xshg()
        return day > self.known_until() or day < first

    def trading_days(self, start: date, end: date) -> list[date]:
        """Every trading day in [start, end]."""
        out, day = [], start
        while day <= end:
            if self.is_trading_day(day):
                out.append(day)
            day += timedelta(days=1)
        return out

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

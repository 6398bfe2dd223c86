"""The trading calendar as the API shows it: `GET /market/calendar` and the note in
`/trading/status` when today lies beyond the calendar's data (xtquant_adapter.ashare.calendar
never raises; beyond its data it assumes weekdays, and says so here, logged once a day).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta

from loguru import logger

from backend.app.core.errors import ValidationFailed
from backend.app.models.market import TradingDays
from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR

_warned_days: set[date] = set()


def calendar_note(today: date) -> str:
    """Empty while the calendar knows `today`; beyond its data, a note for /trading/status and
    one warning in the log per day."""
    if not DEFAULT_CALENDAR.assumed(today):
        return ""
    known = DEFAULT_CALENDAR.known_until()
    note = (
        f"交易日历仅到 {known}，之后按周一至周五开市推定；请在 CALENDAR_FILE 中补充休市日 / "
        f"calendar data ends {known}: weekdays are assumed open; add closures to CALENDAR_FILE"
    )
    if today not in _warned_days:
        _warned_days.add(today)
        logger.warning("{}", note)
    return note


def trading_days(start: date, end: date) -> TradingDays:
    """`GET /market/calendar`. Raises ValidationFailed for a reversed or over-long range."""
    if end < start or (end - start).days > 3660:
        raise ValidationFailed("end 须不早于 start 且跨度不超过 10 年 / end must not precede "
                               "start and the range may span at most 10 years")  # fmt: skip
    days = DEFAULT_CALENDAR.trading_days(start, end)
    assumed = [d for d in (start, end) if DEFAULT_CALENDAR.assumed(d)]
    first_assumed = None
    if assumed:
        first_assumed = max(start, DEFAULT_CALENDAR.known_until() + timedelta(days=1))
    return TradingDays(start=start, end=end, items=days, assumed_from=first_assumed)


async def load_terminal_calendar(
    fetch: Callable[[int], Awaitable[list[date] | None]], today: date
) -> None:
    """Live mode: this year's and next year's trading days from the terminal (xtdata), where
    it has them; they win over the bundled data. Failures leave the bundled calendar."""
    for year in (today.year, today.year + 1):
        try:
            days = await fetch(year)
        except Exception as exc:
            logger.info("no trading calendar for {} from MiniQMT: {}", year, exc)
            continue
        if days:
            DEFAULT_CALENDAR.set_terminal_year(year, days)

"""Backtest bars: the simulator's seeded market history, or a user's CSV.

Simulator bars come from `xtquant_adapter.sim.market.history` (the same generator that
seeds the live simulator): daily bars over the requested trading days (plus a warm-up of
`WARMUP_DAYS` before `start`, so indicators and the first day's limit band have history),
and for `1m` runs the 240 session minutes of each day, drawn consistently with its daily bar.
Everything depends only on (seed, code, days): the same request gives the same bars.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from typing import Final

from backend.app.models.strategies import unique_codes
from backend.app.services.strategies.bars import BarDataError, BarSeries, check_period, read_csv
from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR, CalendarNotAvailable
from xtquant_adapter.ashare.codes import InvalidStockCode
from xtquant_adapter.sim.market import _minutes_of, history
from xtquant_adapter.sim.universe import BY_CODE

WARMUP_DAYS: Final = 60
DEFAULT_DAYS: Final = {"1d": 250, "1m": 5}
MAX_DAYS: Final = {"1d": 5000, "1m": 60}


def _is_trading_day(day: date) -> bool:
    try:
        return DEFAULT_CALENDAR.is_trading_day(day)
    except CalendarNotAvailable:
        # Past the exchange calendar's data: weekdays stand in (documented limit).
        return day.weekday() < 5


def trading_days(start: date, end: date) -> list[date]:
    days, day = [], start
    while day <= end:
        if _is_trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _back(day: date, n: int) -> date:
    while n > 0:
        day -= timedelta(days=1)
        if _is_trading_day(day):
            n -= 1
    return day


def default_range(
    period: str, start: date | None, end: date | None, today: date
) -> tuple[date, date]:
    """Fill a missing end (the last trading day before `today`) and start (a period's default)."""
    if end is None:
        end = _back(today, 1)
    if start is None:
        start = _back(end, DEFAULT_DAYS[period] - 1)
    if start > end:
        raise BarDataError(f"开始日期晚于结束日期 / start {start} is after end {end}")
    return start, end


def normalize_codes(codes: list[str]) -> list[str]:
    try:
        out = unique_codes(codes)
    except InvalidStockCode as exc:
        raise BarDataError(str(exc)) from None
    if not out:
        raise BarDataError("至少需要一个股票代码 / at least one stock code is needed")
    return out


Bars = dict[str, dict[str, BarSeries]]  # period -> code -> series


def sim_bars(codes: list[str], period: str, start: date, end: date, seed: int) -> Bars:
    """Seeded simulator bars for `codes` from `start` - warm-up to `end`.

    Daily bars always (a minute run reads them through `get_market_data_ex(period='1d')`),
    minute bars for the replayed days of a `1m` run.
    """
    check_period(period)
    days = trading_days(_back(start, WARMUP_DAYS), end)
    in_range = [d for d in days if d >= start]
    if not in_range:
        raise BarDataError(f"{start}~{end} 没有交易日 / no trading day in {start}..{end}")
    if len(in_range) > MAX_DAYS[period]:
        raise BarDataError(
            f"区间过长：{period} 最多 {MAX_DAYS[period]} 个交易日 / range too long for {period}"
        )
    out: Bars = {"1d": {}, "1m": {}} if period == "1m" else {"1d": {}}
    for code in codes:
        inst = BY_CODE.get(code)
        if inst is None:
            raise BarDataError(f"{code} 不在模拟行情中 / {code} is not in the simulated market")
        daily, _ = history(inst, seed, days)
        out["1d"][code] = BarSeries.from_bars(code, "1d", daily)
        if period == "1m":
            # Minutes only for the replayed days; warm-up days give daily history only.
            series = BarSeries(code, "1m")
            for bar, day in zip(daily, days, strict=True):
                if day >= start:
                    # Seeded on purpose: the same request must give the same bars.
                    rng = random.Random(f"{seed}:minutes:{code}:{day.isoformat()}")  # noqa: S311
                    for m in _minutes_of(bar, day, rng, code):
                        series.append(m)
            out["1m"][code] = series
    return out


def csv_bars(path: Path, codes: list[str], period: str) -> Bars:
    """A user's CSV; rows without a `code` column belong to the first requested code."""
    if not path.is_file():
        raise BarDataError(f"找不到 CSV 文件 {path.name} / no such CSV file")
    series = read_csv(path, codes[0], period)
    return {period: {normalize_codes([c])[0]: s for c, s in series.items()}}

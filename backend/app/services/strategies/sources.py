"""Backtest bars: the simulator's seeded market history, or a user's CSV.

Simulator bars are a seeded random walk **on the calendar**: each trading day's bar depends
only on (seed, code, day), anchored at the instrument's level on `ANCHOR` (the catalog's
snapshot date), so moving `--end` shows other days, not the same prices shifted (the live
simulator's `market.history` anchors at its last day instead). Daily bars cover the requested
trading days plus a warm-up of `WARMUP_DAYS` before `start` (indicators and the first day's
limit band have history); `1m` runs add the 240 session minutes of each day, drawn
consistently with its daily bar. Codes come from `sim.catalog` (any valid code: synthetic
ones are reported by the caller).
"""

from __future__ import annotations

import math
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from backend.app.models.strategies import unique_codes
from backend.app.services.strategies.bars import BarDataError, BarSeries, check_period, read_csv
from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR, CalendarNotAvailable
from xtquant_adapter.ashare.codes import InvalidStockCode
from xtquant_adapter.ashare.rules import round_to_tick
from xtquant_adapter.sim.catalog import SNAPSHOT_DATE, instrument
from xtquant_adapter.sim.market import _minutes_of, day_start_ms
from xtquant_adapter.sim.universe import Instrument

WARMUP_DAYS: Final = 250
DEFAULT_DAYS: Final = {"1d": 250, "1m": 5}
MAX_DAYS: Final = {"1d": 5000, "1m": 60}
ANCHOR: Final = SNAPSHOT_DATE


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


def _day_rng(seed: int, code: str, day: date) -> random.Random:
    # Seeded on purpose: the same (seed, code, day) must give the same bar.
    return random.Random(f"{seed}:day:{code}:{day.isoformat()}")  # noqa: S311


def calendar_history(inst: Instrument, seed: int, days: list[date]) -> list[dict[str, Any]]:
    """Daily bars of `days` (ascending trading days) on the calendar-anchored walk."""
    if not days:
        return []
    lo, hi = min(days[0], ANCHOR), max(days[-1], ANCHOR)
    walk = trading_days(_back(lo, 1), hi)
    vol = inst.daily_vol
    log_ret = {d: _day_rng(seed, inst.code, d).gauss(0.0, vol) for d in walk}
    # log close relative to the anchor: sum of returns after the day up to the anchor (past)
    # or of the returns since the anchor (future).
    level: dict[date, float] = {}
    acc = 0.0
    for d in reversed([d for d in walk if d <= ANCHOR]):
        level[d] = -acc
        acc += log_ret[d]
    acc = 0.0
    for d in (d for d in walk if d > ANCHOR):
        acc += log_ret[d]
        level[d] = acc
    base = float(inst.pre_close)
    out = []
    index = {d: i for i, d in enumerate(walk)}
    for day in days:
        rng = _day_rng(seed, inst.code, day)
        rng.gauss(0.0, vol)  # the day's return, already used by the walk
        close = base * math.exp(level[day])
        prev = base * math.exp(level[walk[index[day] - 1]]) if index[day] else close
        o = prev * (1 + rng.gauss(0.0, vol / 4))
        hi_ = max(o, close) * (1 + abs(rng.gauss(0.0, vol / 3)))
        lo_ = min(o, close) * (1 - abs(rng.gauss(0.0, vol / 3)))
        volume = rng.randint(inst.depth_lots * 200, inst.depth_lots * 2000) * 100
        bar: dict[str, Any] = {
            k: round_to_tick(inst.code, Decimal(repr(v)))
            for k, v in (("open", o), ("high", hi_), ("low", lo_), ("close", close))
        }
        bar["high"] = max(bar.values())
        bar["low"] = min(bar["open"], bar["close"], bar["low"])
        out.append(
            {"time": day_start_ms(day), **bar, "volume": volume, "amount": bar["close"] * volume}
        )
    return out


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
        add_code(out, code, period, days, start, seed)
    return out


def add_code(out: Bars, code: str, period: str, days: list[date], start: date, seed: int) -> None:
    """Load one (normalized) code's bars into `out` for the run's days."""
    inst = instrument(code)
    daily = calendar_history(inst, seed, days)
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


def csv_bars(path: Path, codes: list[str], period: str) -> Bars:
    """A user's CSV; rows without a `code` column belong to the first requested code."""
    if not path.is_file():
        raise BarDataError(f"找不到 CSV 文件 {path.name} / no such CSV file")
    series = read_csv(path, codes[0], period)
    return {period: {normalize_codes([c])[0]: s for c, s in series.items()}}

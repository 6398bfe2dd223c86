"""Backtest figures from the equity curve and the closed round trips.

* total_return = final equity / initial cash - 1
* annual_return = (1 + total_return) ** (252 / trading days in the run) - 1
* max_drawdown = max over the curve of 1 - equity / running peak, the initial cash being
  the first peak (a positive fraction; 0 when equity never fell)
* sharpe = mean / sample std (ddof 1) of daily returns x sqrt(252), risk-free rate 0; the
  daily returns are of each trading day's last equity, the first day against the initial
  cash; None with fewer than two days or zero volatility
* win_rate = closed round trips (flat -> position -> flat, fees included) with a positive
  P&L / all closed round trips; None when none closed
* trades_count = fills
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from typing import Any, Final

TRADING_DAYS: Final = 252


def daily_closing_equity(curve: Sequence[tuple[date, float]]) -> list[float]:
    out: list[float] = []
    last_day: date | None = None
    for day, value in curve:
        if day == last_day:
            out[-1] = value
        else:
            out.append(value)
            last_day = day
    return out


def max_drawdown(initial: float, values: Sequence[float]) -> float:
    peak, worst = initial, 0.0
    for v in values:
        peak = max(peak, v)
        if peak > 0:
            worst = max(worst, 1 - v / peak)
    return worst


def sharpe(initial: float, daily: Sequence[float]) -> float | None:
    if len(daily) < 2:
        return None
    prev = [initial, *daily[:-1]]
    rets = [v / p - 1 for v, p in zip(daily, prev, strict=True)]
    mean = sum(rets) / len(rets)
    var = sum((r - mean) ** 2 for r in rets) / (len(rets) - 1)
    if var <= 0:
        return None
    return mean / math.sqrt(var) * math.sqrt(TRADING_DAYS)


def summarize(
    *,
    initial: float,
    curve: Sequence[tuple[date, float]],
    trades: int,
    round_trips: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    values = [v for _, v in curve]
    final = values[-1] if values else initial
    total = final / initial - 1 if initial else 0.0
    daily = daily_closing_equity(curve)
    days = len(daily)
    try:
        annual: float | None = (
            (1 + total) ** (TRADING_DAYS / days) - 1 if days and total > -1 else total
        )
    except OverflowError:
        annual = None  # a short run with a huge gain has no meaningful annual figure
    wins = sum(1 for t in round_trips if t["pnl"] > 0)
    return {
        "total_return": total,
        "annual_return": annual,
        "max_drawdown": max_drawdown(initial, values),
        "sharpe": sharpe(initial, daily),
        "trades_count": trades,
        "win_rate": wins / len(round_trips) if round_trips else None,
        "final_equity": final,
        "trading_days": days,
    }

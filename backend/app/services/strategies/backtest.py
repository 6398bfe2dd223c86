"""Backtest mode: replay bars through `init`/`handlebar` against a separate simulated account.

Never touches the trading account, the journal or the audit log. Deterministic: the bars are
a function of (seed, codes, period, range) or the CSV, and the account has no randomness.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from backend.app.services.strategies import chart, metrics
from backend.app.services.strategies.account import BacktestAccount
from backend.app.services.strategies.bars import (
    BarDataError,
    BarSeries,
    day_start_ms,
    local_dt,
    merge_daily,
    prev_closes,
    trade_date,
)
from backend.app.services.strategies.context import ContextInfo
from backend.app.services.strategies.guard import Guard
from backend.app.services.strategies.loader import load
from backend.app.services.strategies.qmt_api import QmtApi, RunLog
from backend.app.services.strategies.sources import (
    Bars,
    csv_bars,
    default_range,
    normalize_codes,
    sim_bars,
)
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule
from xtquant_adapter.ashare.products import Security
from xtquant_adapter.sim.universe import BY_CODE

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class BacktestSpec:
    name: str
    source: str  # the script's text
    filename: str
    codes: list[str]
    period: str = "1d"
    start: date | None = None
    end: date | None = None
    initial_cash: Decimal = Decimal("1000000")
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)
    csv_path: Path | None = None
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    chart_path: Path | None = None
    today: date | None = None  # default end is the trading day before this


class BacktestMarket:
    """The replay clock: every view is cut at the current bar (`seek`)."""

    def __init__(self, bars: Bars, main: str, period: str) -> None:
        self.bars = bars
        self.period = period
        self.main = bars[period][main]
        self.pos = -1
        self._now = 0
        self._prev = {code: prev_closes(s) for code, s in bars[period].items()}

    def seek(self, pos: int) -> None:
        self.pos = pos
        self._now = self.main.time[pos]

    def now(self) -> int:
        return self._now

    # --- MarketView ----------------------------------------------------------------------

    def history(self, code: str, period: str) -> BarSeries:
        series = self.bars.get(period, {}).get(code)
        if period == self.period:
            return series.slice(0, series.upto(self._now)) if series else BarSeries(code, period)
        if period == "1d" and series is not None:
            # A minute run asking for days: the past days, then today's bar formed so far.
            cut = series.slice(0, series.upto(day_start_ms(trade_date(self._now)) - 1))
            minutes = self.bars[self.period].get(code)
            forming = merge_daily(minutes, minutes.upto(self._now)) if minutes else None
            if forming is not None and trade_date(int(forming["time"])) == trade_date(self._now):
                cut.append(forming)
            return cut
        return BarSeries(code, period)

    def bar_time(self, barpos: int) -> int:
        return self.main.time[barpos]

    def bar_count(self) -> int:
        return len(self.main)

    def is_last_bar(self) -> bool:
        return self.pos == len(self.main) - 1

    def instrument_name(self, code: str) -> str:
        inst = BY_CODE.get(code)
        return inst.name if inst else ""

    # --- PriceSource ---------------------------------------------------------------------

    def _index(self, code: str) -> tuple[BarSeries | None, int]:
        series = self.bars[self.period].get(code)
        return series, (series.upto(self._now) - 1 if series else -1)

    def close(self, code: str) -> float | None:
        series, i = self._index(code)
        return series.close[i] if series is not None and i >= 0 else None

    def fill_close(self, code: str) -> float | None:
        series, i = self._index(code)
        if series is None or i < 0 or series.time[i] != self._now:
            return None
        return series.close[i]

    def prev_close(self, code: str) -> float | None:
        daily = self.bars.get("1d", {}).get(code)
        if daily is not None:
            n = daily.upto(day_start_ms(trade_date(self._now)) - 1)
            return daily.close[n - 1] if n else None
        _, i = self._index(code)
        return self._prev[code][i] if i >= 0 else None

    def is_st(self, code: str) -> bool:
        inst = BY_CODE.get(code)
        return bool(inst and inst.is_st)

    def security(self, code: str) -> Security:
        """Product, ST flag and listing date of `code` (the simulator's universe knows them;
        other codes get the defaults of their code range)."""
        inst = BY_CODE.get(code)
        if inst is None:
            return Security.of(code)
        listed = None if inst.lists_on_first_day else inst.open_date
        return Security(code, inst.product, inst.is_st, listed)


def load_bars(spec: BacktestSpec) -> tuple[Bars, int]:
    """The bars to replay and the index of the first bar handlebar sees."""
    codes = normalize_codes(spec.codes)
    if spec.csv_path is not None:
        bars = csv_bars(spec.csv_path, codes, spec.period)
        main = bars[spec.period].get(codes[0])
        if main is None:
            raise BarDataError(f"CSV 中没有 {codes[0]} 的数据 / the CSV has no rows for {codes[0]}")
        if spec.start or spec.end:
            for code, series in bars[spec.period].items():
                bars[spec.period][code] = series.between(spec.start, spec.end)
        return bars, 0
    start, end = default_range(
        spec.period, spec.start, spec.end, spec.today or datetime.now(SHANGHAI).date()
    )
    bars = sim_bars(codes, spec.period, start, end, spec.seed)
    main = bars[spec.period][codes[0]]
    return bars, main.upto(day_start_ms(start) - 1)


def run_backtest(
    spec: BacktestSpec, guard: Guard, log: RunLog, progress: Progress
) -> dict[str, Any]:
    """Replay; returns the result (a partial one if the run was stopped)."""
    bars, first = load_bars(spec)
    codes = normalize_codes(spec.codes)
    market = BacktestMarket(bars, codes[0], spec.period)
    if first >= len(market.main):
        raise BarDataError("所选区间没有K线 / no bars in the selected range")
    log.clock = lambda: local_dt(market.now()).strftime("%Y-%m-%d %H:%M") if market.pos >= 0 else ""
    account = BacktestAccount(market=market, cash=spec.initial_cash, fees=spec.fees, log=log)
    api = QmtApi(broker=account, guard=guard, log=log, strategy_name=spec.name)
    ctx = ContextInfo(
        market=market,
        guard=guard,
        stock_code=codes[0],
        period=spec.period,
        capital=float(spec.initial_cash),
        params=spec.params,
        universe=codes,
        strategy_name=spec.name,
        account_id=account.account_id,
        backtest=True,
        start=local_dt(market.main.time[first]).strftime("%Y%m%d"),
        end=local_dt(market.main.time[-1]).strftime("%Y%m%d"),
    )
    loaded = guard.call(
        "module", load, spec.source, spec.filename, spec.name, api.globals(), spec.params
    )
    init, handlebar = loaded.entry("init"), loaded.entry("handlebar")
    if init is not None:
        market.seek(first)
        account.roll_to(trade_date(market.now()))
        guard.call("init", init, ctx)
    curve: list[tuple[int, float]] = []
    total = len(market.main) - first
    for i in range(first, len(market.main)):
        if guard.stopping:
            break
        market.seek(i)
        account.roll_to(trade_date(market.now()))
        ctx.barpos = i
        if handlebar is not None:
            guard.call("handlebar", handlebar, ctx)
        curve.append((market.now(), float(account.equity())))
        progress(i - first + 1, total)
    return _result(spec, account, curve, log)


def _result(
    spec: BacktestSpec, account: BacktestAccount, curve: list[tuple[int, float]], log: RunLog
) -> dict[str, Any]:
    initial = float(spec.initial_cash)
    figures = metrics.summarize(
        initial=initial,
        curve=[(trade_date(t), v) for t, v in curve],
        trades=len(account.ledger.trades),
        round_trips=account.ledger.round_trips,
    )
    equity_curve = [[local_dt(t).isoformat(), v] for t, v in curve]
    result: dict[str, Any] = {
        **figures,
        "equity_curve": equity_curve,
        "trades": account.ledger.trades,
        "round_trips": account.ledger.round_trips,
        "fees": float(account.ledger.fees),
        "initial_cash": initial,
        "seed": None if spec.csv_path else spec.seed,
        "codes": normalize_codes(spec.codes),
        "period": spec.period,
        "bars": len(curve),
        "log": list(log.lines),
        "chart": None,
    }
    if spec.chart_path is not None and equity_curve:
        chart.render(spec.chart_path, f"{spec.name} backtest", equity_curve, initial)
        result["chart"] = spec.chart_path.name
    return result

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
from typing import TYPE_CHECKING, Any

from backend.app.services.strategies import chart, metrics
from backend.app.services.strategies.account import BacktestAccount
from backend.app.services.strategies.bars import (
    BarDataError,
    BarSeries,
    day_start_ms,
    label_ms,
    local_dt,
    merge_daily,
    prev_closes,
    trade_date,
)
from backend.app.services.strategies.guard import Guard
from backend.app.services.strategies.hooks import ScriptHooks
from backend.app.services.strategies.loader import load as load_script
from backend.app.services.strategies.paints import Paints
from backend.app.services.strategies.qmt_api import QmtApi
from backend.app.services.strategies.runlog import RunLog
from backend.app.services.strategies.sources import (
    Bars,
    add_code,
    csv_bars,
    default_range,
    normalize_codes,
    sim_bars,
)
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule
from xtquant_adapter.ashare.products import Security
from xtquant_adapter.ashare.rules import price_tick
from xtquant_adapter.sim.catalog import instrument, known, sector_members

if TYPE_CHECKING:  # pandas (~60 MB) loads with the first strategy run, not at start-up
    from backend.app.services.strategies.context import ContextInfo

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
    """The replay clock: every view is cut at the current bar (`seek`).

    Codes a script names that the run did not load are loaded on first use (`load`), so
    `set_universe`, sectors and `get_market_data_ex(stock_code=[...])` see bars for them.
    """

    def __init__(
        self,
        bars: Bars,
        main: str,
        period: str,
        load: Callable[[str], bool] = lambda _code: False,
    ) -> None:
        self.bars = bars
        self.period = period
        self.main = bars[period][main]
        self.pos = -1
        self._now = 0
        self._load = load
        self._prev = {code: prev_closes(s) for code, s in bars[period].items()}

    def seek(self, pos: int) -> None:
        self.pos = pos
        self._now = self.main.time[pos]

    def now(self) -> int:
        return self._now

    def ensure(self, code: str) -> bool:
        if code in self.bars[self.period]:
            return True
        if not self._load(code):
            return False
        self._prev[code] = prev_closes(self.bars[self.period][code])
        return True

    # --- MarketView ----------------------------------------------------------------------

    def history(self, code: str, period: str) -> BarSeries:
        self.ensure(code)
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
        return instrument(code).name

    def sector(self, name: str) -> list[str] | None:
        members = sector_members(name)
        return None if members is None else list(members)

    def detail(self, code: str) -> dict[str, Any] | None:
        inst = instrument(code)
        prev = self.prev_close(code) if self.ensure(code) else None
        return {
            "ExchangeID": code.split(".")[1], "InstrumentID": code.split(".")[0],
            "InstrumentName": inst.name, "OpenDate": inst.open_date.strftime("%Y%m%d"),
            "PreClose": prev, "FloatVolume": inst.float_volume,
            "TotalVolume": inst.float_volume, "PriceTick": float(price_tick(code)),
            "IsTrading": True,
        }  # fmt: skip

    def full_tick(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        """The current bar of each code as a snapshot (no book in bars: all levels at close)."""
        out: dict[str, dict[str, Any]] = {}
        for code in codes:
            if not self.ensure(code):
                continue
            series, i = self._index(code)
            if series is None or i < 0:
                continue
            close = series.close[i]
            out[code] = {
                "time": label_ms(series.time[i], self.period),
                "timetag": local_dt(label_ms(series.time[i], self.period)).strftime(
                    "%Y%m%d %H:%M:%S"
                ),
                "lastPrice": close, "open": series.open[i], "high": series.high[i],
                "low": series.low[i], "lastClose": self.prev_close(code) or close,
                "volume": series.volume[i], "amount": series.amount[i],
                "askPrice": [close] * 5, "bidPrice": [close] * 5,
                "askVol": [0] * 5, "bidVol": [0] * 5,
            }  # fmt: skip
        return out

    # --- PriceSource ---------------------------------------------------------------------

    def _index(self, code: str) -> tuple[BarSeries | None, int]:
        series = self.bars[self.period].get(code)
        return series, (series.upto(self._now) - 1 if series else -1)

    def close(self, code: str) -> float | None:
        series, i = self._index(code)
        return series.close[i] if series is not None and i >= 0 else None

    def fill_close(self, code: str) -> float | None:
        self.ensure(code)
        series, i = self._index(code)
        if series is None or i < 0 or series.time[i] != self._now:
            return None
        return series.close[i]

    def fill_range(self, code: str) -> tuple[float, float] | None:
        series, i = self._index(code)
        if series is None or i < 0 or series.time[i] != self._now:
            return None
        return series.low[i], series.high[i]

    def prev_close(self, code: str) -> float | None:
        daily = self.bars.get("1d", {}).get(code)
        if daily is not None:
            n = daily.upto(day_start_ms(trade_date(self._now)) - 1)
            return daily.close[n - 1] if n else None
        _, i = self._index(code)
        return self._prev[code][i] if i >= 0 else None

    def is_st(self, code: str) -> bool:
        return instrument(code).is_st

    def security(self, code: str) -> Security:
        """Product, ST flag and listing date of `code`, from the simulator's catalog."""
        inst = instrument(code)
        listed = None if inst.lists_on_first_day else inst.open_date
        return Security(code, inst.kind, inst.is_st, listed)


def load_bars(spec: BacktestSpec, log: RunLog) -> tuple[Bars, int, Callable[[str], bool]]:
    """The bars to replay, the index of the first bar handlebar sees, and the loader of
    codes the script names later."""
    codes = normalize_codes(spec.codes)
    if spec.csv_path is not None:
        bars = csv_bars(spec.csv_path, codes, spec.period)
        main = bars[spec.period].get(codes[0])
        if main is None:
            raise BarDataError(f"CSV 中没有 {codes[0]} 的数据 / the CSV has no rows for {codes[0]}")
        if spec.start or spec.end:
            for code, series in bars[spec.period].items():
                bars[spec.period][code] = series.between(spec.start, spec.end)

        def not_in_csv(code: str) -> bool:
            log.write(f"CSV 中没有 {code}，无行情 / {code} is not in the CSV: no data")
            return False

        return bars, 0, not_in_csv
    start, end = default_range(
        spec.period, spec.start, spec.end, spec.today or datetime.now(SHANGHAI).date()
    )
    bars = sim_bars(codes, spec.period, start, end, spec.seed)
    for code in codes:
        _note_synthetic(code, log)
    days = [trade_date(t) for t in bars["1d"][codes[0]].time]

    def load(code: str) -> bool:
        _note_synthetic(code, log)
        add_code(bars, code, spec.period, days, start, spec.seed)
        return True

    main = bars[spec.period][codes[0]]
    return bars, main.upto(day_start_ms(start) - 1), load


def _note_synthetic(code: str, log: RunLog) -> None:
    if not known(code):
        log.write(
            f"{code} 不在模拟行情目录中，使用按代码生成的合成行情 / {code} is not in the "
            "simulator's catalog: synthetic seeded bars"
        )


def run_backtest(
    spec: BacktestSpec, guard: Guard, log: RunLog, progress: Progress
) -> dict[str, Any]:
    """Replay; returns the result (a partial one if the run was stopped)."""
    bars, first, load = load_bars(spec, log)
    codes = normalize_codes(spec.codes)
    market = BacktestMarket(bars, codes[0], spec.period, load)
    if first >= len(market.main):
        raise BarDataError("所选区间没有K线 / no bars in the selected range")
    log.clock = lambda: (
        local_dt(label_ms(market.now(), spec.period)).strftime("%Y-%m-%d %H:%M")
        if market.pos >= 0
        else ""
    )
    account = BacktestAccount(market=market, cash=spec.initial_cash, fees=spec.fees, log=log)
    api = QmtApi(
        broker=account, guard=guard, log=log, strategy_name=spec.name, sector=market.sector
    )
    paints = Paints()
    start_label = local_dt(market.main.time[first]).strftime("%Y%m%d")
    end_label = local_dt(market.main.time[-1]).strftime("%Y%m%d")
    from backend.app.services.strategies.context import ContextInfo  # brings pandas

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
        start=start_label,
        end=end_label,
        log=log.write,
        paints=paints,
    )
    script_globals = {**api.globals(), "ContextInfo": ctx}
    loaded = guard.call(
        "module", load_script, spec.source, spec.filename, spec.name, script_globals, spec.params
    )
    hooks = ScriptHooks(loaded, ctx, guard)
    account.on_event = hooks.emit
    init, handlebar = loaded.entry("init"), loaded.entry("handlebar")
    market.seek(first)
    account.roll_to(trade_date(market.now()))
    ctx.barpos = first
    if init is not None:
        guard.call("init", init, ctx)
    _apply_capital(ctx, account, log)
    if (ctx.start, ctx.end) != (start_label, end_label):
        log.write(
            "C.start/C.end 在 init 中的赋值不改变回测区间，请用 start/end 参数 / setting "
            "C.start or C.end does not change the backtest range: use the run's start/end"
        )
    hooks.after_init()
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
        hooks.after_bar()
        curve.append((market.now(), float(account.equity())))
        progress(i - first + 1, total)
    if not guard.stopping:
        hooks.stop()
    return _result(spec, account, curve, log, paints)


def _apply_capital(ctx: ContextInfo, account: BacktestAccount, log: RunLog) -> None:
    """QMT takes the backtest's capital from `C.capital` set in init."""
    try:
        capital = Decimal(str(float(ctx.capital)))
    except (TypeError, ValueError):
        return
    if capital > 0 and capital != account.initial_cash and account.reset_cash(capital):
        log.write(f"初始资金取自 C.capital = {capital} / initial cash from C.capital")


def _result(
    spec: BacktestSpec,
    account: BacktestAccount,
    curve: list[tuple[int, float]],
    log: RunLog,
    paints: Paints,
) -> dict[str, Any]:
    initial = float(account.initial_cash)
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
        "paint": {
            name: [[local_dt(t).isoformat(), v] for t, v in points]
            for name, points in paints.series.items()
        },
        "marks": [{**m, "time": local_dt(m["time"]).isoformat()} for m in paints.marks],
        "chart": None,
    }
    if spec.chart_path is not None and equity_curve:
        chart.render(
            spec.chart_path, f"{spec.name} backtest", equity_curve, initial,
            result["paint"], result["marks"],
        )  # fmt: skip
        result["chart"] = spec.chart_path.name
    return result

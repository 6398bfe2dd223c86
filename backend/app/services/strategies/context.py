"""`ContextInfo` (the `C` a script receives) and the market view behind it.

The view never shows a bar that starts after the current bar (no look-ahead); for a daily
request during a minute run, the current day's bar is the one forming so far.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from backend.app.services.strategies.bars import (
    BarSeries,
    check_period,
    parse_when,
    prev_closes,
    timetag,
)
from backend.app.services.strategies.guard import Guard, StrategyError
from backend.app.services.strategies.records import split_code
from xtquant_adapter.ashare.codes import InvalidStockCode, normalize_code

ALL_FIELDS: Final = (
    "time", "open", "high", "low", "close", "volume", "amount", "preClose", "suspendFlag",
)  # fmt: skip


class MarketView(Protocol):
    """What C reads market data from, cut at the current bar."""

    def history(self, code: str, period: str) -> BarSeries: ...
    def bar_time(self, barpos: int) -> int: ...
    def bar_count(self) -> int: ...
    def is_last_bar(self) -> bool: ...
    def instrument_name(self, code: str) -> str: ...


class ContextInfo:
    """QMT's `ContextInfo`: attributes the runner keeps current, methods scripts call.

    Scripts may set their own attributes on it (`C.ma_short = 5`), as in QMT.
    """

    def __init__(
        self,
        *,
        market: MarketView,
        guard: Guard,
        stock_code: str,
        period: str,
        capital: float,
        params: dict[str, Any],
        universe: Sequence[str],
        strategy_name: str,
        account_id: str,
        backtest: bool,
        start: str = "",
        end: str = "",
    ) -> None:
        self._market = market
        self._guard = guard
        self.barpos = -1
        self.stock_code = stock_code
        self.stockcode, self.market = split_code(stock_code)
        self.period = period
        self.capital = capital
        self.params = dict(params)
        self.strategy_name = strategy_name
        self.accountid = account_id
        self.do_back_test = backtest
        self.start = start
        self.end = end
        self._universe = list(universe)

    # --- bar position ---------------------------------------------------------------------

    def is_last_bar(self) -> bool:
        return self._market.is_last_bar()

    def is_new_bar(self) -> bool:
        # Every handlebar call here is for a new bar: the runner never re-calls a bar.
        return True

    def get_bar_timetag(self, barpos: int) -> int:
        """Start of bar `barpos` in epoch ms (only bars up to the current one)."""
        if not 0 <= barpos <= max(self.barpos, 0) or barpos >= self._market.bar_count():
            return 0
        return self._market.bar_time(barpos)

    # --- universe and names ---------------------------------------------------------------

    def set_universe(self, codes: Sequence[str]) -> None:
        self._universe = [str(c) for c in codes]

    def get_universe(self) -> list[str]:
        return list(self._universe)

    def set_account(self, account_id: str) -> None:
        # QMT binds the script to an account here; a run already has exactly one.
        self.accountid = account_id or self.accountid

    def get_stock_name(self, code: str) -> str:
        try:
            return self._market.instrument_name(normalize_code(code))
        except InvalidStockCode:
            return ""

    # --- market data ----------------------------------------------------------------------

    def get_market_data_ex(
        self,
        fields: Sequence[str] = (),
        stock_code: Sequence[str] | str = (),
        period: str = "follow",
        start_time: str = "",
        end_time: str = "",
        count: int = -1,
        dividend_type: str = "follow",
        fill_data: bool = True,
        subscribe: bool = True,
    ) -> dict[str, Any]:
        """`{code: DataFrame}` indexed by timetag, one column per field, oldest first.

        Only bars up to the current bar. `dividend_type`, `fill_data` and `subscribe` are
        accepted and ignored (the simulator has no corporate actions or gaps).
        """
        self._guard.checkpoint()
        import pandas as pd  # type: ignore[import-untyped]  # heavy; only runs pay for it

        codes = [stock_code] if isinstance(stock_code, str) else list(stock_code)
        codes = codes or [self.stock_code]
        period = self.period if period in ("follow", "", None) else str(period)
        try:
            check_period(period)
        except ValueError as exc:
            raise StrategyError(str(exc)) from None
        wanted = list(fields) or list(ALL_FIELDS)
        unknown = [f for f in wanted if f not in ALL_FIELDS]
        if unknown:
            raise StrategyError(f"不支持的字段 {unknown} / unsupported fields; use {ALL_FIELDS}")
        out: dict[str, Any] = {}
        for raw in codes:
            try:
                series = self._market.history(normalize_code(raw), period)
            except InvalidStockCode:
                series = BarSeries(str(raw), period)
            lo, hi = _window(series, start_time, end_time, count)
            # Columns come from the whole visible history so the first preClose is known.
            columns = {k: v[lo:hi] for k, v in _columns(series, wanted).items()}
            index = [timetag(t, period) for t in series.time[lo:hi]]
            out[raw] = pd.DataFrame(columns, index=index, columns=wanted)
        return out


def _window(series: BarSeries, start_time: str, end_time: str, count: int) -> tuple[int, int]:
    lo, hi = 0, len(series)
    if start_time:
        lo = series.upto(parse_when(start_time) - 1)
    if end_time:
        hi = series.upto(parse_when(end_time, end_of_day=len(str(end_time)) == 8))
    if count is not None and count >= 0:
        lo = max(lo, hi - count)
    return lo, max(lo, hi)


def _columns(series: BarSeries, wanted: list[str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {}
    for name in wanted:
        if name == "preClose":
            pcs = prev_closes(series) if series.period == "1m" else [None, *series.close[:-1]]
            cols[name] = [float("nan") if p is None else p for p in pcs]
        elif name == "suspendFlag":
            cols[name] = [0] * len(series)
        else:
            cols[name] = list(getattr(series, name))
    return cols

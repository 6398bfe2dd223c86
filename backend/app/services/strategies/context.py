"""`ContextInfo` (the `C` a script receives) and the market view behind it.

The view never shows a bar that starts after the current bar (no look-ahead); for a daily
request during a minute run, the current day's bar is the one forming so far. Bar labels
(`get_bar_timetag`, the frames' index and `time`) follow QMT: a daily bar is its day at
00:00, a minute bar is labelled by its **end** (09:31 for 09:30-09:31, 15:00 for the last).

Legacy data calls (`get_history_data`, `get_market_data`, `get_close_price`) return the
shapes QMT documents; frames are `pandas_compat` frames (QMT-era numpy/pandas behaviour).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Final, Protocol

from backend.app.services.strategies.bars import (
    BarSeries,
    check_period,
    label_ms,
    parse_when,
    prev_closes,
    start_of_label,
    timetag,
)
from backend.app.services.strategies.guard import Guard, StrategyError
from backend.app.services.strategies.paints import Paints
from backend.app.services.strategies.pandas_compat import QmtFrame, QmtSeries
from backend.app.services.strategies.qmt_names import UNSUPPORTED_CONTEXT, unsupported
from backend.app.services.strategies.records import split_code
from xtquant_adapter.ashare.codes import InvalidStockCode, normalize_code

ALL_FIELDS: Final = (
    "time", "open", "high", "low", "close", "volume", "amount", "preClose", "suspendFlag",
)  # fmt: skip
PERIOD_OF_MS: Final = {86_400_000: "1d", 60_000: "1m"}


class MarketView(Protocol):
    """What C reads market data from, cut at the current bar."""

    def history(self, code: str, period: str) -> BarSeries: ...
    def bar_time(self, barpos: int) -> int: ...
    def bar_count(self) -> int: ...
    def is_last_bar(self) -> bool: ...
    def instrument_name(self, code: str) -> str: ...
    def now(self) -> int: ...
    def sector(self, name: str) -> list[str] | None: ...
    def detail(self, code: str) -> dict[str, Any] | None: ...
    def full_tick(self, codes: list[str]) -> dict[str, dict[str, Any]]: ...


def _codes(stock_code: Sequence[str] | str) -> list[str]:
    return [stock_code] if isinstance(stock_code, str) else [str(c) for c in stock_code]


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
        log: Callable[[str], None] = lambda _text: None,
        paints: Paints | None = None,
    ) -> None:
        self._market = market
        self._guard = guard
        self._log = log
        self._said: set[str] = set()
        self.paints = paints or Paints()
        self.subscriptions: dict[int, tuple[list[str], str, Callable[..., Any]]] = {}
        self.barpos = -1
        self.stock_code = stock_code
        self.stockcode, self.market = split_code(stock_code)
        self.period = period
        self.capital = capital
        self.params = dict(params)
        self.strategy_name = strategy_name
        self.accountid = self.accID = self.accid = account_id
        self.do_back_test = backtest
        self.start = start
        self.end = end
        self.dividend_type = "none"
        self.benchmark = "000300.SH"
        self._universe = list(universe)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not set on the instance or the class.
        if name in UNSUPPORTED_CONTEXT:
            return unsupported(f"ContextInfo.{name}", self._log)
        raise AttributeError(f"'ContextInfo' object has no attribute '{name}'")

    def say_once(self, text: str) -> None:
        if text not in self._said:
            self._said.add(text)
            self._log(text)

    # --- bar position ---------------------------------------------------------------------

    def is_last_bar(self) -> bool:
        return self._market.is_last_bar()

    def is_new_bar(self) -> bool:
        # Every handlebar call here is for a new bar: the runner never re-calls a bar.
        return True

    def get_bar_timetag(self, barpos: int) -> int:
        """Label of bar `barpos` in epoch ms (0 outside the bars up to the current one)."""
        barpos = int(barpos)
        if not 0 <= barpos <= max(self.barpos, 0) or barpos >= self._market.bar_count():
            return 0
        return label_ms(self._market.bar_time(barpos), self.period)

    def get_tick_timetag(self) -> int:
        return label_ms(self._market.now(), self.period)

    @property
    def time_tick_size(self) -> int:
        return self._market.bar_count()

    # --- universe, sectors and names ------------------------------------------------------

    def set_universe(self, codes: Sequence[str]) -> None:
        self._universe = _codes(codes)

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

    def get_stock_list_in_sector(self, sectorname: str, realtime: Any = -1) -> list[str]:
        """Members of a sector (沪深300, 上证50, 中证500, 沪深A股, ...); [] if unknown."""
        self._guard.checkpoint()
        members = self._market.sector(str(sectorname))
        if members is None:
            self.say_once(f"未知板块 {sectorname!r}，返回空列表 / unknown sector: empty list")
            return []
        return list(members)

    def get_sector(self, sector: str, realtime: Any = -1) -> list[str]:
        """Members of an index by its code (000300.SH, 000016.SH, 000905.SH)."""
        return self.get_stock_list_in_sector(sector, realtime)

    def get_instrumentdetail(self, code: str) -> dict[str, Any]:
        self._guard.checkpoint()
        try:
            detail = self._market.detail(normalize_code(code))
        except InvalidStockCode:
            detail = None
        return dict(detail or {})

    get_instrument_detail = get_instrumentdetail

    def get_last_volume(self, code: str) -> int:
        return int(self.get_instrumentdetail(code).get("FloatVolume") or 0)

    def is_suspended_stock(self, code: str, type: int = 0) -> bool:
        """True when the code has no bar at the current time."""
        series = self._history(code, self.period)
        return not len(series) or series.time[-1] != self._market.now()

    def get_trading_dates(
        self, stockcode: str = "", start_date: str = "", end_date: str = "", count: int = -1,
        period: str = "1d",
    ) -> list[str]:  # fmt: skip
        """Trading days (YYYYMMDD) of `stockcode`'s daily bars up to the current bar."""
        series = self._history(stockcode or self.stock_code, "1d")
        lo, hi = _window(series, start_date, end_date, int(count))
        return [timetag(t, "1d") for t in series.time[lo:hi]]

    def get_full_tick(self, stock_code: Sequence[str] | str = ()) -> dict[str, dict[str, Any]]:
        """Snapshots (lastPrice, open, high, low, lastClose, askPrice[5], bidPrice[5], ...)."""
        self._guard.checkpoint()
        codes = []
        for raw in _codes(stock_code) or [self.stock_code]:
            try:
                codes.append(normalize_code(raw))
            except InvalidStockCode:
                self.say_once(f"无效代码 {raw!r} / invalid code")
        return self._market.full_tick(codes)

    # --- settings QMT's backtest panel takes (accepted; our fees and fills apply) ----------

    def set_slippage(self, *args: Any) -> None:
        self.say_once("set_slippage 已忽略：回测按K线价格成交 / ignored: fills at bar prices")

    def set_commission(self, *args: Any) -> None:
        self.say_once(
            "set_commission 已忽略：费用取自服务器费率 / ignored: the server's fee schedule"
        )

    def set_benchmark(self, code: str) -> None:
        self.benchmark = code

    # --- drawing --------------------------------------------------------------------------

    def _now_label(self) -> int:
        return label_ms(self._market.now(), self.period)

    def paint(self, name: str, value: Any, index: int = -1, line_style: Any = 0, *_: Any,
              **__: Any) -> None:  # fmt: skip
        """Record `value` under `name` at the current bar (QMT plots it on its chart)."""
        self.paints.paint(str(name), self._now_label(), value)

    def draw_text(self, condition: Any, position: Any, text: Any, *_: Any, **__: Any) -> None:
        if condition:
            self.paints.mark("text", self._now_label(), position=position, text=str(text))

    def draw_number(self, condition: Any, position: Any, number: Any, *_: Any, **__: Any) -> None:
        if condition:
            self.paints.mark("number", self._now_label(), position=position, number=number)

    def draw_vertline(self, condition: Any, *_: Any, **__: Any) -> None:
        if condition:
            self.paints.mark("vertline", self._now_label())

    def draw_icon(self, condition: Any, position: Any, type: Any = 0, *_: Any,
                  **__: Any) -> None:  # fmt: skip
        if condition:
            self.paints.mark("icon", self._now_label(), position=position, icon=type)

    # --- subscriptions --------------------------------------------------------------------

    def subscribe_quote(self, stock_code: str, period: str = "follow",
                        dividend_type: str = "follow", result_type: str = "",
                        callback: Callable[..., Any] | None = None) -> int:  # fmt: skip
        """Call `callback({code: bar})` at every bar (QMT pushes on every quote)."""
        if callback is None:
            raise StrategyError("subscribe_quote 需要 callback / callback is required")
        sub_id = len(self.subscriptions) + 1
        period = self.period if period in ("follow", "", None) else str(period)
        self.subscriptions[sub_id] = (_codes(stock_code), period, callback)
        return sub_id

    def unsubscribe_quote(self, subscribe_id: int) -> None:
        self.subscriptions.pop(int(subscribe_id), None)

    def quote_for(self, codes: list[str], period: str) -> dict[str, dict[str, Any]]:
        """The latest bar of each code as a subscribe_quote callback receives it."""
        out: dict[str, dict[str, Any]] = {}
        for raw in codes:
            series = self._history(raw, period)
            if not len(series):
                continue
            row = {k: v[-1] for k, v in _columns(series, list(ALL_FIELDS)).items()}
            out[raw] = {**row, "time": label_ms(series.time[-1], period)}
        return out

    # --- market data ----------------------------------------------------------------------

    def _period(self, period: Any) -> str:
        period = self.period if period in ("follow", "", None) else str(period)
        try:
            return check_period(period)
        except ValueError as exc:
            raise StrategyError(str(exc)) from None

    def _history(self, raw: str, period: str) -> BarSeries:
        self._guard.checkpoint()
        try:
            code = normalize_code(str(raw))
        except InvalidStockCode as exc:
            self.say_once(f"无效代码 {raw!r}，无行情 / invalid code, no data: {exc}")
            return BarSeries(str(raw), period)
        return self._market.history(code, period)

    def get_history_data(
        self, len: int, period: str, field: str, dividend_type: Any = 0,
        skip_paused: bool = True,
    ) -> dict[str, list[Any]]:  # fmt: skip
        """`{code: [values]}` of `field` for every code of the universe: the last `len` bars
        up to the current one (QMT's legacy call; call set_universe first)."""
        period = self._period(period)
        if not isinstance(field, str) or field not in ALL_FIELDS:
            raise StrategyError(
                f"get_history_data 的 field 须为 {ALL_FIELDS} 之一 / field {field!r} unsupported"
            )
        out: dict[str, list[Any]] = {}
        for code in self._universe:
            series = self._history(code, period)
            if not series:
                continue
            values = _columns(series, [field])[field]
            out[code] = list(values[-int(len) :]) if int(len) > 0 else []
        return out

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
        period = self._period(period)
        wanted = list(fields) or list(ALL_FIELDS)
        _check_fields(wanted)
        out: dict[str, Any] = {}
        for raw in _codes(stock_code) or [self.stock_code]:
            out[raw] = _frame(self._history(raw, period), wanted, start_time, end_time, count)
        return out

    def get_market_data(
        self,
        fields: Sequence[str] | str = (),
        stock_code: Sequence[str] | str = (),
        start_time: str = "",
        end_time: str = "",
        skip_paused: bool = True,
        period: str = "follow",
        dividend_type: str = "follow",
        count: int = -1,
    ) -> Any:
        """QMT's legacy call, with its documented return shapes.

        One time point (count -1 and no range: the current bar; or count 1): one code and one
        field -> float; one code, several fields -> Series by field; several codes ->
        DataFrame (codes x fields). Several time points: one code -> DataFrame (time x
        fields); several codes -> `{code: DataFrame}` (QMT returned a pandas.Panel, which
        pandas no longer has; indexing by code works the same).
        """
        period = self._period(period)
        wanted = _codes(fields) or ["open", "high", "low", "close", "volume", "amount"]
        _check_fields(wanted)
        codes = _codes(stock_code) or [self.stock_code]
        if not isinstance(count, int):
            count = -1
        single_point = (count == -1 and not start_time and not end_time) or count == 1
        frames = {
            raw: _frame(
                self._history(raw, period), wanted, start_time, end_time,
                1 if single_point else count,
            )
            for raw in codes
        }  # fmt: skip
        if not single_point:
            return frames[codes[0]] if len(codes) == 1 else frames
        rows = {raw: (f.iloc[-1] if len(f) else None) for raw, f in frames.items()}
        if len(codes) == 1:
            row = rows[codes[0]]
            if row is None:
                return math.nan if len(wanted) == 1 else QmtSeries(math.nan, index=wanted)
            return float(row.iloc[0]) if len(wanted) == 1 else QmtSeries(row)
        return QmtFrame(
            {raw: (row if row is not None else [math.nan] * len(wanted))
             for raw, row in rows.items()},
            index=wanted,
        ).T  # fmt: skip

    def get_close_price(
        self, market: str, stockCode: str, realTimetag: Any, period: int = 86_400_000,
        dividType: int = 0,
    ) -> float:  # fmt: skip
        """Close of the bar labelled at or before `realTimetag` (ms); NaN if none."""
        code = f"{stockCode}.{market}" if stockCode and market else self.stock_code
        if stockCode and not market:
            code = stockCode
        period_name = PERIOD_OF_MS.get(int(period))
        if period_name is None:
            raise StrategyError(
                f"get_close_price 的周期 {period} ms 不支持（86400000 日线、60000 分钟）"
                " / unsupported period"
            )
        series = self._history(code, period_name)
        when = int(realTimetag)
        labels = [label_ms(t, period_name) for t in series.time]
        n = sum(1 for t in labels if t <= when)
        return series.close[n - 1] if n else math.nan


def _check_fields(wanted: list[str]) -> None:
    unknown = [f for f in wanted if f not in ALL_FIELDS]
    if unknown:
        raise StrategyError(f"不支持的字段 {unknown} / unsupported fields; use {ALL_FIELDS}")


def _frame(
    series: BarSeries, wanted: list[str], start_time: Any, end_time: Any, count: int
) -> QmtFrame:
    lo, hi = _window(series, start_time, end_time, count)
    # Columns come from the whole visible history so the first preClose is known.
    columns = {k: v[lo:hi] for k, v in _columns(series, wanted).items()}
    index = [timetag(t, series.period) for t in series.time[lo:hi]]
    return QmtFrame(columns, index=index, columns=wanted)


def _window(series: BarSeries, start_time: Any, end_time: Any, count: int) -> tuple[int, int]:
    # Times a script passes are labels; a minute bar is labelled one minute after its start.
    lo, hi = 0, len(series)
    if start_time:
        lo = series.upto(start_of_label(parse_when(start_time), series.period) - 1)
    if end_time:
        when = parse_when(end_time, end_of_day=len(str(end_time)) == 8)
        hi = series.upto(start_of_label(when, series.period))
    if count is not None and count >= 0:
        lo = max(lo, hi - count)
    return lo, max(lo, hi)


def _columns(series: BarSeries, wanted: list[str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {}
    for name in wanted:
        if name == "preClose":
            pcs = prev_closes(series) if series.period == "1m" else [None, *series.close[:-1]]
            cols[name] = [math.nan if p is None else p for p in pcs]
        elif name == "suspendFlag":
            cols[name] = [0] * len(series)
        elif name == "time":
            cols[name] = [label_ms(t, series.period) for t in series.time]
        else:
            cols[name] = list(getattr(series, name))
    return cols

"""The QMT functions a script sees as globals, bound to one run's broker and guard.

Supported (see docs/strategy_guide.md for the table): `passorder` (every stock prType,
orderType 1101/1102/1113/1123), `order_shares`, `order_lots`, `order_value`, `order_percent`,
`order_target_value`, `order_target_percent`, `cancel`, `get_trade_detail_data`,
`get_last_order_id`, `get_value_by_order_id`, `get_stock_list_in_sector`,
`download_history_data` (a no-op: data is always local), `timetag_to_datetime`, plus
`account`/`accountType`, `print` (captured into the run log) and the user's parameters. QMT
functions this runner lacks (`qmt_names`) say so by name. Business rejections (lot size,
cash, T+1, limit price, risk rules) are logged in the run and the script goes on, as in QMT.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from backend.app.services.strategies.guard import Guard, StrategyError
from backend.app.services.strategies.qmt_names import UNSUPPORTED_GLOBALS, unsupported
from backend.app.services.strategies.records import (
    AccountRecord,
    DealRecord,
    OrderRecord,
    PositionRecord,
)
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.codes import InvalidStockCode, normalize_code
from xtquant_adapter.ashare.rules import lot_rule

Side = Literal["buy", "sell"]

OP_TYPES: Final[dict[int, Side]] = {xc.STOCK_BUY: "buy", xc.STOCK_SELL: "sell"}
# QMT's prType (下单选价类型) for stocks: 0-4 卖5..卖1, 5 最新价, 6-10 买1..买5, 11 指定价,
# 12 涨跌停价, 13 挂单价 (本方最优), 14 对手价, 42-48 the exchanges' market order types.
PRICE_TYPES: Final = frozenset({*range(0, 15), *range(42, 49)})
ORDER_VOLUME: Final = 1101  # 单股、单账号、普通、股/手方式: volume is in shares
ORDER_AMOUNT: Final = 1102  # 单股、单账号、普通、金额方式: volume is CNY
ORDER_TOTAL_RATIO: Final = 1113  # 单股、单账号、总资产、比例 [0~1]
ORDER_AVAILABLE_RATIO: Final = 1123  # 单股、单账号、可用、比例 [0~1]
ORDER_TYPES: Final = frozenset(
    {ORDER_VOLUME, ORDER_AMOUNT, ORDER_TOTAL_RATIO, ORDER_AVAILABLE_RATIO}
)
# xtconstant order statuses still open at the counter (可撤): unreported .. partly filled.
OPEN_STATUSES: Final = frozenset({
    xc.ORDER_UNREPORTED, xc.ORDER_WAIT_REPORTING, xc.ORDER_REPORTED, xc.ORDER_PART_SUCC,
})  # fmt: skip
# order_shares/order_lots/order_value styles and the prType each stands for.
STYLES: Final = {
    "SALE5": 0, "SALE4": 1, "SALE3": 2, "SALE2": 3, "SALE1": 4, "LATEST": 5,
    "BUY1": 6, "BUY2": 7, "BUY3": 8, "BUY4": 9, "BUY5": 10, "FIX": 11, "HANG": 13,
    "COMPETE": 14, "MARKET": 14,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class OrderIntent:
    code: str
    side: Side
    quantity: int
    price_type: int  # QMT's prType (11 fixed price, else priced by the broker)
    price: float  # the limit for price type 11; 0 otherwise
    strategy_name: str
    remark: str


class Broker(Protocol):
    """Where a run's orders go: the backtest account or the server's TradingService.

    `submit` returns the order id (QMT's m_strOrderSysID) or None when the order was refused;
    either way the broker writes the reason to the run log.
    """

    account_id: str

    def submit(self, intent: OrderIntent) -> str | None: ...
    def cancel(self, order_id: str) -> bool: ...
    def last_price(self, code: str) -> float | None: ...
    def positions(self) -> list[PositionRecord]: ...
    def accounts(self) -> list[AccountRecord]: ...
    def orders(self) -> list[OrderRecord]: ...
    def deals(self) -> list[DealRecord]: ...


class RunLog:
    """A run's log lines (bounded); the newest `limit` are kept."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.total = 0  # lines ever written (the oldest are dropped past `limit`)
        self.clock: Callable[[], str] = lambda: ""

    def write(self, text: str) -> None:
        stamp = self.clock()
        for line in str(text).splitlines() or [""]:
            self.lines.append(f"[{stamp}] {line}" if stamp else line)
            self.total += 1
        if len(self.lines) > self.limit:
            del self.lines[: len(self.lines) - self.limit]


def timetag_to_datetime(timetag: int | float, fmt: str = "%Y%m%d%H%M%S") -> str:
    """QMT's helper: epoch milliseconds -> Beijing time formatted with `fmt`."""
    return datetime.fromtimestamp(float(timetag) / 1000, SHANGHAI).strftime(fmt)


def _is_context(obj: object) -> bool:
    return type(obj).__name__ == "ContextInfo" and hasattr(obj, "barpos")


def _normalize(code: str) -> str:
    try:
        return normalize_code(str(code))
    except InvalidStockCode as exc:
        raise _Refused(str(exc)) from None


class _Refused(Exception):
    """An order refused before it reaches the broker (logged, not fatal)."""


def _lots_down(code: str, quantity: float) -> int:
    rule = lot_rule(code)
    qty = math.floor(quantity)
    if qty < rule.min_qty:
        return 0
    return rule.min_qty + (qty - rule.min_qty) // rule.step * rule.step


class QmtApi:
    """Builds the globals of one run; every function checks the run's guard first."""

    def __init__(
        self,
        *,
        broker: Broker,
        guard: Guard,
        log: RunLog,
        strategy_name: str,
        sector: Callable[[str], list[str] | None] = lambda _name: None,
    ) -> None:
        self.broker = broker
        self.guard = guard
        self.log = log
        self.strategy_name = strategy_name
        self._sector = sector
        self._said: set[str] = set()

    def globals(self) -> dict[str, Any]:
        names: dict[str, Any] = {
            name: unsupported(name, self.log.write) for name in sorted(UNSUPPORTED_GLOBALS)
        }
        names.update(
            passorder=self.passorder,
            order_shares=self.order_shares,
            order_lots=self.order_lots,
            order_value=self.order_value,
            order_percent=self.order_percent,
            order_target_value=self.order_target_value,
            order_target_percent=self.order_target_percent,
            cancel=self.cancel,
            can_cancel_order=self.can_cancel_order,
            do_order=self.do_order,
            get_trade_detail_data=self.get_trade_detail_data,
            get_last_order_id=self.get_last_order_id,
            get_value_by_order_id=self.get_value_by_order_id,
            get_stock_list_in_sector=self.get_stock_list_in_sector,
            download_history_data=self.download_history_data,
            timetag_to_datetime=timetag_to_datetime,
            print=self.print,
            account=self.broker.account_id,
            accountType="STOCK",
        )
        return names

    def _say_once(self, text: str) -> None:
        if text not in self._said:
            self._said.add(text)
            self.log.write(text)

    # --- orders ---------------------------------------------------------------------------

    def passorder(
        self,
        opType: int,
        orderType: int,
        accountID: str,
        orderCode: str,
        prType: int,
        price: float,
        volume: float,
        *rest: Any,
        **kwargs: Any,
    ) -> str | None:
        """passorder(opType, orderType, accountID, orderCode, prType, price, volume,
        [strategyName, quickTrade, userOrderId,] C) — C may also come right after volume."""
        self.guard.checkpoint()
        args = [a for a in rest if not _is_context(a)]
        strategy_name = str(kwargs.get("strategyName", args[0] if args else "") or "")
        remark = str(kwargs.get("userOrderId", args[2] if len(args) > 2 else "") or "")
        side = OP_TYPES.get(int(opType))
        if side is None:
            raise StrategyError(
                f"不支持的 opType {opType}（支持 23 股票买入、24 股票卖出）/ unsupported opType"
            )
        pr_type = int(prType)
        if pr_type not in PRICE_TYPES:
            raise StrategyError(
                f"不支持的 prType {prType}（股票支持 0-14、42-48）/ unsupported prType"
            )
        if int(orderType) not in ORDER_TYPES:
            raise StrategyError(
                f"不支持的 orderType {orderType}（支持 1101 股数、1102 金额、1113 总资产比例、"
                "1123 可用比例）/ unsupported orderType"
            )
        try:
            code = _normalize(orderCode)
            fixed = pr_type == xc.FIX_PRICE
            quantity = self._quantity(code, side, int(orderType), volume, price, fixed)
        except _Refused as exc:
            self.log.write(f"委托被拒 / order refused: {orderCode} {exc}")
            return None
        intent = OrderIntent(
            code=code,
            side=side,
            quantity=quantity,
            price_type=pr_type,
            price=float(price) if fixed else 0.0,
            strategy_name=strategy_name or self.strategy_name,
            remark=remark,
        )
        return self.broker.submit(intent)

    def _quantity(
        self, code: str, side: Side, order_type: int, volume: float, price: float, fixed: bool
    ) -> int:
        if not math.isfinite(float(volume)) or float(volume) <= 0:
            raise _Refused(f"委托数量须为正数 / volume {volume} must be positive")
        if order_type == ORDER_VOLUME:
            quantity = int(volume)
            if quantity != volume:
                raise _Refused(f"委托数量须为整数 / volume {volume} is not whole")
            return quantity
        ref = float(price) if fixed else self._last(code)
        if ref <= 0:
            raise _Refused(f"{code} 价格无效 / no usable price")
        if order_type == ORDER_AMOUNT:
            return _lots_down(code, float(volume) / ref)
        ratio = float(volume)
        if ratio > 1:
            raise _Refused(f"比例须在 0~1 之间 / ratio {volume} outside 0..1")
        account = self.broker.accounts()[0]
        if order_type == ORDER_TOTAL_RATIO:
            return _lots_down(code, account.m_dBalance * ratio / ref)
        if side == "buy":
            return _lots_down(code, account.m_dAvailable * ratio / ref)
        held = self._holding(code)
        can_use = held.m_nCanUseVolume if held else 0
        whole = math.floor(can_use * ratio)
        return can_use if whole >= can_use else _lots_down(code, whole)

    def _holding(self, code: str) -> PositionRecord | None:
        digits, exchange = code.split(".")
        for p in self.broker.positions():
            if p.m_strInstrumentID == digits and p.m_strExchangeID == exchange:
                return p
        return None

    def _last(self, code: str) -> float:
        last = self.broker.last_price(code)
        if last is None or last <= 0:
            raise _Refused(f"{code} 无最新价 / no last price")
        return last

    def _style_order(self, code: str, shares: int, rest: tuple[Any, ...]) -> str | None:
        # order_shares(code, shares[, style, price], C[, accId]): style 'LATEST' or 'FIX'.
        style, price = "LATEST", 0.0
        if rest and not _is_context(rest[0]):
            style = str(rest[0]).upper()
            price = float(rest[1]) if len(rest) > 1 and not _is_context(rest[1]) else 0.0
        pr_type = STYLES.get(style)
        if pr_type is None:
            raise StrategyError(
                f"不支持的 style {style!r}（支持 {'、'.join(STYLES)}）/ unsupported style"
            )
        if shares == 0:
            return None
        op = xc.STOCK_BUY if shares > 0 else xc.STOCK_SELL
        return self.passorder(
            op, ORDER_VOLUME, self.broker.account_id, code, pr_type, price, abs(shares)
        )

    def order_shares(self, stockcode: str, shares: float, *rest: Any) -> str | None:
        """Buy (shares > 0) or sell (shares < 0) this many shares."""
        self.guard.checkpoint()
        return self._style_order(stockcode, int(shares), rest)

    def order_lots(self, stockcode: str, lots: float, *rest: Any) -> str | None:
        """Buy or sell this many lots of 100 shares."""
        self.guard.checkpoint()
        return self._style_order(stockcode, int(lots) * 100, rest)

    def order_value(self, stockcode: str, value: float, *rest: Any) -> str | None:
        """Buy or sell about `value` CNY, rounded down to whole lots at the order's price."""
        self.guard.checkpoint()
        try:
            code = _normalize(stockcode)
            fixed = bool(rest) and not _is_context(rest[0]) and str(rest[0]).upper() == "FIX"
            ref = float(rest[1]) if fixed and len(rest) > 1 else self._last(code)
        except _Refused as exc:
            self.log.write(f"委托被拒 / order refused: {stockcode} {exc}")
            return None
        shares = _lots_down(code, abs(float(value)) / ref)
        return self._style_order(code, shares if value > 0 else -shares, rest)

    def _value_now(self, code: str) -> tuple[float, int]:
        held = self._holding(code)
        volume = held.m_nVolume if held else 0
        return volume * self._last(code), volume

    def order_percent(self, stockcode: str, percent: float, *rest: Any) -> str | None:
        """Buy or sell `percent` (0..1) of the account's total assets worth of `stockcode`."""
        self.guard.checkpoint()
        total = self.broker.accounts()[0].m_dBalance
        return self.order_value(stockcode, total * float(percent), *rest)

    def order_target_value(self, stockcode: str, tar_value: float, *rest: Any) -> str | None:
        """Trade until the holding is worth about `tar_value` CNY (sells are whole lots,
        or the whole holding when the target is 0)."""
        self.guard.checkpoint()
        try:
            code = _normalize(stockcode)
            value, volume = self._value_now(code)
        except _Refused as exc:
            self.log.write(f"委托被拒 / order refused: {stockcode} {exc}")
            return None
        if float(tar_value) <= 0:
            return self._style_order(code, -volume, rest) if volume else None
        return self.order_value(code, float(tar_value) - value, *rest)

    def order_target_percent(self, stockcode: str, tar_percent: float, *rest: Any) -> str | None:
        """Trade until the holding is `tar_percent` (0..1) of the total assets."""
        self.guard.checkpoint()
        total = self.broker.accounts()[0].m_dBalance
        return self.order_target_value(stockcode, total * float(tar_percent), *rest)

    def can_cancel_order(self, orderId: str, accountID: str = "", strAccountType: str = "") -> bool:
        """True while the order is still open at the counter (never in a backtest: orders are
        decided within their bar)."""
        self.guard.checkpoint()
        for order in self.broker.orders():
            if order.m_strOrderSysID == str(orderId):
                return order.m_nOrderStatus in OPEN_STATUSES
        return False

    def do_order(self, C: Any = None) -> None:
        """QMT sends the previous bar's signals at this call; orders here go out at once."""
        self.guard.checkpoint()

    def cancel(self, orderId: str, *rest: Any) -> bool:
        """cancel(orderId, accountId, accountType, C): True when the cancel was accepted."""
        self.guard.checkpoint()
        return self.broker.cancel(str(orderId))

    # --- queries --------------------------------------------------------------------------

    def get_trade_detail_data(
        self,
        accountID: str,
        strAccountType: str,
        strDatatype: str,
        strategyName: str = "",
    ) -> list[Any]:
        """Positions, account, orders or deals of the run's account, with QMT's m_* names.

        `accountID` is accepted as scripts pass it; a run has exactly one account.
        """
        self.guard.checkpoint()
        if str(strAccountType).upper() != "STOCK":
            self._say_once(
                f"账号类型 {strAccountType!r} 不支持，返回空列表（仅 STOCK）/ only STOCK accounts"
            )
            return []
        kind = str(strDatatype).upper()
        if kind == "POSITION":
            return [p for p in self.broker.positions() if p.m_nVolume > 0]
        if kind == "ACCOUNT":
            return list(self.broker.accounts())
        if kind in ("ORDER", "DEAL"):
            rows: list[Any] = list(self.broker.orders() if kind == "ORDER" else self.broker.deals())
            if strategyName:
                rows = [r for r in rows if r.m_strStrategyName == strategyName]
            return rows
        raise StrategyError(
            f"不支持的数据类型 {strDatatype!r}（position/account/order/deal）/ unsupported type"
        )

    def get_last_order_id(
        self, accountID: str, strAccountType: str, strDatatype: str, strategyName: str = ""
    ) -> str:
        """The id of the newest order (or deal) of the run's account; '-1' when none."""
        rows = self.get_trade_detail_data(accountID, strAccountType, strDatatype, strategyName)
        if not rows:
            return "-1"
        last = rows[-1]
        return str(getattr(last, "m_strOrderSysID", "") or getattr(last, "m_strTradeID", ""))

    def get_value_by_order_id(
        self, orderId: str, accountID: str, strAccountType: str, strDatatype: str
    ) -> Any:
        """The order (or deal) record whose m_strOrderSysID is `orderId`; None if none."""
        for row in self.get_trade_detail_data(accountID, strAccountType, strDatatype):
            if str(getattr(row, "m_strOrderSysID", "")) == str(orderId):
                return row
        return None

    def get_stock_list_in_sector(self, sectorname: str, realtime: Any = -1) -> list[str]:
        self.guard.checkpoint()
        members = self._sector(str(sectorname))
        if members is None:
            self._say_once(f"未知板块 {sectorname!r}，返回空列表 / unknown sector: empty list")
            return []
        return list(members)

    def download_history_data(self, *args: Any, **kwargs: Any) -> None:
        """A no-op: the runner's data is always at hand (QMT downloads to its local cache)."""
        self.guard.checkpoint()

    def print(self, *values: Any, sep: str = " ", end: str = "\n", **_: Any) -> None:
        self.log.write(sep.join(str(v) for v in values) + ("" if end == "\n" else end))

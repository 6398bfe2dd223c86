"""The QMT functions a script sees as globals, bound to one run's broker and guard.

Supported (see docs/strategy_guide.md for the table): `passorder`, `order_shares`,
`order_lots`, `order_value`, `cancel`, `get_trade_detail_data`, `timetag_to_datetime`, plus
`account`/`accountType`, `print` (captured into the run log) and the user's parameters.
Business rejections (lot size, cash, T+1, limit price, risk rules) are logged in the run and
the script goes on, as in QMT; calling an unsupported variant fails the run with a message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from backend.app.services.strategies.guard import Guard, StrategyError
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
PRICE_TYPES: Final = frozenset({xc.LATEST_PRICE, xc.FIX_PRICE})
ORDER_VOLUME: Final = 1101  # 单股、单账号、普通、股/手方式: volume is in shares
ORDER_AMOUNT: Final = 1102  # 单股、单账号、普通、金额方式: volume is CNY


@dataclass(frozen=True, slots=True)
class OrderIntent:
    code: str
    side: Side
    quantity: int
    price_type: int  # 5 latest price, 11 fixed price
    price: float  # the limit for price type 11; 0 for 5
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

    def __init__(self, *, broker: Broker, guard: Guard, log: RunLog, strategy_name: str) -> None:
        self.broker = broker
        self.guard = guard
        self.log = log
        self.strategy_name = strategy_name

    def globals(self) -> dict[str, Any]:
        return {
            "passorder": self.passorder,
            "order_shares": self.order_shares,
            "order_lots": self.order_lots,
            "order_value": self.order_value,
            "cancel": self.cancel,
            "get_trade_detail_data": self.get_trade_detail_data,
            "timetag_to_datetime": timetag_to_datetime,
            "print": self.print,
            "account": self.broker.account_id,
            "accountType": "STOCK",
        }

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
                f"不支持的 opType {opType}（支持 23 买、24 卖）/ unsupported opType"
            )
        if int(prType) not in PRICE_TYPES:
            raise StrategyError(
                f"不支持的 prType {prType}（支持 5 最新价、11 指定价）/ unsupported prType"
            )
        if int(orderType) not in (ORDER_VOLUME, ORDER_AMOUNT):
            raise StrategyError(
                f"不支持的 orderType {orderType}（支持 1101 股数、1102 金额）/ unsupported"
            )
        try:
            code = _normalize(orderCode)
            ref = float(price) if int(prType) == xc.FIX_PRICE else self._last(code)
            if int(orderType) == ORDER_AMOUNT:
                quantity = _lots_down(code, float(volume) / ref) if ref > 0 else 0
            else:
                quantity = int(volume)
                if quantity != volume:
                    raise _Refused(f"委托数量须为整数 / volume {volume} is not whole")
        except _Refused as exc:
            self.log.write(f"委托被拒 / order refused: {orderCode} {exc}")
            return None
        intent = OrderIntent(
            code=code,
            side=side,
            quantity=quantity,
            price_type=int(prType),
            price=float(price) if int(prType) == xc.FIX_PRICE else 0.0,
            strategy_name=strategy_name or self.strategy_name,
            remark=remark,
        )
        return self.broker.submit(intent)

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
        if style not in ("LATEST", "FIX", "MARKET"):
            raise StrategyError(f"不支持的 style {style!r}（支持 LATEST、FIX）/ unsupported style")
        if shares == 0:
            return None
        pr_type = xc.FIX_PRICE if style == "FIX" else xc.LATEST_PRICE
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
            fixed = rest and not _is_context(rest[0]) and str(rest[0]).upper() == "FIX"
            ref = float(rest[1]) if fixed and len(rest) > 1 else self._last(code)
        except _Refused as exc:
            self.log.write(f"委托被拒 / order refused: {stockcode} {exc}")
            return None
        shares = _lots_down(code, abs(float(value)) / ref)
        return self._style_order(code, shares if value > 0 else -shares, rest)

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

    def print(self, *values: Any, sep: str = " ", end: str = "\n", **_: Any) -> None:
        self.log.write(sep.join(str(v) for v in values) + ("" if end == "\n" else end))

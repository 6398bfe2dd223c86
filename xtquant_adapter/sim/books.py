"""The simulated counter's books: account, positions, orders, trades; and their xttype views.

Money is `Decimal` CNY (exact, fen-valued); records convert to float only at the boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.xttype import XtAsset, XtOrder, XtPosition, XtTrade

ZERO = Decimal("0.00")
FINAL_STATUSES = frozenset(
    {xc.ORDER_PART_CANCEL, xc.ORDER_CANCELED, xc.ORDER_SUCCEEDED, xc.ORDER_JUNK}
)
CANCELABLE_STATUSES = frozenset(
    {xc.ORDER_UNREPORTED, xc.ORDER_WAIT_REPORTING, xc.ORDER_REPORTED, xc.ORDER_PART_SUCC}
)


@dataclass(slots=True)
class Order:
    order_id: int
    code: str
    name: str
    side: str  # "buy" | "sell"
    order_type: int
    price_type: int
    price: Decimal  # the working limit (0 until a market order is priced)
    volume: int
    day: date
    order_time: int
    strategy_name: str = ""
    remark: str = ""
    status: int = xc.ORDER_REPORTED
    status_msg: str = ""
    traded: int = 0
    traded_value: Decimal = ZERO
    fees: Decimal = ZERO
    frozen: Decimal = ZERO  # cash still reserved by a buy
    protect: Decimal = ZERO  # market orders: worst acceptable price
    placed_step: int = 0  # the snapshot it arrived after; fills start with the next one
    seq: int = 0

    @property
    def open_volume(self) -> int:
        return self.volume - self.traded

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(slots=True)
class Trade:
    traded_id: str
    order_id: int
    code: str
    name: str
    side: str
    price: Decimal
    volume: int
    amount: Decimal
    fees: Decimal
    traded_time: int
    day: date
    strategy_name: str = ""
    remark: str = ""


@dataclass(slots=True)
class Position:
    code: str
    name: str
    volume: int = 0
    can_use: int = 0
    frozen: int = 0
    yesterday: int = 0
    cost: Decimal = ZERO  # total cost basis incl. buy fees


@dataclass(slots=True)
class Books:
    account_id: str
    day: date
    cash: Decimal
    frozen_cash: Decimal = ZERO
    today_proceeds: Decimal = ZERO  # sale proceeds: usable for buys, not withdrawable today
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)  # today's
    working: dict[int, Order] = field(default_factory=dict)  # today's non-final, time priority
    trades: list[Trade] = field(default_factory=list)  # today's
    next_order_id: int = 1
    next_trade_id: int = 1
    opened: bool = False  # opening auction done today
    closed: bool = False  # closing auction done today


def _o_sysid(order_id: int) -> str:
    return f"{order_id:08d}"


def order_record(b: Books, o: Order) -> XtOrder:
    avg = float(o.traded_value / o.traded) if o.traded else 0.0
    buy = o.side == "buy"
    return XtOrder(
        xc.SECURITY_ACCOUNT, b.account_id, o.code, o.order_id, _o_sysid(o.order_id),
        o.order_time, o.order_type, o.volume, o.price_type, float(o.price), o.traded, avg,
        o.status, o.status_msg, o.strategy_name, o.remark, xc.DIRECTION_FLAG_LONG,
        xc.OFFSET_FLAG_OPEN if buy else xc.OFFSET_FLAG_CLOSE, "", o.name,
    )


def trade_record(b: Books, t: Trade) -> XtTrade:
    buy = t.side == "buy"
    return XtTrade(
        xc.SECURITY_ACCOUNT, b.account_id, t.code, xc.STOCK_BUY if buy else xc.STOCK_SELL,
        t.traded_id, t.traded_time, float(t.price), t.volume, float(t.amount), t.order_id,
        _o_sysid(t.order_id), t.strategy_name, t.remark, xc.DIRECTION_FLAG_LONG,
        xc.OFFSET_FLAG_OPEN if buy else xc.OFFSET_FLAG_CLOSE, float(t.fees), "", t.name,
    )


def position_record(b: Books, p: Position, last: Decimal) -> XtPosition:
    avg = p.cost / p.volume if p.volume else ZERO
    value = last * p.volume
    profit = float((last - avg) / avg) if avg else 0.0
    return XtPosition(
        xc.SECURITY_ACCOUNT, b.account_id, p.code, p.volume, p.can_use, float(avg),
        float(value), p.frozen, 0, p.yesterday, float(avg), xc.DIRECTION_FLAG_LONG,
        float(last), profit, "", p.name, float(value - p.cost),
    )


def asset_record(b: Books, market_value: Decimal) -> XtAsset:
    fetch = max(b.cash - b.today_proceeds, ZERO)
    return XtAsset(
        xc.SECURITY_ACCOUNT, b.account_id, float(b.cash), float(b.frozen_cash),
        float(market_value), float(b.cash + b.frozen_cash + market_value), float(fetch),
    )

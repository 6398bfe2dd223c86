"""The simulated counter's books: account, positions, orders, trades; and their xttype views.

Money is `Decimal` CNY (exact, fen-valued); records convert to float only at the boundary.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.xttype import XtAsset, XtOrder, XtPosition, XtTrade

_R = TypeVar("_R")
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


_BUY_FLAGS = (xc.STOCK_BUY, xc.OFFSET_FLAG_OPEN)
_SELL_FLAGS = (xc.STOCK_SELL, xc.OFFSET_FLAG_CLOSE)
_SA, _LONG = xc.SECURITY_ACCOUNT, xc.DIRECTION_FLAG_LONG

# Records are built for every push, so these stay lean: money converts with one `float()` of the
# exact Decimal; ratios and averages (floats in the SDK too) are computed in float.


def fast_constructor(cls: type[_R]) -> Callable[..., _R]:
    """A positional constructor for a frozen slots dataclass that fills its slots directly.

    The dataclass `__init__` of a frozen class goes through `object.__setattr__` per field;
    setting the slot descriptors from generated code is about twice as fast, and the result is
    the same frozen instance (equal, hashable, immutable afterwards). Falls back to `cls`.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    names = [f.name for f in fields]
    slots = [cls.__dict__.get(n) for n in names]
    if not all(type(s).__name__ == "member_descriptor" for s in slots) or any(
            f.default_factory is not dataclasses.MISSING for f in fields):
        return cls
    ns: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    params = ", ".join(f"a{i}" if f.default is dataclasses.MISSING else f"a{i}=_d{i}"
                       for i, f in enumerate(fields))
    ns.update({f"_d{i}": f.default for i, f in enumerate(fields)
               if f.default is not dataclasses.MISSING})
    body = "".join(f"    _s{i}(o, a{i})\n" for i in range(len(names)))
    for i, slot in enumerate(slots):
        ns[f"_s{i}"] = slot.__set__  # type: ignore[union-attr]
    exec(f"def make({params}):\n    o = _new(_cls)\n{body}    return o\n", ns)  # noqa: S102
    return ns["make"]  # type: ignore[no-any-return]


_order = fast_constructor(XtOrder)
_trade = fast_constructor(XtTrade)
_position = fast_constructor(XtPosition)
_asset = fast_constructor(XtAsset)


def _o_sysid(order_id: int) -> str:
    return f"{order_id:08d}"


def order_record(b: Books, o: Order) -> XtOrder:
    traded = o.traded
    avg = float(o.traded_value) / traded if traded else 0.0
    offset = xc.OFFSET_FLAG_OPEN if o.side == "buy" else xc.OFFSET_FLAG_CLOSE
    return _order(
        _SA, b.account_id, o.code, o.order_id, f"{o.order_id:08d}", o.order_time, o.order_type,
        o.volume, o.price_type, float(o.price), traded, avg, o.status, o.status_msg,
        o.strategy_name, o.remark, _LONG, offset, "", o.name,
    )


def trade_record(b: Books, t: Trade) -> XtTrade:
    order_type, offset = _BUY_FLAGS if t.side == "buy" else _SELL_FLAGS
    return _trade(
        _SA, b.account_id, t.code, order_type, t.traded_id, t.traded_time, float(t.price),
        t.volume, float(t.amount), t.order_id, f"{t.order_id:08d}", t.strategy_name, t.remark,
        _LONG, offset, float(t.fees), "", t.name,
    )


def position_record(b: Books, p: Position, last: Decimal) -> XtPosition:
    volume = p.volume
    value = last * volume
    last_f = float(last)
    avg = float(p.cost) / volume if volume else 0.0
    profit = (last_f - avg) / avg if avg else 0.0
    return _position(
        _SA, b.account_id, p.code, volume, p.can_use, avg, float(value), p.frozen, 0,
        p.yesterday, avg, _LONG, last_f, profit, "", p.name, float(value - p.cost),
    )


def asset_record(b: Books, market_value: Decimal) -> XtAsset:
    cash, frozen = b.cash, b.frozen_cash
    fetch = cash - b.today_proceeds
    return _asset(
        _SA, b.account_id, float(cash), float(frozen), float(market_value),
        float(cash + frozen + market_value), float(fetch) if fetch > 0 else 0.0,
    )

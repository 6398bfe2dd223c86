"""Order acceptance, cancels and the day roll of the simulated counter + exchange.

Every change goes through `Exchange`, which mutates the books, marks what the store must save
and appends (callback name, frozen record) pairs to `out` in the order they must be pushed.
The trader serializes calls with its lock.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.calendar import Session, cancel_allowed_at
from xtquant_adapter.ashare.codes import InvalidStockCode, market_of, normalize_code
from xtquant_adapter.ashare.fees import FeeSchedule, buy_freeze
from xtquant_adapter.sim.books import (
    ZERO,
    Books,
    Order,
    Position,
    asset_record,
    order_record,
    position_record,
)
from xtquant_adapter.sim.market import Market, Quote
from xtquant_adapter.xttype import XtCancelError, XtOrderError

# [COUNTER][code][text] rejections (ASHARE_RULES §8); the two [V] codes are MiniQMT's own.
REJECT: dict[str, tuple[int, str]] = {
    "funds": (260200, "可用资金不足"),
    "position": (251005, "证券可用数量不足"),
    "code": (251001, "证券代码不存在"),
    "side": (251002, "委托类别不支持"),
    "quantity": (251010, "委托数量不合法"),
    "price": (251020, "委托价格超出涨跌停范围"),
    "tick": (251021, "委托价格不是最小价位的整数倍"),
    "cage": (251022, "委托价格超出有效申报价格范围"),
    "time": (251030, "非交易时间"),
    "price_type": (251040, "报价方式不支持"),
    "protect": (251041, "市价委托须填写保护限价"),
}
_EXCHANGE_LEVEL = frozenset({"price", "tick", "cage"})  # pass the counter: 50, then 57
HELD = frozenset({Session.PRE_OPEN, Session.LUNCH_BREAK})
MARKET_IMMEDIATE = frozenset({42, 43, 46, 47, 48})  # executed against the next snapshot


_SIDES = {xc.STOCK_BUY: "buy", xc.STOCK_SELL: "sell"}
# Pure functions of (code, order fields): cached, since a session repeats the same few inputs.
_quantity_error = functools.lru_cache(maxsize=4096)(rules.check_quantity)
_price_type_error = functools.lru_cache(maxsize=1024)(rules.price_type_error)
_cage_bounds = functools.lru_cache(maxsize=4096)(rules.cage_bounds)
_is_tick_multiple = functools.lru_cache(maxsize=4096)(rules.is_tick_multiple)


@functools.lru_cache(maxsize=4096)
def _decimal_price(price: float) -> Decimal:
    """The caller's float price as the Decimal it was typed as (11.8 -> Decimal('11.8'))."""
    return Decimal(repr(float(price)))


class Rejected(Exception):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def reject_text(reason: str, detail: str = "") -> str:
    code, text = REJECT[reason]
    return f"[COUNTER][{code}][{text}]" + (f"[{detail}]" if detail else "")


@dataclass(slots=True)
class Dirty:
    orders: set[int] = field(default_factory=set)
    trades: list[Any] = field(default_factory=list)
    positions: set[str] = field(default_factory=set)
    books: bool = False

    def any(self) -> bool:
        return bool(self.orders or self.trades or self.positions or self.books)


class Exchange:
    """The counter (validation, freezing) and exchange (matching) over one account's books."""

    def __init__(self, books: Books, market: Market, fees: FeeSchedule, *,
                 enforce_hours: bool) -> None:
        self.books, self.market, self.fees = books, market, fees
        self.enforce_hours = enforce_hours
        self.out: list[tuple[str, Any]] = []
        self.dirty = Dirty()
        self._mv: Decimal | None = None
        self._mv_version = -1
        self._now: datetime | None = None
        self._now_s = 0
        self._freezes: dict[tuple[str, Decimal, int], Decimal] = {}

    # ---- pushes -------------------------------------------------------------------------------
    def push_order(self, o: Order) -> None:
        self.dirty.orders.add(o.order_id)
        self.out.append(("on_stock_order", order_record(self.books, o)))

    def push_position(self, code: str) -> None:
        p = self.books.positions.get(code)
        if p is not None:
            self.dirty.positions.add(code)
            self.out.append(("on_stock_position",
                             position_record(self.books, p, self.market.quotes[code].last)))

    def push_asset(self) -> None:
        self.dirty.books = True
        self.out.append(("on_stock_asset", asset_record(self.books, self.market_value())))

    def market_value(self) -> Decimal:
        """Holdings at last prices; cached until the market moves (`Market.version`), and kept
        exact across our own fills by `revalue`."""
        m = self.market
        if self._mv is None or self._mv_version != m.version:
            quotes = m.quotes
            self._mv = sum((quotes[c].last * p.volume for c, p in self.books.positions.items()
                            if c in quotes), ZERO)
            self._mv_version = m.version
        return self._mv

    def revalue(self, before: Decimal, after: Decimal) -> None:
        """One holding's value changed from `before` to `after` (a fill: its volume and its
        quote's last price)."""
        if self._mv is not None:
            self._mv += after - before

    def _epoch_s(self, now: datetime) -> int:
        if now is not self._now:  # a ManualClock hands out the same instant until it moves
            self._now, self._now_s = now, int(now.timestamp())
        return self._now_s

    # ---- placing ------------------------------------------------------------------------------
    def place(self, now: datetime, session: Session, raw_code: str, order_type: int,
              volume: int, price_type: int, price: float, strategy: str, remark: str,
              seq: int) -> Order:
        """Accept an order (status 50, or 48 while the counter holds it) or junk it (57)."""
        b = self.books
        side = _SIDES.get(order_type, "buy")
        o = Order(b.next_order_id, str(raw_code), "", side, order_type, price_type,
                  ZERO, int(volume), b.day, self._epoch_s(now), strategy, remark,
                  placed_step=self.market.step_no, seq=seq)
        b.next_order_id += 1
        b.orders[o.order_id] = o
        self.dirty.books = True
        try:
            q = self._validate(o, session, price)
            self._freeze(o, q)
        except Rejected as r:
            self._junk(o, r)
            return o
        held = self.enforce_hours and session in HELD
        o.status = xc.ORDER_UNREPORTED if held else xc.ORDER_REPORTED
        b.working[o.order_id] = o
        self.push_order(o)
        if o.side == "buy":
            self.push_asset()
        else:
            self.push_position(o.code)
        if not held and price_type in (xc.MARKET_PEER_PRICE_FIRST, xc.MARKET_MINE_PRICE_FIRST):
            self._price_at_arrival(o, q)
        return o

    def _validate(self, o: Order, session: Session, price: float) -> Quote:
        try:
            o.code = normalize_code(o.code)
        except InvalidStockCode as e:
            raise Rejected("code", o.code) from e
        q = self.market.quotes.get(o.code)
        if q is None:
            raise Rejected("code", o.code)
        o.name = q.inst.name
        if o.order_type not in (xc.STOCK_BUY, xc.STOCK_SELL):
            raise Rejected("side", str(o.order_type))
        if err := _price_type_error(o.code, o.price_type):
            raise Rejected("price_type", err)
        market = rules.is_market_price_type(o.price_type)
        self._check_time(session, market)
        pos = self.books.positions.get(o.code)
        sellable = pos.can_use if pos else 0
        if o.side == "sell" and o.volume > sellable:
            raise Rejected("position", f"可用{sellable} / sellable {sellable}")
        if err := _quantity_error(o.code, o.side, o.volume,
                                  sellable if o.side == "sell" else None, market=market):
            raise Rejected("quantity", err)
        self._set_price(o, q, _decimal_price(price), market, session)
        return q

    def _check_time(self, session: Session, market: bool) -> None:
        if not self.enforce_hours:
            return
        if session is Session.CLOSED:
            raise Rejected("time", "09:00-15:00")
        if market and session is not Session.CONTINUOUS:
            raise Rejected("time", "市价委托仅限连续竞价 / market orders: continuous only")

    def _set_price(self, o: Order, q: Quote, price: Decimal, market: bool,
                   session: Session) -> None:
        if o.price_type == xc.LATEST_PRICE:
            # A limit at the last price (the counter's conversion); `price` is ignored and no
            # protective price is needed, even on STAR/BSE.
            o.price = q.last
            return
        if not market:
            if price <= 0 or not _is_tick_multiple(o.code, price):
                raise Rejected("tick", f"{price}")
            if not q.down <= price <= q.up:
                raise Rejected("price", f"{q.down}-{q.up}")
            o.price = price
            if session is Session.CONTINUOUS:
                self._check_cage(o, q)
            return
        protective = rules.needs_protective_price(o.code)
        if protective and price <= 0:
            raise Rejected("protect")
        if protective and not rules.is_tick_multiple(o.code, price):
            raise Rejected("tick", f"{price}")
        worst = q.up if o.side == "buy" else q.down
        o.protect = min(max(price, q.down), q.up) if protective else worst

    def _check_cage(self, o: Order, q: Quote) -> None:
        # SZ parks out-of-cage orders; ours simply rest until the price comes (same effect).
        if not rules.cage_rejects(o.code):
            return
        ask = q.asks[0][0] if q.asks else None
        bid = q.bids[0][0] if q.bids else None
        buy_ref = ask or bid or q.last
        sell_ref = bid or ask or q.last
        low, high = _cage_bounds(o.code, buy_ref=buy_ref, sell_ref=sell_ref)
        if (o.side == "buy" and o.price > high) or (o.side == "sell" and o.price < low):
            raise Rejected("cage", f"{low}-{high}")

    def _freeze(self, o: Order, q: Quote) -> None:
        b = self.books
        if o.side == "sell":
            p = b.positions[o.code]
            p.can_use -= o.volume
            p.frozen += o.volume
            return
        at = o.price if o.price > 0 else o.protect
        key = (o.code, at, o.volume)
        need = self._freezes.get(key)
        if need is None:  # the same order again (a strategy's ladder, a retry) is a lookup
            if len(self._freezes) > 4096:
                self._freezes.clear()
            need = self._freezes[key] = buy_freeze(self.fees, o.code, at, o.volume)
        if need > b.cash:
            raise Rejected("funds", f"需要{need} 可用{b.cash} / need {need}, have {b.cash}")
        b.cash -= need
        b.frozen_cash += need
        o.frozen = need

    def _price_at_arrival(self, o: Order, q: Quote) -> None:
        # 44 takes the opposite best, 45 its own side's best; no quote there -> cancelled (§7).
        opposite = q.asks if o.side == "buy" else q.bids
        own = q.bids if o.side == "buy" else q.asks
        book = opposite if o.price_type == xc.MARKET_PEER_PRICE_FIRST else own
        if not book:
            self.finish(o, "无可成交的对手方或本方报价 / no quote to price the market order")
            return
        o.price = self.within_protection(o, book[0][0])

    @staticmethod
    def within_protection(o: Order, price: Decimal) -> Decimal:
        """A market order turned limit never works beyond its protective price (§7): STAR/BSE
        buys at most, sells at least, the caller's `price`; elsewhere the limit bounds it."""
        return min(price, o.protect) if o.side == "buy" else max(price, o.protect)

    def _junk(self, o: Order, r: Rejected) -> None:
        msg = reject_text(r.reason, r.detail)
        if r.reason in _EXCHANGE_LEVEL:
            self._unfreeze_rest(o)
            o.status = xc.ORDER_REPORTED
            self.push_order(o)
        o.status, o.status_msg = xc.ORDER_JUNK, msg
        self.books.working.pop(o.order_id, None)
        self.push_order(o)
        code = REJECT[r.reason][0]
        self.out.append(("on_order_error", XtOrderError(
            xc.SECURITY_ACCOUNT, self.books.account_id, o.order_id, code, msg,
            o.strategy_name, o.remark, o.seq)))

    # ---- cancelling and finishing -------------------------------------------------------------
    def cancel(self, now: datetime, session: Session, order_id: int, seq: int = 0) -> int:
        """0 if the cancel was accepted (54/53 follows), -1 with on_cancel_error otherwise."""
        o = self.books.orders.get(order_id)
        if o is None or o.is_final or order_id not in self.books.working:
            why = "委托不存在或已是最终状态 / no such order or it is already final"
            return self._cancel_error(order_id, o, why, seq)
        if self.enforce_hours and not cancel_allowed_at(now.time().replace(tzinfo=None)):
            return self._cancel_error(order_id, o, "此时段不允许撤单 / cancels are not "
                                      "accepted 09:20-09:25 and 14:57-15:00", seq)
        if o.status != xc.ORDER_UNREPORTED:
            o.status = xc.ORDER_PARTSUCC_CANCEL if o.traded else xc.ORDER_REPORTED_CANCEL
            self.push_order(o)
        self.finish(o, "")
        return 0

    def _cancel_error(self, order_id: int, o: Order | None, why: str, seq: int) -> int:
        market = market_of(o.code) if o is not None and o.name else xc.SH_MARKET
        self.out.append(("on_cancel_error", XtCancelError(
            xc.SECURITY_ACCOUNT, self.books.account_id, order_id, market,
            f"{order_id:08d}", 251050, f"[COUNTER][251050][撤单失败][{why}]", seq)))
        return -1

    def finish(self, o: Order, msg: str) -> None:
        """End a working order's rest: 54 (nothing filled) or 53, freeing what it held."""
        self._unfreeze_rest(o)
        o.status = xc.ORDER_PART_CANCEL if o.traded else xc.ORDER_CANCELED
        o.status_msg = msg
        self.books.working.pop(o.order_id, None)
        self.push_order(o)
        if o.side == "buy":
            self.push_asset()
        else:
            self.push_position(o.code)

    def _unfreeze_rest(self, o: Order) -> None:
        b = self.books
        if o.side == "buy" and o.frozen:
            b.cash += o.frozen
            b.frozen_cash -= o.frozen
            o.frozen = ZERO
        elif o.side == "sell" and o.status != xc.ORDER_JUNK and o.code in b.positions:
            p: Position = b.positions[o.code]
            rest = o.open_volume if o.order_id in b.working else 0
            p.can_use += rest
            p.frozen -= rest

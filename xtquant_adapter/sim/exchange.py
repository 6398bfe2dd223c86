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
from xtquant_adapter.ashare import orders, rules
from xtquant_adapter.ashare.calendar import Session, cancel_allowed_at
from xtquant_adapter.ashare.codes import InvalidStockCode, market_of, normalize_code
from xtquant_adapter.ashare.fees import FeeSchedule, buy_freeze
from xtquant_adapter.sim.books import (
    PARKED_MSG,
    ZERO,
    Books,
    Order,
    Position,
    asset_record,
    order_record,
    position_record,
)
from xtquant_adapter.sim.market import Market, Quote
from xtquant_adapter.sim.rejections import EXCHANGE_LEVEL, REJECT, Rejected, reject_text
from xtquant_adapter.sim.resting import RestingOrders
from xtquant_adapter.xttype import XtCancelError, XtOrderError

HELD = frozenset({Session.PRE_OPEN, Session.LUNCH_BREAK})
MARKET_IMMEDIATE = frozenset({42, 43, 46, 47, 48})  # executed against the next snapshot


_SIDES = {xc.STOCK_BUY: "buy", xc.STOCK_SELL: "sell"}
# Pure functions of (code, order fields): cached, since a session repeats the same few inputs.
_check_order = functools.lru_cache(maxsize=8192)(orders.check_order)
_price_type_error = functools.lru_cache(maxsize=1024)(rules.price_type_error)
_cage_bounds = functools.lru_cache(maxsize=4096)(rules.cage_bounds)
_cage_verdict = functools.lru_cache(maxsize=8192)(orders.cage_verdict)


@functools.lru_cache(maxsize=4096)
def _decimal_price(price: float) -> Decimal:
    """The caller's float price as the Decimal it was typed as (11.8 -> Decimal('11.8'))."""
    return Decimal(repr(float(price)))


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

    def __init__(
        self, books: Books, market: Market, fees: FeeSchedule, *, enforce_hours: bool
    ) -> None:
        self.books, self.market, self.fees = books, market, fees
        self.enforce_hours = enforce_hours
        self.out: list[tuple[str, Any]] = []
        self.dirty = Dirty()
        self._mv: Decimal | None = None
        self._mv_version = -1
        self._now: datetime | None = None
        self._now_s = 0
        self._freezes: dict[tuple[str, Decimal, int], Decimal] = {}
        self.rest = RestingOrders()  # working orders by price: matching touches what crosses
        self.rest.rebuild(books.working.values())

    # ---- pushes -------------------------------------------------------------------------------
    def push_order(self, o: Order) -> None:
        self.dirty.orders.add(o.order_id)
        self.out.append(("on_stock_order", order_record(self.books, o)))

    def push_position(self, code: str) -> None:
        p = self.books.positions.get(code)
        if p is not None:
            self.dirty.positions.add(code)
            self.out.append(
                ("on_stock_position", position_record(self.books, p, self.market.quotes[code].last))
            )

    def push_asset(self) -> None:
        self.dirty.books = True
        self.out.append(("on_stock_asset", asset_record(self.books, self.market_value())))

    def market_value(self) -> Decimal:
        """Holdings at last prices; cached until the market moves (`Market.version`), and kept
        exact across our own fills by `revalue`."""
        m = self.market
        if self._mv is None or self._mv_version != m.version:
            quotes = m.quotes
            self._mv = sum(
                (quotes[c].last * p.volume for c, p in self.books.positions.items() if c in quotes),
                ZERO,
            )
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
    def place(
        self,
        now: datetime,
        session: Session,
        raw_code: str,
        order_type: int,
        volume: int,
        price_type: int,
        price: float,
        strategy: str,
        remark: str,
        seq: int,
    ) -> Order:
        """Accept an order (status 50, or 48 while the counter holds it) or junk it (57)."""
        b = self.books
        side = _SIDES.get(order_type, "buy")
        o = Order(
            b.next_order_id,
            str(raw_code),
            "",
            side,
            order_type,
            price_type,
            ZERO,
            int(volume),
            b.day,
            self._epoch_s(now),
            strategy,
            remark,
            placed_step=self.market.step_no,
            seq=seq,
        )
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
        if o.order_id in b.working:
            self.rest.add(o)
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
        sell = o.side == "sell"
        pos = self.books.positions.get(o.code) if sell else None
        st_bought = self._st_bought(o) if q.inst.is_st and not sell else None
        asked = _decimal_price(price)
        refusal = _check_order(
            q.sec or q.inst.security,
            "sell" if sell else "buy",
            o.volume,
            price_type=o.price_type,
            price=asked,
            band=(q.down, q.up) if q.limited else None,
            no_limit=not q.limited,
            tick=q.tick,
            sellable=(pos.can_use if pos else 0) if sell else None,
            st_bought=st_bought,
        )
        if refusal is not None:
            raise Rejected(refusal.reason, refusal.text)
        self._set_price(o, q, asked, market, session)
        return q

    def _st_bought(self, new: Order) -> int:
        """ST daily cap (ASHARE_RULES §3.5): shares bought today plus those still working in
        buy orders, excluding `new` itself."""
        return sum(
            o.traded if o.is_final else o.volume
            for o in self.books.orders.values()
            if o.code == new.code and o.side == "buy" and o is not new
        )

    def _check_time(self, session: Session, market: bool) -> None:
        if not self.enforce_hours:
            return
        if session is Session.CLOSED:
            raise Rejected("time", "09:00-15:00")
        if market and session is not Session.CONTINUOUS:
            raise Rejected("time", "市价委托仅限连续竞价 / market orders: continuous only")

    def _set_price(
        self, o: Order, q: Quote, price: Decimal, market: bool, session: Session
    ) -> None:
        """The order's working price once `check_order` accepted it."""
        if o.price_type == xc.LATEST_PRICE:
            # A limit at the last price (the counter's conversion); `price` is ignored and no
            # protective price is needed, even on STAR/BSE.
            o.price = q.last
            return
        if not market:
            o.price = price
            if session is Session.CONTINUOUS:
                self._check_cage(o, q)
            return
        worst = q.up if o.side == "buy" else q.down
        protective = rules.needs_protective_price(o.code)
        o.protect = min(max(price, q.down), q.up) if protective else worst

    def _check_cage(self, o: Order, q: Quote) -> None:
        """SH main board/STAR junk an out-of-cage order; SZ main board, ChiNext and BSE park
        it: accepted (50), outside the book until the cage moves over it (§3.4)."""
        buy_ref, sell_ref = cage_refs(q)
        side = "buy" if o.side == "buy" else "sell"
        verdict = _cage_verdict(o.code, side, o.price, buy_ref=buy_ref, sell_ref=sell_ref)
        if verdict == "in":
            return
        low, high = _cage_bounds(o.code, buy_ref=buy_ref, sell_ref=sell_ref)
        if verdict == "reject":
            raise Rejected("cage", f"{low}-{high}")
        o.parked = True
        o.status_msg = f"{PARKED_MSG} [{low}-{high}]"

    def unpark(self) -> None:
        """Parked orders the cage now covers leave the exchange's store and join the book."""
        for code in self.rest.parked_codes():
            q = self.market.quotes[code]
            buy_ref, sell_ref = cage_refs(q)
            low, high = _cage_bounds(code, buy_ref=buy_ref, sell_ref=sell_ref)
            for oid in self.rest.joining(code, low, high):
                o = self.books.working[oid]
                self.rest.discard(o)
                o.parked, o.status_msg = False, ""
                self.rest.add(o)
                self.push_order(o)

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
        if r.reason in EXCHANGE_LEVEL:
            self._unfreeze_rest(o)
            o.status = xc.ORDER_REPORTED
            self.push_order(o)
        o.status, o.status_msg = xc.ORDER_JUNK, msg
        self.books.working.pop(o.order_id, None)
        self.rest.discard(o)
        self.push_order(o)
        code = REJECT[r.reason][0]
        self.out.append(
            (
                "on_order_error",
                XtOrderError(
                    xc.SECURITY_ACCOUNT,
                    self.books.account_id,
                    o.order_id,
                    code,
                    msg,
                    o.strategy_name,
                    o.remark,
                    o.seq,
                ),
            )
        )

    # ---- cancelling and finishing -------------------------------------------------------------
    def cancel(self, now: datetime, session: Session, order_id: int, seq: int = 0) -> int:
        """0 if the cancel was accepted (54/53 follows), -1 with on_cancel_error otherwise."""
        o = self.books.orders.get(order_id)
        if o is None or o.is_final or order_id not in self.books.working:
            why = "委托不存在或已是最终状态 / no such order or it is already final"
            return self._cancel_error(order_id, o, why, seq)
        if self.enforce_hours and not cancel_allowed_at(now.time().replace(tzinfo=None)):
            return self._cancel_error(
                order_id,
                o,
                "此时段不允许撤单 / cancels are not accepted 09:20-09:25 and 14:57-15:00",
                seq,
            )
        if o.status != xc.ORDER_UNREPORTED:
            o.status = xc.ORDER_PARTSUCC_CANCEL if o.traded else xc.ORDER_REPORTED_CANCEL
            self.push_order(o)
        self.finish(o, "")
        return 0

    def _cancel_error(self, order_id: int, o: Order | None, why: str, seq: int) -> int:
        market = market_of(o.code) if o is not None and o.name else xc.SH_MARKET
        self.out.append(
            (
                "on_cancel_error",
                XtCancelError(
                    xc.SECURITY_ACCOUNT,
                    self.books.account_id,
                    order_id,
                    market,
                    f"{order_id:08d}",
                    251050,
                    f"[COUNTER][251050][撤单失败][{why}]",
                    seq,
                ),
            )
        )
        return -1

    def finish(self, o: Order, msg: str) -> None:
        """End a working order's rest: 54 (nothing filled) or 53, freeing what it held."""
        self._unfreeze_rest(o)
        o.status = xc.ORDER_PART_CANCEL if o.traded else xc.ORDER_CANCELED
        o.status_msg = msg
        self.books.working.pop(o.order_id, None)
        self.rest.discard(o)
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


def cage_refs(q: Quote) -> tuple[Decimal, Decimal]:
    """(buy, sell) cage references of a quote's current book (§3.4)."""
    return orders.cage_refs(
        q.asks[0][0] if q.asks else None, q.bids[0][0] if q.bids else None, q.last
    )

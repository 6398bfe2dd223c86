"""Matching against the simulated book (ASHARE_RULES §9 default model), auctions, day roll.

Orders fill only against snapshots taken after they arrived (no look-ahead). Buys walk the
ask levels at each level's price up to their limit, sells the bids; displayed lots are used
up as they fill, so one snapshot's liquidity is shared in time priority. A sealed limit-up
shows no asks, so buys wait there.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import CLOSE_UNCROSS, OPEN_UNCROSS, Session
from xtquant_adapter.ashare.fees import order_fee_total
from xtquant_adapter.sim.books import ZERO, Order, Position, Trade, trade_record
from xtquant_adapter.sim.exchange import MARKET_IMMEDIATE, Exchange
from xtquant_adapter.sim.market import Quote

_EXPIRED = "当日有效委托已过期 / expired at the end of the day"


def fill(ex: Exchange, o: Order, price: Decimal, qty: int, when_ms: int) -> None:
    """Book one fill: a separate trade with its own id, then order, position, asset pushes."""
    b, q = ex.books, ex.market.quotes[o.code]
    value = price * qty
    # Fees telescope: the order's fees on its new cumulative value less what it already paid.
    fee = order_fee_total(ex.fees, o.code, o.side, o.traded_value + value,  # type: ignore[arg-type]
                          on=b.day) - o.fees
    p = b.positions.get(o.code)
    if p is None:
        p = b.positions[o.code] = Position(o.code, o.name)
    held_before = q.last * p.volume
    if o.side == "buy":
        cost = value + fee
        o.frozen -= cost
        b.frozen_cash -= cost
        p.volume += qty
        p.cost += cost
        if q.inst.t0:
            p.can_use += qty
    else:
        proceeds = value - fee
        b.cash += proceeds
        b.today_proceeds += proceeds
        share = (p.cost * qty / p.volume).quantize(ZERO) if p.volume else ZERO
        p.volume -= qty
        p.frozen -= qty
        p.cost = p.cost - share if p.volume else ZERO
    o.traded += qty
    o.traded_value += value
    o.fees += fee
    if o.traded == o.volume:
        o.status = xc.ORDER_SUCCEEDED
        b.working.pop(o.order_id, None)
        if o.side == "buy" and o.frozen:
            # Filled below the limit: what was reserved but not spent goes back.
            b.cash += o.frozen
            b.frozen_cash -= o.frozen
            o.frozen = ZERO
    else:
        o.status = xc.ORDER_PART_SUCC
    t = Trade(f"{b.next_trade_id:010d}", o.order_id, o.code, o.name, o.side, price, qty,
              value, fee, when_ms // 1000, b.day, o.strategy_name, o.remark)
    b.next_trade_id += 1
    b.trades.append(t)
    q.trade(price, qty, value)
    ex.revalue(held_before, price * p.volume)
    ex.dirty.trades.append(t)
    ex.out.append(("on_stock_trade", trade_record(b, t)))
    ex.push_order(o)
    ex.push_position(o.code)
    ex.push_asset()


def _walk(ex: Exchange, o: Order, limit: Decimal, levels: int, when_ms: int) -> None:
    q = ex.market.quotes[o.code]
    book = q.asks if o.side == "buy" else q.bids
    for level in book[:levels]:
        if o.open_volume <= 0:
            return
        price, lots = level
        if (o.side == "buy" and price > limit) or (o.side == "sell" and price < limit):
            return
        qty = min(o.open_volume, lots * 100)
        if qty <= 0:
            continue
        level[1] -= -(-qty // 100)  # whole lots consumed, rounding a partial lot up
        fill(ex, o, price, qty, when_ms)


def _depth(q: Quote, o: Order, limit: Decimal) -> int:
    book = q.asks if o.side == "buy" else q.bids
    if o.side == "buy":
        return sum(lots * 100 for p, lots in book[:5] if p <= limit)
    return sum(lots * 100 for p, lots in book[:5] if p >= limit)


def _market_order(ex: Exchange, o: Order, when_ms: int) -> None:
    q = ex.market.quotes[o.code]
    if o.price_type == xc.MARKET_SZ_FULL_OR_CANCEL and _depth(q, o, o.protect) < o.volume:
        ex.finish(o, "全额成交或撤销：深度不足 / fill-or-kill: not enough depth")
        return
    _walk(ex, o, o.protect, 5, when_ms)
    if o.open_volume <= 0:
        return
    if o.price_type != xc.MARKET_SH_CONVERT_5_LIMIT:
        ex.finish(o, "市价剩余部分撤销 / market order remainder cancelled")
        return
    # 43: the rest becomes a limit at the last fill price, else at the own side's best.
    own = q.bids if o.side == "buy" else q.asks
    if o.traded:
        o.price = ex.books.trades[-1].price
    elif own:
        o.price = ex.within_protection(o, own[0][0])
    else:
        ex.finish(o, "无本方报价，撤销 / no own-side quote, cancelled")


def match(ex: Exchange, when_ms: int) -> None:
    """Let every eligible working order trade against the current snapshot, in time order."""
    step = ex.market.step_no
    for o in list(ex.books.working.values()):
        if o.status == xc.ORDER_UNREPORTED or o.placed_step >= step:
            continue
        if o.price_type in MARKET_IMMEDIATE and o.price == 0:
            _market_order(ex, o, when_ms)
        elif o.price > 0:
            _walk(ex, o, o.price, 5, when_ms)


def release_held(ex: Exchange) -> None:
    """The counter sends orders it held (48) when the exchange window opens: 48 -> 50."""
    for o in list(ex.books.working.values()):
        if o.status == xc.ORDER_UNREPORTED:
            o.status = xc.ORDER_REPORTED
            ex.push_order(o)


def uncross(ex: Exchange, when_ms: int) -> None:
    """Call-auction uncross: limit orders at or better than the auction price fill at it,
    within the auction's volume; the rest carry on (opening) or expire later (closing)."""
    for o in list(ex.books.working.values()):
        if o.status == xc.ORDER_UNREPORTED or o.price <= 0:
            continue
        q = ex.market.quotes[o.code]
        crosses = o.price >= q.last if o.side == "buy" else o.price <= q.last
        if crosses:
            fill(ex, o, q.last, min(o.open_volume, q.inst.depth_lots * 500), when_ms)


def roll_day(ex: Exchange, day: date) -> None:
    """Expire the day's orders (54/53), release T+1 shares, roll prices and limits."""
    b = ex.books
    for o in list(b.working.values()):
        ex.finish(o, _EXPIRED)
    for code, p in list(b.positions.items()):
        if p.volume == 0:
            del b.positions[code]
            ex.dirty.positions.add(code)
            continue
        p.yesterday = p.volume
        p.can_use = p.volume
        p.frozen = 0
        ex.dirty.positions.add(code)
    b.today_proceeds = ZERO
    b.day = day
    b.orders.clear()
    b.trades.clear()
    b.opened = b.closed = False
    ex.market.roll_day(day)
    ex.dirty.books = True


def on_session(ex: Exchange, prev: Session, now: Session, when_ms: int) -> None:
    """Session side effects for one snapshot when hours are enforced.

    The auctions key on the clock passing 09:25 / 15:00 since the previous snapshot, not on
    seeing a snapshot inside the auction window, so a clock that jumps over a window (14:50 ->
    15:01) still uncrosses the orders that were working.
    """
    b = ex.books
    if now in (Session.CALL_AUCTION, Session.CONTINUOUS) and prev is not now:
        release_held(ex)
    t = ex.market.now.time()
    if not b.opened and prev in (Session.CALL_AUCTION, Session.PRE_OPEN) and (
            now is not Session.CALL_AUCTION and OPEN_UNCROSS <= t < CLOSE_UNCROSS):
        b.opened = True
        uncross(ex, when_ms)
    if not b.closed and prev in (Session.CONTINUOUS, Session.CLOSING_AUCTION) and (
            now is Session.CLOSED and t >= CLOSE_UNCROSS):
        b.closed = True
        uncross(ex, when_ms)


def snapshot_rows(ex: Exchange) -> list[tuple[Any, ...]]:
    """Market state the store keeps so the process continues after a restart."""
    return [(c, repr(q.fair), str(q.last), str(q.pre_close), str(q.open or ""),
             str(q.high or ""), str(q.low or ""), q.volume, str(q.amount))
            for c, q in ex.market.quotes.items()]

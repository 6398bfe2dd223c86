"""Conversions between the in-memory books/market and the store's rows; opening the books."""

from __future__ import annotations

import functools
import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR
from xtquant_adapter.ashare.codes import normalize_code
from xtquant_adapter.sim.books import Books, Order, Position, Trade
from xtquant_adapter.sim.config import SimConfig
from xtquant_adapter.sim.exchange import Dirty, Exchange
from xtquant_adapter.sim.market import Market, history, new_quote
from xtquant_adapter.sim.matching import snapshot_rows
from xtquant_adapter.sim.store import Store
from xtquant_adapter.sim.universe import BY_CODE, UNIVERSE


def _d(text: str) -> Decimal:
    return Decimal(text)


@functools.lru_cache(maxsize=64)
def _iso(day: date) -> str:
    return day.isoformat()


def order_row(o: Order) -> tuple[Any, ...]:
    return (o.order_id, _iso(o.day), o.code, o.name, o.side, o.order_type, o.price_type,
            str(o.price), o.volume, o.order_time, o.strategy_name, o.remark, o.status,
            o.status_msg, o.traded, str(o.traded_value), str(o.fees), str(o.frozen),
            str(o.protect), o.placed_step, o.seq)


def order_from(r: tuple[Any, ...]) -> Order:
    return Order(r[0], r[2], r[3], r[4], r[5], r[6], _d(r[7]), r[8], date.fromisoformat(r[1]),
                 r[9], r[10], r[11], r[12], r[13], r[14], _d(r[15]), _d(r[16]), _d(r[17]),
                 _d(r[18]), r[19], r[20])


def trade_row(t: Trade) -> tuple[Any, ...]:
    return (t.traded_id, t.order_id, t.code, t.name, t.side, str(t.price), t.volume,
            str(t.amount), str(t.fees), t.traded_time, _iso(t.day), t.strategy_name,
            t.remark)


def trade_from(r: tuple[Any, ...]) -> Trade:
    return Trade(r[0], r[1], r[2], r[3], r[4], _d(r[5]), r[6], _d(r[7]), _d(r[8]), r[9],
                 date.fromisoformat(r[10]), r[11], r[12])


def position_row(p: Position) -> tuple[Any, ...]:
    return (p.code, p.name, p.volume, p.can_use, p.frozen, p.yesterday, str(p.cost))


def meta_of(ex: Exchange, seed: int, origin: date) -> dict[str, str]:
    b = ex.books
    return {"seed": str(seed), "origin": origin.isoformat(), "day": b.day.isoformat(),
            "account_id": b.account_id, "cash": str(b.cash), "frozen_cash": str(b.frozen_cash),
            "today_proceeds": str(b.today_proceeds), "next_order_id": str(b.next_order_id),
            "next_trade_id": str(b.next_trade_id), "opened": str(int(b.opened)),
            "closed": str(int(b.closed)), "step_no": str(ex.market.step_no)}


def batch_of(ex: Exchange, dirty: Dirty, seed: int, origin: date,
             with_quotes: bool) -> dict[str, Any]:
    """Rows for everything `dirty` names, read from the current state."""
    b, m = ex.books, ex.market
    orders = [order_row(b.orders[i]) for i in dirty.orders if i in b.orders]
    positions = [position_row(b.positions[c]) for c in dirty.positions if c in b.positions]
    dropped = [c for c in dirty.positions if c not in b.positions]
    bars = [(c, period, bar["time"], str(bar["open"]), str(bar["high"]), str(bar["low"]),
             str(bar["close"]), bar["volume"], str(bar["amount"]))
            for c, period, bar in m.completed]
    m.completed = []
    return {"meta": meta_of(ex, seed, origin), "orders": orders,
            "trades": [trade_row(t) for t in dirty.trades], "positions": positions,
            "dropped": dropped, "quotes": snapshot_rows(ex) if with_quotes else [], "bars": bars}


def history_days(origin: date, n: int, enforce: bool) -> list[date]:
    """The `n` days before `origin` that get generated bars (trading days, or weekdays)."""
    days: list[date] = []
    day = origin
    while len(days) < n:
        day -= timedelta(days=1)
        trading = DEFAULT_CALENDAR.is_trading_day(day) if enforce else day.weekday() < 5
        if trading:
            days.append(day)
    return days[::-1]


def open_state(store: Store, cfg: SimConfig, today: date) -> tuple[Exchange, int, date, bool]:
    """Books and market from the store, or fresh from `cfg`; returns (exchange, seed, origin,
    fresh)."""
    meta = store.meta()
    fresh = not meta
    seed = int(meta["seed"]) if meta else (
        cfg.seed if cfg.seed is not None else random.SystemRandom().randrange(2**31))
    origin = date.fromisoformat(meta["origin"]) if meta else today
    day = date.fromisoformat(meta["day"]) if meta else today
    market = Market(UNIVERSE, seed, origin, int(meta.get("step_no", 0)), cfg.tick_interval_seconds)
    days = history_days(origin, cfg.history_days, cfg.enforce_trading_hours)
    for inst in UNIVERSE:
        market.daily[inst.code], market.minutes[inst.code] = history(inst, seed, days)
    _restore_market(store, market, day)
    market.rebuild_books()
    books = Books(cfg.account_id, day, cfg.initial_cash)
    if fresh:
        _initial_positions(books, cfg)
    else:
        _restore_books(store, books, meta)
    return Exchange(books, market, cfg.fees, enforce_hours=cfg.enforce_trading_hours), seed, \
        origin, fresh


def _initial_positions(books: Books, cfg: SimConfig) -> None:
    for raw, qty in cfg.initial_positions.items():
        code = normalize_code(raw)
        inst = BY_CODE.get(code)
        if inst is None:
            raise ValueError(f"SIM_INITIAL_POSITIONS: {code} is not in the simulated universe")
        books.positions[code] = Position(code, inst.name, qty, qty, 0, qty,
                                         inst.pre_close * qty)


def _restore_market(store: Store, market: Market, day: date) -> None:
    for c, period, t, o, h, lo, cl, v, a in store.rows("bars"):
        bar = {"time": t, "open": _d(o), "high": _d(h), "low": _d(lo), "close": _d(cl),
               "volume": v, "amount": _d(a)}
        (market.daily if period == "1d" else market.minutes)[c].append(bar)
    for c in market.daily:
        market.daily[c].sort(key=lambda b: b["time"])
        market.minutes[c].sort(key=lambda b: b["time"])
    market.day = day
    for code, fair, last, pre, o, h, lo, vol, amount in store.rows("quotes"):
        q = market.quotes.get(code)
        if q is None:
            continue
        fresh = new_quote(q.inst, _d(pre), day)
        fresh.fair, fresh.last, fresh.volume, fresh.amount = float(fair), _d(last), vol, _d(amount)
        fresh.open, fresh.high, fresh.low = (_d(x) if x else None for x in (o, h, lo))
        market.quotes[code] = fresh
    market.now = datetime.combine(day, datetime.min.time(), market.now.tzinfo)


def _restore_books(store: Store, books: Books, meta: dict[str, str]) -> None:
    books.account_id = meta["account_id"]
    books.cash, books.frozen_cash = _d(meta["cash"]), _d(meta["frozen_cash"])
    books.today_proceeds = _d(meta["today_proceeds"])
    books.next_order_id = int(meta["next_order_id"])
    books.next_trade_id = int(meta["next_trade_id"])
    books.opened, books.closed = meta["opened"] == "1", meta["closed"] == "1"
    for r in store.rows("positions"):
        books.positions[r[0]] = Position(r[0], r[1], r[2], r[3], r[4], r[5], _d(r[6]))
    for r in store.rows("orders", books.day.isoformat()):
        o = order_from(r)
        books.orders[o.order_id] = o
        if not o.is_final:
            books.working[o.order_id] = o
    books.trades = [trade_from(r) for r in store.rows("trades", books.day.isoformat())]

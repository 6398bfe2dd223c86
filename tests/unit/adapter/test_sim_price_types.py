"""Price types by board (ASHARE_RULES §7), the price cage (§3.4) and protective prices."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.adapter.simkit import ACCOUNT, Recorder, bj, make_trader
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.rules import cage_bounds, needs_protective_price
from xtquant_adapter.sim import SimulatedXtQuantTrader
from xtquant_adapter.sim.universe import BY_CODE

D = Decimal
HOLDINGS = {
    "600000.SH": 20_000,
    "688981.SH": 5_000,
    "000001.SZ": 20_000,
    "300059.SZ": 20_000,
    "920185.BJ": 20_000,
    "510300.SH": 20_000,
}
PROTECTED = {"688981.SH", "920185.BJ"}  # STAR and BSE market orders carry a protective price
BUY, SELL = xc.STOCK_BUY, xc.STOCK_SELL
Sim = tuple[SimulatedXtQuantTrader, Recorder, Any]


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    trader, rec, clock = make_trader(
        tmp_path, initial_positions=HOLDINGS, initial_cash=D("50000000")
    )
    yield trader, rec, clock
    trader.close()


def _tick(trader: SimulatedXtQuantTrader, code: str) -> dict[str, Any]:
    return trader.market.get_full_tick([code])[code]


def _limits(trader: SimulatedXtQuantTrader, code: str) -> tuple[float, float]:
    d = trader.market.get_instrument_detail(code)
    assert d is not None
    return d["DownStopPrice"], d["UpStopPrice"]


def _worst(trader: SimulatedXtQuantTrader, code: str, side: int) -> float:
    """A protective price that never binds: the limit on the order's unfavourable side."""
    down, up = _limits(trader, code)
    return up if side == BUY else down


def _order(trader: SimulatedXtQuantTrader, oid: int) -> Any:
    o = trader.query_stock_order(ACCOUNT, oid)
    assert o is not None
    return o


# ---- 5 LATEST_PRICE: the counter turns it into a limit at the last price ---------------------
@pytest.mark.parametrize("code", list(HOLDINGS))
@pytest.mark.parametrize("side", [BUY, SELL])
def test_latest_price_becomes_a_limit_at_last(sim: Sim, code: str, side: int) -> None:
    trader, rec, _ = sim
    last = _tick(trader, code)["lastPrice"]
    oid = trader.order_stock(ACCOUNT, code, side, 200, xc.LATEST_PRICE, 0)
    o = _order(trader, oid)
    assert (o.order_status, o.price, o.price_type) == (xc.ORDER_REPORTED, last, xc.LATEST_PRICE)
    trader.step()
    assert trader.flush()
    assert xc.ORDER_JUNK not in rec.statuses(oid)
    for t in (t for t in rec.of("on_stock_trade") if t.order_id == oid):
        assert t.traded_price <= last if side == BUY else t.traded_price >= last


# ---- 44 peer price first / 45 own price first, on every board that takes them ------------------
@pytest.mark.parametrize("code", list(HOLDINGS))
@pytest.mark.parametrize(
    ("price_type", "side", "book"),
    [
        (xc.MARKET_PEER_PRICE_FIRST, BUY, "askPrice"),
        (xc.MARKET_PEER_PRICE_FIRST, SELL, "bidPrice"),
        (xc.MARKET_MINE_PRICE_FIRST, BUY, "bidPrice"),
        (xc.MARKET_MINE_PRICE_FIRST, SELL, "askPrice"),
    ],
)
def test_44_and_45_are_priced_at_arrival(
    sim: Sim, code: str, price_type: int, side: int, book: str
) -> None:
    trader, rec, _ = sim
    best = _tick(trader, code)[book][0]
    protect = _worst(trader, code, side) if code in PROTECTED else 0
    oid = trader.order_stock(ACCOUNT, code, side, 200, price_type, protect)
    o = _order(trader, oid)
    assert o.order_status == xc.ORDER_REPORTED
    assert o.price == best
    trader.step()
    assert trader.flush()
    trades = [t for t in rec.of("on_stock_trade") if t.order_id == oid]
    # It works as a limit at that price from then on (a fill never betters the limit's side).
    assert all(
        (t.traded_price <= best) if side == BUY else (t.traded_price >= best) for t in trades
    )


@pytest.mark.parametrize(
    ("price_type", "final", "price_is_limit_up"),
    [
        (xc.MARKET_PEER_PRICE_FIRST, xc.ORDER_CANCELED, False),  # no asks to take the price of
        (xc.MARKET_MINE_PRICE_FIRST, xc.ORDER_REPORTED, True),  # joins the sealed bid
        (xc.MARKET_SH_CONVERT_5_LIMIT, xc.ORDER_REPORTED, True),  # no fill -> own-side best
        (xc.MARKET_SH_CONVERT_5_CANCEL, xc.ORDER_CANCELED, False),
    ],
)
def test_market_buys_at_a_sealed_limit_up(
    sim: Sim, price_type: int, final: int, price_is_limit_up: bool
) -> None:
    trader, _, _ = sim
    _, up = _limits(trader, "600000.SH")
    trader.market.set_price("600000.SH", up * 1.5)
    assert _tick(trader, "600000.SH")["askVol"] == [0] * 5
    oid = trader.order_stock(ACCOUNT, "600000.SH", BUY, 100, price_type, 0)
    trader.step()
    assert trader.flush()
    o = _order(trader, oid)
    assert o.order_status == final
    assert o.traded_volume == 0
    assert (o.price == up) is price_is_limit_up
    if final == xc.ORDER_CANCELED:
        assert trader.query_stock_asset(ACCOUNT).frozen_cash == 0


# ---- 43 best five, the rest becomes a limit at the last fill price -----------------------------
# Thin books (few lots a level), so an order can outsize all five levels within the size caps.
@pytest.mark.parametrize("code", ["600519.SH", "688111.SH", "920047.BJ"])
def test_43_rest_becomes_limit_at_last_fill_price(sim: Sim, code: str) -> None:
    trader, rec, _ = sim
    depth_lots = BY_CODE[code].depth_lots
    qty = depth_lots * 2 * 5 * 100 + 1_000  # more than five levels can ever show
    protect = _worst(trader, code, BUY) if needs_protective_price(code) else 0
    oid = trader.order_stock(ACCOUNT, code, BUY, qty, xc.MARKET_SH_CONVERT_5_LIMIT, protect)
    assert _order(trader, oid).order_status == xc.ORDER_REPORTED
    trader.step()
    assert trader.flush()
    trades = [t for t in rec.of("on_stock_trade") if t.order_id == oid]
    o = _order(trader, oid)
    assert trades, "the five visible levels fill"
    assert _tick(trader, code)["askVol"] == [0] * 5
    assert o.order_status == xc.ORDER_PART_SUCC  # still working, not cancelled
    assert 0 < o.traded_volume < qty
    assert o.price == trades[-1].traded_price == max(t.traded_price for t in trades)
    assert trader.query_stock_orders(ACCOUNT, cancelable_only=True)[-1].order_id == oid


def test_43_is_rejected_on_shenzhen(sim: Sim) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(ACCOUNT, "000001.SZ", BUY, 100, xc.MARKET_SH_CONVERT_5_LIMIT, 0)
    assert trader.flush()
    assert rec.statuses(oid) == [xc.ORDER_JUNK]
    assert "[COUNTER][251040]" in rec.of("on_order_error")[-1].error_msg


# ---- protective price (STAR, BSE) ------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(PROTECTED))
@pytest.mark.parametrize(
    ("price_type", "side"),
    [
        (xc.MARKET_SH_CONVERT_5_CANCEL, BUY),
        (xc.MARKET_SH_CONVERT_5_CANCEL, SELL),
        (xc.MARKET_SH_CONVERT_5_LIMIT, BUY),
        (xc.MARKET_SH_CONVERT_5_LIMIT, SELL),
    ],
)
def test_protective_price_bounds_market_fills(
    sim: Sim, code: str, price_type: int, side: int
) -> None:
    trader, rec, _ = sim
    trader.step()
    before = _tick(trader, code)
    protect = (before["askPrice"] if side == BUY else before["bidPrice"])[1]
    qty = 40_000 if side == BUY else HOLDINGS[code]
    oid = trader.order_stock(ACCOUNT, code, side, qty, price_type, protect)
    trader.step()
    assert trader.flush()
    # The snapshot it traded against: prices as shown now, lots as shown plus what we took.
    after = _tick(trader, code)
    prices, left = (
        (after["askPrice"], after["askVol"])
        if side == BUY
        else (after["bidPrice"], after["bidVol"])
    )
    within = [(p <= protect) if side == BUY else (p >= protect) for p in prices]
    trades = [t for t in rec.of("on_stock_trade") if t.order_id == oid]
    o = _order(trader, oid)
    for t in trades:
        assert t.traded_price <= protect if side == BUY else t.traded_price >= protect
        assert within[prices.index(t.traded_price)]
    if o.traded_volume < qty:  # stopped by the protection: every level within it is used up
        assert all(lots == 0 for lots, ok in zip(left, within, strict=True) if ok and lots)
    if price_type == xc.MARKET_SH_CONVERT_5_CANCEL:
        assert o.order_status in (xc.ORDER_PART_CANCEL, xc.ORDER_SUCCEEDED, xc.ORDER_CANCELED)
    elif o.order_status in (xc.ORDER_PART_SUCC, xc.ORDER_REPORTED):
        assert o.price <= protect if side == BUY else o.price >= protect


@pytest.mark.parametrize("code", sorted(PROTECTED))
@pytest.mark.parametrize("price_type", [xc.MARKET_PEER_PRICE_FIRST, xc.MARKET_MINE_PRICE_FIRST])
def test_44_45_limit_never_beyond_protection(sim: Sim, code: str, price_type: int) -> None:
    trader, _, _ = sim
    tick = _tick(trader, code)
    protect = tick["bidPrice"][2]  # below both the best bid and the best ask
    oid = trader.order_stock(ACCOUNT, code, BUY, 200, price_type, protect)
    o = _order(trader, oid)
    assert o.order_status == xc.ORDER_REPORTED
    assert o.price == protect


@pytest.mark.parametrize(
    ("code", "price", "fragment"),
    [
        ("688981.SH", 0, "[COUNTER][251041]"),
        ("920185.BJ", 0, "[COUNTER][251041]"),
        ("688981.SH", 110.505, "[COUNTER][251021]"),
        ("920185.BJ", 30.001, "[COUNTER][251021]"),
    ],
)
def test_protective_price_required_and_on_the_tick(
    sim: Sim, code: str, price: float, fragment: str
) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(ACCOUNT, code, BUY, 200, xc.MARKET_SH_CONVERT_5_CANCEL, price)
    assert trader.flush()
    assert rec.statuses(oid)[-1] == xc.ORDER_JUNK
    assert rec.of("on_order_error")[-1].error_msg.startswith(fragment)


def test_main_board_market_order_ignores_price(sim: Sim) -> None:
    trader, _, _ = sim
    oid = trader.order_stock(ACCOUNT, "600000.SH", BUY, 100, xc.MARKET_SH_CONVERT_5_CANCEL, 0)
    assert _order(trader, oid).order_status == xc.ORDER_REPORTED


# ---- the price cage in continuous trading ---------------------------------------------------
def _cage(trader: SimulatedXtQuantTrader, code: str) -> tuple[Decimal, Decimal]:
    t = _tick(trader, code)
    ask, bid = D(repr(t["askPrice"][0])), D(repr(t["bidPrice"][0]))
    return cage_bounds(code, buy_ref=ask, sell_ref=bid)


@pytest.mark.parametrize(
    ("code", "rejects"),
    [
        ("600000.SH", True),  # SH main: rejected (废单)
        ("688981.SH", True),  # STAR: rejected
        ("000001.SZ", False),  # SZ main: parked, i.e. it rests
        ("300059.SZ", False),  # ChiNext: parked
    ],
)
@pytest.mark.parametrize("side", [BUY, SELL])
def test_price_cage_by_board(sim: Sim, code: str, rejects: bool, side: int) -> None:
    trader, rec, _ = sim
    low, high = _cage(trader, code)
    tick = D("0.01")
    edge, outside = (high, high + tick) if side == BUY else (low, low - tick)
    inside = trader.order_stock(ACCOUNT, code, side, 200, xc.FIX_PRICE, float(edge))
    beyond = trader.order_stock(ACCOUNT, code, side, 200, xc.FIX_PRICE, float(outside))
    assert trader.flush()
    assert xc.ORDER_JUNK not in rec.statuses(inside)
    if rejects:
        assert rec.statuses(beyond) == [xc.ORDER_REPORTED, xc.ORDER_JUNK]
        error = [e for e in rec.of("on_order_error") if e.order_id == beyond]
        assert error[0].error_msg.startswith("[COUNTER][251022][委托价格超出有效申报价格范围]")
        asset = trader.query_stock_asset(ACCOUNT)
        position = trader.query_stock_position(ACCOUNT, code)
        frozen_by_inside = 200 if side == SELL else 0
        assert position.frozen_volume == frozen_by_inside
        assert asset.cash + asset.frozen_cash == 50_000_000
    else:
        assert rec.statuses(beyond) == [xc.ORDER_REPORTED]


def test_price_cage_does_not_apply_in_the_call_auction(tmp_path: Path) -> None:
    trader, rec, _ = make_trader(tmp_path, when=bj(2026, 11, 25, 9, 16), enforce_trading_hours=True)
    try:
        _, high = _cage(trader, "600000.SH")
        price = float(high + D("0.05"))  # beyond the cage, inside the daily band
        oid = trader.order_stock(ACCOUNT, "600000.SH", BUY, 100, xc.FIX_PRICE, price)
        assert trader.flush()
        assert rec.statuses(oid) == [xc.ORDER_REPORTED]
    finally:
        trader.close()

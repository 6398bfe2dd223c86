"""Issue 15 in the simulated counter: parked orders, product limits, new listings, T+0, the ST
daily cap, and a matching step that costs what crosses, not what rests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.adapter.simkit import ACCOUNT, Recorder, bj, make_trader
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.rules import cage_bounds
from xtquant_adapter.sim import SimulatedXtQuantTrader, matching
from xtquant_adapter.sim.books import PARKED_MSG

D = Decimal
BUY, SELL = xc.STOCK_BUY, xc.STOCK_SELL
Sim = tuple[SimulatedXtQuantTrader, Recorder, Any]
HOLDINGS = {"000001.SZ": 20_000, "300059.SZ": 20_000, "920185.BJ": 20_000}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    trader, rec, clock = make_trader(
        tmp_path, initial_positions=HOLDINGS, initial_cash=D("50000000")
    )
    yield trader, rec, clock
    trader.close()


def _cage(trader: SimulatedXtQuantTrader, code: str) -> tuple[Decimal, Decimal]:
    t = trader.market.get_full_tick([code])[code]
    ask, bid = D(repr(t["askPrice"][0])), D(repr(t["bidPrice"][0]))
    return cage_bounds(code, buy_ref=ask, sell_ref=bid)


def _order(trader: SimulatedXtQuantTrader, oid: int) -> Any:
    o = trader.query_stock_order(ACCOUNT, oid)
    assert o is not None
    return o


def _trades(rec: Recorder, oid: int) -> list[Any]:
    return [t for t in rec.of("on_stock_trade") if t.order_id == oid]


# ---- parked orders (ASHARE_RULES §3.4; SZSE: "暂存于交易主机…进入有效竞价范围时…参加竞价") -----
@pytest.mark.parametrize("code", ["000001.SZ", "300059.SZ", "920185.BJ"])
def test_out_of_cage_buy_is_parked_not_filled_until_the_cage_moves_over_it(
    sim: Sim, code: str
) -> None:
    trader, rec, _ = sim
    _, high = _cage(trader, code)
    price = high + D("0.20")  # the audit's case: above the cage top, inside the daily band
    oid = trader.order_stock(ACCOUNT, code, BUY, 200, xc.FIX_PRICE, float(price))
    for _ in range(5):
        trader.step()
    assert trader.flush()
    o = _order(trader, oid)
    assert o.order_status == xc.ORDER_REPORTED
    assert o.status_msg.startswith(PARKED_MSG)
    assert _trades(rec, oid) == []  # before issue 15 it filled at the best ask at once

    # The market rises: the ask comes within 2% of the order, which joins the book and fills.
    trader.market.set_price(code, price - D("0.05"))
    trader.step()
    assert trader.flush()
    o = _order(trader, oid)
    assert o.order_status == xc.ORDER_SUCCEEDED
    assert o.status_msg == ""
    assert all(t.traded_price <= float(price) for t in _trades(rec, oid))
    assert rec.statuses(oid)[:2] == [xc.ORDER_REPORTED, xc.ORDER_REPORTED]  # parked, joined


def test_out_of_cage_sell_is_parked_on_sz(sim: Sim) -> None:
    trader, rec, _ = sim
    low, _ = _cage(trader, "000001.SZ")
    price = low - D("0.20")
    oid = trader.order_stock(ACCOUNT, "000001.SZ", SELL, 1000, xc.FIX_PRICE, float(price))
    trader.step()
    assert trader.flush()
    assert _order(trader, oid).status_msg.startswith(PARKED_MSG)
    assert _trades(rec, oid) == []
    assert trader.query_stock_position(ACCOUNT, "000001.SZ").frozen_volume == 1000
    trader.market.set_price("000001.SZ", price + D("0.05"))
    trader.step()
    assert trader.flush()
    assert _order(trader, oid).order_status == xc.ORDER_SUCCEEDED


def test_parked_order_can_be_cancelled_and_releases_its_cash(sim: Sim) -> None:
    trader, _, _ = sim
    _, high = _cage(trader, "000001.SZ")
    oid = trader.order_stock(ACCOUNT, "000001.SZ", BUY, 200, xc.FIX_PRICE, float(high + D("0.1")))
    assert trader.cancel_order_stock(ACCOUNT, oid) == 0
    assert _order(trader, oid).order_status == xc.ORDER_CANCELED
    asset = trader.query_stock_asset(ACCOUNT)
    assert asset.frozen_cash == 0
    trader.market.set_price("000001.SZ", high)
    trader.step()  # nothing left to join
    assert _order(trader, oid).order_status == xc.ORDER_CANCELED


def test_parked_order_stays_parked_across_a_restart(tmp_path: Path) -> None:
    trader, _, _ = make_trader(tmp_path)
    _, high = _cage(trader, "000001.SZ")
    price = high + D("0.2")
    oid = trader.order_stock(ACCOUNT, "000001.SZ", BUY, 200, xc.FIX_PRICE, float(price))
    trader.close()
    trader, _, _ = make_trader(tmp_path)
    try:
        trader.step()
        assert _order(trader, oid).status_msg.startswith(PARKED_MSG)
        assert _order(trader, oid).traded_volume == 0
        trader.market.set_price("000001.SZ", price - D("0.05"))
        trader.step()
        assert _order(trader, oid).order_status == xc.ORDER_SUCCEEDED
    finally:
        trader.close()


def test_sh_main_board_still_rejects_out_of_cage(sim: Sim) -> None:
    trader, rec, _ = sim
    _, high = _cage(trader, "600000.SH")
    oid = trader.order_stock(ACCOUNT, "600000.SH", BUY, 100, xc.FIX_PRICE, float(high + D("0.01")))
    assert trader.flush()
    assert rec.statuses(oid) == [xc.ORDER_REPORTED, xc.ORDER_JUNK]


# ---- ETFs on STAR-only indexes: ±20% (SSE 2020-08-21) ----------------------------------------
def test_star_etf_limits_are_20_percent(sim: Sim) -> None:
    trader, rec, _ = sim
    d = trader.market.get_instrument_detail("588000.SH")
    assert d is not None
    assert (d["DownStopPrice"], d["UpStopPrice"]) == (1.08, 1.62)
    oid = trader.order_stock(ACCOUNT, "588000.SH", BUY, 1000, xc.FIX_PRICE, 1.600)
    assert trader.flush()
    assert xc.ORDER_JUNK not in rec.statuses(oid)  # refused as above limit-up before


# ---- a new listing in its first five trading days --------------------------------------------
def test_new_listing_has_no_limits_then_gets_them_on_day_six(sim: Sim) -> None:
    trader, _, clock = sim
    d = trader.market.get_instrument_detail("001399.SZ")
    assert d is not None
    assert d["OpenDate"] == "20261125"  # lists on the books' first day
    assert (d["UpStopPrice"], d["DownStopPrice"]) == (0.0, 0.0)  # no limit: shown as null
    mkt = trader.order_stock(ACCOUNT, "001399.SZ", BUY, 100, xc.MARKET_PEER_PRICE_FIRST, 0)
    assert trader.flush()
    assert _order(trader, mkt).order_status == xc.ORDER_JUNK
    assert _order(trader, mkt).status_msg.startswith("[COUNTER][251042]")
    clock.set(bj(2026, 12, 1, 10, 0))  # trading day 5
    trader.step()
    d = trader.market.get_instrument_detail("001399.SZ")
    assert d is not None
    assert d["UpStopPrice"] == 0.0
    clock.set(bj(2026, 12, 2, 10, 0))  # trading day 6: ±10% of the previous close
    trader.step()
    d = trader.market.get_instrument_detail("001399.SZ")
    assert d is not None
    pre = D(repr(d["PreClose"]))
    assert D(repr(d["UpStopPrice"])) == (pre * D("1.1")).quantize(D("0.01"), "ROUND_HALF_UP")


def test_history_of_a_new_listing_starts_on_its_listing_day(sim: Sim) -> None:
    trader, _, _ = sim
    assert trader.market.get_bars("001399.SZ", "1d", 10) == []
    assert len(trader.market.get_bars("000001.SZ", "1d", 10)) == 10


# ---- T+0 products (§5) -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "t0"),
    [("159920.SZ", True), ("510900.SH", True), ("513100.SH", True), ("518880.SH", True),
     ("159934.SZ", True), ("511010.SH", True), ("511880.SH", True), ("510300.SH", False),
     ("588000.SH", False)],
)  # fmt: skip
def test_t0_products_sell_what_they_bought_today(sim: Sim, code: str, t0: bool) -> None:
    trader, _, _ = sim
    ask = trader.market.get_full_tick([code])[code]["askPrice"][4]  # marketable
    buy = trader.order_stock(ACCOUNT, code, BUY, 100, xc.FIX_PRICE, ask)
    trader.step()
    assert _order(trader, buy).order_status == xc.ORDER_SUCCEEDED
    bid = trader.market.get_full_tick([code])[code]["bidPrice"][4]
    sell = trader.order_stock(ACCOUNT, code, SELL, 100, xc.FIX_PRICE, bid)
    status = _order(trader, sell).order_status
    if t0:
        assert status == xc.ORDER_REPORTED
    else:
        assert status == xc.ORDER_JUNK
        assert _order(trader, sell).status_msg.startswith("[COUNTER][251005]")


# ---- ST: 500,000 shares bought per stock per day (§3.5) --------------------------------------
def test_st_daily_buy_cap_counts_filled_and_working_buys(tmp_path: Path) -> None:
    trader, _, _ = make_trader(tmp_path, initial_cash=D("10000000"))
    try:
        price = 3.10  # below the ask: rests
        a = trader.order_stock(ACCOUNT, "600200.SH", BUY, 300_000, xc.FIX_PRICE, price)
        b = trader.order_stock(ACCOUNT, "600200.SH", BUY, 200_000, xc.FIX_PRICE, price)
        over = trader.order_stock(ACCOUNT, "600200.SH", BUY, 100, xc.FIX_PRICE, price)
        assert _order(trader, a).order_status == xc.ORDER_REPORTED
        assert _order(trader, b).order_status == xc.ORDER_REPORTED
        assert _order(trader, over).order_status == xc.ORDER_JUNK
        assert _order(trader, over).status_msg.startswith("[COUNTER][251011]")
        assert trader.cancel_order_stock(ACCOUNT, b) == 0  # cancelled, nothing bought: room
        again = trader.order_stock(ACCOUNT, "600200.SH", BUY, 100, xc.FIX_PRICE, price)
        assert _order(trader, again).order_status == xc.ORDER_REPORTED
        # Not ST: no cap.
        big = trader.order_stock(ACCOUNT, "601398.SH", BUY, 600_000, xc.FIX_PRICE, 7.30)
        assert _order(trader, big).order_status == xc.ORDER_REPORTED
    finally:
        trader.close()


# ---- matching visits what crosses, not what rests --------------------------------------------
def test_a_step_visits_only_orders_that_cross(sim: Sim, monkeypatch: pytest.MonkeyPatch) -> None:
    trader, _, _ = sim
    visited: list[int] = []
    real_walk = matching._walk

    def counting_walk(ex: Any, o: Any, *args: Any) -> None:
        visited.append(o.order_id)
        real_walk(ex, o, *args)

    monkeypatch.setattr(matching, "_walk", counting_walk)
    bid = trader.market.get_full_tick(["000001.SZ"])["000001.SZ"]["bidPrice"][4]
    resting = [trader.order_stock(ACCOUNT, "000001.SZ", BUY, 100, xc.FIX_PRICE, round(bid - 0.1, 2))
               for _ in range(300)]  # fmt: skip
    for _ in range(3):
        trader.step()
    assert visited == []
    ask = trader.market.get_full_tick(["601398.SH"])["601398.SH"]["askPrice"][0]
    crossing = trader.order_stock(
        ACCOUNT, "601398.SH", BUY, 100, xc.FIX_PRICE, round(ask + 0.05, 2)
    )
    trader.step()
    assert visited == [crossing]
    assert all(_order(trader, oid).order_status == xc.ORDER_REPORTED for oid in resting)
    # When the market falls through them, the resting buys fill, in time priority.
    trader.market.set_price("000001.SZ", D(repr(bid)) - D("0.30"))
    trader.step()
    filled = [oid for oid in resting if _order(trader, oid).traded_volume]
    assert filled
    assert filled == resting[: len(filled)]

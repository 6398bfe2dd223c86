"""The simulated trader's lifecycle, matching, rejections, threading and durability."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.adapter.simkit import ACCOUNT, Recorder, bj, eventually, make_trader
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.sim import SimulatedXtQuantTrader, reset_books

D = Decimal
CASH = D("50000000")


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimulatedXtQuantTrader, Recorder, Any]]:
    trader, rec, clock = make_trader(
        tmp_path, initial_positions={"600519.SH": 1000}, initial_cash=CASH
    )
    yield trader, rec, clock
    trader.close()


def _ask(trader: SimulatedXtQuantTrader, code: str, level: int) -> tuple[float, int]:
    t = trader.market.get_full_tick([code])[code]
    return t["askPrice"][level], t["askVol"][level]


def test_callbacks_arrive_on_one_non_main_thread_in_order(sim: Any) -> None:
    trader, rec, _ = sim
    price, _ = _ask(trader, "600000.SH", 0)
    seqs = [
        trader.order_stock_async(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, price)
        for _ in range(20)
    ]
    trader.step()
    assert trader.flush()
    threads = {t for _, t, _ in rec.events}
    assert threads == {"sim-push"}
    assert threading.main_thread().name not in threads
    responses = rec.of("on_order_stock_async_response")
    assert [r.seq for r in responses] == seqs
    for r in responses:
        statuses = rec.statuses(r.order_id)
        assert statuses[0] == xc.ORDER_REPORTED  # a fill never precedes "reported"
        assert statuses[-1] == xc.ORDER_SUCCEEDED


def test_marketable_buy_walks_levels_with_partial_fills(sim: Any) -> None:
    trader, rec, _ = sim
    p0, v0 = _ask(trader, "000001.SZ", 0)
    p2, _ = _ask(trader, "000001.SZ", 2)
    trader.step()
    book = trader.market.get_full_tick(["000001.SZ"])["000001.SZ"]
    qty = (book["askVol"][0] + book["askVol"][1]) * 100 + 100
    oid = trader.order_stock(
        ACCOUNT, "000001.SZ", xc.STOCK_BUY, qty, xc.FIX_PRICE, book["askPrice"][1]
    )
    trader.step()
    assert trader.flush()
    trades = [t for t in rec.of("on_stock_trade") if t.order_id == oid]
    assert len({t.traded_id for t in trades}) == len(trades) >= 1
    assert all(t.traded_price <= book["askPrice"][1] + 1e-9 for t in trades)
    order = trader.query_stock_order(ACCOUNT, oid)
    assert 0 < order.traded_volume <= qty
    assert sum(t.traded_volume for t in trades) == order.traded_volume
    if order.traded_volume < qty:
        assert order.order_status == xc.ORDER_PART_SUCC
    assert (p0, v0, p2) != (0, 0, 0)


def test_resting_buy_fills_when_price_crosses(sim: Any) -> None:
    trader, _, _ = sim
    oid = trader.order_stock(ACCOUNT, "600036.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 42.00)
    trader.step()
    trader.market.set_price("600036.SH", 42.20)
    trader.step()
    assert trader.query_stock_order(ACCOUNT, oid).traded_volume == 0
    trader.market.set_price("600036.SH", 41.80)
    trader.step()
    order = trader.query_stock_order(ACCOUNT, oid)
    assert order.order_status == xc.ORDER_SUCCEEDED
    assert order.traded_price <= 42.00


def test_no_buy_fill_at_sealed_limit_up(sim: Any) -> None:
    trader, _, _ = sim
    up = trader.market.get_instrument_detail("600000.SH")["UpStopPrice"]
    trader.market.set_price("600000.SH", up * 1.5)
    oid = trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, up)
    for _ in range(5):
        trader.step()
    tick = trader.market.get_full_tick(["600000.SH"])["600000.SH"]
    assert tick["askVol"] == [0] * 5
    assert trader.query_stock_order(ACCOUNT, oid).order_status == xc.ORDER_REPORTED


@pytest.mark.parametrize(
    ("code", "qty", "price", "fragment"),
    [
        ("600519.SH", 100_000, 1450.00, "[COUNTER][260200][可用资金不足]"),
        ("600000.SH", 150, 11.80, "[COUNTER][251010]"),
        ("688981.SH", 100, 110.50, "[COUNTER][251010]"),
        ("600000.SH", 100, 11.805, "[COUNTER][251021]"),
        ("600000.SH", 100, 20.00, "[COUNTER][251020]"),
        ("600001.SH", 100, 10.00, "[COUNTER][251001][证券代码不存在]"),
        ("abc", 100, 10.00, "[COUNTER][251001]"),
    ],
)
def test_rejections_are_junk_with_counter_messages(
    sim: Any, code: str, qty: int, price: float, fragment: str
) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(ACCOUNT, code, xc.STOCK_BUY, qty, xc.FIX_PRICE, price)
    assert oid > 0
    assert trader.flush()
    assert rec.statuses(oid)[-1] == xc.ORDER_JUNK
    errors = [e for e in rec.of("on_order_error") if e.order_id == oid]
    assert len(errors) == 1
    assert errors[0].error_msg.startswith(fragment)
    assert trader.query_stock_asset(ACCOUNT).cash == CASH


def test_t_plus_one_and_day_roll(sim: Any) -> None:
    trader, rec, clock = sim
    price, _ = _ask(trader, "000001.SZ", 0)
    buy = trader.order_stock(ACCOUNT, "000001.SZ", xc.STOCK_BUY, 100, xc.FIX_PRICE, price + 0.05)
    trader.step()
    assert trader.query_stock_order(ACCOUNT, buy).order_status == xc.ORDER_SUCCEEDED
    sell = trader.order_stock(ACCOUNT, "000001.SZ", xc.STOCK_SELL, 100, xc.FIX_PRICE, price)
    assert trader.flush()
    assert "[COUNTER][251005][证券可用数量不足]" in rec.of("on_order_error")[-1].error_msg
    rest = trader.order_stock(ACCOUNT, "600519.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 1400.00)
    last = trader.market.get_full_tick(["000001.SZ"])["000001.SZ"]["lastPrice"]
    clock.set(bj(2026, 11, 26, 10, 0))
    trader.step()
    assert trader.flush()
    assert rec.statuses(rest)[-1] == xc.ORDER_CANCELED
    pos = trader.query_stock_position(ACCOUNT, "000001.SZ")
    assert (pos.volume, pos.can_use_volume, pos.yesterday_volume) == (100, 100, 100)
    assert trader.market.get_instrument_detail("000001.SZ")["PreClose"] == last
    assert trader.query_stock_asset(ACCOUNT).frozen_cash == 0
    assert sell > 0
    assert trader.query_stock_orders(ACCOUNT) == []


def test_cancel_releases_cash_and_partial_cancel_is_53(sim: Any) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(ACCOUNT, "600036.SH", xc.STOCK_BUY, 1000, xc.FIX_PRICE, 40.00)
    assert trader.query_stock_asset(ACCOUNT).frozen_cash > 40_000
    assert trader.cancel_order_stock(ACCOUNT, oid) == 0
    assert trader.flush()
    assert rec.statuses(oid)[-2:] == [xc.ORDER_REPORTED_CANCEL, xc.ORDER_CANCELED]
    asset = trader.query_stock_asset(ACCOUNT)
    assert (asset.cash, asset.frozen_cash) == (CASH, 0)
    assert trader.cancel_order_stock(ACCOUNT, oid) == -1
    assert trader.flush()
    assert rec.of("on_cancel_error")[-1].order_id == oid
    book = trader.market.get_full_tick(["600036.SH"])["600036.SH"]
    big = trader.order_stock(
        ACCOUNT,
        "600036.SH",
        xc.STOCK_BUY,
        book["askVol"][0] * 100 + 5000,
        xc.FIX_PRICE,
        book["askPrice"][0],
    )
    trader.step()
    if trader.query_stock_order(ACCOUNT, big).order_status == xc.ORDER_PART_SUCC:
        trader.cancel_order_stock(ACCOUNT, big)
        assert trader.flush()
        assert rec.statuses(big)[-2:] == [xc.ORDER_PARTSUCC_CANCEL, xc.ORDER_PART_CANCEL]


def test_cancel_racing_fill_ends_consistently(tmp_path: Path) -> None:
    for i in range(10):
        trader, rec, _ = make_trader(tmp_path / str(i), seed=i, initial_cash=CASH)
        book = trader.market.get_full_tick(["601398.SH"])["601398.SH"]
        oid = trader.order_stock(
            ACCOUNT,
            "601398.SH",
            xc.STOCK_BUY,
            book["askVol"][0] * 100 * 2,
            xc.FIX_PRICE,
            book["askPrice"][4],
        )
        stepper = threading.Thread(target=trader.step)
        stepper.start()
        trader.cancel_order_stock(ACCOUNT, oid)
        stepper.join()
        assert trader.flush()
        final = trader.query_stock_order(ACCOUNT, oid)
        finals = [s for s in rec.statuses(oid) if s in (53, 54, 56)]
        assert len(finals) == 1
        assert final.order_status == finals[0]
        filled = sum(t.traded_volume for t in rec.of("on_stock_trade"))
        assert filled == final.traded_volume
        assert (final.order_status == 56) == (filled == final.order_volume)
        trader.close()


def test_sync_call_inside_callback_does_not_deadlock(tmp_path: Path) -> None:
    trader, _, _ = make_trader(tmp_path)
    answers: list[int] = []

    class Reentrant(Recorder):
        def on_stock_asset(self, asset: Any) -> None:
            if not answers:
                answers.append(
                    trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.00)
                )
                answers.append(len(trader.query_stock_orders(ACCOUNT)))

    trader.register_callback(Reentrant())  # type: ignore[arg-type]
    trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.00)
    eventually(lambda: len(answers) == 2)
    assert answers[0] > 0
    assert answers[1] == 2
    trader.close()


def test_books_survive_restart(tmp_path: Path) -> None:
    trader, _, clock = make_trader(tmp_path, initial_positions={"600519.SH": 300})
    price, _ = _ask(trader, "000858.SZ", 0)
    trader.order_stock(ACCOUNT, "000858.SZ", xc.STOCK_BUY, 200, xc.FIX_PRICE, price + 1)
    resting = trader.order_stock(ACCOUNT, "600519.SH", xc.STOCK_SELL, 100, xc.FIX_PRICE, 1590.00)
    trader.step()
    assert trader.flush()
    before = (
        trader.query_stock_asset(ACCOUNT),
        trader.query_stock_positions(ACCOUNT),
        trader.query_stock_orders(ACCOUNT),
        trader.query_stock_trades(ACCOUNT),
    )
    # No stop(): the next process finds only what was committed, as after kill -9.
    trader._push.stopping.set()
    trader._books_lock.release()  # as the OS does when the process dies
    other, _, _ = make_trader(tmp_path, when=clock.now())
    after = (
        other.query_stock_asset(ACCOUNT),
        other.query_stock_positions(ACCOUNT),
        other.query_stock_orders(ACCOUNT),
        other.query_stock_trades(ACCOUNT),
    )
    assert before[0].cash == after[0].cash
    assert before[1:] == after[1:]
    nxt = other.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.80)
    assert nxt > resting
    other.close()
    reset_books(tmp_path)
    fresh, _, _ = make_trader(tmp_path, when=clock.now())
    assert fresh.query_stock_orders(ACCOUNT) == []
    assert fresh.query_stock_asset(ACCOUNT).cash == 1_000_000
    fresh.close()


@pytest.mark.parametrize(
    ("code", "price_type", "accepted"),
    [
        ("600000.SH", xc.MARKET_SZ_CONVERT_5_CANCEL, False),
        ("000001.SZ", xc.MARKET_SH_CONVERT_5_CANCEL, False),
        ("600000.SH", xc.MARKET_SH_CONVERT_5_CANCEL, True),
        ("000001.SZ", xc.MARKET_SZ_CONVERT_5_CANCEL, True),
        ("000001.SZ", xc.MARKET_SZ_INSTBUSI_RESTCANCEL, True),
    ],
)
def test_market_orders_per_venue(sim: Any, code: str, price_type: int, accepted: bool) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(ACCOUNT, code, xc.STOCK_BUY, 100_000, price_type, 0)
    trader.step()
    assert trader.flush()
    final = rec.statuses(oid)[-1]
    if not accepted:
        assert final == xc.ORDER_JUNK
        return
    # Best-5-then-cancel: whatever five levels held fills, the rest is cancelled.
    assert final in (xc.ORDER_PART_CANCEL, xc.ORDER_SUCCEEDED)
    assert trader.query_stock_asset(ACCOUNT).frozen_cash == 0


def test_fill_or_kill_cancels_without_depth(sim: Any) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(
        ACCOUNT, "300750.SZ", xc.STOCK_BUY, 100_000, xc.MARKET_SZ_FULL_OR_CANCEL, 0
    )
    trader.step()
    assert trader.flush()
    assert rec.statuses(oid)[-1] == xc.ORDER_CANCELED
    assert not [t for t in rec.of("on_stock_trade") if t.order_id == oid]


def test_star_market_order_needs_protective_price(sim: Any) -> None:
    trader, rec, _ = sim
    oid = trader.order_stock(
        ACCOUNT, "688981.SH", xc.STOCK_BUY, 200, xc.MARKET_SH_CONVERT_5_CANCEL, 0
    )
    assert trader.flush()
    assert "[COUNTER][251041]" in rec.of("on_order_error")[-1].error_msg
    assert rec.statuses(oid)[-1] == xc.ORDER_JUNK

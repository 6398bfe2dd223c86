"""Sessions when SIM_ENFORCE_TRADING_HOURS is on: held orders, auctions, no-cancel windows."""

from pathlib import Path

from tests.unit.adapter.simkit import ACCOUNT, bj, make_trader
from xtquant_adapter import xtconstant as xc


def test_lunch_orders_are_held_then_reported(tmp_path: Path) -> None:
    trader, rec, clock = make_trader(
        tmp_path, when=bj(2026, 11, 25, 12, 0), enforce_trading_hours=True
    )
    oid = trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.80)
    assert trader.query_stock_order(ACCOUNT, oid).order_status == xc.ORDER_UNREPORTED
    market = trader.order_stock(
        ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.MARKET_SH_CONVERT_5_CANCEL, 0
    )
    clock.set(bj(2026, 11, 25, 13, 0, 1))
    trader.step()
    assert trader.flush()
    assert rec.statuses(oid)[:2] == [xc.ORDER_UNREPORTED, xc.ORDER_REPORTED]
    assert rec.statuses(market)[-1] == xc.ORDER_JUNK
    trader.close()


def test_no_cancel_in_auction_lock_and_closed_rejects(tmp_path: Path) -> None:
    trader, rec, clock = make_trader(
        tmp_path, when=bj(2026, 11, 25, 9, 16), enforce_trading_hours=True
    )
    oid = trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.00)
    clock.set(bj(2026, 11, 25, 9, 21))
    trader.step()
    assert trader.cancel_order_stock(ACCOUNT, oid) == -1
    clock.set(bj(2026, 11, 25, 9, 31))
    trader.step()
    assert trader.cancel_order_stock(ACCOUNT, oid) == 0
    clock.set(bj(2026, 11, 25, 16, 0))
    late = trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.80)
    assert trader.flush()
    assert "[COUNTER][251030][非交易时间]" in rec.of("on_order_error")[-1].error_msg
    assert rec.statuses(late) == [xc.ORDER_JUNK]
    assert len(rec.of("on_cancel_error")) == 1
    trader.close()


def test_opening_auction_fills_crossing_orders_at_one_price(tmp_path: Path) -> None:
    trader, rec, clock = make_trader(
        tmp_path, when=bj(2026, 11, 25, 9, 16), enforce_trading_hours=True
    )
    oid = trader.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 500, xc.FIX_PRICE, 12.50)
    trader.step()
    assert trader.query_stock_order(ACCOUNT, oid).traded_volume == 0
    clock.set(bj(2026, 11, 25, 9, 25, 1))
    trader.step()
    assert trader.flush()
    trades = [t for t in rec.of("on_stock_trade") if t.order_id == oid]
    assert sum(t.traded_volume for t in trades) == 500
    assert len({t.traded_price for t in trades}) == 1
    trader.close()


def _last(trader, code: str) -> float:  # type: ignore[no-untyped-def]
    return trader.market.get_full_tick([code])[code]["lastPrice"]


def test_closing_auction_uncrosses_at_15_00(tmp_path: Path) -> None:
    code = "600000.SH"
    trader, rec, clock = make_trader(
        tmp_path, when=bj(2026, 11, 25, 14, 56), enforce_trading_hours=True
    )
    try:
        trader.step()
        low = trader.market.get_instrument_detail(code)["DownStopPrice"]
        resting = trader.order_stock(ACCOUNT, code, xc.STOCK_BUY, 300, xc.FIX_PRICE, low)
        clock.set(bj(2026, 11, 25, 14, 57, 30))
        trader.step()  # closing auction: no continuous matching, prices hold
        assert trader.market.get_full_tick([code])[code]["stockStatus"] == 18
        last = _last(trader, code)
        # Limit orders are taken (no price cage in an auction), market orders and cancels not.
        crossing = trader.order_stock(
            ACCOUNT, code, xc.STOCK_BUY, 500, xc.FIX_PRICE, round(last * 1.04, 2)
        )
        market = trader.order_stock(
            ACCOUNT, code, xc.STOCK_BUY, 100, xc.MARKET_SH_CONVERT_5_CANCEL, 0
        )
        assert trader.cancel_order_stock(ACCOUNT, resting) == -1
        clock.set(bj(2026, 11, 25, 14, 59))
        trader.step()
        assert trader.query_stock_order(ACCOUNT, crossing).traded_volume == 0
        clock.set(bj(2026, 11, 25, 15, 0, 1))
        trader.step()
        assert trader.flush()
        trades = [t for t in rec.of("on_stock_trade") if t.order_id == crossing]
        assert sum(t.traded_volume for t in trades) == 500
        assert {t.traded_price for t in trades} == {last}  # one price: the close
        assert rec.statuses(crossing)[-1] == xc.ORDER_SUCCEEDED
        assert rec.statuses(market)[-1] == xc.ORDER_JUNK
        assert trader.query_stock_order(ACCOUNT, resting).order_status == xc.ORDER_REPORTED
        late = trader.order_stock(ACCOUNT, code, xc.STOCK_BUY, 100, xc.FIX_PRICE, last)
        assert trader.query_stock_order(ACCOUNT, late).order_status == xc.ORDER_JUNK
        clock.set(bj(2026, 11, 26, 9, 0))  # the day roll expires what the close left
        trader.step()
        assert trader.flush()
        assert rec.statuses(resting)[-1] == xc.ORDER_CANCELED
    finally:
        trader.close()


def test_clock_jumping_over_the_closing_auction_still_uncrosses(tmp_path: Path) -> None:
    code = "601398.SH"
    trader, rec, clock = make_trader(
        tmp_path, when=bj(2026, 11, 25, 14, 50), enforce_trading_hours=True
    )
    try:
        trader.step()
        last = _last(trader, code)
        price = round(last + 0.05, 2)  # inside the cage; crosses the close
        bid = trader.order_stock(ACCOUNT, code, xc.STOCK_BUY, 1_000, xc.FIX_PRICE, price)
        assert trader.query_stock_order(ACCOUNT, bid).order_status == xc.ORDER_REPORTED
        clock.set(bj(2026, 11, 25, 15, 0, 5))  # no snapshot between 14:50 and the close
        trader.step()
        assert trader.flush()
        trades = [t for t in rec.of("on_stock_trade") if t.order_id == bid]
        assert sum(t.traded_volume for t in trades) == 1_000
        assert {t.traded_price for t in trades} == {last}
    finally:
        trader.close()

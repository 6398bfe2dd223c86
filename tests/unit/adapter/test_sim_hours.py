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

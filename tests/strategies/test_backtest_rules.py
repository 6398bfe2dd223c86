"""The backtest account refuses and books by the shared A-share rules (`ashare.orders`):
the same refusals as the simulator's counter, the same rounding of a fill, dated fees."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from backend.app.services.strategies.account import BacktestAccount
from backend.app.services.strategies.qmt_api import OrderIntent
from backend.app.services.strategies.runlog import RunLog
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule
from xtquant_adapter.ashare.orders import book_fill
from xtquant_adapter.ashare.products import Product, Security

D = Decimal


class Market:
    """One bar per code at `now`, closing at `closes[code]`; previous closes given."""

    def __init__(self, when: datetime, closes: dict[str, float], prev: dict[str, float],
                 securities: dict[str, Security] | None = None) -> None:  # fmt: skip
        self.when, self.closes, self.prev = when, closes, prev
        self.securities = securities or {}

    def now(self) -> int:
        return int(self.when.timestamp() * 1000)

    def close(self, code: str) -> float | None:
        return self.closes.get(code)

    fill_close = close

    def fill_range(self, code: str) -> tuple[float, float] | None:
        c = self.closes.get(code)
        return None if c is None else (c, c)

    def prev_close(self, code: str) -> float | None:
        return self.prev.get(code)

    def instrument_name(self, code: str) -> str:
        return ""

    def is_st(self, code: str) -> bool:
        return self.security(code).is_st

    def security(self, code: str) -> Security:
        return self.securities.get(code) or Security.of(code)


def _account(day: date, closes: dict[str, float], prev: dict[str, float] | None = None,
             **securities: Security) -> BacktestAccount:  # fmt: skip
    market = Market(datetime(day.year, day.month, day.day, 14, 0, tzinfo=SHANGHAI), closes,
                    prev or closes, {s.code: s for s in securities.values()})  # fmt: skip
    acct = BacktestAccount(market=market, cash=D("10000000"), fees=FeeSchedule(), log=RunLog())
    acct.roll_to(day)
    return acct


def _order(code: str, side: str, qty: int, price: float = 0.0) -> OrderIntent:
    kind = xc.FIX_PRICE if price else xc.LATEST_PRICE
    return OrderIntent(code, side, qty, kind, price, "t", "")  # type: ignore[arg-type]


def test_fill_booking_is_the_shared_rule() -> None:
    acct = _account(date(2026, 11, 25), {"600000.SH": 10.01})
    assert acct.submit(_order("600000.SH", "buy", 300))
    acct.roll_to(date(2026, 11, 26))
    before = acct.positions()[0]
    assert acct.submit(_order("600000.SH", "sell", 100))
    after = acct.positions()[0]
    cost_before = D(repr(before.m_dOpenPrice)) * 300
    expected = book_fill("sell", 100, D("10.01"), D(0), volume=300,
                         cost=cost_before.quantize(D("0.01")), t0=False)  # fmt: skip
    assert D(repr(after.m_dOpenPrice * 200)).quantize(D("0.01")) == expected.cost


@pytest.mark.parametrize(("day", "transfer"), [(date(2022, 4, 28), 0.2), (date(2022, 4, 29), 0.1)])
def test_transfer_fee_is_dated(day: date, transfer: float) -> None:
    acct = _account(day, {"600000.SH": 10.00})
    assert acct.submit(_order("600000.SH", "buy", 1000))
    assert acct.ledger.trades[-1]["transfer_fee"] == transfer


def test_star_etf_limit_is_20_percent() -> None:
    acct = _account(date(2026, 11, 25), {"588000.SH": 1.600}, {"588000.SH": 1.350})
    assert acct.submit(_order("588000.SH", "buy", 1000, 1.600))
    refused = _account(date(2026, 11, 25), {"510300.SH": 5.200}, {"510300.SH": 4.650})
    assert refused.submit(_order("510300.SH", "buy", 1000, 5.200)) is None


def test_t0_products_by_product_kind() -> None:
    h_etf = Security("510900.SH", Product.ETF_CROSS_BORDER)
    acct = _account(date(2026, 11, 25), {"510900.SH": 1.120, "510300.SH": 4.650}, h=h_etf)
    assert acct.submit(_order("510900.SH", "buy", 1000))
    assert acct.submit(_order("510900.SH", "sell", 1000))  # T+0: same day
    assert acct.submit(_order("510300.SH", "buy", 1000))
    assert acct.submit(_order("510300.SH", "sell", 1000)) is None  # T+1
    assert "证券可用数量不足" in acct.log.lines[-1]


def test_st_daily_buy_cap() -> None:
    st = Security("600200.SH", Product.STOCK, is_st=True)
    acct = _account(date(2026, 11, 25), {"600200.SH": 3.12}, st=st)
    assert acct.submit(_order("600200.SH", "buy", 500_000))
    assert acct.submit(_order("600200.SH", "buy", 100)) is None
    acct.roll_to(date(2026, 11, 26))
    assert acct.submit(_order("600200.SH", "buy", 100))  # a new day


def test_new_listing_has_no_band_on_its_first_days() -> None:
    new = Security("001399.SZ", Product.STOCK, list_date=date(2026, 11, 25))
    acct = _account(date(2026, 11, 26), {"001399.SZ": 40.00}, {"001399.SZ": 25.00}, n=new)
    assert acct.submit(_order("001399.SZ", "buy", 100, 40.00))  # +60%: no limit on day 2

"""The shared order rules (`ashare.orders`, `ashare.products`), table-driven by board and product.

Each table cites its source the way shared/ASHARE_RULES.md does (§ = rulebook section; S = its
source list; the texts were re-read for issue 15, see docs/simulator.md "规则与出处").
"""

from datetime import date
from decimal import Decimal

import pytest

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.fees import FeeSchedule, order_fees
from xtquant_adapter.ashare.orders import (
    ST_DAILY_BUY_CAP,
    book_fill,
    cage_refs,
    cage_verdict,
    check_order,
    price_band,
)
from xtquant_adapter.ashare.products import (
    Product,
    Security,
    default_product,
    has_no_limit,
    is_t0,
    trading_day_number,
)

D = Decimal
TODAY = date(2026, 12, 1)


# ---- price limits by product (§3.2) ----------------------------------------------------------
# ETFs on STAR-only indexes: ±20% (SSE notice 2020-08-21: "跟踪指数成份股仅为科创板股票或其他涨跌幅
# 比例为20%的股票的交易型开放式指数基金", quoted at lwstw.com/simujijin/arplw183ou.html).
@pytest.mark.parametrize(
    ("code", "product", "pre", "down", "up"),
    [
        ("588000.SH", None, "1.350", "1.080", "1.620"),  # 科创50ETF: ±20%
        ("510300.SH", None, "4.650", "4.185", "5.115"),  # CSI 300 ETF: ±10%
        ("159920.SZ", None, "1.450", "1.305", "1.595"),  # cross-border: ±10%
        ("511010.SH", None, "141.200", "127.080", "155.320"),  # bond ETF: ±10%
        ("600000.SH", None, "11.80", "10.62", "12.98"),  # main board: ±10%
        ("688981.SH", None, "110.50", "88.40", "132.60"),  # STAR: ±20%
        ("920185.BJ", None, "30.00", "21.00", "39.00"),  # BSE: ±30%
    ],
)
def test_price_band_by_product(
    code: str, product: Product | None, pre: str, down: str, up: str
) -> None:
    sec = Security.of(code, product=product)
    assert price_band(sec, D(pre), TODAY) == (D(down), D(up))


def test_star_etf_buy_at_1_600_with_prev_close_1_350_is_inside_the_band() -> None:
    # The audit's case: refused before issue 15 (±10% gave an upper limit of 1.485).
    sec = Security.of("588000.SH")
    band = price_band(sec, D("1.350"), TODAY)
    assert check_order(sec, "buy", 100, price=D("1.600"), band=band) is None


# ---- new listings: no limit for the first days (§0, §3.2; S9 for the main board) ------------
# Main board IPOs since 2023-04-10, ChiNext and STAR: 5 trading days; BSE: the first day.
# 2026-11-25 is a Wednesday: trading days 11-25, 11-26, 11-27, 11-30, 12-01 are days 1..5.
@pytest.mark.parametrize(
    ("code", "listed", "on", "no_limit"),
    [
        ("603999.SH", date(2026, 11, 25), date(2026, 11, 25), True),  # day 1
        ("603999.SH", date(2026, 11, 25), date(2026, 12, 1), True),  # day 5
        ("603999.SH", date(2026, 11, 25), date(2026, 12, 2), False),  # day 6
        ("001399.SZ", date(2026, 11, 25), date(2026, 11, 30), True),  # day 4
        ("600999.SH", date(2023, 3, 31), date(2023, 3, 31), False),  # before registration
        ("600999.SH", date(2023, 4, 10), date(2023, 4, 14), True),  # registration rules
        ("301999.SZ", date(2026, 11, 25), date(2026, 12, 1), True),  # ChiNext day 5
        ("301999.SZ", date(2026, 11, 25), date(2026, 12, 2), False),
        ("688999.SH", date(2026, 11, 25), date(2026, 12, 1), True),  # STAR day 5
        ("920999.BJ", date(2026, 11, 25), date(2026, 11, 25), True),  # BSE day 1
        ("920999.BJ", date(2026, 11, 25), date(2026, 11, 26), False),  # BSE day 2
        ("600000.SH", None, TODAY, False),  # listing date unknown: the usual limits
    ],
)
def test_new_listing_no_limit_days(
    code: str, listed: date | None, on: date, no_limit: bool
) -> None:
    sec = Security.of(code, list_date=listed)
    assert has_no_limit(sec, on) is no_limit
    assert (price_band(sec, D("25.00"), on) is None) is no_limit


def test_no_limit_days_count_trading_days_not_calendar_days() -> None:
    # 2026-10-01..07 are closures (National Day): listed 09-30, 10-08 is its 2nd trading day.
    assert trading_day_number(date(2026, 9, 30), date(2026, 10, 8)) == 2
    assert trading_day_number(date(2026, 11, 25), date(2026, 11, 24)) == 0


def test_no_limit_day_refuses_market_orders_and_takes_any_positive_tick_price() -> None:
    # §3.3 / S13: market orders only for securities that have a price limit that day.
    sec = Security.of("001399.SZ", list_date=TODAY)
    r = check_order(sec, "buy", 100, price_type=xc.MARKET_PEER_PRICE_FIRST, no_limit=True)
    assert r is not None
    assert r.reason == "no_limit_market"
    assert check_order(sec, "buy", 100, price=D("99.99"), band=None, no_limit=True) is None


# ---- T+0 products (§5; S23, zhijuan.net/eetrade/934.html, licai.dianpusou.com/215829.html) --
@pytest.mark.parametrize(
    ("code", "product", "t0"),
    [
        ("510900.SH", Product.ETF_CROSS_BORDER, True),  # H股ETF: 510 range, product says so
        ("513100.SH", None, True),  # 纳指ETF (513 = cross-border)
        ("159920.SZ", None, True),  # 恒生ETF (xtquant xtstocktype.lua)
        ("518880.SH", None, True),  # 黄金ETF (518 = gold)
        ("159934.SZ", None, True),  # 黄金ETF
        ("511010.SH", None, True),  # 国债ETF
        ("511880.SH", None, True),  # 银华日利 (money market)
        ("113050.SH", None, True),  # convertible bond
        ("510300.SH", None, False),  # CSI 300 ETF: T+1
        ("159919.SZ", None, False),
        ("588000.SH", None, False),  # STAR 50 ETF: T+1
        ("600000.SH", None, False),
        ("300750.SZ", None, False),
    ],
)
def test_t0_by_product(code: str, product: Product | None, t0: bool) -> None:
    assert is_t0(Security.of(code, product=product)) is t0


def test_default_products_from_code_ranges() -> None:
    assert default_product("511880.SH") is Product.ETF_MONEY
    assert default_product("511010.SH") is Product.ETF_BOND
    assert default_product("588000.SH") is Product.ETF_STAR
    assert default_product("510300.SH") is Product.ETF
    assert default_product("600000.SH") is Product.STOCK


# ---- ST: at most 500,000 shares bought per stock per day (§3.5) ------------------------------
# "委托买入数量与当日已买入数量及已申报买入但尚未成交、也未撤销的数量之和，不得超过50万股"
# (SSE/SZSE trading rules as quoted by zts.com.cn, 2022-05-25; SSE risk-warning board art. 10).
@pytest.mark.parametrize(
    ("bought", "qty", "ok"),
    [(0, 500_000, True), (499_900, 100, True), (499_900, 200, False), (500_000, 100, False)],
)
def test_st_daily_buy_cap(bought: int, qty: int, ok: bool) -> None:
    st = Security.of("600200.SH", is_st=True)
    r = check_order(st, "buy", qty, price=D("3.12"), st_bought=bought)
    assert (r is None) is ok
    if not ok:
        assert r is not None
        assert r.reason == "st_cap"
    # Not ST, or a sell: no cap.
    assert check_order(Security.of("600000.SH"), "buy", qty, price=D("11.80"),
                       st_bought=bought) is None  # fmt: skip
    assert check_order(st, "sell", 100, price=D("3.12"), sellable=10_000, st_bought=bought) is None
    assert ST_DAILY_BUY_CAP == 500_000


# ---- the price cage (§3.4; S18, S19; 深交所投教 at edu.tfzq.com/index/article/?id=27095:
# "超过有效竞价范围的限价申报不能即时参加竞价，暂存于交易主机；当价格波动使其进入有效竞价范围时，
# 交易主机自动取出申报，参加竞价") ------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "price", "verdict"),
    [
        ("600000.SH", "11.74", "in"),  # ask 11.51: cap max(11.74, 11.61) = 11.74
        ("600000.SH", "11.75", "reject"),  # SH main board: 废单
        ("688981.SH", "11.75", "reject"),  # STAR: 废单
        ("000001.SZ", "11.94", "park"),  # the audit's case: SZ main board parks it
        ("300059.SZ", "11.75", "park"),  # ChiNext parks
        ("920185.BJ", "12.09", "in"),  # BSE band 5%: 11.51 x 1.05 = 12.0855 -> 12.09
        ("920185.BJ", "12.10", "park"),  # BSE parks
        ("510300.SH", "11.900", "in"),  # funds: no cage modelled
    ],
)
def test_cage_verdict_by_board(code: str, price: str, verdict: str) -> None:
    buy_ref, sell_ref = cage_refs(D("11.51"), D("11.50"), D("11.50"))
    assert cage_verdict(code, "buy", D(price), buy_ref=buy_ref, sell_ref=sell_ref) == verdict


def test_cage_references_fall_back_to_the_other_side_then_last() -> None:
    assert cage_refs(None, D("9.99"), D("9.50")) == (D("9.99"), D("9.99"))
    assert cage_refs(None, None, D("9.50")) == (D("9.50"), D("9.50"))


def test_sell_side_cage_mirrors() -> None:
    assert cage_verdict("000001.SZ", "sell", D("11.27"), buy_ref=D("11.51"),
                        sell_ref=D("11.50")) == "in"  # fmt: skip
    assert cage_verdict("000001.SZ", "sell", D("11.26"), buy_ref=D("11.51"),
                        sell_ref=D("11.50")) == "park"  # fmt: skip


# ---- the counter's other refusals, in counter order ------------------------------------------
@pytest.mark.parametrize(
    ("code", "side", "qty", "kw", "reason"),
    [
        ("600000.SH", "buy", 100, {"price_type": xc.MARKET_SZ_CONVERT_5_CANCEL}, "price_type"),
        ("600000.SH", "sell", 300, {"price": D("11.80"), "sellable": 200}, "position"),
        ("600000.SH", "buy", 150, {"price": D("11.80")}, "quantity"),
        ("688981.SH", "buy", 199, {"price": D("110.50")}, "quantity"),
        ("600000.SH", "buy", 100, {"price": D("11.805")}, "tick"),
        ("600000.SH", "buy", 100, {"price": D("0")}, "tick"),
        ("600000.SH", "buy", 100, {"price": D("13.00"), "band": (D("10.62"), D("12.98"))}, "price"),
        ("688981.SH", "buy", 200, {"price_type": xc.MARKET_PEER_PRICE_FIRST}, "protect"),
        ("510300.SH", "buy", 100, {"price": D("4.651")}, None),
        ("600000.SH", "buy", 100, {"price_type": xc.MARKET_SH_CONVERT_5_CANCEL}, None),
        ("600000.SH", "buy", 100, {"price_type": xc.LATEST_PRICE}, None),
    ],
)
def test_check_order_refusals(
    code: str, side: str, qty: int, kw: dict[str, object], reason: str | None
) -> None:
    r = check_order(Security.of(code), side, qty, **kw)  # type: ignore[arg-type]
    assert (r.reason if r else None) == reason
    if r:
        assert " / " in r.text or r.reason in ("price", "tick")


# ---- transfer fee dated like stamp duty (§0, §6; S6: 0.002% -> 0.001% on 2022-04-29) ---------
@pytest.mark.parametrize(
    ("on", "transfer"), [(date(2022, 4, 28), "2.00"), (date(2022, 4, 29), "1.00")]
)
def test_transfer_fee_halved_on_2022_04_29(on: date, transfer: str) -> None:
    fees = order_fees(FeeSchedule(), "600000.SH", "buy", D("100000"), on=on)
    assert fees.transfer_fee == D(transfer)
    assert order_fees(FeeSchedule(), "510300.SH", "buy", D("100000"), on=on).transfer_fee == 0


# ---- booking a fill: one rounding rule for the simulator and the backtest --------------------
def test_book_fill_buy_adds_value_and_fees_to_the_basis() -> None:
    b = book_fill("buy", 300, D("10.00"), D("5.00"), volume=0, cost=D(0), t0=False)
    assert (b.volume, b.cost, b.cash, b.sellable_now) == (300, D("3005.00"), D("-3005.00"), 0)
    t0 = book_fill("buy", 300, D("1.000"), D("5.00"), volume=0, cost=D(0), t0=True)
    assert t0.sellable_now == 300


def test_book_fill_sell_releases_pro_rata_basis_half_up_and_all_of_it_at_the_end() -> None:
    # 1/3 of 1000.01 = 333.336..., half-up to the fen: 333.34 (half-even would say the same;
    # 0.005 cases differ: 1/2 of 0.05 = 0.025 -> 0.03 half-up, 0.02 half-even).
    first = book_fill("sell", 100, D("10.00"), D("5.10"), volume=300, cost=D("1000.01"), t0=False)
    assert (first.volume, first.cost, first.cash) == (200, D("666.67"), D("994.90"))
    half = book_fill("sell", 1, D("1.00"), D("0"), volume=2, cost=D("0.05"), t0=False)
    assert half.cost == D("0.02")  # released 0.03
    last = book_fill("sell", 200, D("10.00"), D("5.10"), volume=200, cost=D("666.67"), t0=False)
    assert (last.volume, last.cost) == (0, D(0))

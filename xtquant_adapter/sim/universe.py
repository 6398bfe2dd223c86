"""The simulator's built-in instruments: real codes and names on every board.

Previous closes are plausible late-2026 levels, not quotes. `depth_lots` scales the displayed
book (lots per level); `daily_vol` is the price process's daily volatility. `product` is what
the security is (ETF kinds differ in limits and T+0); `open_date` is its listing date, except
for `lists_on_first_day` instruments, which list on the books' first day (a new listing in its
no-limit days whenever fresh books are made).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from xtquant_adapter.ashare.products import T0_PRODUCTS, Product, Security, default_product


@dataclass(frozen=True, slots=True)
class Instrument:
    code: str
    name: str
    pre_close: Decimal
    depth_lots: int = 200
    daily_vol: float = 0.02
    is_st: bool = False
    t0: bool = False
    open_date: date = date(2010, 1, 4)
    float_volume: int = 1_000_000_000
    product: Product = Product.STOCK
    lists_on_first_day: bool = False

    @property
    def kind(self) -> Product:
        """`product`, or the code range's default where it was left at STOCK on a code that
        cannot be a stock (catalog instruments: indexes, sector-list ETFs)."""
        return default_product(self.code) if self.product is Product.STOCK else self.product

    @property
    def security(self) -> Security:
        return Security(self.code, self.kind, self.is_st, self.open_date)


def _i(
    code: str,
    name: str,
    pre_close: str,
    depth: int = 200,
    vol: float = 0.02,
    product: Product | None = None,
    **kw: object,
) -> Instrument:
    kind = product or default_product(code)
    return Instrument(
        code,
        name,
        Decimal(pre_close),
        depth,
        vol,
        t0=kind in T0_PRODUCTS,
        product=kind,
        **kw,  # type: ignore[arg-type]
    )


UNIVERSE: Final[tuple[Instrument, ...]] = (
    # SH main board
    _i("600519.SH", "贵州茅台", "1450.00", 20, 0.015, open_date=date(2001, 8, 27)),
    _i("601318.SH", "中国平安", "57.50", 400, open_date=date(2007, 3, 1)),
    _i("600036.SH", "招商银行", "42.30", 500, open_date=date(2002, 4, 9)),
    _i("600900.SH", "长江电力", "28.60", 500, 0.012, open_date=date(2003, 11, 18)),
    _i("601398.SH", "工商银行", "7.35", 2000, 0.01, open_date=date(2006, 10, 27)),
    _i("600000.SH", "浦发银行", "11.80", 1000, open_date=date(1999, 11, 10)),
    _i("600200.SH", "ST苏吴", "3.12", 300, 0.03, is_st=True, open_date=date(1999, 4, 1)),
    # STAR market
    _i("688981.SH", "中芯国际", "110.50", 150, 0.035, open_date=date(2020, 7, 16)),
    _i("688111.SH", "金山办公", "300.20", 40, 0.03, open_date=date(2019, 11, 18)),
    _i("688041.SH", "海光信息", "210.00", 60, 0.035, open_date=date(2022, 8, 12)),
    # SZ main board
    _i("000001.SZ", "平安银行", "11.50", 1500, open_date=date(1991, 4, 3)),
    _i("000858.SZ", "五粮液", "125.00", 100, open_date=date(1998, 4, 27)),
    _i("002594.SZ", "比亚迪", "98.00", 150, 0.025, open_date=date(2011, 6, 30)),
    _i("003816.SZ", "中国广核", "3.80", 2000, 0.012, open_date=date(2019, 8, 26)),
    _i("000333.SZ", "美的集团", "75.00", 200, open_date=date(2013, 9, 18)),
    # ChiNext
    _i("300750.SZ", "宁德时代", "380.00", 60, 0.03, open_date=date(2018, 6, 11)),
    _i("300059.SZ", "东方财富", "25.60", 1500, 0.03, open_date=date(2010, 3, 19)),
    _i("301269.SZ", "华大九天", "120.00", 50, 0.035, open_date=date(2022, 7, 29)),
    # Beijing Stock Exchange (920 codes since 2025-10-09)
    _i("920185.BJ", "贝特瑞", "30.00", 80, 0.04, open_date=date(2021, 11, 15)),
    _i("920047.BJ", "诺思兰德", "14.00", 60, 0.045, open_date=date(2021, 11, 15)),
    # ETFs (funds tick 0.001)
    _i("510300.SH", "沪深300ETF", "4.650", 5000, 0.012, open_date=date(2012, 5, 28)),
    _i("510050.SH", "上证50ETF", "3.050", 5000, 0.012, open_date=date(2005, 2, 23)),
    _i("588000.SH", "科创50ETF", "1.350", 8000, 0.025, open_date=date(2020, 11, 16)),
    _i("159919.SZ", "沪深300ETF", "4.780", 3000, 0.012, open_date=date(2012, 5, 28)),
    _i("511880.SH", "银华日利", "100.520", 500, 0.0005, open_date=date(2013, 4, 18)),
    # Products with their own rules (ASHARE_RULES §3.2, §5): T+0 cross-border, gold, bond ETFs
    _i(
        "510900.SH",
        "H股ETF",
        "1.120",
        6000,
        0.015,
        Product.ETF_CROSS_BORDER,
        open_date=date(2012, 10, 22),
    ),
    _i("513100.SH", "纳指ETF", "1.850", 6000, 0.015, open_date=date(2013, 5, 15)),
    _i("159920.SZ", "恒生ETF", "1.450", 5000, 0.015, open_date=date(2012, 10, 22)),
    _i("518880.SH", "黄金ETF", "8.950", 3000, 0.01, open_date=date(2013, 7, 29)),
    _i("159934.SZ", "黄金ETF", "8.850", 2000, 0.01, open_date=date(2013, 12, 16)),
    _i("511010.SH", "国债ETF", "141.200", 300, 0.001, open_date=date(2013, 3, 25)),
    # A new listing: lists on the books' first day, no price limit for five trading days
    _i("001399.SZ", "N新股示例", "25.00", 300, 0.06, lists_on_first_day=True),
)

BY_CODE: Final = {inst.code: inst for inst in UNIVERSE}

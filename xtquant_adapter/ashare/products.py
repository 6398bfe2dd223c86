"""What a security is (product kind, listing date, ST) and the rules that follow from it.

ASHARE_RULES §3.2 (price limits by product, no-limit days of new listings), §5 (T+0 products).
The board (`codes.board_of`) says where a code trades; the product says what it is: two ETFs
on the same board can differ (a CSI 300 ETF is T+1 at ±10%, a gold ETF is T+0, a STAR 50 ETF
has ±20%). Where the instrument list does not say, `default_product` guesses from the code.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR, CalendarNotAvailable
from xtquant_adapter.ashare.codes import Board, board_of


class Product(StrEnum):
    STOCK = "stock"
    ETF = "etf"  # A-share equity ETF (T+1, ±10%)
    ETF_STAR = "etf_star"  # tracks a STAR-only (20%-limit) index: ±20%
    ETF_CROSS_BORDER = "etf_cross_border"  # T+0
    ETF_GOLD = "etf_gold"  # T+0
    ETF_COMMODITY = "etf_commodity"  # T+0
    ETF_BOND = "etf_bond"  # T+0
    ETF_MONEY = "etf_money"  # T+0
    LOF = "lof"
    REIT = "reit"
    CB = "cb"  # convertible bond, T+0
    INDEX = "index"


# ASHARE_RULES §5 / S23: bought units may be sold again the same day.
T0_PRODUCTS: Final = frozenset({
    Product.ETF_CROSS_BORDER, Product.ETF_GOLD, Product.ETF_COMMODITY, Product.ETF_BOND,
    Product.ETF_MONEY, Product.CB,
})  # fmt: skip

# Codes whose product the code range alone does not tell (SZ 159xxx mixes every kind);
# xtquant's `xtstocktype.lua` lists these as T+0 (ASHARE_RULES §3.5).
_KNOWN: Final = {
    "159920.SZ": Product.ETF_CROSS_BORDER,  # 恒生ETF
    "159941.SZ": Product.ETF_CROSS_BORDER,  # 纳指ETF
    "159934.SZ": Product.ETF_GOLD,  # 黄金ETF
    "159937.SZ": Product.ETF_GOLD,  # 博时黄金
    "511880.SH": Product.ETF_MONEY,  # 银华日利
    "511990.SH": Product.ETF_MONEY,  # 华宝添益
}

REGISTRATION_MAIN_BOARD: Final = date(2023, 4, 10)  # main-board IPOs: 5 no-limit days
NO_LIMIT_DAYS: Final = {Board.SH_MAIN: 5, Board.SZ_MAIN: 5, Board.CHINEXT: 5, Board.STAR: 5,
                        Board.BSE: 1}  # fmt: skip


@functools.lru_cache(maxsize=8192)
def default_product(code: str) -> Product:
    """The product a normalized code most likely is, from its range (§1.2)."""
    if code in _KNOWN:
        return _KNOWN[code]
    board = board_of(code)
    if board is Board.ETF:
        if code.startswith("511"):
            return Product.ETF_BOND  # 511 = bond and money-market ETFs; _KNOWN names the latter
        if code.startswith("513"):
            return Product.ETF_CROSS_BORDER
        if code.startswith("518"):
            return Product.ETF_GOLD
        if code.startswith("588"):
            return Product.ETF_STAR
        return Product.ETF
    return {Board.LOF: Product.LOF, Board.REIT: Product.REIT, Board.CB: Product.CB,
            Board.INDEX: Product.INDEX}.get(board, Product.STOCK)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Security:
    """The facts the order rules need about one security besides its code."""

    code: str
    product: Product
    is_st: bool = False
    list_date: date | None = None  # None: listed long ago (no new-listing rules apply)

    @classmethod
    def of(
        cls,
        code: str,
        *,
        product: Product | None = None,
        is_st: bool = False,
        list_date: date | None = None,
    ) -> Security:
        return cls(code, product or default_product(code), is_st, list_date)


def is_t0(security: Security) -> bool:
    """True if units bought today may be sold today (§5)."""
    return security.product in T0_PRODUCTS


def trading_day_number(list_date: date, on: date) -> int:
    """1 on the listing day, 2 on the next trading day...; 0 before listing.

    Counts exchange trading days (XSHG calendar); where the calendar has no data (far past or
    future), weekdays. Only the first weeks matter, so anything later is reported as 99.
    """
    if on < list_date:
        return 0
    span = (on - list_date).days
    if span > 40:
        return 99
    n = 0
    for k in range(span + 1):
        day = date.fromordinal(list_date.toordinal() + k)
        try:
            n += DEFAULT_CALENDAR.is_trading_day(day)
        except CalendarNotAvailable:
            n += day.weekday() < 5
    return n


def has_no_limit(security: Security, on: date) -> bool:
    """A new listing in its no-limit days: 5 trading days on the main board (IPOs since
    2023-04-10), ChiNext and STAR; the first day on the BSE (§0, §3.2)."""
    if security.list_date is None or security.product is not Product.STOCK:
        return False
    board = board_of(security.code)
    days = NO_LIMIT_DAYS.get(board)
    if days is None:
        return False
    if board in (Board.SH_MAIN, Board.SZ_MAIN) and security.list_date < REGISTRATION_MAIN_BOARD:
        return False
    if not 0 <= (on - security.list_date).days <= 40:
        return False  # not listed yet, or long past any no-limit days
    # Trading days never outnumber weekdays: within `days` weekdays the answer needs no
    # calendar (loading exchange_calendars costs seconds; the simulator asks at every start).
    weekdays = sum(
        1
        for k in range((on - security.list_date).days + 1)
        if date.fromordinal(security.list_date.toordinal() + k).weekday() < 5
    )
    if weekdays <= days:
        return True
    return 1 <= trading_day_number(security.list_date, on) <= days


def etf_limit_pct(product: Product) -> Decimal:
    """ETFs: ±10%, ±20% when the index holds only STAR (20%-limit) stocks (SSE 2020-08-21)."""
    return Decimal("0.20") if product is Product.ETF_STAR else Decimal("0.10")


def security_from_detail(code: str, detail: Mapping[str, Any]) -> Security:
    """The rule facts of `code` from an xtquant instrument detail (`get_instrument_detail`).

    `OpenDate` (YYYYMMDD) is the listing date; `ProductID` names our product kind when it is
    one (the simulator sets it; MiniQMT's own values fall back to the code's default); an
    `InstrumentName` with ST / *ST marks a risk-warning stock.
    """
    raw = str(detail.get("ProductID") or "")
    product = Product(raw) if raw in _PRODUCT_VALUES else default_product(code)
    name = str(detail.get("InstrumentName") or "").upper()
    return Security(code, product, "ST" in name, _yyyymmdd(detail.get("OpenDate")))


_PRODUCT_VALUES: Final = frozenset(p.value for p in Product)


def _yyyymmdd(raw: object) -> date | None:
    text = str(raw or "")
    if len(text) != 8 or not text.isdigit() or int(text[:4]) < 1990:
        return None  # "0", "" and 19700101-style placeholders: unknown (the SSE opened 1990)
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None

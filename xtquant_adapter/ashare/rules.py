"""Exchange and counter order rules by board: lots, ticks, price limits, sizes, price types.

ASHARE_RULES §2, §3, §7. Pure functions of a normalized code (see `codes.normalize_code`);
quantities are shares, prices `Decimal`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.codes import EQUITY_BOARDS, Board, board_of, exchange_of
from xtquant_adapter.ashare.products import T0_PRODUCTS, Product, default_product, etf_limit_pct

Side = Literal["buy", "sell"]

ST_LIMIT_WIDENED: Final = date(2026, 7, 6)  # SH/SZ main-board ST 5% -> 10%
CHINEXT_REGISTRATION: Final = date(2020, 8, 24)  # ChiNext 10% -> 20%
CB_LIMIT_RULES: Final = date(2022, 8, 1)  # CBs get a 20% band


@dataclass(frozen=True, slots=True)
class LotRule:
    """`min_qty` is the smallest order; above it quantities move in `step`s."""

    min_qty: int
    step: int


_LOTS: Final = {
    Board.STAR: LotRule(200, 1),
    Board.BSE: LotRule(100, 1),
    Board.CB: LotRule(10, 10),
}
_ROUND_LOT: Final = LotRule(100, 100)

# Per-order caps (limit, market), §2; [U] rows use the conservative values the rulebook names.
_MAX_QTY: Final = {
    Board.SH_MAIN: (1_000_000, 1_000_000),
    Board.SZ_MAIN: (1_000_000, 1_000_000),
    Board.CHINEXT: (300_000, 150_000),
    Board.STAR: (100_000, 50_000),
    Board.BSE: (1_000_000, 1_000_000),
    Board.CB: (100_000, 100_000),
}
_FUND_MAX_QTY: Final = (1_000_000, 1_000_000)

MARKET_PRICE_TYPES: Final = frozenset(range(xc.MARKET_SH_CONVERT_5_CANCEL, 49))
_MARKET_TYPES_BY_EXCHANGE: Final = {
    "SH": frozenset({42, 43, 44, 45}),
    "BJ": frozenset({42, 43, 44, 45}),
    "SZ": frozenset({44, 45, 46, 47, 48}),
}
LIMIT_PRICE_TYPES: Final = frozenset({xc.FIX_PRICE, xc.LATEST_PRICE})


def _side(side: Side | int) -> Side:
    if side in ("buy", xc.STOCK_BUY):
        return "buy"
    if side in ("sell", xc.STOCK_SELL):
        return "sell"
    raise ValueError(f"unknown side {side!r}")


def lot_rule(code: str) -> LotRule:
    """Minimum order and step of a code's board (STAR 200+1, BSE 100+1, CB 10, else 100)."""
    return _LOTS.get(board_of(code), _ROUND_LOT)


def max_order_quantity(code: str, market: bool) -> int:
    """Largest single order in shares: limit orders (`market=False`) or market orders."""
    limit_cap, market_cap = _MAX_QTY.get(board_of(code), _FUND_MAX_QTY)
    return market_cap if market else limit_cap


def _sell_lot_error(rule: LotRule, quantity: int, sellable: int | None) -> str | None:
    if rule.step == 1:
        # STAR/BSE: at least min_qty, unless this order sells the whole (smaller) remainder.
        if quantity >= rule.min_qty or (sellable is not None and quantity == sellable):
            return None
        return f"卖出数量须≥{rule.min_qty}股或一次性卖出余额 / sell at least {rule.min_qty} or all"
    if quantity % rule.step == 0:
        return None
    # Round-lot boards: the odd part may only leave with the order that sells it (§2).
    if sellable is None or quantity % rule.step == sellable % rule.step:
        return None
    return "零股须一次性卖出 / an odd lot must be sold in one order with the whole remainder"


def check_quantity(
    code: str, side: Side | int, quantity: int, sellable: int | None = None, *, market: bool = False
) -> str | None:
    """None if `quantity` is a valid order size for `code`, else the reason (Chinese / English).

    `sellable` (can_use_volume) enables the sell-side checks that depend on the holding: the
    odd-lot rule and "insufficient position". Without it those are left to the counter.
    """
    rule = lot_rule(code)
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        return "委托数量必须为正整数 / quantity must be a positive integer"
    cap = max_order_quantity(code, market)
    if quantity > cap:
        return f"委托数量超过单笔上限{cap} / quantity exceeds the per-order maximum {cap}"
    if _side(side) == "buy":
        if quantity < rule.min_qty or (quantity - rule.min_qty) % rule.step:
            if rule.step == 1:
                return f"买入数量须≥{rule.min_qty}股 / buy at least {rule.min_qty} shares"
            return f"买入数量须为{rule.step}的整数倍 / buy in multiples of {rule.step}"
        return None
    if sellable is not None and quantity > sellable:
        return "证券可用数量不足 / insufficient sellable position"
    return _sell_lot_error(rule, quantity, sellable)


@functools.lru_cache(maxsize=8192)
def price_tick(code: str) -> Decimal:
    """Minimum price step: 0.01 for stocks and indices, 0.001 for funds and bonds (§3.1)."""
    board = board_of(code)
    return Decimal("0.01") if board in EQUITY_BOARDS or board is Board.INDEX else Decimal("0.001")


def is_tick_multiple(code: str, price: Decimal) -> bool:
    """True if `price` is an exact multiple of the tick (Decimal arithmetic, never float)."""
    price = Decimal(price)
    return price.is_finite() and price % price_tick(code) == 0


def round_to_tick(code: str, price: Decimal) -> Decimal:
    """Half-up to the tick, the exchanges' rounding for limit prices (§3.2)."""
    tick = price_tick(code)
    return (Decimal(price) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


def limit_pct(code: str, *, is_st: bool, on: date, product: Product | None = None) -> Decimal:
    """Daily price-limit fraction for `code` on day `on` (§3.2, §0); `product` tells ETF
    kinds apart (default: guessed from the code)."""
    board = board_of(code)
    if board in (Board.SH_MAIN, Board.SZ_MAIN):
        if is_st and on < ST_LIMIT_WIDENED:
            return Decimal("0.05")
        return Decimal("0.10")
    if board is Board.CHINEXT:
        return Decimal("0.20") if on >= CHINEXT_REGISTRATION else Decimal("0.10")
    if board is Board.STAR:
        return Decimal("0.20")
    if board is Board.BSE:
        return Decimal("0.30")
    if board is Board.CB:
        return Decimal("0.20") if on >= CB_LIMIT_RULES else Decimal("0.10")
    if board is Board.ETF:
        return etf_limit_pct(product or default_product(code))
    return Decimal("0.10")


def limit_prices(
    code: str, pre_close: Decimal, *, is_st: bool, on: date, product: Product | None = None
) -> tuple[Decimal, Decimal]:
    """(limit-down, limit-up) from the previous close, each rounded half-up to the tick.

    Prev close 1.15 on the main board gives up 1.265 -> 1.27 (float `round` says 1.26).
    """
    pre_close = Decimal(pre_close)
    pct = limit_pct(code, is_st=is_st, on=on, product=product)
    tick = price_tick(code)
    up = round_to_tick(code, pre_close * (1 + pct))
    down = max(round_to_tick(code, pre_close * (1 - pct)), tick)
    return down, up


def is_market_price_type(price_type: int) -> bool:
    return price_type in MARKET_PRICE_TYPES


def price_type_error(code: str, price_type: int) -> str | None:
    """None if `price_type` may be used for `code`'s venue (§7), else the reason."""
    if price_type in LIMIT_PRICE_TYPES:
        return None
    allowed = _MARKET_TYPES_BY_EXCHANGE[exchange_of(code)]
    if price_type in allowed:
        return None
    if price_type in MARKET_PRICE_TYPES:
        return (
            f"市价委托类型{price_type}不适用于{exchange_of(code)}市场 / "
            f"market price type {price_type} is not valid on {exchange_of(code)}"
        )
    return f"不支持的报价类型{price_type} / unsupported price type {price_type}"


def needs_protective_price(code: str) -> bool:
    """STAR and BSE market orders carry a protective limit in `price` (§7)."""
    return board_of(code) in (Board.STAR, Board.BSE)


def cage_bounds(code: str, *, buy_ref: Decimal, sell_ref: Decimal) -> tuple[Decimal, Decimal]:
    """Price cage for continuous trading (§3.4): (lowest sell price, highest buy price)."""
    tick = price_tick(code)
    board = board_of(code)
    pct, ticks = (Decimal("0.05"), 10) if board is Board.BSE else (Decimal("0.02"), 10)
    high = max(round_to_tick(code, buy_ref * (1 + pct)), buy_ref + ticks * tick)
    low = min(round_to_tick(code, sell_ref * (1 - pct)), sell_ref - ticks * tick)
    return low, high


def is_t0(code: str) -> bool:
    """Products that may be re-sold on the day bought (§5), judged from the code alone:
    CBs, SH bond/money (511), cross-border (513), gold (518) ETFs and the SZ ones xtquant
    lists. `products.is_t0` decides from an instrument's own product where one is known."""
    return default_product(code) in T0_PRODUCTS

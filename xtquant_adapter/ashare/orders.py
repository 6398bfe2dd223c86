"""The one set of A-share order-acceptance rules, shared by every place that takes an order.

Pre-broker validation (backend: our error codes), the simulator's counter
(`[COUNTER][code][text]` + status 57) and the backtest account (its refusal) all ask
`check_order`; where an order meets the price cage they ask `cage_verdict`; every fill is
booked with `book_fill`, so positions, cost basis and cash round the same way everywhere.

Pure: no I/O, no clock. Quantities are shares, prices and money `Decimal`. ASHARE_RULES
sections are cited next to each rule; docs/simulator.md lists them with their sources.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Literal, NamedTuple

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.codes import Board, board_of
from xtquant_adapter.ashare.products import Security, has_no_limit
from xtquant_adapter.ashare.rules import Side

# Why an order is refused. The simulator maps each to a counter code, the backend to an error.
Reason = Literal[
    "price_type",  # wrong market-order type for the venue (§7)
    "position",  # sells more than is sellable (T+1 included)
    "quantity",  # lot, minimum, step, odd-lot, per-order cap (§2)
    "tick",  # not a positive multiple of the tick (§3.1)
    "price",  # outside today's limit-down..limit-up (§3.2)
    "protect",  # STAR/BSE market order without a protective price (§7)
    "no_limit_market",  # market order on a day without price limits (§3.3)
    "st_cap",  # ST/*ST: more than 500,000 shares bought per day (§3.5)
    "cage",  # outside the price cage on a board that rejects (§3.4)
]

ST_DAILY_BUY_CAP: Final = 500_000  # shares per ST stock per investor per day (§3.5)
CAGE_PARKS: Final = frozenset({Board.SZ_MAIN, Board.CHINEXT, Board.BSE})
CAGE_REJECTS: Final = frozenset({Board.SH_MAIN, Board.STAR})
FEN: Final = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an order cannot be accepted: a stable `reason` and a Chinese / English text."""

    reason: Reason
    text: str


def price_band(security: Security, pre_close: Decimal, on: date) -> tuple[Decimal, Decimal] | None:
    """Today's (limit-down, limit-up), or None on a new listing's no-limit days (§3.2)."""
    if has_no_limit(security, on):
        return None
    return rules.limit_prices(
        security.code, pre_close, is_st=security.is_st, on=on, product=security.product
    )


def check_order(
    security: Security,
    side: Side,
    quantity: int,
    *,
    price_type: int = xc.FIX_PRICE,
    price: Decimal | None = None,
    band: tuple[Decimal, Decimal] | None = None,
    no_limit: bool = False,
    tick: Decimal | None = None,
    sellable: int | None = None,
    st_bought: int | None = None,
) -> Refusal | None:
    """None if the order may be accepted, else the first rule it breaks, in counter order.

    - `price`: a limit order's price; a market order's protective price (or None). Ignored for
      `LATEST_PRICE` (the counter prices it at the last trade).
    - `band`: today's limits when known; `no_limit` says the security has none today (a new
      listing), which refuses market orders.
    - `tick`: the exchange's published tick when the caller has one, else the code's.
    - `sellable`: enables the position and odd-lot checks of sells.
    - `st_bought`: for ST stocks, the shares already bought today plus those in working buy
      orders; enables the 500,000-share daily cap.
    """
    code = security.code
    if err := rules.price_type_error(code, price_type):
        return Refusal("price_type", err)
    market = rules.is_market_price_type(price_type)
    if side == "sell" and sellable is not None and quantity > sellable:
        return Refusal("position", f"可用{sellable} / sellable {sellable}")
    if err := rules.check_quantity(code, side, quantity, sellable, market=market):
        return Refusal("quantity", err)
    if market and no_limit:
        return Refusal("no_limit_market", "无涨跌幅限制的证券只接受限价委托 / no market orders "
                       "on a day without price limits")  # fmt: skip
    if price_type != xc.LATEST_PRICE and (refusal := _price_refusal(
            code, market, price, band, tick)):  # fmt: skip
        return refusal
    if side == "buy" and security.is_st and st_bought is not None and (
            st_bought + quantity > ST_DAILY_BUY_CAP):  # fmt: skip
        room = max(ST_DAILY_BUY_CAP - st_bought, 0)
        return Refusal("st_cap", f"风险警示股票当日累计买入不得超过50万股，尚可买{room} / ST "
                       f"stocks: at most 500,000 shares bought per day, {room} left")  # fmt: skip
    return None


def _price_refusal(
    code: str,
    market: bool,
    price: Decimal | None,
    band: tuple[Decimal, Decimal] | None,
    tick: Decimal | None,
) -> Refusal | None:
    step = tick or rules.price_tick(code)
    if market:
        # Only STAR/BSE market orders carry a price: the protective limit (§7).
        if not rules.needs_protective_price(code):
            return None
        if price is None or price <= 0:
            return Refusal("protect", "科创板/北交所市价委托须填写保护限价 / STAR/BSE market "
                           "orders need a protective price")  # fmt: skip
        if not price.is_finite() or price % step:
            return Refusal("tick", f"{price}")
        return None
    if price is None or not price.is_finite() or price <= 0 or price % step:
        return Refusal("tick", f"价格须为 {step} 的正整数倍 / price must be a positive multiple "
                       f"of {step}: {price}")  # fmt: skip
    if band is not None and not band[0] <= price <= band[1]:
        return Refusal("price", f"{band[0]}-{band[1]}")
    return None


Verdict = Literal["in", "park", "reject"]


def cage_verdict(
    code: str, side: Side, price: Decimal, *, buy_ref: Decimal, sell_ref: Decimal
) -> Verdict:
    """Where a continuous-trading limit order stands against the price cage (§3.4).

    "in": inside (or the board has no cage); "reject": outside on SH main board / STAR (废单);
    "park": outside on SZ main board, ChiNext or BSE, where the exchange keeps it (暂存) until
    the reference price moves it inside.
    """
    board = board_of(code)
    if board not in CAGE_PARKS and board not in CAGE_REJECTS:
        return "in"
    if in_cage(code, side, price, buy_ref=buy_ref, sell_ref=sell_ref):
        return "in"
    return "reject" if board in CAGE_REJECTS else "park"


def in_cage(code: str, side: Side, price: Decimal, *, buy_ref: Decimal, sell_ref: Decimal) -> bool:
    low, high = rules.cage_bounds(code, buy_ref=buy_ref, sell_ref=sell_ref)
    return price <= high if side == "buy" else price >= low


def cage_refs(ask: Decimal | None, bid: Decimal | None, last: Decimal) -> tuple[Decimal, Decimal]:
    """(buy reference, sell reference): best ask, else best bid, else the last price (the
    previous close before any trade); the sell side mirrors it (§3.4)."""
    return ask or bid or last, bid or ask or last


def fen(amount: Decimal) -> Decimal:
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


class Booking(NamedTuple):
    """One fill's effect on a holding and on cash.

    `cash` is signed (a buy pays value + fees, a sell receives value - fees); `sellable_now`
    is what the fill adds to today's sellable units (T+0 buys only); `cost` and `volume` are
    the holding after the fill.
    """

    volume: int
    cost: Decimal
    cash: Decimal
    sellable_now: int


def book_fill(
    side: Side,
    quantity: int,
    price: Decimal,
    fees: Decimal,
    *,
    volume: int,
    cost: Decimal,
    t0: bool,
) -> Booking:
    """Book a fill of `quantity` at `price` paying `fees` into a holding of `volume` units
    whose cost basis (fees included) is `cost`.

    The one rounding rule: a sale takes the pro-rata share of the basis, half-up to the fen;
    the last unit sold takes all that is left, so a closed position has a basis of 0.
    """
    value = price * quantity
    if side == "buy":
        return Booking(volume + quantity, cost + value + fees, -(value + fees),
                       quantity if t0 else 0)  # fmt: skip
    left = volume - quantity
    released = cost if left <= 0 else fen(cost * quantity / volume)
    return Booking(left, cost - released, value - fees, 0)

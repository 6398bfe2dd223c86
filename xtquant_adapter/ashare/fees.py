"""Trading fees (ASHARE_RULES §6): commission with a per-order minimum, stamp duty, transfer fee.

Everything is `Decimal` CNY rounded half-up to the fen. Commission is charged on the order's
cumulative filled value, so the minimum is paid once per order (rqalpha's model): the first
fill pays `max(min, rate x value)`, later fills only the excess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Final

from xtquant_adapter.ashare.codes import EQUITY_BOARDS, board_of
from xtquant_adapter.ashare.rules import Side

FEN: Final = Decimal("0.01")
STAMP_DUTY_HALVED: Final = date(2023, 8, 28)  # 0.1% -> 0.05%, sellers only
TRANSFER_FEE_HALVED: Final = date(2022, 4, 29)  # CSDC 0.002% -> 0.001%, both sides
_ZERO: Final = Decimal("0.00")


def fen(amount: Decimal) -> Decimal:
    """Half-up to 0.01 CNY."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Broker fee terms; rates are fractions of traded value.

    `fund_commission_min` is the minimum for ETFs/LOFs (brokers often waive it); None means
    the same as `commission_min`.
    """

    commission_rate: Decimal = Decimal("0.00025")
    commission_min: Decimal = Decimal("5")
    stamp_duty_rate: Decimal = Decimal("0.0005")
    transfer_fee_rate: Decimal = Decimal("0.00001")
    fund_commission_min: Decimal | None = None

    def minimum_for(self, code: str) -> Decimal:
        if board_of(code) not in EQUITY_BOARDS and self.fund_commission_min is not None:
            return self.fund_commission_min
        return self.commission_min

    def commission_on(self, code: str, cumulative_value: Decimal) -> Decimal:
        """Commission of an order that has filled `cumulative_value` so far (0 if nothing)."""
        if cumulative_value <= 0:
            return Decimal(0)
        return fen(max(self.minimum_for(code), cumulative_value * self.commission_rate))

    def stamp_rate_on(self, on: date) -> Decimal:
        # Before the 2023-08-28 cut the duty was double; the configured rate is today's.
        return self.stamp_duty_rate * 2 if on < STAMP_DUTY_HALVED else self.stamp_duty_rate

    def transfer_rate_on(self, on: date) -> Decimal:
        # CSDC halved the transfer fee on 2022-04-29 (ASHARE_RULES §0, S6); dated like stamp duty.
        return self.transfer_fee_rate * 2 if on < TRANSFER_FEE_HALVED else self.transfer_fee_rate


@dataclass(frozen=True, slots=True)
class FillFees:
    commission: Decimal
    stamp_duty: Decimal
    transfer_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.commission + self.stamp_duty + self.transfer_fee


def order_fees(
    schedule: FeeSchedule, code: str, side: Side, filled_value: Decimal, *, on: date
) -> FillFees:
    """All fees of an order that has filled `filled_value` in total."""
    equity = board_of(code) in EQUITY_BOARDS
    zero = Decimal("0.00")

    # ETFs, LOFs and bonds pay neither stamp duty nor the CSDC transfer fee.
    stamp = fen(filled_value * schedule.stamp_rate_on(on)) if equity and side == "sell" else zero
    transfer = fen(filled_value * schedule.transfer_rate_on(on)) if equity else zero
    return FillFees(schedule.commission_on(code, filled_value), stamp, transfer)


def order_fee_total(
    schedule: FeeSchedule, code: str, side: Side, filled_value: Decimal, *, on: date
) -> Decimal:
    """`order_fees(...).total` without the breakdown: the simulator's per-fill hot path.

    Equal to the sum of the three rounded parts, so an order's charged fees telescope: each
    fill pays `order_fee_total(after) - fees already charged`.
    """
    if filled_value <= 0:
        return _ZERO
    equity = board_of(code) in EQUITY_BOARDS
    minimum = schedule.commission_min
    if not equity and schedule.fund_commission_min is not None:
        minimum = schedule.fund_commission_min
    commission = max(minimum, filled_value * schedule.commission_rate)
    total = commission.quantize(FEN, rounding=ROUND_HALF_UP)
    if not equity:
        return total
    total += (filled_value * schedule.transfer_rate_on(on)).quantize(FEN, rounding=ROUND_HALF_UP)
    if side == "sell":
        stamp = filled_value * schedule.stamp_rate_on(on)
        total += stamp.quantize(FEN, rounding=ROUND_HALF_UP)
    return total


def fill_fees(
    schedule: FeeSchedule,
    code: str,
    side: Side,
    fill_value: Decimal,
    prior_filled_value: Decimal,
    *,
    on: date,
) -> FillFees:
    """Fees of one fill worth `fill_value`, after the same order already filled `prior_...`.

    Each fill pays the growth of the order's fees on its cumulative value. Rounding the
    cumulative figure (not each fill) keeps an order's fees independent of how it was split,
    so the cash frozen by `buy_freeze` always covers them exactly.
    """
    before = order_fees(schedule, code, side, prior_filled_value, on=on)
    after = order_fees(schedule, code, side, prior_filled_value + fill_value, on=on)
    return FillFees(
        after.commission - before.commission,
        after.stamp_duty - before.stamp_duty,
        after.transfer_fee - before.transfer_fee,
    )


def buy_freeze(schedule: FeeSchedule, code: str, price: Decimal, quantity: int) -> Decimal:
    """Cash to reserve for a buy: value at `price` plus every fee a full fill would cost.

    Fees only grow with filled value, and fills happen at or below `price`, so the
    reservation always covers the actual charge.
    """
    value = Decimal(price) * quantity
    fees = order_fee_total(schedule, code, "buy", value, on=date.max)
    return value.quantize(FEN, rounding=ROUND_CEILING) + fees

"""Hypothesis: the simulator's fast paths agree with the plain definitions they replace."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from xtquant_adapter.ashare.fees import FeeSchedule, fill_fees, order_fee_total, order_fees

CODES = ["600000.SH", "688981.SH", "000001.SZ", "300750.SZ", "920185.BJ", "510300.SH"]
money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
schedules = st.builds(
    FeeSchedule,
    commission_rate=st.sampled_from([Decimal("0.00025"), Decimal("0.0001"), Decimal("0.0003")]),
    commission_min=st.sampled_from([Decimal("5"), Decimal("0"), Decimal("0.1")]),
    fund_commission_min=st.sampled_from([None, Decimal("0"), Decimal("1")]),
)


@settings(max_examples=300)
@given(
    schedules,
    st.sampled_from(CODES),
    st.sampled_from(["buy", "sell"]),
    money,
    st.dates(date(2023, 1, 1), date(2026, 12, 31)),
)
def test_order_fee_total_is_the_sum_of_the_parts(schedule, code, side, value, on) -> None:  # type: ignore[no-untyped-def]
    assert (
        order_fee_total(schedule, code, side, value, on=on)
        == order_fees(schedule, code, side, value, on=on).total
    )


@settings(max_examples=100)
@given(
    schedules,
    st.sampled_from(CODES),
    st.sampled_from(["buy", "sell"]),
    st.lists(money, min_size=1, max_size=8),
)
def test_per_fill_fees_telescope(schedule, code, side, fills) -> None:  # type: ignore[no-untyped-def]
    """The simulator charges each fill `order_fee_total(new cumulative) - fees so far`; that
    equals the per-fill `fill_fees` breakdown, fill by fill."""
    charged, cumulative, on = Decimal(0), Decimal(0), date(2026, 11, 25)
    for value in fills:
        fast = order_fee_total(schedule, code, side, cumulative + value, on=on) - charged
        assert fast == fill_fees(schedule, code, side, value, cumulative, on=on).total
        charged += fast
        cumulative += value

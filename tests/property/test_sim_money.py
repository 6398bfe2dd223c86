"""Hypothesis: any sequence of orders, cancels and snapshots keeps the simulator's books sane."""

import tempfile
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.adapter.simkit import ACCOUNT, make_trader
from xtquant_adapter import xtconstant as xc

CODES = ["600000.SH", "688981.SH", "300059.SZ", "510300.SH", "920047.BJ"]
START = {"600000.SH": 1000, "688981.SH": 450, "510300.SH": 2000}
FINAL = {53, 54, 56, 57}

action = st.one_of(
    st.tuples(
        st.just("order"),
        st.sampled_from(CODES),
        st.sampled_from(["buy", "sell"]),
        st.integers(1, 40).map(lambda n: n * 50),
        st.integers(-6, 6),
        st.sampled_from([xc.FIX_PRICE, xc.FIX_PRICE, xc.LATEST_PRICE, xc.MARKET_PEER_PRICE_FIRST]),
    ),
    st.tuples(st.just("cancel"), st.integers(1, 30)),
    st.tuples(st.just("step"), st.integers(1, 3)),
)


def _apply(trader, act) -> None:  # type: ignore[no-untyped-def]
    if act[0] == "step":
        for _ in range(act[1]):
            trader.step()
        return
    if act[0] == "cancel":
        trader.cancel_order_stock(ACCOUNT, act[1])
        return
    _, code, side, qty, ticks, price_type = act
    tick = trader.market.get_full_tick([code])[code]
    step = 0.01 if code[0] in "369" else 0.001
    price = round(tick["lastPrice"] + ticks * step, 3)
    order_type = xc.STOCK_BUY if side == "buy" else xc.STOCK_SELL
    trader.order_stock(ACCOUNT, code, order_type, qty, price_type, price)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(action, min_size=1, max_size=25), st.integers(0, 10_000))
def test_money_conserved_nothing_negative_finals_final(actions, seed) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as tmp:
        trader, rec, _ = make_trader(
            Path(tmp), seed=seed, initial_cash=Decimal(200_000), initial_positions=START
        )
        try:
            for act in actions:
                _apply(trader, act)
            assert trader.flush()
            asset = trader.query_stock_asset(ACCOUNT)
            trades = trader.query_stock_trades(ACCOUNT)
            signed = sum(
                Decimal(str(t.traded_amount)) * (1 if t.order_type == xc.STOCK_BUY else -1)
                for t in trades
            )
            fees = sum(Decimal(str(t.commission)) for t in trades)
            cash = Decimal(str(asset.cash)) + Decimal(str(asset.frozen_cash))
            assert cash + signed + fees == Decimal(200_000)
            assert asset.cash >= 0
            assert asset.frozen_cash >= 0
            # The cached market value matches the holdings at last prices.
            positions = trader.query_stock_positions(ACCOUNT)
            value = sum(Decimal(str(p.last_price)) * p.volume for p in positions)
            assert Decimal(str(asset.market_value)) == value
            for p in trader.query_stock_positions(ACCOUNT):
                bought = sum(
                    t.traded_volume * (1 if t.order_type == xc.STOCK_BUY else -1)
                    for t in trades
                    if t.stock_code == p.stock_code
                )
                assert p.volume == START.get(p.stock_code, 0) + bought
                assert min(p.volume, p.can_use_volume, p.frozen_volume) >= 0
            seen: dict[int, int] = {}
            for o in rec.of("on_stock_order"):
                if o.order_id in seen and seen[o.order_id] in FINAL:
                    raise AssertionError(f"order {o.order_id} left final {seen[o.order_id]}")
                seen[o.order_id] = o.order_status
        finally:
            trader.close()

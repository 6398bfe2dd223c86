"""The asset event the stream sends after every order is exactly `GET /trading/account-info`'s
object: the dict built for speed agrees with the pydantic model's JSON."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from backend.app.services.broker.xt_mapping import AssetSnapshot, PositionSnapshot
from backend.app.services.orders.queries import (
    account_info,
    account_info_json,
    is_held,
    position_read,
)

money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)
price = st.decimals(min_value=0, max_value=5000, places=3, allow_nan=False)
volume = st.integers(min_value=0, max_value=10**7)


@st.composite
def positions(draw: st.DrawFn) -> PositionSnapshot:
    v = draw(volume)
    return PositionSnapshot(
        stock_code=draw(st.sampled_from(["600000.SH", "000001.SZ", "300750.SZ"])),
        stock_name="", volume=v, can_use_volume=draw(st.integers(0, v)),
        frozen_volume=draw(st.integers(0, 10**5)), yesterday_volume=0,
        avg_price=draw(price), last_price=draw(price), market_value=draw(money),
    )  # fmt: skip


@given(
    cash=money, frozen=money, value=money, total=money,
    held=st.lists(positions(), max_size=6),
)  # fmt: skip
def test_the_asset_event_is_the_account_info_json(
    cash: Decimal, frozen: Decimal, value: Decimal, total: Decimal, held: list[PositionSnapshot]
) -> None:
    asset = AssetSnapshot("A1", cash, frozen, value, total)
    listed = [position_read(p, "") for p in held if is_held(p)]
    assert account_info_json("A1", asset, held) == account_info("A1", asset, listed).model_dump(
        mode="json"
    )

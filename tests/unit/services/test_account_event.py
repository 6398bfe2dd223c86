"""`GET /trading/account-info`'s object (also the asset event the stream sends after every
order), built as a dict for speed, agrees with the same object built from the REST position
items the way the models define them."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from backend.app.models.trading import AccountInfo, PositionRead
from backend.app.services.broker.xt_mapping import AssetSnapshot, PositionSnapshot
from backend.app.services.orders.queries import account_info_json, is_held, position_read


def account_info(account_id: str, asset: AssetSnapshot, items: list[PositionRead]) -> AccountInfo:
    """The reference: the account from the listed positions' own figures."""
    return AccountInfo(
        account_id=account_id, available_cash=asset.cash, frozen_cash=asset.frozen_cash,
        market_value=asset.market_value, total_value=asset.total_asset,
        positions_count=sum(1 for p in items if p.volume > 0),
        total_profit_loss=sum((p.profit_loss for p in items), Decimal("0.00")),
    )  # fmt: skip


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
    event = account_info_json("A1", asset, held)
    assert event == account_info("A1", asset, listed).model_dump(mode="json")
    # The REST route validates the same dict: what it answers is what the stream sends.
    assert AccountInfo.model_validate(event).model_dump(mode="json") == event

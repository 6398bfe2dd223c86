"""xt_mapping: total tables, price types per venue, frozen copies of xt records."""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from decimal import Decimal

import pytest

from backend.app.domain.enums import OrderStatus, OrderType, Side
from backend.app.domain.order_state import FINAL, TRANSITIONS, IllegalTransition, advance
from backend.app.services.broker import xt_mapping as xm
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.xttype import XtAsset, XtOrder, XtPosition, XtTrade

S = OrderStatus


def test_every_xt_order_status_maps() -> None:
    codes = {v for k, v in vars(xc).items() if k.startswith("ORDER_") and isinstance(v, int)}
    assert codes - {xc.ORDER_UNKNOWN} <= xm.XT_STATUS.keys()
    assert xm.status_from_xt(xc.ORDER_UNKNOWN) is None


@pytest.mark.parametrize(
    ("code", "status"),
    [(48, S.PENDING), (49, S.PENDING), (50, S.REPORTED), (51, S.PENDING_CANCEL),
     (52, S.PENDING_CANCEL), (53, S.PARTIALLY_CANCELLED), (54, S.CANCELLED),
     (55, S.PARTIALLY_FILLED), (56, S.FILLED), (57, S.REJECTED), (255, None), (999, None)],
)  # fmt: skip
def test_xt_status_row(code: int, status: OrderStatus | None) -> None:
    assert xm.status_from_xt(code) == status


@pytest.mark.parametrize(
    ("code", "order_type", "price_type"),
    [("600519.SH", OrderType.LIMIT, 11), ("000001.SZ", OrderType.LIMIT, 11),
     ("600519.SH", OrderType.MARKET, 42), ("688981.SH", OrderType.MARKET, 42),
     ("920185.BJ", OrderType.MARKET, 42), ("000001.SZ", OrderType.MARKET, 46),
     ("300750.SZ", OrderType.MARKET, 46)],
)  # fmt: skip
def test_price_type_per_venue(code: str, order_type: OrderType, price_type: int) -> None:
    assert xm.price_type_for(code, order_type) == price_type


@pytest.mark.parametrize(
    ("code", "needs"),
    [("688981.SH", True), ("920185.BJ", True), ("600519.SH", False), ("000001.SZ", False)],
)
def test_star_and_bse_market_orders_need_a_protective_price(code: str, needs: bool) -> None:
    assert xm.needs_protective_price(code) is needs


def test_sides_map_both_ways() -> None:
    assert xm.SIDE_TO_XT[Side.BUY] == xc.STOCK_BUY
    assert xm.side_from_xt(xc.STOCK_SELL) is Side.SELL
    assert xm.side_from_xt(27) is None


def test_remark_carries_our_order_id_only_when_numeric() -> None:
    assert xm.remark_order_id("42") == 42
    assert xm.remark_order_id("manual order") is None
    assert xm.remark_order_id("") is None


def _order(**over: object) -> XtOrder:
    base = {"account_type": 2, "account_id": "SIM000001", "stock_code": "600519.SH", "order_id": 7,
                "order_sysid": "00000007", "order_time": 1_795_621_143, "order_type": 23,
                "order_volume": 100, "price_type": 11, "price": 1450.01, "traded_volume": 40,
                "traded_price": 1450.0, "order_status": 55, "status_msg": "", "strategy_name": "s",
                "order_remark": "12", "direction": 48, "offset_flag": 48}  # fmt: skip
    return XtOrder(**(base | over))  # type: ignore[arg-type]


def test_order_update_is_an_exact_frozen_copy() -> None:
    u = xm.order_update_from_xt(_order())
    assert (u.order_id, u.broker_order_id, u.status, u.side) == (12, 7, S.PARTIALLY_FILLED,
                                                                 Side.BUY)  # fmt: skip
    assert u.price == Decimal("1450.0100")
    assert u.traded_volume == 40
    assert u.order_time.tzinfo is not None
    with pytest.raises(FrozenInstanceError):
        u.status = S.FILLED  # type: ignore[misc]


def test_trade_asset_position_copies_keep_money_exact() -> None:
    t = xm.trade_update_from_xt(
        XtTrade(
            2,
            "SIM000001",
            "600519.SH",
            24,
            "T1",
            1_795_621_143,
            10.1,
            300,
            3030.0,
            7,
            "7",
            "",
            "12",
            49,
            49,
            5.1,
        )
    )
    assert (t.trade_id, t.order_id, t.side, t.quantity) == ("T1", 12, Side.SELL, 300)
    assert t.price == Decimal("10.1000")
    assert t.amount == Decimal("3030.00")
    assert t.commission == Decimal("5.10")
    a = xm.asset_from_xt(XtAsset(2, "SIM000001", 0.1 + 0.2, 0.0, 100.0, 100.3, 0.3))
    assert a.cash == Decimal("0.30")
    p = xm.position_from_xt(XtPosition(2, "SIM000001", "000001.SZ", 500, 400, 11.0, 5500.0,
                                       100, 0, 500, 10.5, 48, 11.0, 0.05))  # fmt: skip
    assert (p.volume, p.can_use_volume, p.frozen_volume) == (500, 400, 100)
    assert p.avg_price == Decimal("10.5000")


@pytest.mark.parametrize("status", list(S))
def test_fsm_every_status_has_a_row(status: OrderStatus) -> None:
    assert status in TRANSITIONS
    for target in TRANSITIONS[status]:
        assert advance(status, target) == target


@pytest.mark.parametrize("final", sorted(FINAL))
@pytest.mark.parametrize("target", list(S))
def test_fsm_final_statuses_never_move(final: OrderStatus, target: OrderStatus) -> None:
    if target == final:
        assert advance(final, target) == final
    else:
        with pytest.raises(IllegalTransition):
            advance(final, target)


def test_fsm_pending_cancel_can_fall_back_when_the_cancel_is_refused() -> None:
    assert advance(S.PENDING_CANCEL, S.REPORTED) is S.REPORTED
    assert advance(S.PENDING_CANCEL, S.FILLED) is S.FILLED
    with pytest.raises(IllegalTransition):
        advance(S.PARTIALLY_FILLED, S.REPORTED)

"""TradingService and its single writer on the simulator: FSM guard, fills as facts,
reconciliation and settling of orders the broker never got."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from backend.app.core.config import Settings
from backend.app.db.tables import Order, OrderEvent, Trade
from backend.app.domain.enums import OrderStatus, Side
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.orders.service import TradingService

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "api"))
from trading_kit import ORDERS, Headers, manual_app, order_of, passive


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


@pytest.fixture
def trading(app: FastAPI, client: TestClient) -> Iterator[TradingService]:
    return app.state.trading


def _apply(client: TestClient, trading: TradingService, *items: Any) -> None:
    for item in items:
        client.portal.call(trading._updater.command, item)  # type: ignore[union-attr]


def _resting(client: TestClient, h: Headers, eventually: Callable[..., Any]) -> dict[str, Any]:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
            "price": passive(client, h, "600519.SH")}  # fmt: skip
    oid = client.post(ORDERS, json=body, headers=h).json()["order_id"]
    return dict(eventually(lambda: (o := order_of(client, h, oid))["status"] == "reported" and o))


def _update(o: dict[str, Any], status: int, traded: int = 0) -> xm.OrderUpdate:
    return xm.OrderUpdate(
        broker_order_id=o["broker_order_id"], order_id=o["order_id"], stock_code=o["stock_code"],
        side=Side.BUY, broker_status=status, status=xm.status_from_xt(status), status_msg="",
        order_volume=o["quantity"], price=Decimal(o["price"]), traded_volume=traded,
        traded_price=Decimal(o["price"]) if traded else Decimal(0), order_sysid="",
        strategy_name="", order_time=datetime.now(UTC),
    )  # fmt: skip


def _fill(o: dict[str, Any], trade_id: str, qty: int) -> xm.TradeUpdate:
    price = Decimal(o["price"])
    return xm.TradeUpdate(
        trade_id=trade_id, broker_order_id=o["broker_order_id"], order_id=o["order_id"],
        stock_code=o["stock_code"], side=Side.BUY, price=price, quantity=qty,
        amount=price * qty, commission=Decimal("5.00"), traded_at=datetime.now(UTC),
    )  # fmt: skip


def _events(app: FastAPI, order_id: int) -> list[str]:
    return app.state.db.call(
        lambda s: [e.message for e in s.scalars(
            select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))]
    )  # fmt: skip


def test_illegal_broker_push_is_recorded_and_ignored(
    app: FastAPI, client: TestClient, h: Headers, trading: TradingService, eventually: Any
) -> None:
    o = _resting(client, h, eventually)
    _apply(client, trading, _update(o, 56, traded=100))  # filled
    _apply(client, trading, _update(o, 50))  # a stale "reported" after the fill
    got = order_of(client, h, o["order_id"])
    assert got["status"] == "filled"
    assert any(
        "illegal order transition filled -> reported" in m for m in _events(app, got["order_id"])
    )


def test_unknown_broker_status_keeps_the_status(
    app: FastAPI, client: TestClient, h: Headers, trading: TradingService, eventually: Any
) -> None:
    o = _resting(client, h, eventually)
    _apply(client, trading, _update(o, 255))
    got = order_of(client, h, o["order_id"])
    assert got["status"] == "reported"
    assert got["broker_status"] == 255


def test_fills_are_recorded_once_and_even_after_a_final_status(
    app: FastAPI, client: TestClient, h: Headers, trading: TradingService, eventually: Any
) -> None:
    o = _resting(client, h, eventually)
    _apply(client, trading, _fill(o, "X-1", 30), _fill(o, "X-1", 30))
    assert order_of(client, h, o["order_id"])["filled_quantity"] == 30
    _apply(client, trading, _update(o, 53, traded=30))  # part-cancelled: final
    _apply(client, trading, _fill(o, "X-2", 20))  # a late fill is still a fact
    got = order_of(client, h, o["order_id"])
    assert got["status"] == "partially_cancelled"
    assert got["filled_quantity"] == 50
    assert sorted(f["trade_id"] for f in got["fills"]) == ["X-1", "X-2"]
    n = app.state.db.call(lambda s: len(s.scalars(select(Trade)).all()))
    assert n == 2


def _insert_pending(app: FastAPI, coid: str) -> int:
    now = datetime.now(UTC)

    def add(s: Any) -> int:
        o = Order(account_id="SIM000001", client_order_id=coid, request_hash="x",
                  stock_code="600519.SH", stock_name="", side="buy", order_type="limit",
                  price_type=11, price=Decimal("1400"), quantity=100, filled_quantity=0,
                  status="pending", status_msg="", created_at=now, updated_at=now)  # fmt: skip
        s.add(o)
        s.flush()
        return int(o.id)

    return int(app.state.db.call(add))


def test_reconcile_rejects_a_pending_order_the_broker_never_saw(
    app: FastAPI, client: TestClient, h: Headers, trading: TradingService
) -> None:
    oid = _insert_pending(app, "lost-1")
    counts = client.portal.call(trading.reconcile)  # type: ignore[union-attr]
    assert counts["rejected_unsent"] == 1
    got = order_of(client, h, oid)
    assert got["status"] == OrderStatus.REJECTED
    assert "safe to re-send" in got["status_msg"]


def test_settle_unknown_reads_back_by_remark_or_rejects(
    app: FastAPI, client: TestClient, h: Headers, trading: TradingService, eventually: Any
) -> None:
    o = _resting(client, h, eventually)
    kept = client.portal.call(lambda: trading.settle_unknown(o["order_id"]))  # type: ignore[union-attr]
    assert kept.status == "reported"
    oid = _insert_pending(app, "lost-2")
    gone = client.portal.call(lambda: trading.settle_unknown(oid, reason="-1"))  # type: ignore[union-attr]
    assert gone.status == "rejected"

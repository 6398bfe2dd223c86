"""GET /trading/stream: token handling and live order/trade events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from trading_kit import ORDERS, manual_app, marketable, step

from backend.app.core.config import Settings
from xtquant_adapter import xtconstant as xc

STREAM = "/api/v1/trading/stream"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def test_stream_with_query_token_sends_connection_first(
    client: TestClient, viewer_token: str
) -> None:
    with client.websocket_connect(f"{STREAM}?token={viewer_token}") as ws:
        first = ws.receive_json()
    assert first["type"] == "connection"
    assert first["data"]["connected"] is True


def test_stream_with_token_in_first_message(client: TestClient, viewer_token: str) -> None:
    with client.websocket_connect(STREAM) as ws:
        ws.send_json({"token": viewer_token})
        assert ws.receive_json()["type"] == "connection"


@pytest.mark.parametrize("url", [f"{STREAM}?token=nope", STREAM])
def test_stream_bad_token_closes_4401(client: TestClient, url: str) -> None:
    with client.websocket_connect(url) as ws:
        if "token=" not in url:
            ws.send_json({"token": "bad"})
        with pytest.raises(WebSocketDisconnect) as exc:
            ws.receive_json()
    assert exc.value.code == 4401


def test_stream_pushes_order_and_trade_events_of_a_fill(
    app: FastAPI, client: TestClient, trader_token: str, auth: Callable[[str], Any]
) -> None:
    h = auth(trader_token)
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
                "price": marketable(client, h, "600519.SH", "buy")}  # fmt: skip
        oid = client.post(ORDERS, json=body, headers=h).json()["order_id"]
        step(app)
        seen: list[dict[str, Any]] = []
        while not any(e["type"] == "order" and e["data"]["status"] == "filled" for e in seen):
            seen.append(ws.receive_json())
        while not any(e["type"] == "trade" for e in seen):
            seen.append(ws.receive_json())
    orders = [e["data"] for e in seen if e["type"] == "order"]
    assert orders[0]["status"] == "pending"
    assert {o["order_id"] for o in orders} == {oid}
    trade = next(e["data"] for e in seen if e["type"] == "trade")
    assert trade["order_id"] == oid
    assert trade["quantity"] == 100


def _until(ws: Any, seen: list[dict[str, Any]], done: Callable[[], bool]) -> None:
    while not done():
        seen.append(ws.receive_json())


def _agrees(event: dict[str, Any], rest: dict[str, Any]) -> None:
    """The event has every key of the REST object (extras allowed), with the same values."""
    assert set(rest) <= set(event), set(rest) - set(event)
    assert {k: event[k] for k in rest} == rest


def test_stream_events_are_the_rest_objects(
    app: FastAPI, client: TestClient, trader_token: str, auth: Callable[[str], Any]
) -> None:
    from backend.app.models.orders import OrderRead, TradeRead

    h = auth(trader_token)
    code = "600519.SH"
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        body = {"stock_code": code, "side": "buy", "quantity": 100,
                "price": marketable(client, h, code, "buy")}  # fmt: skip
        oid = client.post(ORDERS, json=body, headers=h).json()["order_id"]
        step(app, 1.0)  # one snapshot: the fill's prices are still the last ones after it
        seen: list[dict[str, Any]] = []

        def of(type_: str) -> list[dict[str, Any]]:
            return [e["data"] for e in seen if e["type"] == type_]

        def settled() -> bool:
            held = [p for p in of("position") if p["stock_code"] == code and p["volume"] >= 100]
            # the broker's own 56 (已成) as well, which may follow the fill-derived `filled`
            done = any(o["status"] == "filled" and o["broker_status"] == xc.ORDER_SUCCEEDED
                       for o in of("order"))  # fmt: skip
            if not held or not done or not of("trade"):
                return False
            # an asset event after the position event of the fill
            last_pos = max(i for i, e in enumerate(seen) if e["type"] == "position")
            return any(e["type"] == "asset" for e in seen[last_pos:])

        _until(ws, seen, settled)
    position = [p for p in of("position") if p["stock_code"] == code][-1]
    asset = of("asset")[-1]
    rest_positions = client.get("/api/v1/trading/positions", headers=h).json()["items"]
    _agrees(position, next(p for p in rest_positions if p["stock_code"] == code))
    assert "yesterday_volume" in position
    _agrees(asset, client.get("/api/v1/trading/account-info", headers=h).json())
    for o in of("order"):
        assert set(o) == set(OrderRead.model_fields)
    rest_order = client.get(f"/api/v1/trading/orders/{oid}", headers=h).json()
    rest_order.pop("fills")
    _agrees(of("order")[-1], rest_order)
    trade = of("trade")[0]
    assert set(trade) == set(TradeRead.model_fields)
    rest_trades = client.get("/api/v1/trading/trades", headers=h,
                             params={"order_id": oid}).json()["items"]  # fmt: skip
    _agrees(trade, next(t for t in rest_trades if t["trade_id"] == trade["trade_id"]))


def _consistent(o: dict[str, Any]) -> bool:
    """What a client may rely on: fills and status never contradict each other."""
    if o["filled_quantity"] >= o["quantity"]:
        return o["status"] == "filled"
    if o["filled_quantity"] > 0:
        return o["status"] not in ("pending", "reported", "filled")
    return True


def test_every_order_event_of_a_multi_fill_order_is_consistent(
    app: FastAPI, client: TestClient, trader_token: str, auth: Callable[[str], Any]
) -> None:
    h = auth(trader_token)
    # 920047.BJ shows 1,500-12,000 shares a level: 13,000 walks at least two levels, and
    # xtquant (and the simulator) push each fill's trade before the order's new status.
    code, qty = "920047.BJ", 13_000
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        body = {"stock_code": code, "side": "buy", "quantity": qty,
                "price": marketable(client, h, code, "buy")}  # fmt: skip
        r = client.post(ORDERS, json=body, headers=h)
        assert r.status_code == 201, r.text
        oid = r.json()["order_id"]
        step(app, 1.0)
        seen: list[dict[str, Any]] = []
        _until(ws, seen, lambda: sum(
            e["data"]["quantity"] for e in seen if e["type"] == "trade") >= qty and any(
            e["type"] == "order" and e["data"]["broker_status"] == xc.ORDER_SUCCEEDED
            for e in seen))  # fmt: skip
    orders = [e["data"] for e in seen if e["type"] == "order" and e["data"]["order_id"] == oid]
    trades = [e["data"] for e in seen if e["type"] == "trade" and e["data"]["order_id"] == oid]
    assert len(trades) >= 2
    assert sum(t["quantity"] for t in trades) == qty
    bad = [(o["status"], o["filled_quantity"]) for o in orders if not _consistent(o)]
    assert not bad, bad
    assert [o["filled_quantity"] for o in orders] == sorted(o["filled_quantity"] for o in orders)
    assert any(o["status"] == "partially_filled" for o in orders)

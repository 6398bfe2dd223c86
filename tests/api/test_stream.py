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

"""The durable event log: every streamed event has a seq, `GET /trading/events` pages the same
log, `?since=` replays what a client missed, retention answers 410 EVENTS_EXPIRED."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect
from trading_kit import ORDERS, manual_app, marketable, order_of, passive, step

from backend.app.core.config import Settings

STREAM = "/api/v1/trading/stream"
EVENTS = "/api/v1/trading/events"


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def _all_events(client: TestClient, h: dict[str, str], since: int | None = None) -> list[Any]:
    out: list[Any] = []
    params: dict[str, Any] = {"limit": 7} if since is None else {"limit": 7, "since": since}
    while True:
        page = client.get(EVENTS, params=params, headers=h).json()
        out += page["items"]
        if not page["items"]:
            return out
        params["since"] = page["next_since"]


def _fill_one(app: FastAPI, client: TestClient, h: dict[str, str]) -> int:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
            "price": marketable(client, h, "600519.SH", "buy")}  # fmt: skip
    oid = int(client.post(ORDERS, json=body, headers=h).json()["order_id"])
    for _ in range(20):  # step the market until it has filled (partial fills first)
        step(app)
        client.portal.call(app.state.trading.drain)  # type: ignore[union-attr]
        if order_of(client, h, oid)["status"] == "filled":
            break
    client.portal.call(app.state.event_log.flush)  # type: ignore[union-attr]
    return oid


def test_events_page_in_seq_order_with_next_since(
    app: FastAPI, client: TestClient, h: dict[str, str]
) -> None:
    oid = _fill_one(app, client, h)
    events = _all_events(client, h)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    types = {e["type"] for e in events}
    assert {"order", "trade", "position", "asset"} <= types
    statuses = [e["data"]["status"] for e in events if e["type"] == "order"]
    assert statuses[0] == "pending"
    assert statuses[-1] == "filled"
    assert all(e["data"]["order_id"] == oid for e in events if e["type"] == "order")
    assert all(e["created_at"] for e in events)
    # a cursor past the end: nothing, and the cursor stays
    page = client.get(EVENTS, params={"since": seqs[-1]}, headers=h).json()
    assert page == {"items": [], "next_since": seqs[-1]}


def test_stream_messages_carry_the_logged_seq(
    app: FastAPI, client: TestClient, h: dict[str, str], trader_token: str
) -> None:
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        hello = ws.receive_json()
        assert hello["type"] == "connection"
        assert hello["data"]["detail"] == "subscribed"
        _fill_one(app, client, h)
        logged = _all_events(client, h, since=hello["seq"])
        got = [ws.receive_json() for _ in logged]
    assert [(e["seq"], e["type"], e["data"]) for e in logged] == [
        (e["seq"], e["type"], e["data"]) for e in got
    ]


def test_since_replays_what_was_missed_then_goes_live_without_repeats(
    app: FastAPI, client: TestClient, h: dict[str, str], trader_token: str
) -> None:
    _fill_one(app, client, h)
    first = _all_events(client, h)
    cut = first[len(first) // 2]["seq"]  # the client saw up to here, then lost its connection
    with client.websocket_connect(f"{STREAM}?token={trader_token}&since={cut}") as ws:
        hello = ws.receive_json()
        assert hello["seq"] == cut
        replayed = [ws.receive_json() for e in first if e["seq"] > cut]
        body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
                "price": passive(client, h, "600519.SH")}  # fmt: skip
        oid = client.post(ORDERS, json=body, headers=h).json()["order_id"]
        live = ws.receive_json()
    assert [e["seq"] for e in replayed] == [e["seq"] for e in first if e["seq"] > cut]
    assert live["seq"] > replayed[-1]["seq"]
    assert live["type"] == "order"
    assert live["data"]["order_id"] == oid


def test_expired_since_is_410_and_closes_the_stream_with_4410(
    app: FastAPI, client: TestClient, h: dict[str, str], trader_token: str
) -> None:
    _fill_one(app, client, h)
    head = _all_events(client, h)[-1]["seq"]
    later = datetime.now(UTC) + timedelta(days=30)
    deleted = client.portal.call(functools.partial(app.state.event_log.prune, later))  # type: ignore[union-attr]
    assert deleted > 0
    r = client.get(EVENTS, params={"since": 0}, headers=h)
    assert r.status_code == 410
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "EVENTS_EXPIRED"
    # at the watermark nothing is missing: fine; without since: from the oldest kept
    assert client.get(EVENTS, params={"since": head}, headers=h).status_code == 200
    assert client.get(EVENTS, headers=h).json() == {"items": [], "next_since": head}
    url = f"{STREAM}?token={trader_token}&since=0"
    with client.websocket_connect(url) as ws, pytest.raises(WebSocketDisconnect) as exc:
        ws.receive_json()
    assert exc.value.code == 4410


def test_retention_keeps_recent_events(app: FastAPI, client: TestClient, h: dict[str, str]) -> None:
    _fill_one(app, client, h)
    assert client.portal.call(app.state.event_log.prune) == 0  # type: ignore[union-attr]
    assert client.get(EVENTS, params={"since": 0}, headers=h).status_code == 200


@pytest.mark.parametrize("params", [{"since": -1}, {"limit": 0}, {"limit": 1001}, {"since": "x"}])
def test_bad_cursor_is_422(client: TestClient, h: dict[str, str], params: dict[str, Any]) -> None:
    r = client.get(EVENTS, params=params, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "VALIDATION_ERROR"


def test_events_need_a_token(client: TestClient) -> None:
    assert client.get(EVENTS).status_code == 401

"""`GET /trading/orders` keeps a page until the next write to the journal: a bot polling an
unchanged list is answered without a query, and any change — a new order, the broker's
answer, a cancel — is in the very next read, on either route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, Headers, manual_app, passive

from backend.app.core.config import Settings

ORDER_LIST = "/api/v1/trading/orders"


@pytest.fixture
def app(settings_factory: Any) -> FastAPI:
    settings: Settings = settings_factory()
    return manual_app(settings)


def _queries(app: FastAPI) -> list[int]:
    """Count the journal reads behind order-list pages."""
    queries = app.state.trading.queries
    seen: list[int] = []
    inner = queries.list_orders_json

    async def counted(**kw: Any) -> Any:
        seen.append(1)
        return await inner(**kw)

    queries.list_orders_json = counted
    return seen


def _place(client: TestClient, h: Headers, coid: str) -> dict[str, Any]:
    price = passive(client, h, "600519.SH")
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": price,
            "client_order_id": coid}  # fmt: skip
    r = client.post(ORDERS, json=body, headers=h)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _drain(client: TestClient, app: FastAPI) -> None:
    client.portal.call(app.state.trading.drain)  # type: ignore[union-attr]


def test_an_unchanged_list_is_read_once(app: FastAPI, client: TestClient, h: Headers) -> None:
    _place(client, h, "cache-1")
    _drain(client, app)
    queries = _queries(app)
    db = app.state.db
    # Background work (the broker's pushes) may write now and then: a read must come from
    # the cache whenever nothing was written since the read before it began.
    cached = 0
    for _ in range(20):
        w0, q0 = db.writes, len(queries)
        first = client.get(ORDER_LIST, headers=h)
        second = client.get(ORDER_LIST, headers=h)
        assert first.status_code == second.status_code == 200
        if db.writes == w0:
            assert first.content == second.content
            assert len(queries) <= q0 + 1  # the first may read, the second never
            cached += 1
    assert cached >= 10
    q = len(queries)
    client.get(ORDER_LIST + "?limit=1", headers=h)  # another query: a page of its own
    assert len(queries) == q + 1


def test_a_new_order_and_a_cancel_are_in_the_next_read(
    app: FastAPI, client: TestClient, h: Headers
) -> None:
    first = _place(client, h, "cache-a")
    _drain(client, app)
    assert [o["order_id"] for o in client.get(ORDER_LIST, headers=h).json()["items"]] == [
        first["order_id"]
    ]
    second = _place(client, h, "cache-b")
    ids = [o["order_id"] for o in client.get(ORDER_LIST, headers=h).json()["items"]]
    assert ids == [second["order_id"], first["order_id"]]

    _drain(client, app)
    client.get(ORDER_LIST, headers=h)  # cached again
    r = client.delete(f"/api/v1/trading/orders/{first['order_id']}", headers=h)
    assert r.status_code == 202, r.text
    status = {o["order_id"]: o["status"] for o in client.get(ORDER_LIST, headers=h).json()["items"]}
    assert status[first["order_id"]] in ("pending_cancel", "cancelled")


def test_the_brokers_answer_is_in_the_next_read(
    app: FastAPI, client: TestClient, h: Headers
) -> None:
    placed = _place(client, h, "cache-ack")
    assert placed["status"] == "pending"
    # Read (and cache) until the broker's answer has been applied: the page must follow it.
    for _ in range(500):
        _drain(client, app)
        items = client.get(ORDER_LIST, headers=h).json()["items"]
        if items[0]["status"] != "pending":
            break
    assert items[0]["status"] == "reported"
    assert (
        client.get(f"/api/v1/trading/orders/{placed['order_id']}", headers=h).json()["status"]
        == items[0]["status"]
    )

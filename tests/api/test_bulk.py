"""Bulk actions: cancel every open order, close positions (T+1, cage edge), replace an order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, manual_app, marketable, order_of, passive, quote, step

from backend.app.core.config import Settings
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME

CANCEL_ALL = "/api/v1/trading/orders"
POSITIONS = "/api/v1/trading/positions"


@pytest.fixture
def settings(settings_factory: Any) -> Settings:
    return settings_factory(sim_initial_positions={"600519.SH": 1000, "000001.SZ": 500})


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def _rest(client: TestClient, h: dict[str, str], code: str, qty: int = 100) -> int:
    body = {"stock_code": code, "side": "buy", "quantity": qty, "price": passive(client, h, code)}
    r = client.post(ORDERS, json=body, headers=h)
    assert r.status_code == 201, r.text
    return int(r.json()["order_id"])


def _until_filled(app: FastAPI, client: TestClient, h: dict[str, str], order_id: int) -> None:
    """Step the simulated market until a marketable order has filled (partial fills first)."""
    for _ in range(20):
        step(app)
        client.portal.call(app.state.trading.drain)  # type: ignore[union-attr]
        if order_of(client, h, order_id)["status"] == "filled":
            return
    raise AssertionError(f"order {order_id} did not fill: {order_of(client, h, order_id)}")


def _kill(client: TestClient, admin_token: str, on: bool) -> None:
    r = client.put("/api/v1/trading/kill-switch", json={"trading_enabled": on},
                   headers={"Authorization": f"Bearer {admin_token}"})  # fmt: skip
    assert r.status_code == 200, r.text


def _audit(client: TestClient, admin_token: str, action: str) -> list[dict[str, Any]]:
    r = client.get("/api/v1/trading/audit", headers={"Authorization": f"Bearer {admin_token}"},
                   params={"limit": 500})  # fmt: skip
    return [e for e in r.json()["items"] if e["action"] == action]


# --- cancel all ----------------------------------------------------------------------------------


def test_cancel_all_with_a_filter_cancels_only_those(
    client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    a, b = _rest(client, h, "600519.SH"), _rest(client, h, "600519.SH")
    other = _rest(client, h, "000001.SZ")
    r = client.delete(CANCEL_ALL, params={"stock_code": "600519", "side": "buy"}, headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [i["order_id"] for i in items] == [a, b]
    assert all(i["ok"] and i["order"]["status"] == "pending_cancel" for i in items)
    assert all(i["code"] is None for i in items)
    assert order_of(client, h, other)["status"] == "reported"
    assert _audit(client, admin_token, "order.cancel_all")


def test_cancel_all_without_filters_and_again_when_nothing_is_open(
    client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    ids = [_rest(client, h, "600519.SH"), _rest(client, h, "000001.SZ")]
    _kill(client, admin_token, False)  # cancels are always allowed
    first = client.delete(CANCEL_ALL, headers=h).json()["items"]
    assert sorted(i["order_id"] for i in first) == ids
    assert all(i["ok"] for i in first)
    # already on their way: left out (their cancel is in flight), so nothing to do
    assert client.delete(CANCEL_ALL, headers=h).json() == {"items": []}


def test_cancel_all_needs_a_trader(client: TestClient, viewer_token: str) -> None:
    r = client.delete(CANCEL_ALL, headers={"Authorization": f"Bearer {viewer_token}"})
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN"


def test_cancel_all_refuses_a_bad_filter(client: TestClient, h: dict[str, str]) -> None:
    assert client.delete(CANCEL_ALL, params={"side": "hold"}, headers=h).status_code == 422
    r = client.delete(CANCEL_ALL, params={"stock_code": "12"}, headers=h)
    assert r.json()["code"] == "INVALID_STOCK_CODE"


# --- close positions -----------------------------------------------------------------------------


def test_close_one_position_sells_all_sellable_at_the_cage_edge(
    app: FastAPI, client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    q = quote(client, h, "600519.SH")
    r = client.delete(f"{POSITIONS}/600519", headers=h)
    assert r.status_code == 200, r.text
    [item] = r.json()["items"]
    assert item["ok"] is True
    assert item["stock_code"] == "600519.SH"
    order = item["order"]
    assert (order["side"], order["quantity"], order["order_type"]) == ("sell", 1000, "limit")
    bid = Decimal(str(q["bid"][0][0]))
    edge = min(bid * Decimal("0.98"), bid - Decimal("0.10"))
    assert Decimal(order["price"]) >= edge
    assert Decimal(order["price"]) - edge < Decimal("0.01")
    assert Decimal(order["price"]) >= Decimal(str(q["limit_down"]))
    _until_filled(app, client, h, order["order_id"])
    assert _audit(client, admin_token, "position.close")


def test_close_respects_t_plus_1(app: FastAPI, client: TestClient, h: dict[str, str]) -> None:
    body = {"stock_code": "601318.SH", "side": "buy", "quantity": 100,
            "price": marketable(client, h, "601318.SH", "buy")}  # fmt: skip
    assert client.post(ORDERS, json=body, headers=h).status_code == 201
    step(app)
    client.portal.call(app.state.trading.drain)  # type: ignore[union-attr]
    [item] = client.delete(f"{POSITIONS}/601318.SH", headers=h).json()["items"]
    assert item["ok"] is False
    assert item["code"] == "INSUFFICIENT_POSITION"
    assert item["order"] is None


def test_close_all_at_market(client: TestClient, h: dict[str, str]) -> None:
    r = client.delete(POSITIONS, params={"order_type": "market"}, headers=h)
    items = {i["stock_code"]: i for i in r.json()["items"]}
    assert set(items) == {"600519.SH", "000001.SZ"}
    for code, qty in (("600519.SH", 1000), ("000001.SZ", 500)):
        assert items[code]["ok"] is True
        assert items[code]["order"]["order_type"] == "market"
        assert items[code]["order"]["quantity"] == qty


def test_close_is_refused_while_the_kill_switch_is_off(
    client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    _kill(client, admin_token, False)
    r = client.delete(POSITIONS, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "TRADING_DISABLED"


def test_close_refuses_a_bad_order_type(client: TestClient, h: dict[str, str]) -> None:
    r = client.delete(POSITIONS, params={"order_type": "stop"}, headers=h)
    assert r.status_code == 422


# --- replace ------------------------------------------------------------------------------------


def test_replace_cancels_then_places_the_rest_at_the_new_price(
    client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    old = _rest(client, h, "600519.SH", 200)
    price = str(Decimal(order_of(client, h, old)["price"]) + Decimal("1.00"))
    body = {"price": price, "client_order_id": "replace-1"}
    r = client.post(f"/api/v1/trading/orders/{old}/replace", json=body, headers=h)
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["order_id"] != old
    assert (new["quantity"], new["price"], new["client_order_id"]) == (200, price, "replace-1")
    assert order_of(client, h, old)["status"] == "cancelled"
    again = client.post(f"/api/v1/trading/orders/{old}/replace", json=body, headers=h)
    assert again.status_code == 200
    assert again.json()["order_id"] == new["order_id"]
    assert _audit(client, admin_token, "order.replace")


def test_replace_with_a_quantity(client: TestClient, h: dict[str, str]) -> None:
    old = _rest(client, h, "600519.SH", 300)
    r = client.post(f"/api/v1/trading/orders/{old}/replace", json={"quantity": 100}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["quantity"] == 100


def test_replace_of_a_filled_order_is_409_order_filled(
    app: FastAPI, client: TestClient, h: dict[str, str]
) -> None:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
            "price": marketable(client, h, "600519.SH", "buy")}  # fmt: skip
    oid = client.post(ORDERS, json=body, headers=h).json()["order_id"]
    _until_filled(app, client, h, oid)
    r = client.post(f"/api/v1/trading/orders/{oid}/replace", json={"price": "1.00"}, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "ORDER_FILLED"


def test_replace_of_a_cancelled_order_is_409_not_cancellable(
    app: FastAPI, client: TestClient, h: dict[str, str]
) -> None:
    oid = _rest(client, h, "600519.SH")
    client.delete(f"/api/v1/trading/orders/{oid}", headers=h)
    client.portal.call(app.state.trading.drain)  # type: ignore[union-attr]
    r = client.post(f"/api/v1/trading/orders/{oid}/replace", json={}, headers=h)
    assert r.status_code == 409
    assert r.json()["code"] == "ORDER_NOT_CANCELLABLE"


def test_replace_with_a_bad_price_leaves_the_order_working(
    client: TestClient, h: dict[str, str]
) -> None:
    oid = _rest(client, h, "600519.SH")
    r = client.post(f"/api/v1/trading/orders/{oid}/replace", json={"price": "0.001"}, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] in ("INVALID_PRICE", "PRICE_OUT_OF_LIMIT")
    assert order_of(client, h, oid)["status"] == "reported"


def test_replace_is_refused_with_the_kill_switch_off_before_cancelling(
    client: TestClient, h: dict[str, str], admin_token: str
) -> None:
    oid = _rest(client, h, "600519.SH")
    _kill(client, admin_token, False)
    r = client.post(f"/api/v1/trading/orders/{oid}/replace", json={"price": "1.00"}, headers=h)
    assert r.json()["code"] == "TRADING_DISABLED"
    assert order_of(client, h, oid)["status"] == "reported"


def test_replace_of_an_unknown_order_is_404(client: TestClient, h: dict[str, str]) -> None:
    r = client.post("/api/v1/trading/orders/999999/replace", json={}, headers=h)
    assert r.status_code == 404
    assert r.json()["code"] == "ORDER_NOT_FOUND"


def test_bulk_actions_spend_the_order_rate_limit(settings_factory: Any) -> None:
    app = manual_app(settings_factory(rate_limit_orders_per_second=1))
    codes = []
    with TestClient(app) as c:
        form = {"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        token = c.post("/api/v1/auth/token", data=form).json()["access_token"]
        h = {"Authorization": f"Bearer {token}"}
        for _ in range(4):  # a burst of two, then 429 with Retry-After
            r = c.delete(CANCEL_ALL, headers=h)
            codes.append(r.status_code)
            if r.status_code == 429:
                assert r.json()["code"] == "RATE_LIMITED"
                assert float(r.headers["Retry-After"]) > 0
    assert codes[:2] == [200, 200]
    assert 429 in codes[2:]

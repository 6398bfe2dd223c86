"""POST/DELETE /trading/order(s): every outcome of the order path, on the simulator."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, Headers, manual_app, marketable, order_of, passive, step

from backend.app.core.config import Settings


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def _buy(client: TestClient, h: Headers, **over: Any) -> Any:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
            "price": marketable(client, h, "600519.SH", "buy")} | over  # fmt: skip
    return client.post(ORDERS, json=body, headers=h)


def test_place_limit_buy_is_201_pending_then_filled_with_fills(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    r = _buy(client, h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True
    assert body["status"] == "pending"
    assert body["stock_code"] == "600519.SH"
    assert body["stock_name"] == "贵州茅台"
    assert body["client_order_id"]  # generated when none is given
    oid = body["order_id"]
    eventually(lambda: order_of(client, h, oid)["status"] == "reported")
    step(app)
    # "filled" may first come from the fill itself; the broker's own 56 (已成) follows it
    done = eventually(
        lambda: (
            (o := order_of(client, h, oid))["status"] == "filled" and o["broker_status"] == 56 and o
        )
    )
    assert done["filled_quantity"] == 100
    assert sum(f["quantity"] for f in done["fills"]) == 100
    assert done["avg_fill_price"] is not None
    trades = client.get("/api/v1/trading/trades", headers=h).json()["items"]
    assert [t["order_id"] for t in trades] == [oid]


@pytest.mark.parametrize("code", ["600519.SH", "600519.sh", "SH600519", "600519"])
def test_place_order_accepts_every_code_form(client: TestClient, h: Headers, code: str) -> None:
    r = _buy(client, h, stock_code=code)
    assert r.status_code == 201, r.text
    assert r.json()["stock_code"] == "600519.SH"


def test_place_order_legacy_path_and_action_name(client: TestClient, h: Headers) -> None:
    price = marketable(client, h, "000001.SZ", "buy")
    body = {"stock_code": "000001", "action": "buy", "quantity": 100, "price": price}
    r = client.post("/api/v1/trading/place-order", json=body, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["side"] == "buy"


def test_place_order_action_hold_is_422(client: TestClient, h: Headers) -> None:
    body = {"stock_code": "000001", "action": "hold", "quantity": 100, "price": "10.00"}
    r = client.post(ORDERS, json=body, headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "VALIDATION_ERROR"


def test_place_order_as_viewer_is_403(client: TestClient, viewer_token: str, auth: Any) -> None:
    body = {"stock_code": "600519", "side": "buy", "quantity": 100, "price": "1450.00"}
    r = client.post(ORDERS, json=body, headers=auth(viewer_token))
    assert r.status_code == 403
    assert r.json()["code"] == "FORBIDDEN"


def test_place_order_without_token_is_401(client: TestClient) -> None:
    body = {"stock_code": "600519", "side": "buy", "quantity": 100, "price": "1450.00"}
    assert client.post(ORDERS, json=body).status_code == 401


@pytest.mark.parametrize(
    ("over", "status", "code"),
    [
        ({"stock_code": "12345"}, 422, "INVALID_STOCK_CODE"),
        ({"stock_code": "900901.SH"}, 422, "INVALID_STOCK_CODE"),
        ({"stock_code": "000300.SH"}, 422, "INVALID_STOCK_CODE"),
        ({"stock_code": "605999.SH"}, 422, "UNKNOWN_INSTRUMENT"),
        ({"quantity": 150}, 422, "INVALID_QUANTITY"),
        ({"quantity": 0}, 422, "VALIDATION_ERROR"),
        ({"quantity": 2_000_000}, 422, "INVALID_QUANTITY"),
        ({"price": "1450.005"}, 422, "INVALID_PRICE"),
        ({"price": "0"}, 422, "INVALID_PRICE"),
        ({"price": "-1"}, 422, "INVALID_PRICE"),
        ({"price": "9999.00"}, 422, "PRICE_OUT_OF_LIMIT"),
        ({"price": "1.00"}, 422, "PRICE_OUT_OF_LIMIT"),
        ({"price": None}, 422, "INVALID_PRICE"),  # a limit order needs one
        ({"price": "abc"}, 422, "VALIDATION_ERROR"),
        ({"side": "short"}, 422, "VALIDATION_ERROR"),
        ({"quantity": 600_000}, 422, "INSUFFICIENT_FUNDS"),
        ({"side": "sell"}, 422, "INSUFFICIENT_POSITION"),
        ({"order_type": "market", "price": None, "stock_code": "688981.SH", "quantity": 200},
         422, "INVALID_PRICE"),
    ],
)  # fmt: skip
def test_place_order_refusals_never_reach_the_broker(
    app: FastAPI, client: TestClient, h: Headers, over: dict[str, Any], status: int, code: str
) -> None:
    r = _buy(client, h, **over)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code
    assert client.get("/api/v1/trading/orders", headers=h).json()["items"] == []
    assert app.state.qmt.trader.query_stock_orders(app.state.qmt.broker.account) == []


def test_buy_reserves_cash_of_pending_orders(client: TestClient, h: Headers) -> None:
    # 1,000,000 cash: two orders of ~600,000 cannot both pass, even before the broker freezes.
    price = passive(client, h, "600519.SH")
    first = client.post(ORDERS, headers=h, json={
        "stock_code": "600519.SH", "side": "buy", "quantity": 400, "price": price})  # fmt: skip
    assert first.status_code == 201
    second = client.post(ORDERS, headers=h, json={
        "stock_code": "600519.SH", "side": "buy", "quantity": 400, "price": price})  # fmt: skip
    assert second.status_code == 422
    assert second.json()["code"] == "INSUFFICIENT_FUNDS"


def test_sell_shares_bought_today_is_insufficient_position_t_plus_1(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    oid = _buy(client, h).json()["order_id"]
    step(app)
    eventually(lambda: order_of(client, h, oid)["status"] == "filled")
    price = marketable(client, h, "600519.SH", "sell")
    r = client.post(ORDERS, headers=h, json={
        "stock_code": "600519.SH", "side": "sell", "quantity": 100, "price": price})  # fmt: skip
    assert r.status_code == 422
    assert r.json()["code"] == "INSUFFICIENT_POSITION"
    assert r.json()["bought_today"] == 100


def test_same_client_order_id_same_content_is_200_same_order(
    app: FastAPI, client: TestClient, h: Headers
) -> None:
    first = _buy(client, h, client_order_id="k-1", price="1460.00")
    again = _buy(client, h, client_order_id="k-1", price="1460.0")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["order_id"] == first.json()["order_id"]
    assert len(client.get("/api/v1/trading/orders", headers=h).json()["items"]) == 1


def test_same_client_order_id_other_content_is_409(client: TestClient, h: Headers) -> None:
    assert _buy(client, h, client_order_id="k-2").status_code == 201
    r = _buy(client, h, client_order_id="k-2", quantity=200)
    assert r.status_code == 409
    assert r.json()["code"] == "DUPLICATE_CLIENT_ORDER_ID"


def test_idempotency_key_header_is_the_client_order_id(client: TestClient, h: Headers) -> None:
    hk = h | {"Idempotency-Key": "hdr-1"}
    first = _buy(client, hk, price="1460.00")
    again = _buy(client, hk, price="1460.00")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["client_order_id"] == "hdr-1"


def test_repeat_after_funds_are_used_still_returns_the_order(
    client: TestClient, h: Headers
) -> None:
    # The repeat would fail the funds check now; it must still be recognized as a repeat.
    price = passive(client, h, "600519.SH")
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 600, "price": price,
            "client_order_id": "big-1"}  # fmt: skip
    assert client.post(ORDERS, json=body, headers=h).status_code == 201
    again = client.post(ORDERS, json=body, headers=h)
    assert again.status_code == 200, again.text


def test_concurrent_duplicates_place_once(app: FastAPI, client: TestClient, h: Headers) -> None:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": "1460.00",
            "client_order_id": "race-1"}  # fmt: skip
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: client.post(ORDERS, json=body, headers=h), range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * 7 + [201]
    assert len({r.json()["order_id"] for r in results}) == 1
    broker = app.state.qmt.trader.query_stock_orders(app.state.qmt.broker.account)
    assert len(broker) == 1


def test_cancel_resting_order_is_202_then_cancelled(
    client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    oid = _buy(client, h, price=passive(client, h, "600519.SH")).json()["order_id"]
    eventually(lambda: order_of(client, h, oid)["status"] == "reported")
    r = client.delete(f"/api/v1/trading/orders/{oid}", headers=h)
    assert r.status_code == 202
    assert r.json()["status"] == "pending_cancel"
    eventually(lambda: order_of(client, h, oid)["status"] == "cancelled")
    again = client.delete(f"/api/v1/trading/orders/{oid}", headers=h)
    assert again.status_code == 409
    assert again.json()["code"] == "ORDER_NOT_CANCELLABLE"


def test_cancel_unknown_order_is_404(client: TestClient, h: Headers) -> None:
    r = client.delete("/api/v1/trading/orders/999999", headers=h)
    assert r.status_code == 404
    assert r.json()["code"] == "ORDER_NOT_FOUND"


def test_cancel_as_viewer_is_403(client: TestClient, h: Headers, viewer_token: str,
                                 auth: Any) -> None:  # fmt: skip
    oid = _buy(client, h, price=passive(client, h, "600519.SH")).json()["order_id"]
    r = client.delete(f"/api/v1/trading/orders/{oid}", headers=auth(viewer_token))
    assert r.status_code == 403


def test_risk_rule_breach_is_422_with_rule(
    client: TestClient, h: Headers, admin_token: str, auth: Any
) -> None:
    r = client.put("/api/v1/trading/risk-rules", json={"max_order_quantity": 100},
                   headers=auth(admin_token))  # fmt: skip
    assert r.status_code == 200, r.text
    r = _buy(client, h, quantity=200)
    assert r.status_code == 422
    assert r.json()["code"] == "RISK_REJECTED"
    assert r.json()["rule"] == "max_order_quantity"


def test_kill_switch_blocks_orders_but_not_cancels(
    client: TestClient, h: Headers, admin_token: str, auth: Any, eventually: Callable[..., Any]
) -> None:
    oid = _buy(client, h, price=passive(client, h, "600519.SH")).json()["order_id"]
    eventually(lambda: order_of(client, h, oid)["status"] == "reported")
    r = client.put("/api/v1/trading/kill-switch", json={"trading_enabled": False},
                   headers=auth(admin_token))  # fmt: skip
    assert r.status_code == 200
    r = _buy(client, h)
    assert r.status_code == 422
    assert r.json()["code"] == "TRADING_DISABLED"
    assert client.delete(f"/api/v1/trading/orders/{oid}", headers=h).status_code == 202


def test_broker_disconnected_is_503(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    app.state.qmt.trader.simulate_disconnect()
    eventually(lambda: not app.state.qmt.is_connected())
    r = _buy(client, h, price="1460.00")
    assert r.status_code == 503
    assert r.json()["code"] == "BROKER_UNAVAILABLE"
    status = client.get("/api/v1/trading/status", headers=h).json()
    assert status["connected"] is False

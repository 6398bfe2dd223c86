"""Finding 9 of issue 14: what the OpenAPI document says is what the code does.

The fuzz (tests/fuzz/test_schemathesis.py) checks this everywhere; these pin the cases it
reported: lax parsing where the schema says integer/boolean/date-time, `Allow` on a 405, an
undocumented status, constraints enforced but not stated."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.app.api.openapi_edge import MULTI_LINE, ONE_LINE

Auth = Callable[[str], dict[str, str]]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/api/v1/trading/kill-switch", {"trading_enabled": 0}),
        ("put", "/api/v1/trading/kill-switch", {"trading_enabled": "false"}),
        ("patch", "/api/v1/auth/users/admin", {"is_active": 1}),
        ("put", "/api/v1/trading/risk-rules", {"max_daily_orders": "10"}),
        ("put", "/api/v1/trading/risk-rules", {"duplicate_window_seconds": "5"}),
        ("put", "/api/v1/trading/risk-rules", {"max_order_value": "1e5"}),
        ("put", "/api/v1/trading/risk-rules", {"max_order_value": True}),
        ("post", "/api/v1/trading/order",
         {"stock_code": "600000.SH", "side": "buy", "quantity": "100", "price": "10.00"}),
        ("post", "/api/v1/trading/order",
         {"stock_code": "600000.SH", "side": "buy", "quantity": 100, "price": "10", "x": 1}),
    ],
)  # fmt: skip
def test_lax_values_the_schema_does_not_allow_are_refused(
    client: TestClient, admin_token: str, auth: Auth, method: str, path: str, body: Any
) -> None:
    r = getattr(client, method)(path, json=body, headers=auth(admin_token))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "VALIDATION_ERROR"


def test_the_kill_switch_still_takes_a_real_boolean(
    client: TestClient, admin_token: str, auth: Auth
) -> None:
    r = client.put(
        "/api/v1/trading/kill-switch", json={"trading_enabled": False}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    assert r.json()["trading_enabled"] is False


@pytest.mark.parametrize("since", ["0.5", "0", "1700000000", "2026-12-01"])
def test_since_must_be_an_iso_date_time(client: TestClient, h: dict[str, str], since: str) -> None:
    for path in ("/api/v1/trading/orders", "/api/v1/trading/trades"):
        r = client.get(path, params={"since": since}, headers=h)
        assert r.status_code == 422, (path, since, r.text)


def test_since_takes_an_iso_date_time(client: TestClient, h: dict[str, str]) -> None:
    r = client.get(
        "/api/v1/trading/orders", params={"since": "2026-12-01T09:30:00+08:00"}, headers=h
    )
    assert r.status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("delete", "/api/v1/trading/kill-switch", "GET, PUT"),
        ("post", "/api/v1/trading/risk-rules", "GET, PUT"),
        ("put", "/api/v1/auth/users", "GET, POST"),
        ("put", "/api/v1/trading/orders/1", "DELETE, GET"),
        ("options", "/api/v1/strategies/runs/1", "DELETE, GET"),
    ],
)
def test_405_lists_every_method_of_the_path(
    client: TestClient, admin_token: str, auth: Auth, method: str, path: str, allow: str
) -> None:
    r = client.request(method.upper(), path, headers=auth(admin_token))
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.json()["code"] == "METHOD_NOT_ALLOWED"


def test_the_legacy_place_order_documents_its_200(client: TestClient) -> None:
    op = client.get("/openapi.json").json()["paths"]["/api/v1/trading/place-order"]["post"]
    assert {"200", "201"} <= set(op["responses"])


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return doc["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def test_the_schema_states_the_enforced_constraints(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    order = _resolve(doc, {"$ref": "#/components/schemas/OrderCreate"})
    props = order["properties"]
    assert order["additionalProperties"] is False
    assert props["remark"]["pattern"] == MULTI_LINE  # no NUL or control characters
    assert re.match(props["stock_code"]["pattern"], "600519.SH")
    assert props["quantity"]["type"] == "integer"
    assert props["quantity"]["exclusiveMinimum"] == 0
    price = next(s for s in props["price"]["anyOf"] if s.get("type") == "string")
    assert not re.match(price["pattern"], "1e5")
    orders = doc["paths"]["/api/v1/trading/orders"]["get"]["parameters"]
    cursor = next(p for p in orders if p["name"] == "cursor")["schema"]
    cursor = next(s for s in cursor.get("anyOf", [cursor]) if s.get("type") == "string")
    assert not re.match(cursor["pattern"], "9223372036854775808")
    user = next(
        p for p in doc["paths"]["/api/v1/auth/users/{username}"]["patch"]["parameters"]
        if p["name"] == "username"
    )  # fmt: skip
    assert user["schema"]["pattern"] == ONE_LINE

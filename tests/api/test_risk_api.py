"""/trading/risk-rules, /trading/kill-switch and /trading/audit: roles, persistence, audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app

Auth = Callable[[str], dict[str, str]]
RULES = "/api/v1/trading/risk-rules"
KILL = "/api/v1/trading/kill-switch"
AUDIT = "/api/v1/trading/audit"


def test_rules_default_all_off_and_readable_by_viewer(
    client: TestClient, viewer_token: str, auth: Auth
) -> None:
    r = client.get(RULES, headers=auth(viewer_token))
    assert r.status_code == 200
    body = r.json()
    assert body["blocked_codes"] == []
    assert body["allowed_codes"] == []
    assert all(v is None for k, v in body.items() if not k.endswith("_codes"))


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), ("trader", 403), ("admin", 200)])
def test_rules_put_needs_admin(
    client: TestClient,
    make_user: Callable[..., str],
    admin_token: str,
    auth: Auth,
    who: str,
    status: int,
) -> None:
    token = admin_token if who == "admin" else make_user(f"u_{who}", who)
    r = client.put(RULES, json={"max_order_quantity": 1000}, headers=auth(token))
    assert r.status_code == status, r.text
    if status == 403:
        assert r.json()["code"] == "FORBIDDEN"


def test_rules_put_is_partial_and_zero_or_null_turns_off(
    client: TestClient, admin_token: str, auth: Auth
) -> None:
    h = auth(admin_token)
    client.put(RULES, json={"max_order_value": 50000, "blocked_codes": ["sh600519"]}, headers=h)
    r = client.put(RULES, json={"max_daily_orders": 10}, headers=h)
    body = r.json()
    assert body["max_order_value"] == "50000"
    assert body["blocked_codes"] == ["600519.SH"]
    assert body["max_daily_orders"] == 10
    body = client.put(
        RULES,
        json={"max_order_value": None, "max_daily_orders": 0, "blocked_codes": None},
        headers=h,
    ).json()
    assert body["max_order_value"] is None
    assert body["max_daily_orders"] == 0
    assert body["blocked_codes"] == []


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"max_order_value": -1}, "VALIDATION_ERROR"),
        ({"blocked_codes": ["not-a-code"]}, "INVALID_STOCK_CODE"),  # as an order's code
        ({"blocked_codes": ["900901.SH"]}, "INVALID_STOCK_CODE"),  # well formed, no such range
        ({"max_price_deviation_pct": "abc"}, "VALIDATION_ERROR"),
        ({"max_order_quantity": "100"}, "VALIDATION_ERROR"),  # the schema says integer
        ({"no_such_rule": 1}, "VALIDATION_ERROR"),
    ],
)
def test_rules_put_rejects_bad_values(
    client: TestClient, admin_token: str, auth: Auth, payload: dict[str, Any], code: str
) -> None:
    r = client.put(RULES, json=payload, headers=auth(admin_token))
    assert r.status_code == 422
    assert r.json()["code"] == code
    assert r.headers["content-type"].startswith("application/problem+json")


def test_kill_switch_roles_and_status(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    assert client.get(KILL, headers=auth(trader_token)).json()["trading_enabled"] is True
    r = client.put(KILL, json={"trading_enabled": False}, headers=auth(trader_token))
    assert r.status_code == 403
    r = client.put(
        KILL, json={"trading_enabled": False, "reason": "收盘前演练"}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    assert r.json()["trading_enabled"] is False
    assert r.json()["reason"] == "收盘前演练"
    assert r.json()["updated_by"] == "admin"
    assert client.get(KILL, headers=auth(trader_token)).json()["trading_enabled"] is False


def test_kill_switch_and_rules_survive_a_restart(settings: Settings, auth: Auth) -> None:
    from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME

    def token(c: TestClient) -> str:
        r = c.post(
            "/api/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        return str(r.json()["access_token"])

    with TestClient(create_app(settings)) as c:
        h = auth(token(c))
        c.put(KILL, json={"trading_enabled": False, "reason": "halt"}, headers=h)
        c.put(RULES, json={"max_order_quantity": 300}, headers=h)

    with TestClient(create_app(settings)) as c:
        h = auth(token(c))
        kill = c.get(KILL, headers=h).json()
        assert (kill["trading_enabled"], kill["reason"]) == (False, "halt")
        assert c.get(RULES, headers=h).json()["max_order_quantity"] == 300
        assert c.app.state.risk.trading_enabled is False  # type: ignore[attr-defined]


def test_audit_records_rule_kill_switch_and_user_changes(
    client: TestClient, admin_token: str, make_user: Callable[..., str], auth: Auth
) -> None:
    h = auth(admin_token)
    make_user("carol", "trader")
    client.put(RULES, json={"max_order_value": 1}, headers={**h, "X-Request-ID": "req-rules-1"})
    client.put(KILL, json={"trading_enabled": False}, headers={**h, "X-Request-ID": "req-kill"})

    items = client.get(AUDIT, headers=h).json()["items"]
    by_action = {e["action"]: e for e in items}
    rules = by_action["risk.update"]
    assert rules["username"] == "admin"
    assert rules["request_id"] == "req-rules-1"
    assert rules["client_ip"] == "testclient"
    assert rules["outcome"] == "ok"
    assert rules["detail"]["changed"]["max_order_value"] == {"old": None, "new": "1"}
    assert by_action["kill_switch.update"]["request_id"] == "req-kill"
    assert any(e["action"].startswith("user.") and e["target"] == "carol" for e in items)
    assert all("password" not in str(e["detail"]).lower() for e in items)


def test_audit_is_admin_only_and_pages_with_a_cursor(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    assert client.get(AUDIT, headers=auth(trader_token)).status_code == 403
    h = auth(admin_token)
    for n in range(1, 6):
        client.put(RULES, json={"max_daily_orders": n}, headers=h)
    first = client.get(AUDIT, params={"limit": 2, "action": "risk"}, headers=h).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"]
    seen = [e["id"] for e in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(
            AUDIT, params={"limit": 2, "action": "risk", "cursor": cursor}, headers=h
        ).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)
    bad = client.get(AUDIT, params={"cursor": "garbage"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["code"] == "VALIDATION_ERROR"

"""Several server processes on one database: a kill-switch or rule change made through one
reaches the others within RISK_STATE_REFRESH_SECONDS (polling), or at once through Redis.

Each app stands for one server process: its own account and simulator, the same database
(the shared SQLite file, or PostgreSQL), as DESIGN.md "Growing past one machine" describes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from backend.app.core.config import Settings
from backend.app.db.tables import Base
from backend.app.main import create_app
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, USER_PASSWORD, redis_up

ORDER = "/api/v1/trading/order"
RULES = "/api/v1/trading/risk-rules"
KILL = "/api/v1/trading/kill-switch"
REDIS_URL = "redis://127.0.0.1:6379/0"
Headers = dict[str, str]


def _token(c: TestClient, username: str, password: str) -> Headers:
    r = c.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextmanager
def two_servers(
    settings_factory: Callable[..., Settings], tmp_path: Path, **common: Any
) -> Iterator[tuple[TestClient, TestClient, Headers, Headers]]:
    """Apps A and B on one database; yields (a, b, A's admin headers, B's trader headers)."""
    s_a = settings_factory(data_dir=tmp_path / "data-a", **common)
    s_b = settings_factory(data_dir=tmp_path / "data-b", miniqmt_account_id="SIM000002", **common)
    assert s_a.database_url == s_b.database_url
    with TestClient(create_app(s_a)) as a, TestClient(create_app(s_b)) as b:
        admin = _token(a, ADMIN_USERNAME, ADMIN_PASSWORD)
        trader = f"trader_{uuid.uuid4().hex[:8]}"
        r = a.post(
            "/api/v1/auth/users",
            headers=admin,
            json={"username": trader, "password": USER_PASSWORD, "role": "trader"},
        )
        assert r.status_code == 201, r.text
        # The kill switch may be off from an earlier test on a shared PostgreSQL schema.
        assert a.put(KILL, json={"trading_enabled": True}, headers=admin).status_code == 200
        yield a, b, admin, _token(b, trader, USER_PASSWORD)


def order_in(b: TestClient, h: Headers, code: str = "600000.SH") -> Any:
    """A buy at the day's limit-down price: it rests at the broker, never fills."""
    q = b.get(f"/api/v1/market/quote/{code}", headers=h).json()
    body = {
        "stock_code": code,
        "side": "buy",
        "quantity": 100,
        "price": q["limit_down"],
        "order_type": "limit",
    }
    return b.post(ORDER, json=body, headers=h)


def refused(b: TestClient, h: Headers, code: str, **problem: Any) -> Callable[[], bool]:
    def pred() -> bool:
        r = order_in(b, h)
        if r.status_code == 201:
            return False
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == code, body
        return all(body.get(k) == v for k, v in problem.items())

    return pred


def kill_switch_reaches_b(
    a: TestClient, b: TestClient, admin: Headers, trader: Headers, eventually: Any, timeout: float
) -> None:
    assert order_in(b, trader).status_code == 201  # B trades before the change
    r = a.put(KILL, json={"trading_enabled": False, "reason": "halt from A"}, headers=admin)
    assert r.status_code == 200, r.text
    eventually(refused(b, trader, "TRADING_DISABLED"), timeout, 0.05)
    ks = b.get(KILL, headers=trader).json()
    assert ks["trading_enabled"] is False
    assert ks["reason"] == "halt from A"
    assert b.get("/api/v1/trading/status", headers=trader).json()["trading_enabled"] is False
    # Cancels still work in B while trading is off.
    working = b.get("/api/v1/trading/orders?status=open", headers=trader).json()["items"]
    cancel = b.delete(f"/api/v1/trading/orders/{working[0]['order_id']}", headers=trader)
    assert cancel.status_code == 202, cancel.text

    assert a.put(KILL, json={"trading_enabled": True}, headers=admin).status_code == 200
    eventually(lambda: order_in(b, trader).status_code == 201, timeout, 0.05)


def rule_reaches_b(
    a: TestClient, b: TestClient, admin: Headers, trader: Headers, eventually: Any, timeout: float
) -> None:
    assert order_in(b, trader).status_code == 201
    r = a.put(RULES, json={"blocked_codes": ["600000.SH"]}, headers=admin)
    assert r.status_code == 200, r.text
    eventually(refused(b, trader, "RISK_REJECTED", rule="blocked_codes"), timeout, 0.05)
    assert b.get(RULES, headers=trader).json()["blocked_codes"] == ["600000.SH"]

    assert a.put(RULES, json={"blocked_codes": []}, headers=admin).status_code == 200
    eventually(lambda: order_in(b, trader).status_code == 201, timeout, 0.05)


INTERVAL = 0.25  # RISK_STATE_REFRESH_SECONDS in the polling tests
WITHIN = 3.0  # generous for a loaded CI machine; it takes about INTERVAL


def test_kill_switch_off_in_one_process_stops_orders_in_another(
    settings_factory: Callable[..., Settings], tmp_path: Path, eventually: Any
) -> None:
    with two_servers(settings_factory, tmp_path, risk_state_refresh_seconds=INTERVAL) as servers:
        kill_switch_reaches_b(*servers, eventually, WITHIN)


def test_rule_change_in_one_process_applies_in_another(
    settings_factory: Callable[..., Settings], tmp_path: Path, eventually: Any
) -> None:
    with two_servers(settings_factory, tmp_path, risk_state_refresh_seconds=INTERVAL) as servers:
        rule_reaches_b(*servers, eventually, WITHIN)


def test_partial_updates_from_two_processes_both_stick(
    settings_factory: Callable[..., Settings], tmp_path: Path, eventually: Any
) -> None:
    """B's partial update merges into what A stored, even before B has refreshed."""
    # A refresh interval far beyond the test: B's memory is stale when it writes.
    with two_servers(settings_factory, tmp_path, risk_state_refresh_seconds=600) as (a, b, h, _):
        assert a.put(RULES, json={"max_order_quantity": 500}, headers=h).status_code == 200
        hb = _token(b, ADMIN_USERNAME, ADMIN_PASSWORD)
        body = b.put(RULES, json={"max_daily_orders": 7}, headers=hb).json()
        assert (body["max_order_quantity"], body["max_daily_orders"]) == (500, 7)
        versions = [app.app.state.risk.versions.get("risk_rules") for app in (a, b)]  # type: ignore[attr-defined]
        assert versions == [1, 2]


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(), reason="no Redis server at 127.0.0.1:6379")
def test_redis_notification_reaches_other_processes_at_once(
    settings_factory: Callable[..., Settings], tmp_path: Path, eventually: Any
) -> None:
    # Polling every 10 minutes: only the Redis notification can deliver within the test.
    common = {"redis_url": REDIS_URL, "risk_state_refresh_seconds": 600}
    with two_servers(settings_factory, tmp_path, **common) as servers:
        b = servers[1]
        eventually(lambda: b.app.state.risk_sync.listening, 5.0)  # type: ignore[attr-defined]
        kill_switch_reaches_b(*servers, eventually, WITHIN)
        rule_reaches_b(*servers, eventually, WITHIN)


@pytest.fixture
def pg_settings(
    settings_factory: Callable[..., Settings], pg_url: str
) -> Iterator[Callable[..., Settings]]:
    """settings_factory on the shared PostgreSQL test schema, emptied afterwards."""
    yield lambda **kw: settings_factory(database_url=pg_url, **kw)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as c:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_kill_switch_and_rules_reach_another_process_on_postgres(
    pg_settings: Callable[..., Settings], tmp_path: Path, eventually: Any
) -> None:
    with two_servers(pg_settings, tmp_path, risk_state_refresh_seconds=INTERVAL) as servers:
        kill_switch_reaches_b(*servers, eventually, WITHIN)
        rule_reaches_b(*servers, eventually, WITHIN)

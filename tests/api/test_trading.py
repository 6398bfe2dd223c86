"""The read side of /trading: status, orders list and filters, trades, positions, account."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, Headers, manual_app, marketable, order_of, passive, step

from backend.app.core.config import Settings
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME
from xtquant_adapter.ashare.calendar import SHANGHAI


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sim_initial_positions={"000001.SZ": 5000})


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def _place(client: TestClient, h: Headers, code: str, side: str, price: str, qty: int = 100) -> int:
    body = {"stock_code": code, "side": side, "quantity": qty, "price": price}
    r = client.post(ORDERS, json=body, headers=h)
    assert r.status_code == 201, r.text
    return int(r.json()["order_id"])


def test_status_reports_mode_connection_and_session(client: TestClient, h: Headers) -> None:
    s = client.get("/api/v1/trading/status", headers=h).json()
    assert s["mode"] == "simulated"
    assert s["connected"] is True
    assert s["trading_enabled"] is True
    assert s["account_id"] == "SIM000001"
    assert s["session"] == "continuous"
    assert s["server_time"].startswith("2026-11-25T10:00")


def test_status_says_when_the_simulator_ignores_the_exchange_clock(
    client: TestClient, h: Headers
) -> None:
    # SIM_ENFORCE_TRADING_HOURS=false (the default): "continuous" at any hour, and it says so.
    s = client.get("/api/v1/trading/status", headers=h).json()
    assert s["sessions_enforced"] is False
    assert "SIM_ENFORCE_TRADING_HOURS" in s["sessions_note"]


def test_status_with_sessions_enforced_reports_the_real_session(
    settings_factory: Callable[..., Settings], tmp_path: Path
) -> None:
    # 21:27, the audit's example: with sessions enforced the market is closed and says so.
    evening = datetime(2026, 11, 25, 21, 27, tzinfo=SHANGHAI)
    enforced = settings_factory(sim_enforce_trading_hours=True, data_dir=tmp_path / "evening")
    with TestClient(manual_app(enforced, when=evening)) as c:
        token = c.post(
            "/api/v1/auth/token",
            data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
        ).json()["access_token"]
        s = c.get("/api/v1/trading/status", headers={"Authorization": f"Bearer {token}"}).json()
    assert s["sessions_enforced"] is True
    assert s["session"] == "closed"
    assert s["sessions_note"]


def test_status_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/trading/status").status_code == 401


def test_initial_positions_are_sellable_and_selling_fills(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    pos = client.get("/api/v1/trading/positions", headers=h).json()["items"]
    assert [(p["stock_code"], p["volume"], p["can_use_volume"]) for p in pos] == [
        ("000001.SZ", 5000, 5000)
    ]
    oid = _place(client, h, "000001.SZ", "sell", marketable(client, h, "000001.SZ", "sell"), 1000)
    step(app)
    eventually(lambda: order_of(client, h, oid)["status"] == "filled")
    pos = client.get("/api/v1/trading/positions", headers=h).json()["items"]
    assert pos[0]["volume"] == 4000


def test_account_info_adds_up(client: TestClient, h: Headers) -> None:
    a = client.get("/api/v1/trading/account-info", headers=h).json()
    assert a["account_id"] == "SIM000001"
    assert a["positions_count"] == 1
    assert float(a["available_cash"]) == 1_000_000
    assert float(a["total_value"]) == pytest.approx(
        float(a["available_cash"]) + float(a["frozen_cash"]) + float(a["market_value"])
    )


def test_orders_filters_and_keyset_paging(
    client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    buy_price = passive(client, h, "600519.SH")
    ids = [_place(client, h, "600519.SH", "buy", buy_price) for _ in range(3)]
    sell_id = _place(client, h, "000001.SZ", "sell", marketable(client, h, "000001.SZ", "sell"))
    page = client.get("/api/v1/trading/orders?limit=2", headers=h).json()
    assert [o["order_id"] for o in page["items"]] == [sell_id, ids[2]]
    rest = client.get(f"/api/v1/trading/orders?limit=2&cursor={page['next_cursor']}", headers=h)
    assert [o["order_id"] for o in rest.json()["items"]] == [ids[1], ids[0]]
    assert rest.json()["next_cursor"] is None
    sells = client.get("/api/v1/trading/orders?side=sell", headers=h).json()["items"]
    assert [o["order_id"] for o in sells] == [sell_id]
    by_code = client.get("/api/v1/trading/orders?stock_code=600519", headers=h).json()["items"]
    assert len(by_code) == 3
    eventually(lambda: order_of(client, h, ids[0])["status"] == "reported")
    client.delete(f"/api/v1/trading/orders/{ids[0]}", headers=h)
    eventually(lambda: order_of(client, h, ids[0])["status"] == "cancelled")
    open_ids = [
        o["order_id"]
        for o in client.get("/api/v1/trading/orders?status=open", headers=h).json()["items"]
    ]
    assert ids[0] not in open_ids
    assert ids[1] in open_ids
    cancelled = client.get("/api/v1/trading/orders?status=cancelled", headers=h).json()["items"]
    assert [o["order_id"] for o in cancelled] == [ids[0]]


@pytest.mark.parametrize(
    "query", ["status=bogus", "limit=0", "limit=501", "cursor=abc", "side=hold", "since=yesterday"]
)
def test_orders_bad_query_is_422(client: TestClient, h: Headers, query: str) -> None:
    r = client.get(f"/api/v1/trading/orders?{query}", headers=h)
    assert r.status_code == 422
    assert r.json()["code"] == "VALIDATION_ERROR"


def test_order_not_found_is_404(client: TestClient, h: Headers) -> None:
    r = client.get("/api/v1/trading/orders/424242", headers=h)
    assert r.status_code == 404
    assert r.json()["code"] == "ORDER_NOT_FOUND"


def test_viewer_reads_everything(
    client: TestClient, viewer_token: str, auth: Callable[[str], Headers]
) -> None:
    v = auth(viewer_token)
    for path in ("status", "orders", "trades", "positions", "account-info"):
        assert client.get(f"/api/v1/trading/{path}", headers=v).status_code == 200, path


def test_trades_list_filters_by_order(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    oid = _place(client, h, "600519.SH", "buy", marketable(client, h, "600519.SH", "buy"))
    step(app)
    eventually(lambda: order_of(client, h, oid)["status"] == "filled")
    trades = client.get(f"/api/v1/trading/trades?order_id={oid}", headers=h).json()["items"]
    assert sum(t["quantity"] for t in trades) == 100
    assert all(t["side"] == "buy" and t["stock_code"] == "600519.SH" for t in trades)
    none = client.get("/api/v1/trading/trades?stock_code=000001.SZ", headers=h).json()["items"]
    assert none == []

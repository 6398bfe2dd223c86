"""Risk rules, kill switch and rate limits on the real order path (simulator): a refusal
never reaches the broker; concurrent orders cannot slip past a cap together."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app
from backend.app.services.risk.rate_limit import MemoryBuckets, RateLimiter
from tests.conftest import ADMIN_PASSWORD, ADMIN_USERNAME, USER_PASSWORD, redis_up

Auth = Callable[[str], dict[str, str]]
ORDER = "/api/v1/trading/order"
RULES = "/api/v1/trading/risk-rules"
KILL = "/api/v1/trading/kill-switch"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(sim_initial_positions="600519.SH:1000,000001.SZ:5000")


def broker_orders(app: FastAPI) -> int:
    qmt = app.state.qmt
    return len(qmt.broker.trader.query_stock_orders(qmt.broker.account))


def last_price(c: TestClient, h: dict[str, str], code: str = "600000.SH") -> Decimal:
    return Decimal(c.get(f"/api/v1/market/quote/{code}", headers=h).json()["last_price"])


def buy(code: str = "600000.SH", qty: int = 100, price: Decimal | str = "11.80", **kw: Any) -> Any:
    return {
        "stock_code": code,
        "side": "buy",
        "quantity": qty,
        "price": str(price),
        "order_type": "limit",
        **kw,
    }


@pytest.mark.parametrize(
    ("rules", "order", "rule"),
    [
        ({"max_order_quantity": 100}, {"quantity": 200}, "max_order_quantity"),
        ({"max_order_value": 1000}, {}, "max_order_value"),
        ({"blocked_codes": ["600000"]}, {}, "blocked_codes"),
        ({"allowed_codes": ["000001.SZ"]}, {}, "allowed_codes"),
        ({"max_daily_orders": 0.5}, {}, None),  # not an int: 422 VALIDATION_ERROR on PUT
    ],
)
def test_breach_is_422_with_rule_and_nothing_reaches_the_broker(
    client: TestClient,
    admin_token: str,
    trader_token: str,
    auth: Auth,
    rules: dict[str, Any],
    order: dict[str, Any],
    rule: str | None,
) -> None:
    put = client.put(RULES, json=rules, headers=auth(admin_token))
    if rule is None:
        assert put.status_code == 422
        return
    assert put.status_code == 200
    price = last_price(client, auth(trader_token))
    r = client.post(ORDER, json={**buy(price=price), **order}, headers=auth(trader_token))
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["code"], body["rule"]) == ("RISK_REJECTED", rule)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/trading/orders", headers=auth(trader_token)).json()["items"] == []
    assert broker_orders(client.app) == 0  # type: ignore[arg-type]


def test_price_deviation_and_duplicate_guard_on_the_order_path(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    h = auth(trader_token)
    client.put(
        RULES,
        json={
            "max_price_deviation_pct": 2,
            "duplicate_window_seconds": 60,
            "max_duplicate_orders": 1,
        },
        headers=auth(admin_token),
    )
    last = last_price(client, h)
    far = (last * Decimal("0.95")).quantize(Decimal("0.01"))
    r = client.post(ORDER, json=buy(price=far), headers=h)
    assert r.json()["rule"] == "max_price_deviation_pct"
    assert client.post(ORDER, json=buy(price=last), headers=h).status_code == 201
    again = client.post(ORDER, json=buy(price=last), headers=h)
    assert again.status_code == 422
    assert again.json()["rule"] == "max_duplicate_orders"
    assert broker_orders(client.app) == 1  # type: ignore[arg-type]


def test_value_caps_do_not_block_sells(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    h = auth(trader_token)
    client.put(
        RULES,
        json={"max_order_value": 1, "max_position_value_per_stock": 1, "max_daily_turnover": 1},
        headers=auth(admin_token),
    )
    price = last_price(client, h, "600519.SH")
    sell = {**buy("600519.SH", price=price), "side": "sell"}
    assert client.post(ORDER, json=sell, headers=h).status_code == 201
    assert client.post(ORDER, json=buy(), headers=h).json()["rule"] == "max_order_value"


def test_kill_switch_blocks_orders_but_not_cancels(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    h = auth(trader_token)
    quote = client.get("/api/v1/market/quote/600000.SH", headers=h).json()
    resting = client.post(ORDER, json=buy(price=quote["limit_down"]), headers=h)
    assert resting.status_code == 201
    order_id = resting.json()["order_id"]

    r = client.put(
        KILL, json={"trading_enabled": False, "reason": "drill"}, headers=auth(admin_token)
    )
    assert r.status_code == 200
    status = client.get("/api/v1/trading/status", headers=h).json()
    assert status["trading_enabled"] is False
    refused = client.post(ORDER, json=buy(price=quote["last_price"]), headers=h)
    assert refused.status_code == 422
    assert refused.json()["code"] == "TRADING_DISABLED"
    assert broker_orders(client.app) == 1  # type: ignore[arg-type]

    cancel = client.delete(f"/api/v1/trading/orders/{order_id}", headers=h)
    assert cancel.status_code == 202, cancel.text

    client.put(KILL, json={"trading_enabled": True}, headers=auth(admin_token))
    assert client.post(ORDER, json=buy(price=quote["last_price"]), headers=h).status_code == 201


def test_orders_and_cancels_are_audited_with_user_ip_and_request_id(
    client: TestClient, admin_token: str, trader_token: str, auth: Auth
) -> None:
    h = auth(trader_token)
    quote = client.get("/api/v1/market/quote/600000.SH", headers=h).json()
    placed = client.post(
        ORDER, json=buy(price=quote["limit_down"]), headers={**h, "X-Request-ID": "place-1"}
    )
    order_id = placed.json()["order_id"]
    client.delete(f"/api/v1/trading/orders/{order_id}", headers={**h, "X-Request-ID": "cancel-1"})
    client.put(RULES, json={"max_order_quantity": 100}, headers=auth(admin_token))
    client.post(ORDER, json=buy(qty=1000), headers={**h, "X-Request-ID": "place-2"})

    items = client.get(
        "/api/v1/trading/audit", params={"action": "order"}, headers=auth(admin_token)
    ).json()["items"]
    by_rid = {e["request_id"]: e for e in items}
    assert by_rid["place-1"]["action"] == "order.place"
    assert by_rid["place-1"]["outcome"] == "ok"
    assert by_rid["place-1"]["username"] == "trader"
    assert by_rid["place-1"]["client_ip"] == "testclient"
    assert by_rid["cancel-1"]["action"] == "order.cancel"
    assert by_rid["cancel-1"]["target"] == f"order:{order_id}"
    assert by_rid["place-2"]["outcome"] == "rejected"
    assert by_rid["place-2"]["detail"]["rule"] == "max_order_quantity"


def test_concurrent_orders_cannot_slip_past_the_daily_cap(settings: Settings) -> None:
    """N concurrent orders against max_daily_orders=K: exactly K accepted (the freqtrade race)."""
    n, k = 24, 5
    app = create_app(settings)

    async def scenario() -> tuple[list[int], int]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post(
                    "/api/v1/auth/token",
                    data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
                )
                h = {"Authorization": f"Bearer {r.json()['access_token']}"}
                await c.put(RULES, json={"max_daily_orders": k}, headers=h)
                q = (await c.get("/api/v1/market/quote/600000.SH", headers=h)).json()
                results = await asyncio.gather(
                    *(
                        c.post(
                            ORDER,
                            json=buy(price=q["limit_down"], client_order_id=f"race-{i}"),
                            headers=h,
                        )
                        for i in range(n)
                    )
                )
                rules = {r.json().get("rule") for r in results if r.status_code == 422}
                assert rules <= {"max_daily_orders"}
                return [r.status_code for r in results], broker_orders(app)

    codes, at_broker = asyncio.run(scenario())
    assert codes.count(201) == k
    assert codes.count(422) == n - k
    assert at_broker == k


@pytest.mark.parametrize(
    ("rules", "order_type"),
    [({"max_price_deviation_pct": 50}, "limit"), ({}, "market")],
    ids=["price-deviation-rule", "market-order"],
)
def test_concurrent_buys_never_commit_the_same_cash_twice(
    settings_factory: Callable[..., Settings], rules: dict[str, Any], order_type: str
) -> None:
    """Both setups make the risk check read a fresh tick (a thread hop): the funds check,
    the risk check and the reservation still form one section with no await inside, so of
    N concurrent buys of ~30% of the cash each, no more are accepted than the cash holds."""
    n, cash = 12, Decimal(500_000)
    app = create_app(settings_factory(sim_initial_cash=cash))

    async def scenario() -> tuple[list[httpx.Response], Decimal]:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                r = await c.post(
                    "/api/v1/auth/token",
                    data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD},
                )
                h = {"Authorization": f"Bearer {r.json()['access_token']}"}
                await c.put(RULES, json=rules, headers=h)
                q = (await c.get("/api/v1/market/quote/600519.SH", headers=h)).json()
                # A limit buy freezes its price, a market buy the limit-up price.
                order = buy("600519.SH", qty=100, price=q["limit_down"])
                freeze = Decimal(q["limit_down"])
                if order_type == "market":
                    order = {**order, "order_type": "market", "price": None}
                    freeze = Decimal(q["limit_up"])
                results = await asyncio.gather(
                    *(c.post(ORDER, json=order, headers=h) for _ in range(n))
                )
                return list(results), freeze * 100

    results, each = asyncio.run(scenario())
    accepted = [r for r in results if r.status_code == 201]
    refused = [r.json()["code"] for r in results if r.status_code != 201]
    assert 1 <= len(accepted) <= int(cash / each) < n
    assert set(refused) == {"INSUFFICIENT_FUNDS"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_order_flood_gets_429_with_headers_and_nothing_more_reaches_the_broker(
    client: TestClient, trader_token: str, auth: Auth
) -> None:
    clock = FakeClock()
    client.app.state.rate_limiter = RateLimiter(  # type: ignore[attr-defined]
        orders_per_second=2, logins_per_minute=0, buckets=MemoryBuckets(clock)
    )
    h = auth(trader_token)
    price = client.get("/api/v1/market/quote/600000.SH", headers=h).json()["limit_down"]
    codes, limited = [], None
    for _ in range(10):
        r = client.post(ORDER, json=buy(price=price), headers=h)
        codes.append(r.status_code)
        if r.status_code == 429:
            limited = r
        else:
            assert r.headers["x-ratelimit-limit"] == "4"
    assert codes == [201] * 4 + [429] * 6
    assert limited is not None
    assert limited.json()["code"] == "RATE_LIMITED"
    assert limited.headers["retry-after"] == "1"
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert "x-ratelimit-reset" in limited.headers
    assert broker_orders(client.app) == 4  # type: ignore[arg-type]

    # Cancels share the bucket; half a second later one token is back.
    first = client.get("/api/v1/trading/orders", headers=h).json()["items"][0]["order_id"]
    assert client.delete(f"/api/v1/trading/orders/{first}", headers=h).status_code == 429
    clock.now += 0.5
    assert client.delete(f"/api/v1/trading/orders/{first}", headers=h).status_code == 202


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(), reason="no Redis server at 127.0.0.1:6379")
def test_two_servers_share_one_limit_through_redis(
    settings_factory: Callable[..., Settings], tmp_path: Any
) -> None:
    """Two apps (two server processes) on one Redis: the flood is limited once, not twice."""
    name = f"t{uuid.uuid4().hex[:12]}"
    s1 = settings_factory(redis_url="redis://127.0.0.1:6379/0", rate_limit_orders_per_second=0.01)
    s2 = settings_factory(
        redis_url="redis://127.0.0.1:6379/0",
        rate_limit_orders_per_second=0.01,
        database_url=f"sqlite:///{(tmp_path / 'second.db').as_posix()}",
        data_dir=tmp_path / "second-data",  # its own simulator books (one process per books)
    )
    with TestClient(create_app(s1)) as a, TestClient(create_app(s2)) as b:
        tokens = []
        for c in (a, b):
            admin = c.post(
                "/api/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
            )
            h = {"Authorization": f"Bearer {admin.json()['access_token']}"}
            c.post(
                "/api/v1/auth/users",
                headers=h,
                json={"username": name, "password": USER_PASSWORD, "role": "trader"},
            )
            r = c.post("/api/v1/auth/token", data={"username": name, "password": USER_PASSWORD})
            tokens.append({"Authorization": f"Bearer {r.json()['access_token']}"})
        price = a.get("/api/v1/market/quote/600000.SH", headers=tokens[0]).json()["limit_down"]
        codes = [
            c.post(ORDER, json=buy(price=price), headers=tok).status_code
            for c, tok in ((a, tokens[0]), (b, tokens[1]), (a, tokens[0]), (b, tokens[1]))
        ]
        assert codes == [201, 429, 429, 429]  # burst = 1 shared by both servers
        assert broker_orders(a.app) + broker_orders(b.app) == 1  # type: ignore[arg-type]

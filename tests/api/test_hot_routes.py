"""api/hot_routes.py: the order routes' fast path answers exactly as the FastAPI routes do.

Every request below is sent twice to the same app: once with the hot routes first in the
route table, once with them taken out (the FastAPI routes alone). Status, problem code,
validation errors and headers must not differ; a valid request must take the fast path.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, Headers, manual_app, passive

from backend.app.api.hot_routes import HotRoute
from backend.app.core.config import Settings

ORDER_LIST = "/api/v1/trading/orders"


@pytest.fixture
def app(settings_factory: Any) -> FastAPI:
    # A low order rate limit, so that X-RateLimit-* headers are part of what is compared.
    settings: Settings = settings_factory(rate_limit_orders_per_second=1000)
    return manual_app(settings)


@contextmanager
def without_hot_routes(app: FastAPI) -> Iterator[None]:
    hot = [r for r in app.router.routes if isinstance(r, HotRoute)]
    assert len(hot) == 2
    app.router.routes[:] = [r for r in app.router.routes if not isinstance(r, HotRoute)]
    try:
        yield
    finally:
        app.router.routes[:0] = hot


def _calls(app: FastAPI) -> list[str]:
    """Count the requests each hot route answered itself (not handed over)."""
    seen: list[str] = []
    for route in app.router.routes:
        if isinstance(route, HotRoute):
            inner = route._handler

            async def counted(request: Any, body: bytes, inner: Any = inner) -> Any:
                out = await inner(request, body)
                if out is not None:
                    seen.append(request.url.path)
                return out

            route._handler = counted
    return seen


def _shape(r: Any) -> dict[str, Any]:
    """What must be equal: status, problem code and errors, the rate-limit headers."""
    out: dict[str, Any] = {"status": r.status_code, "type": r.headers.get("content-type")}
    out["ratelimit"] = sorted(k for k in r.headers if k.lower().startswith("x-ratelimit"))
    body = r.json()
    if r.status_code >= 400:
        out["code"] = body.get("code")
        out["errors"] = [(e.get("loc"), e.get("type")) for e in body.get("errors") or []]
    else:
        out["keys"] = sorted(body)
    return out


def _both(app: FastAPI, send: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    fast = _shape(send())
    with without_hot_routes(app):
        slow = _shape(send())
    return fast, slow


def test_a_valid_order_takes_the_fast_path_and_answers_as_the_route_does(
    app: FastAPI, client: TestClient, h: Headers
) -> None:
    seen = _calls(app)
    price = passive(client, h, "600519.SH")
    n = iter(range(100))

    def send() -> Any:
        body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": price,
                "client_order_id": f"hot-{next(n)}"}  # fmt: skip
        return client.post(ORDERS, json=body, headers=h)

    fast, slow = _both(app, send)
    assert fast == slow
    assert fast["status"] == 201
    assert fast["ratelimit"]  # the dependency's headers reach the answer
    assert seen == [ORDERS]


def test_a_repeat_is_200_with_the_same_order(app: FastAPI, client: TestClient, h: Headers) -> None:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100,
            "price": passive(client, h, "600519.SH"), "client_order_id": "same-key"}  # fmt: skip
    first = client.post(ORDERS, json=body, headers=h)
    again = client.post(ORDERS, json=body, headers=h)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["order_id"] == first.json()["order_id"]


BAD_ORDERS: list[tuple[str, dict[str, Any]]] = [
    ("not JSON", {"content": b"{nope", "headers": {"Content-Type": "application/json"}}),
    ("form encoded", {"data": {"stock_code": "600519.SH"}}),
    ("no body", {}),
    ("missing side", {"json": {"stock_code": "600519.SH", "quantity": 100}}),
    ("bad side", {"json": {"stock_code": "600519.SH", "side": "BUY", "quantity": 100}}),
    ("zero quantity", {"json": {"stock_code": "600519.SH", "side": "buy", "quantity": 0}}),
    ("a list", {"json": [1, 2]}),
    (
        "long Idempotency-Key",
        {
            "json": {"stock_code": "600519.SH", "side": "buy", "quantity": 100},
            "headers": {"Idempotency-Key": "k" * 65},
        },
    ),
    ("unknown code", {"json": {"stock_code": "999999.SZ", "side": "buy", "quantity": 100}}),
]


@pytest.mark.parametrize(("case", "kw"), BAD_ORDERS, ids=[c for c, _ in BAD_ORDERS])
def test_a_bad_order_gets_the_same_problem_either_way(
    app: FastAPI, client: TestClient, h: Headers, case: str, kw: dict[str, Any]
) -> None:
    headers = {**h, **kw.get("headers", {})}
    args = {k: v for k, v in kw.items() if k != "headers"}
    fast, slow = _both(app, lambda: client.post(ORDERS, headers=headers, **args))
    assert fast == slow
    assert fast["status"] in (400, 404, 409, 422), case


def test_who_may_place_is_the_same_either_way(
    app: FastAPI, client: TestClient, viewer_token: str
) -> None:
    body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100}
    for headers, status in (
        ({}, 401),
        ({"Authorization": "Bearer not-a-token"}, 401),
        ({"Authorization": f"Bearer {viewer_token}"}, 403),
    ):
        fast, slow = _both(app, lambda hd=headers: client.post(ORDERS, json=body, headers=hd))
        assert fast == slow
        assert fast["status"] == status


QUERIES = [
    "",
    "?limit=5",
    "?limit=5&status=open",
    "?side=sell&stock_code=600519",
    "?cursor=abc",
    "?limit=0",
    "?limit=501",
    "?limit=abc",
    "?limit=5&limit=7",
    "?status=bogus",
    "?side=BUY",
    "?stock_code=" + "x" * 33,
    "?since=2026-11-25T00:00:00%2B08:00",
    "?since=yesterday",
]


def _until_acknowledged(client: TestClient, h: Headers) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        items = client.get(ORDER_LIST, headers=h).json()["items"]
        if all(o["status"] != "pending" for o in items):
            return
        time.sleep(0.01)
    pytest.fail("the broker did not acknowledge the orders within 10 s")


@pytest.mark.parametrize("query", QUERIES)
def test_listing_orders_answers_the_same_either_way(
    app: FastAPI, client: TestClient, h: Headers, query: str
) -> None:
    price = passive(client, h, "600519.SH")
    for i in range(3):
        body = {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": price,
                "client_order_id": f"list-{i}"}  # fmt: skip
        assert client.post(ORDERS, json=body, headers=h).status_code == 201
    _until_acknowledged(client, h)  # the two reads must not straddle the broker's answer
    first = client.get(ORDER_LIST + query, headers=h)
    with without_hot_routes(app):
        second = client.get(ORDER_LIST + query, headers=h)
    assert _shape(first) == _shape(second)
    if first.status_code == 200:
        assert first.json() == second.json()


def test_listing_needs_a_token(app: FastAPI, client: TestClient) -> None:
    fast, slow = _both(app, lambda: client.get(ORDER_LIST + "?limit=5"))
    assert fast == slow
    assert fast["status"] == 401


def test_the_openapi_document_still_describes_both_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths[ORDERS]
    assert "get" in paths[ORDER_LIST]


def test_the_hot_routes_know_every_parameter_of_the_routes_they_stand_in_for() -> None:
    """A parameter (a dependency, a header, a query) added to either FastAPI route must be
    handled in api/hot_routes.py too, or the fast path would skip it: this fails first."""
    from inspect import signature

    from backend.app.api.v1 import trading

    assert list(signature(trading.place_order).parameters) == [
        "body", "request", "response", "user", "idempotency_key",
    ]  # fmt: skip
    assert list(signature(trading.list_orders).parameters) == [
        "trading", "_", "status", "stock_code", "side", "since", "limit", "cursor",
    ]  # fmt: skip


def _dependencies_of(app: FastAPI, method: str, path: str) -> set[str]:
    """The names of every dependency FastAPI solves for `method path`: the including routers'
    and the route's own, recursively (FastAPI internals: this test is the place to notice
    when they move)."""
    from fastapi.routing import APIRoute, _IncludedRouter

    def walk(routes: list[Any], prefix: str, inherited: list[Any]) -> set[str] | None:
        for r in routes:
            if isinstance(r, _IncludedRouter):
                ctx = r.include_context
                found = walk(r.original_router.routes, prefix + ctx.prefix,
                             [*inherited, *ctx.dependencies])  # fmt: skip
                if found is not None:
                    return found
            elif isinstance(r, APIRoute) and prefix + r.path == path and method in r.methods:
                names = {d.dependency.__name__ for d in [*inherited, *r.dependencies]}
                stack = list(r.dependant.dependencies)
                while stack:
                    d = stack.pop()
                    names.add(getattr(d.call, "__name__", type(d.call).__name__))
                    stack.extend(d.dependencies)
                return names
        return None

    found = walk(app.router.routes, "", [])
    assert found is not None, f"{method} {path} not found"
    return found


def test_the_hot_routes_call_every_dependency_fastapi_would(app: FastAPI) -> None:
    """A dependency added to a router above these routes (or to them) must be called in
    api/hot_routes.py too; update both lists when it is."""
    # check_request_text: the hot routes hand an unsafe string to the FastAPI route (unsafe_text).
    assert _dependencies_of(app, "POST", ORDERS) == {
        "check_request_text", "require_viewer", "order_trader", "OAuth2PasswordBearer",
    }  # fmt: skip
    assert _dependencies_of(app, "GET", ORDER_LIST) == {
        "check_request_text", "require_viewer", "get_trading", "OAuth2PasswordBearer",
    }  # fmt: skip

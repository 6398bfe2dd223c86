"""The two hottest routes, answered without FastAPI's per-request machinery.

`POST /api/v1/trading/order` and `GET /api/v1/trading/orders` are what a trading bot calls
most. Through FastAPI each request walks the nested routers (`_IncludedRouter` matches the
auth and risk routers' routes first) and solves a dependency graph (the router's
`require(viewer)`, the route's `order_trader`, the header, the body): about 40% of an
order's CPU at 32 connections in the py-spy profile (docs/performance.md). `HotRoute` sits
first in the app's route table and does the same steps directly, calling the very same
functions (`require`, `order_trader`, `OrderCreate`, the service, the response builder).

Only a request that is plainly valid takes this path. Anything else — a body that is not
JSON or fails `OrderCreate`, a query the route's own parameter types refuse or a repeated
parameter, an Idempotency-Key too long — is handed, untouched (the body replayed), to the
FastAPI route itself, so every error keeps its exact shape. The FastAPI routes stay registered: they
still answer those requests and still describe both operations in the OpenAPI document.
Errors raised here (401/403/429, domain errors) go through the app's exception handlers,
as from any route.

Keep them in step: a dependency added to the trading router (api/v1/router.py) or a parameter
added to either route must be handled here too (tests/api/test_hot_routes.py checks the routes'
parameters and fails first).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from inspect import signature
from typing import Any, get_args

import orjson
from fastapi import FastAPI, Response, params
from pydantic import BaseModel, ValidationError, create_model
from starlette._utils import get_route_path
from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import Message, Receive, Scope, Send

from backend.app.api.deps import oauth2_scheme, order_trader, require
from backend.app.api.edge_text import unsafe_text
from backend.app.api.v1 import trading
from backend.app.api.v1.trading import JSONBytes, placed_response
from backend.app.domain.enums import Role
from backend.app.models.orders import OrderCreate

PREFIX = "/api/v1/trading"
_DECLINED = "qmt.hot_route_declined"  # scope key: this request goes to the FastAPI route
_viewer = require(Role.VIEWER)

Handler = Callable[[Request, bytes], Awaitable[Response | None]]


class _Decline(Exception):
    """Not plainly valid: let the FastAPI route answer (and word the error)."""


class HotRoute(BaseRoute):
    """One method on one exact path; `handler` answers, or None to hand the request over."""

    def __init__(self, method: str, path: str, handler: Handler) -> None:
        self.method, self.path, self.path_format = method, path, path
        self.name = f"hot:{method} {path}"
        self._handler = handler

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if (
            scope["type"] == "http"
            and scope["method"] == self.method
            and not scope.get(_DECLINED)
            and get_route_path(scope) == self.path
        ):
            return Match.FULL, {"route": self, "endpoint": self._handler, "path_params": {}}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        body = await request.body() if self.method == "POST" else b""
        response = await self._handler(request, body)
        if response is not None:
            await response(scope, receive, send)
            return
        # Hand over to the route table again, this route out of the way, the body replayed.
        scope[_DECLINED] = True
        await scope["app"].router(scope, _replay(body, receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _single(request: Request, name: str) -> str | None:
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise _Decline
    return values[0] if values else None


def _order_body(request: Request, body: bytes) -> OrderCreate:
    content_type = request.headers.get("content-type", "")
    media = content_type.partition(";")[0].strip().lower()
    if not body or not (media == "application/json" or media.endswith("+json")):
        raise _Decline
    try:
        parsed = orjson.loads(body)
        # The router's edge check (api/edge_text.py). JSON cannot carry a raw control character
        # inside a string, and a lone surrogate only as a \u escape, so a body with neither a
        # backslash nor DEL holds no refused string: only the path and headers are left to check.
        plain = b"\\" not in body and b"\x7f" not in body
        if unsafe_text(request, None if plain else parsed):
            raise _Decline
        return OrderCreate.model_validate(parsed)
    except (orjson.JSONDecodeError, ValidationError) as exc:
        raise _Decline from exc


async def place_order(request: Request, body: bytes) -> Response | None:
    """`trading.place_order` for a valid body: the same dependency calls, in FastAPI's order
    (the router's viewer guard, then `order_trader`: 401 -> 429 -> 403)."""
    try:
        order = _order_body(request, body)
        key = _single(request, "idempotency-key")
        if key is not None and len(key) > 64:
            raise _Decline
    except _Decline:
        return None
    token = await oauth2_scheme(request)
    await _viewer(request, token)
    extra = Response()  # what FastAPI injects as `response`: headers only
    del extra.headers["content-length"]
    user = await order_trader(request, extra, token)
    return await placed_response(request, order, user, key, extra)


def _query_model() -> type[BaseModel]:
    """The query parameters of `trading.list_orders`, taken from its own signature (types,
    bounds, patterns, defaults), as one pydantic model: the route's rules, not a copy."""
    fields: dict[str, Any] = {}
    for name, p in signature(trading.list_orders, eval_str=True).parameters.items():
        if any(isinstance(m, params.Depends) for m in get_args(p.annotation)[1:]):
            continue  # the service and the viewer guard: called below
        fields[name] = (p.annotation, p.default)
    return create_model("OrdersQuery", **fields)


_ORDERS_QUERY = _query_model()


def _orders_query(request: Request) -> dict[str, Any]:
    q = request.query_params
    if len(q.multi_items()) != len(q):
        raise _Decline  # a repeated parameter: FastAPI's choice of value, FastAPI's answer
    if unsafe_text(request):  # the router's edge check (api/edge_text.py)
        raise _Decline
    try:
        return _ORDERS_QUERY.model_validate(dict(q)).model_dump()
    except ValidationError as exc:
        raise _Decline from exc


async def list_orders(request: Request, _body: bytes) -> Response | None:
    """`trading.list_orders` for query parameters its own rules accept."""
    try:
        args = _orders_query(request)
    except _Decline:
        return None
    await _viewer(request, await oauth2_scheme(request))
    return JSONBytes(await request.app.state.trading.list_orders_page(**args))


def install_hot_routes(app: FastAPI) -> None:
    """Put the hot routes first in the route table (after every `include_router`)."""
    app.router.routes[:0] = [
        HotRoute("POST", f"{PREFIX}/order", place_order),
        HotRoute("GET", f"{PREFIX}/orders", list_orders),
    ]

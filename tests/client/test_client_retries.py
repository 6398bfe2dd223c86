"""The client's retry rules, on a scripted transport (no server): Retry-After honoured, a
placement retried with the SAME client_order_id, a cancel never re-sent after it may have
gone out, the token renewed on 401."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
from qmt_api_client import QmtApiError, QmtClient

ORDER = {
    "order_id": 7, "client_order_id": "x", "broker_order_id": None, "stock_code": "600519.SH",
    "stock_name": "", "side": "buy", "order_type": "limit", "price": "10.00", "quantity": 100,
    "filled_quantity": 0, "avg_fill_price": None, "status": "pending", "status_msg": "",
    "broker_status": None, "strategy_name": "", "remark": "",
    "created_at": "2026-12-01T10:00:00+08:00", "updated_at": "2026-12-01T10:00:00+08:00",
}  # fmt: skip
TOKEN = {"access_token": "t1", "token_type": "bearer", "expires_in": 3600}


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> QmtClient:
    def route(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/api/v1/auth/token":
            return httpx.Response(200, json=TOKEN)
        return handler(req)

    return QmtClient("http://test", username="u", password="p",
                     transport=httpx.MockTransport(route))  # fmt: skip


def _problem(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"type": "about:blank", "title": code, "status": status, "detail": code, "code": code}
    return httpx.Response(status, json=body, headers=headers)


def test_429_waits_retry_after_then_succeeds() -> None:
    calls: list[float] = []

    def handler(req: httpx.Request) -> httpx.Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            return _problem(429, "RATE_LIMITED", **{"Retry-After": "0.3"})
        return httpx.Response(201, json=ORDER)

    c = _client(handler)
    c.place_order(stock_code="600519.SH", side="buy", quantity=100, price="10.00")
    assert len(calls) == 2
    assert calls[1] - calls[0] >= 0.3


def test_429_beyond_max_retries_is_raised() -> None:
    c = _client(lambda req: _problem(429, "RATE_LIMITED", **{"Retry-After": "0"}))
    c.max_retries = 2
    with pytest.raises(QmtApiError) as exc:
        c.cancel_order(7)
    assert (exc.value.status, exc.value.code) == (429, "RATE_LIMITED")


def test_a_lost_answer_to_a_placement_is_retried_with_the_same_client_order_id() -> None:
    seen: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(json.loads(req.content)["client_order_id"])
        if len(seen) == 1:
            raise httpx.ReadTimeout("answer lost", request=req)
        return httpx.Response(200, json=ORDER)

    c = _client(handler)
    c.place_order(stock_code="600519.SH", side="buy", quantity=100, price="10.00")
    assert len(seen) == 2
    assert seen[0] == seen[1]
    c.place_order(stock_code="600519.SH", side="buy", quantity=100, price="10.00")
    assert seen[2] != seen[0]  # a new call is a new order


def test_a_cancel_whose_answer_was_lost_is_not_resent() -> None:
    sent: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        sent.append(req.method)
        raise httpx.ReadTimeout("answer lost", request=req)

    with pytest.raises(httpx.ReadTimeout):
        _client(handler).cancel_order(7)
    assert sent == ["DELETE"]


def test_503_retries_reads_with_backoff() -> None:
    n: list[int] = []

    def handler(req: httpx.Request) -> httpx.Response:
        n.append(1)
        return (
            _problem(503, "BROKER_UNAVAILABLE") if len(n) < 3 else httpx.Response(200, json=ORDER)
        )

    assert _client(handler).get_order(7).order_id == 7
    assert len(n) == 3


def test_a_401_logs_in_again_once() -> None:
    auths: list[str] = []

    def handler(req: httpx.Request) -> httpx.Response:
        auths.append(req.headers.get("Authorization", ""))
        return _problem(401, "UNAUTHORIZED")

    with pytest.raises(QmtApiError) as exc:
        _client(handler).get_order(7)
    assert exc.value.code == "UNAUTHORIZED"
    assert len(auths) == 2  # the first try, then once more with a fresh token

"""Findings 1 and 3 of issue 14: bodies too large, strings the database cannot hold, ids out
of range. Every case runs on SQLite and on PostgreSQL (which refuses NUL in text)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from trading_kit import passive

from backend.app.core.config import Settings
from backend.app.db.tables import Base

ORDER = {"stock_code": "600000.SH", "side": "buy", "price": "10.00", "quantity": 100}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(
    request: pytest.FixtureRequest, settings_factory: Callable[..., Settings]
) -> Iterator[Settings]:
    if request.param == "sqlite":
        yield settings_factory(max_body_bytes=64 * 1024)
        return
    pg_url: str = request.getfixturevalue("pg_url")
    yield settings_factory(database_url=pg_url, max_body_bytes=64 * 1024)
    engine = create_engine(pg_url)
    try:
        with engine.begin() as c:
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


def _is_validation_error(r: Any) -> dict[str, Any]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = r.json()
    assert body["code"] == "VALIDATION_ERROR"
    return body


# --- 1. body limit ------------------------------------------------------------------------


def test_a_body_over_the_limit_is_413_before_it_is_read(
    client: TestClient, h: dict[str, str]
) -> None:
    big = b'{"stock_code": "' + b"9" * (100 * 1024) + b'"}'
    r = client.post(
        "/api/v1/trading/order", content=big, headers={**h, "Content-Type": "application/json"}
    )
    assert r.status_code == 413
    problem = r.json()
    assert problem["code"] == "PAYLOAD_TOO_LARGE"
    assert "MAX_BODY_BYTES" in problem["detail"]
    assert r.headers["x-request-id"] == problem["request_id"]
    assert "999999" not in r.text


def test_a_chunked_body_is_cut_off_at_the_limit(client: TestClient, h: dict[str, str]) -> None:
    # Raw ASGI on the app's own loop: TestClient would read a streamed body whole first.
    handed_out = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal handed_out
        handed_out += 1  # 1,000 chunks of 8 KB = 8 MB if it were all read
        return {"type": "http.request", "body": b"x" * 8192, "more_body": handed_out < 1000}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": "/api/v1/trading/order", "raw_path": b"/api/v1/trading/order",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "headers": [
            (b"authorization", h["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
    }  # fmt: skip

    async def call() -> None:
        await client.app(scope, receive, send)  # type: ignore[arg-type]

    assert client.portal is not None
    client.portal.call(call)
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 413
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(body)["code"] == "PAYLOAD_TOO_LARGE"
    assert handed_out <= 9  # 64 KB limit: reading stopped at the chunk that crossed it


def test_login_form_over_the_limit_is_413(client: TestClient) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": "p" * 70_000})
    assert r.status_code == 413


def test_validation_errors_never_echo_large_inputs(client: TestClient, h: dict[str, str]) -> None:
    r = client.post("/api/v1/trading/order", json={**ORDER, "stock_code": "A" * 50_000}, headers=h)
    assert r.status_code == 422
    assert len(r.content) < 2_000
    echoed = [e.get("input") for e in r.json()["errors"]]
    assert any(isinstance(i, str) and i.endswith("(50000 chars)") for i in echoed), echoed


def test_invalid_json_just_under_the_limit_answers_fast(
    client: TestClient, h: dict[str, str]
) -> None:
    started = time.perf_counter()
    r = client.post(
        "/api/v1/trading/order",
        content=b'{"remark": "' + b"x" * 60_000,  # unterminated
        headers={**h, "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert len(r.content) < 2_000
    assert time.perf_counter() - started < 2.0


# --- 3. strings the system cannot hold ------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bad"),
    [("stock_code", "\x00"), ("strategy_name", "\x00"), ("remark", "\ud800"),
     ("remark", "\x1b[31m"), ("strategy_name", "a\x7fb"), ("stock_code", "\ud800")],
)  # fmt: skip
def test_bad_characters_in_an_order_body_are_422(
    client: TestClient, h: dict[str, str], field: str, bad: str
) -> None:
    body = json.dumps({**ORDER, field: f"x{bad}y"})  # json.dumps writes \ud800 as an escape
    r = client.post(
        "/api/v1/trading/order", content=body, headers={**h, "Content-Type": "application/json"}
    )
    problem = _is_validation_error(r)
    assert problem["errors"][0]["loc"][:2] == ["body", field]
    assert client.get("/api/v1/trading/orders", headers=h).json()["items"] == []


def test_a_multi_line_remark_is_still_fine(client: TestClient, h: dict[str, str]) -> None:
    r = client.post(
        "/api/v1/trading/order",
        json={**ORDER, "price": passive(client, h, "600000.SH"), "remark": "line 1\nline 2\tend"},
        headers=h,
    )
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("bad", ["\x00", "\n"])
def test_bad_characters_in_the_login_form_are_422(client: TestClient, bad: str) -> None:
    r = client.post(
        "/api/v1/auth/token", data={"username": f"admin{bad}", "password": "whatever-1"}
    )
    _is_validation_error(r)
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": f"pw{bad}pw-123"})
    _is_validation_error(r)


def test_nul_in_a_path_parameter_is_422(client: TestClient, admin_token: str, auth: Any) -> None:
    r = client.patch("/api/v1/auth/users/%00", json={"is_active": False}, headers=auth(admin_token))
    assert _is_validation_error(r)["errors"][0]["loc"] == ["path"]


@pytest.mark.parametrize(
    "query",
    ["action=%00", "username=a%00b", "action=order%0Aforged", "x%1b=1"],
)
def test_bad_characters_in_audit_filters_are_422(
    client: TestClient, admin_token: str, auth: Any, query: str
) -> None:
    r = client.get(f"/api/v1/trading/audit?{query}", headers=auth(admin_token))
    _is_validation_error(r)


@pytest.mark.parametrize("query", ["stock_code=%00", "cursor=1%002"])
def test_bad_characters_in_order_filters_are_422(
    client: TestClient, h: dict[str, str], query: str
) -> None:
    _is_validation_error(client.get(f"/api/v1/trading/orders?{query}", headers=h))


def test_nul_in_the_idempotency_key_is_422(client: TestClient, h: dict[str, str]) -> None:
    r = client.post("/api/v1/trading/order", json=ORDER, headers={**h, "Idempotency-Key": "k\tk"})
    assert _is_validation_error(r)["errors"][0]["loc"] == ["header", "idempotency-key"]


def test_a_user_with_a_bad_username_cannot_be_created(
    client: TestClient, admin_token: str, auth: Any
) -> None:
    body = json.dumps({"username": "ann\ud800", "password": "long-enough-1", "role": "viewer"})
    r = client.post(
        "/api/v1/auth/users", content=body,
        headers={**auth(admin_token), "Content-Type": "application/json"},
    )  # fmt: skip
    _is_validation_error(r)


# --- 3. ids and cursors out of range ------------------------------------------------------


def test_cursors_out_of_range_are_422(client: TestClient, h: dict[str, str]) -> None:
    for path in ("/api/v1/trading/orders", "/api/v1/trading/trades"):
        for cursor in ("9223372036854775808", "9" * 32, "0", "٣", str(2**53 + 1)):
            _is_validation_error(client.get(path, params={"cursor": cursor}, headers=h))


def test_the_largest_cursor_is_an_empty_page(client: TestClient, h: dict[str, str]) -> None:
    r = client.get("/api/v1/trading/orders", params={"cursor": "9" * 15}, headers=h)
    assert r.status_code == 200
    assert r.json()["items"] == []


def test_ids_out_of_range_are_422(client: TestClient, h: dict[str, str]) -> None:
    for value in (str(2**63), str(2**53 + 1), "0"):
        _is_validation_error(client.get(f"/api/v1/trading/orders/{value}", headers=h))
        r = client.get("/api/v1/trading/trades", params={"order_id": value}, headers=h)
        _is_validation_error(r)


def test_an_audit_cursor_out_of_range_is_422(
    client: TestClient, admin_token: str, auth: Any
) -> None:
    for cursor in (str(2**64), "9" * 19, "0", "YTox"):
        r = client.get(
            "/api/v1/trading/audit", params={"cursor": cursor}, headers=auth(admin_token)
        )
        _is_validation_error(r)

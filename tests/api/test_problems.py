"""Every error a client can see is application/problem+json with a stable code."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Annotated

import pytest
from fastapi import APIRouter, FastAPI, HTTPException, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel, field_validator

from backend.app.core.config import Settings
from backend.app.core.errors import DomainError, RateLimited, RiskRejected, all_errors
from backend.app.main import create_app
from backend.app.models.problem import PROBLEM_RESPONSES

PROBLEM = "application/problem+json"
ERRORS = {cls.code: cls for cls in all_errors()}


class Item(BaseModel):
    quantity: int
    price: float

    @field_validator("price")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("price must be positive")
        return v


def _make(cls: type[DomainError]) -> DomainError:
    params = inspect.signature(cls.__init__).parameters
    extra: dict[str, object] = {}
    if "retry_after" in params:
        extra["retry_after"] = 2.5
    if "rule" in params:
        extra["rule"] = "max_order_value"
    return cls(f"detail of {cls.code}", **extra)


def _probe_router() -> APIRouter:
    r = APIRouter(prefix="/_probe")

    @r.get("/domain/{code}")
    async def raise_domain(code: str) -> None:
        raise _make(ERRORS[code])

    @r.post("/items")
    async def create_item(item: Item, limit: Annotated[int, Query(ge=1, le=10)] = 1) -> Item:
        return item

    @r.get("/http/{status}")
    async def raise_http(status: int) -> None:
        raise HTTPException(status, detail="plain http error", headers={"X-Probe": "kept"})

    @r.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    return r


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.include_router(_probe_router(), responses=PROBLEM_RESPONSES)
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _check(r, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == f"urn:qmt-api:problem:{code.lower()}"
    assert isinstance(body["title"], str)
    assert isinstance(body["detail"], str)
    return body


def test_error_tree_codes_are_unique() -> None:
    codes = [cls.code for cls in all_errors()]
    assert len(codes) == len(set(codes))


@pytest.mark.parametrize("code", sorted(ERRORS))
def test_every_domain_error_maps_to_its_status(client: TestClient, code: str) -> None:
    cls = ERRORS[code]
    body = _check(client.get(f"/_probe/domain/{code}"), cls.status, code)
    assert body["title"] == cls.title
    assert body["detail"] == f"detail of {code}"
    assert body["instance"] == f"/_probe/domain/{code}"


def test_rate_limited_sets_retry_after(client: TestClient) -> None:
    r = client.get(f"/_probe/domain/{RateLimited.code}")
    body = _check(r, 429, "RATE_LIMITED")
    assert r.headers["retry-after"] == "3"
    assert body["retry_after"] == 2.5


def test_risk_rejected_names_the_rule(client: TestClient) -> None:
    body = _check(client.get(f"/_probe/domain/{RiskRejected.code}"), 422, "RISK_REJECTED")
    assert body["rule"] == "max_order_value"


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"quantity": "many", "price": 1}, ["body", "quantity"]),
        ({"quantity": 100}, ["body", "price"]),
        ({"quantity": 100, "price": -1}, ["body", "price"]),  # ctx holds a ValueError
        ({"quantity": 1.5, "price": 1}, ["body", "quantity"]),
        ([1, 2, 3], ["body"]),
    ],
)
def test_validation_error_is_422_with_errors(
    client: TestClient, payload: object, where: list[str]
) -> None:
    body = _check(client.post("/_probe/items", json=payload), 422, "VALIDATION_ERROR")
    assert body["errors"]
    assert any(e["loc"][: len(where)] == where for e in body["errors"])
    assert all("ctx" not in e for e in body["errors"])


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe\x00garbage", b"", b'{"quantity": NaN, "price": Infinity}'],
)
def test_malformed_body_is_422_never_500(client: TestClient, raw: bytes) -> None:
    r = client.post("/_probe/items", content=raw, headers={"content-type": "application/json"})
    _check(r, 422, "VALIDATION_ERROR")
    json.dumps(r.json())


def test_bad_query_is_422(client: TestClient) -> None:
    r = client.post("/_probe/items?limit=99", json={"quantity": 1, "price": 1})
    _check(r, 422, "VALIDATION_ERROR")


def test_unknown_route_is_404_problem(client: TestClient) -> None:
    _check(client.get("/api/v1/does-not-exist"), 404, "NOT_FOUND")


def test_wrong_method_is_405_problem_with_allow(client: TestClient) -> None:
    r = client.delete("/health")
    _check(r, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    ("status", "code"), [(401, "UNAUTHORIZED"), (403, "FORBIDDEN"), (418, "HTTP_418")]
)
def test_http_exception_keeps_headers(client: TestClient, status: int, code: str) -> None:
    r = client.get(f"/_probe/http/{status}")
    body = _check(r, status, code)
    assert r.headers["x-probe"] == "kept"
    assert body["detail"] == "plain http error"


def test_unhandled_exception_is_500_without_trace(client: TestClient) -> None:
    r = client.get("/_probe/boom", headers={"X-Request-ID": "req-123"})
    body = _check(r, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "req-123"
    assert r.headers["x-request-id"] == "req-123"
    assert "hunter2" not in r.text
    assert "Traceback" not in r.text
    assert "RuntimeError" not in r.text


def test_openapi_documents_problem_once(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "Problem" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for op in ops.values():
            for status in ("401", "422", "500"):
                content = op["responses"][status]["content"]
                assert list(content) == [PROBLEM], (path, status)

"""Request id and request metrics: one pure ASGI middleware (no BaseHTTPMiddleware), cheap
enough for the benchmarked order path, and the Prometheus collectors of `/metrics`.

Each app gets its own `CollectorRegistry`, so several apps in one process (the tests) never
share counters. Collectors that need the broker or the database read `app.state` at scrape
time, after the lifespan has built those objects.
"""

from __future__ import annotations

import hmac
import itertools
import re
import secrets
import time
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request, Response
from loguru import logger
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.app.api.body_limit import BodyLimitMiddleware
from backend.app.core.errors import NotFound, Unauthorized
from backend.app.db.repositories import orders as order_repo
from backend.app.domain.enums import OrderStatus

_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)


# A fresh request id: this process's random half and a counter, 32 hex characters like a
# uuid4's hex. uuid4 reads os.urandom on every call: ~35 us per request on the benchmark
# machine, 5% of an order's CPU (docs/performance.md, round 2). Ids need to be unique, not
# secret.
_RID_PREFIX = secrets.token_hex(8)
_rid_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_RID_PREFIX}{next(_rid_counter) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def request_id_from(raw: bytes | None) -> str:
    """The client's X-Request-ID when it is short and plain, else a fresh one."""
    if raw:
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if _SANE_ID.match(text):
            return text
    return new_request_id()


class _StateCollector(Collector):
    """Gauges read from app.state when Prometheus scrapes: broker, kill switch, orders."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app

    def collect(self) -> Iterator[GaugeMetricFamily]:
        state = self._app.state
        qmt = getattr(state, "qmt", None)
        if qmt is not None:
            yield GaugeMetricFamily(
                "qmt_broker_connected", "1 when MiniQMT is connected", value=int(qmt.is_connected())
            )
        risk = getattr(state, "risk", None)
        if risk is not None:
            yield GaugeMetricFamily(
                "qmt_trading_enabled",
                "1 unless the kill switch is off",
                value=int(risk.trading_enabled),
            )
        counts = _order_counts(state)
        if counts is not None:
            g = GaugeMetricFamily(
                "qmt_orders", "orders created today (Asia/Shanghai) by status", labels=["status"]
            )
            for status, n in sorted(counts.items()):
                g.add_metric([status], n)
            yield g


def _order_counts(state: Any) -> dict[str, int] | None:
    db, qmt = getattr(state, "db", None), getattr(state, "qmt", None)
    if db is None or qmt is None:
        return None
    start = qmt.now().replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        found = db.call(lambda s: order_repo.status_counts(s, qmt.account_id, start))
    except Exception as exc:  # a scrape must not fail because the database is busy
        logger.warning("metrics: order counts unavailable: {}", exc)
        return None
    counts = {s.value: 0 for s in OrderStatus}
    counts.update(found)
    return counts


class Metrics:
    """Prometheus collectors of one app, in their own registry."""

    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "http_requests_total",
            "HTTP requests by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.callback_lag = Histogram(
            "qmt_callback_lag_seconds",
            "time from a MiniQMT push on its thread to its handling on the event loop",
            buckets=_LAG_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "qmt_rate_limited_total",
            "requests refused with 429",
            ["kind"],
            registry=self.registry,
        )
        self.registry.register(_StateCollector(app))

    def observe_callback_lag(self, seconds: float) -> None:
        self.callback_lag.observe(max(seconds, 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class RequestContextMiddleware:
    """X-Request-ID on every response (the client's if sane) and per-route metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                rid = request_id_from(_header(scope, b"x-request-id"))
                scope.setdefault("state", {})["request_id"] = rid
            await self.app(scope, receive, send)
            return
        rid = request_id_from(_header(scope, b"x-request-id"))
        scope.setdefault("state", {})["request_id"] = rid
        rid_header = (b"x-request-id", rid.encode("ascii"))
        status = 500
        start = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != b"x-request-id"]
                headers.append(rid_header)
                message["headers"] = headers
            await send(message)

        with logger.contextualize(request_id=rid):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                elapsed = time.perf_counter() - start
                self._access_log(scope, status, elapsed, rid)
                self._observe(scope, status, elapsed)

    @staticmethod
    def _access_log(scope: Scope, status: int, elapsed: float, rid: str) -> None:
        """The access log (uvicorn's own is off in `qmt-api serve`): one pre-formatted line,
        no stdlib LogRecord and no frame walk, inside the request-id context (so it carries
        extra.request_id). Errors (>= 400) and slow requests (>= 1 s) at INFO; a quick success
        at DEBUG (`LOG_LEVEL=DEBUG` shows every request): a line costs ~60 us, 8% of an order,
        and every order is in the audit trail with its request id anyway. The path only: a
        query string may hold a secret."""
        slow = elapsed >= 1.0
        level = "DEBUG" if status < 400 and not slow else "INFO" if status < 500 else "WARNING"
        actor = scope["state"].get("actor")
        client = scope.get("client")
        # Arguments, not an f-string: loguru formats only a line some sink will take.
        logger.log(
            level, "access {} {} {} {:.1f}ms user={} ip={} rid={}", scope["method"],
            scope["path"], status, elapsed * 1000, actor.username if actor is not None else "-",
            client[0] if client else "-", rid,
        )  # fmt: skip

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        template = route_template(scope)
        method = scope["method"]
        metrics.requests.labels(method, template, str(status)).inc()
        metrics.latency.labels(method, template).observe(elapsed)
        if status == 429:
            metrics.rate_limited.labels(
                "login" if template.endswith("/auth/token") else "orders"
            ).inc()


def route_template(scope: Scope) -> str:
    """`/api/v1/trading/orders/{order_id}`: the matched route's template under its prefixes.

    FastAPI may leave the included route's own (prefix-less) path in `scope["route"]`; the
    prefixes are literal, so they are the leading segments of the request path.
    """
    template = getattr(scope.get("route"), "path", None)
    if not template:
        return "unmatched"
    if ":path}" in template:
        return str(template)
    extra = scope.get("path", "").count("/") - template.count("/")
    if extra <= 0:
        return str(template)
    return "/".join(str(scope["path"]).split("/")[: extra + 1]) + str(template)


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def install_middleware(
    app: FastAPI, *, metrics_enabled: bool, max_body_bytes: int, body_timeout: float
) -> Metrics | None:
    """Add the request-context middleware (outermost) and the body limit right inside it (so
    a 413 has its request id and access line); returns the app's Metrics (None when off)."""
    metrics = Metrics(app) if metrics_enabled else None
    app.state.metrics = metrics
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes, timeout=body_timeout)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    return metrics


def metrics_endpoint(request: Request) -> Response:
    """Prometheus metrics of this process (text format); with METRICS_TOKEN set, only for
    `Authorization: Bearer <METRICS_TOKEN>`."""
    metrics: Metrics | None = getattr(request.app.state, "metrics", None)
    if metrics is None:
        raise NotFound("metrics are switched off (METRICS_ENABLED=false)")
    expected = request.app.state.settings.metrics_token
    if expected is not None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), expected.get_secret_value().encode()
        )
        if not ok:
            raise Unauthorized("需要 METRICS_TOKEN / /metrics needs Bearer <METRICS_TOKEN>")
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

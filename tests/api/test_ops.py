"""Operations and hardening: X-Request-ID, /metrics, login brute force, CORS, token revocation,
live-mode secrets."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from backend.app.core.config import Settings
from backend.app.main import create_app

Auth = Callable[[str], dict[str, str]]


def test_every_response_has_a_request_id(client: TestClient, auth: Auth) -> None:
    ids = set()
    for path in ("/health", "/metrics", "/api/v1/auth/me", "/api/v1/nope", "/ready"):
        r = client.get(path)
        assert len(r.headers["x-request-id"]) == 32
        ids.add(r.headers["x-request-id"])
    assert len(ids) == 5


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("abc-123.DEF:9_x", True), ("x" * 65, False), ("has space", False), ("ünï", False)],
)
def test_incoming_request_id_is_kept_only_when_sane(
    client: TestClient, sent: str, kept: bool
) -> None:
    r = client.get("/health", headers={"X-Request-ID": sent.encode("utf-8")})  # type: ignore[dict-item]
    assert (r.headers["x-request-id"] == sent) is kept


def test_problem_body_carries_the_same_request_id(client: TestClient) -> None:
    r = client.get("/api/v1/auth/me", headers={"X-Request-ID": "trace-42"})
    assert r.status_code == 401
    assert r.headers["x-request-id"] == "trace-42"
    assert r.json()["request_id"] == "trace-42"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_by_route_template(
    client: TestClient, admin_token: str, auth: Auth
) -> None:
    for _ in range(3):
        client.get("/api/v1/trading/risk-rules", headers=auth(admin_token))
    client.get("/api/v1/trading/audit", params={"limit": 1}, headers=auth(admin_token))
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    samples = _samples(r.text)
    key = (
        "http_requests_total",
        (("method", "GET"), ("route", "/api/v1/trading/risk-rules"), ("status", "200")),
    )
    assert samples[key] == 3
    hist = (
        "http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/v1/trading/risk-rules")),
    )
    assert samples[hist] == 3
    assert samples[("qmt_trading_enabled", ())] == 1
    # Unknown paths share one label, so a scanner cannot blow up the series count.
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    unmatched = _samples(client.get("/metrics").text)
    key = ("http_requests_total", (("method", "GET"), ("route", "unmatched"), ("status", "404")))
    assert unmatched[key] == 2


def test_metrics_registries_are_per_app(settings_factory: Callable[..., Settings]) -> None:
    a, b = create_app(settings_factory()), create_app(settings_factory())
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_metrics_can_be_switched_off(settings_factory: Callable[..., Settings]) -> None:
    with TestClient(create_app(settings_factory(metrics_enabled=False))) as c:
        r = c.get("/metrics")
        assert r.status_code == 404
        assert r.json()["code"] == "NOT_FOUND"
        assert "x-request-id" in r.headers


def test_login_brute_force_gets_429_with_headers(
    settings_factory: Callable[..., Settings],
) -> None:
    with TestClient(create_app(settings_factory(rate_limit_logins_per_minute=3))) as c:
        for _ in range(3):
            r = c.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
            assert r.status_code == 401
        r = c.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
        assert r.status_code == 429
        body = r.json()
        assert body["code"] == "RATE_LIMITED"
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["x-ratelimit-limit"] == "3"
        assert r.headers["x-ratelimit-remaining"] == "0"
        assert int(r.headers["x-ratelimit-reset"]) > 0
        # Locked out even with the right password until the bucket refills.
        from tests.conftest import ADMIN_PASSWORD

        r = c.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
        assert r.status_code == 429
        # Another user from the same address is locked out too (per-address bucket).
        r = c.post("/api/v1/auth/token", data={"username": "someone", "password": "x"})
        assert r.status_code == 429


def test_an_attacker_elsewhere_cannot_lock_the_admin_out(
    settings_factory: Callable[..., Settings],
) -> None:
    """Finding 8 of issue 14: ten wrong passwords a minute from anywhere kept the admin out."""
    from tests.conftest import ADMIN_PASSWORD

    app = create_app(settings_factory(rate_limit_logins_per_minute=3))
    with TestClient(app) as c:
        attacker = TestClient(app, client=("198.51.100.7", 4000))  # the lifespan runs already
        for _ in range(10):
            attacker.post("/api/v1/auth/token", data={"username": "admin", "password": "wrong"})
        r = attacker.post("/api/v1/auth/token", data={"username": "admin", "password": "x"})
        assert r.status_code == 429
        r = c.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
        assert r.status_code == 200, r.text


def test_successful_logins_do_not_spend_failure_tokens(
    settings_factory: Callable[..., Settings],
) -> None:
    from tests.conftest import ADMIN_PASSWORD

    with TestClient(create_app(settings_factory(rate_limit_logins_per_minute=2))) as c:
        for _ in range(5):
            r = c.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
            assert r.status_code == 200


def test_cors_is_off_unless_configured(settings_factory: Callable[..., Settings]) -> None:
    preflight = {
        "Origin": "https://evil.example",
        "Access-Control-Request-Method": "POST",
    }
    with TestClient(create_app(settings_factory())) as c:
        r = c.options("/api/v1/auth/token", headers=preflight)
        assert "access-control-allow-origin" not in r.headers
    ok = settings_factory(cors_origins="https://ui.example")
    with TestClient(create_app(ok)) as c:
        r = c.options("/api/v1/auth/token", headers={**preflight, "Origin": "https://ui.example"})
        assert r.headers["access-control-allow-origin"] == "https://ui.example"
        r = c.options("/api/v1/auth/token", headers=preflight)
        assert r.headers.get("access-control-allow-origin") != "https://evil.example"


def test_live_mode_refuses_to_start_without_a_jwt_key(tmp_path: object) -> None:
    with pytest.raises(ValueError, match="JWT_SECRET_KEY"):
        Settings(_env_file=None, qmt_mode="live", miniqmt_userdata_path="C:/qmt/userdata_mini")


def test_server_binds_loopback_by_default() -> None:
    assert Settings(_env_file=None).host == "127.0.0.1"


@pytest.mark.parametrize("change", [{"is_active": False}, {"role": "viewer"}])
def test_token_refused_after_disable_or_demotion(
    client: TestClient,
    admin_token: str,
    make_user: Callable[..., str],
    auth: Auth,
    change: dict[str, object],
) -> None:
    token = make_user("dave", "trader")
    assert client.get("/api/v1/auth/me", headers=auth(token)).status_code == 200
    r = client.patch("/api/v1/auth/users/dave", json=change, headers=auth(admin_token))
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/auth/me", headers=auth(token))
    assert r.status_code == 401
    assert r.json()["code"] == "UNAUTHORIZED"


def test_metrics_show_orders_by_status_broker_and_callback_lag(
    client: TestClient, trader_token: str, auth: Auth, eventually: Callable[..., object]
) -> None:
    h = auth(trader_token)
    quote = client.get("/api/v1/market/quote/600000.SH", headers=h).json()
    order = {
        "stock_code": "600000.SH",
        "side": "buy",
        "quantity": 100,
        "price": quote["limit_down"],
        "order_type": "limit",
    }
    assert client.post("/api/v1/trading/order", json=order, headers=h).status_code == 201

    def scraped() -> dict[tuple[str, tuple[tuple[str, str], ...]], float] | None:
        s = _samples(client.get("/metrics").text)
        lag = s.get(("qmt_callback_lag_seconds_count", ()), 0)
        reported = s.get(("qmt_orders", (("status", "reported"),)), 0)
        return s if lag > 0 and reported == 1 else None

    samples = eventually(scraped)
    assert isinstance(samples, dict)
    assert samples[("qmt_broker_connected", ())] == 1
    assert samples[("qmt_orders", (("status", "filled"),))] == 0


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),  # noqa: S104  (the address under test)
        ("192.168.1.5", False),
        ("example.com", False),
    ],
)
def test_serve_warns_for_any_non_loopback_bind(host: str, loopback: bool) -> None:
    from backend.app.cli import is_loopback

    assert is_loopback(host) is loopback

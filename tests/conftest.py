"""Shared fixtures. Every app under test is `create_app(settings)` on the simulator, with a
fresh SQLite file under tmp_path; nothing is patched.

    settings            Settings for one test (override per module: redefine `settings`,
                        built with `settings_factory(**overrides)`)
    app, client         create_app(settings); TestClient as a context manager (lifespan runs)
    admin_token, trader_token, viewer_token   bearer tokens (users made through the API)
    auth(token)         -> {"Authorization": "Bearer ..."}
    make_user(name, role) -> token of a new user
    eventually(pred, timeout=5.0)  poll until pred() is truthy, return its value
    pg_url              a fresh PostgreSQL schema for the session (skips where no server)
"""

from __future__ import annotations

import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette's TestClient warns once, at import, that it prefers httpx2; we ship httpx.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.core.security import configure_hashing
from backend.app.main import create_app

T = TypeVar("T")

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-pass-123"
USER_PASSWORD = "user-pass-123"
JWT_TEST_KEY = "test-signing-key-0123456789abcdef0123456789"
SIM_TEST_SEED = 20240102
PG_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing() -> Iterator[None]:
    # Production argon2 costs ~0.5 s per hash here; tests make hundreds of users.
    configure_hashing(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    configure_hashing()


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    """Settings for a test, with any field overridden: `settings_factory(sim_seed=7)`."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "qmt_mode": "simulated",
            "miniqmt_account_id": "SIM000001",
            "database_url": f"sqlite:///{(tmp_path / 'qmt_api.db').as_posix()}",
            "data_dir": tmp_path / "data",
            "strategy_dir": tmp_path / "strategies",
            "jwt_secret_key": JWT_TEST_KEY,
            "admin_username": ADMIN_USERNAME,
            "admin_password": ADMIN_PASSWORD,
            "sim_seed": SIM_TEST_SEED,
            "sim_enforce_trading_hours": False,
            # Off unless a test is about limits, so ordinary tests are never throttled.
            "rate_limit_orders_per_second": 0,
            "rate_limit_logins_per_minute": 0,
            "redis_url": None,
            "cors_origins": [],
            "log_level": "WARNING",
            "log_json": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth() -> Callable[[str], dict[str, str]]:
    """`client.get(url, headers=auth(token))`."""
    return auth_header


def _login(client: TestClient, username: str, password: str) -> str:
    r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


@pytest.fixture
def login(client: TestClient) -> Callable[[str, str], str]:
    return lambda username, password: _login(client, username, password)


@pytest.fixture
def admin_token(client: TestClient) -> str:
    return _login(client, ADMIN_USERNAME, ADMIN_PASSWORD)


@pytest.fixture
def make_user(client: TestClient, admin_token: str) -> Callable[..., str]:
    """Create a user through the API and return their token."""

    def make(username: str, role: str, password: str = USER_PASSWORD) -> str:
        r = client.post(
            "/api/v1/auth/users",
            json={"username": username, "password": password, "role": role},
            headers=auth_header(admin_token),
        )
        assert r.status_code == 201, r.text
        return _login(client, username, password)

    return make


@pytest.fixture
def trader_token(make_user: Callable[..., str]) -> str:
    return make_user("trader", "trader")


@pytest.fixture
def viewer_token(make_user: Callable[..., str]) -> str:
    return make_user("viewer", "viewer")


@pytest.fixture
def h(trader_token: str) -> dict[str, str]:
    """A trader's Authorization header; a module acting as another role overrides `h`."""
    return auth_header(trader_token)


def poll(pred: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value: {value!r})")
        time.sleep(interval)


@pytest.fixture
def eventually() -> Callable[..., Any]:
    """`eventually(lambda: client.get(...).json()["status"] == "filled", timeout=5.0)`."""
    return poll


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def redis_up() -> bool:
    """Whether the Redis server of the `redis` tests answers at 127.0.0.1:6379."""
    return _port_open("127.0.0.1", 6379, timeout=0.3)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema for this test session, dropped at the end.

    The server is the one at 127.0.0.1:5432 (database `test`, trust auth), or TEST_POSTGRES_URL.
    """
    base = os.environ.get("TEST_POSTGRES_URL", PG_DEFAULT_URL)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(base)
    if not _port_open(url.host or "127.0.0.1", url.port or 5432):
        pytest.skip(f"PostgreSQL is not answering at {url.host}:{url.port or 5432}")
    schema = f"qmt_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # a server that answers but refuses us: skip, say why
        admin.dispose()
        pytest.skip(f"PostgreSQL at {url.host}:{url.port} refused a test schema: {exc}")
    scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()

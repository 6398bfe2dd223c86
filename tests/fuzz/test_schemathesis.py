"""Fuzz every operation of the OpenAPI schema, authorized as admin, with a fixed seed and a
bounded number of cases: no 5xx, and every response conforms to the schema (status, media
type, headers, body).

The app runs on the simulator with a fresh SQLite file; schemathesis drives it in-process
over ASGI and keeps its lifespan running for the session.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.app.core.config import Settings
from backend.app.main import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

ADMIN_PASSWORD = "fuzz-admin-pass-123"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations that would stop the fuzz run itself or flood the log, not find bugs.
SKIP_OPERATIONS: frozenset[str] = frozenset()


def _build_app() -> Any:
    # Built at import: schemathesis needs the schema to generate one test per operation.
    root = Path(tempfile.mkdtemp(prefix="qmt-fuzz-"))
    return create_app(
        Settings(
            _env_file=None,
            database_url=f"sqlite:///{(root / 'fuzz.db').as_posix()}",
            data_dir=root / "data",
            strategy_dir=root / "strategies",
            jwt_secret_key="fuzz-signing-key-0123456789abcdef0123456789",
            admin_username="admin",
            admin_password=ADMIN_PASSWORD,
            sim_seed=7,
            sim_initial_positions="600519.SH:1000,000001.SZ:5000",
            rate_limit_orders_per_second=0,
            rate_limit_logins_per_minute=0,
            log_level="ERROR",
        )
    )


APP = _build_app()
# Loading the schema starts the app's lifespan on schemathesis' own event loop, kept for the
# session (schemathesis stops it at exit).
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def admin_headers() -> dict[str, str]:
    client = TestClient(APP)  # no `with`: the lifespan above already runs
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,  # a fixed seed: the same cases on every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, admin_headers: dict[str, str]) -> None:
    if case.operation.label in SKIP_OPERATIONS:
        pytest.skip("excluded from fuzzing")
    case.call_and_validate(headers=admin_headers, checks=CHECKS)

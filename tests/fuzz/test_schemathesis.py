"""Fuzz every operation of the OpenAPI schema, authorized as admin, with a fixed seed, and run
every schemathesis check on each response: no 5xx, status/media type/headers/body as the
schema says, invalid data refused and valid data accepted (the schema states the constraints
the code enforces), 405 with the right `Allow`, auth enforced where declared.

Two sizes: a quick sample in the default run (QUICK_EXAMPLES per operation), and the full
fuzz (>= 3,000 cases) when `QMT_FUZZ_FULL=1`:

    QMT_FUZZ_FULL=1 nice uv run pytest -q tests/fuzz/test_schemathesis.py

User management is fuzzed on a throw-away user: a valid username in a generated PATCH is
replaced by it, so the fuzz never disables, demotes or re-passwords the admin it runs as.
The app runs on the simulator with a fresh SQLite file; schemathesis drives it in-process
over ASGI and keeps its lifespan running for the session.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import CHECKS, load_all_checks

from backend.app.core.config import Settings
from backend.app.main import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.slow

FULL = os.environ.get("QMT_FUZZ_FULL", "") not in ("", "0")
QUICK_EXAMPLES = 8
FULL_EXAMPLES = 150
FULL_MIN_CASES = 3000
ADMIN_PASSWORD = "fuzz-admin-pass-123"
THROWAWAY = "fuzz-victim"
_USERNAME = re.compile(r"^[\w.@-]{1,64}$")

load_all_checks()


@schemathesis.check
def valid_data_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request is never refused as VALIDATION_ERROR: every constraint the code
    checks on the shape of a request is in the schema. (422 itself is fine for valid data:
    the account or the market may say no, e.g. INSUFFICIENT_FUNDS, PRICE_OUT_OF_LIMIT.)"""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("code") != "VALIDATION_ERROR":
        return None
    # A rule relating two fields (start <= end; data_file only for backtests) is a model-level
    # error at loc ["body"], which JSON Schema cannot state; the field descriptions do.
    fields = [e for e in body.get("errors", []) if list(e.get("loc", [])) != ["body"]]
    if fields:
        raise AssertionError(f"schema-valid request refused: {body.get('detail')}")
    return None


CHECKS_RUN = CHECKS.get_all()  # every check schemathesis has, not only "no 5xx", and ours
CASES = {"count": 0}


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
# 422 answers schema-valid orders the market refuses (funds, limits, sessions, risk rules);
# `valid_data_passes_validation` above keeps VALIDATION_ERROR out of that.
schema.config.checks.positive_data_acceptance.expected_statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx",
]  # fmt: skip


@pytest.fixture(scope="module")
def admin_headers() -> dict[str, str]:
    client = TestClient(APP)  # no `with`: the lifespan above already runs
    r = client.post("/api/v1/auth/token", data={"username": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    r = client.post(
        "/api/v1/auth/users",
        json={"username": THROWAWAY, "password": "throw-away-pass-1", "role": "viewer"},
        headers=headers,
    )
    assert r.status_code in (201, 409), r.text
    return headers


def _spare_the_admin(case: Any) -> None:
    if case.operation.path == "/api/v1/auth/users/{username}":
        name = (case.path_parameters or {}).get("username")
        if isinstance(name, str) and _USERNAME.match(name):
            case.path_parameters["username"] = THROWAWAY


@schema.parametrize()
@settings(
    max_examples=FULL_EXAMPLES if FULL else QUICK_EXAMPLES,
    derandomize=True,  # a fixed seed: the same cases on every run
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case: Any, admin_headers: dict[str, str]) -> None:
    _spare_the_admin(case)
    CASES["count"] += 1
    case.call_and_validate(headers=admin_headers, checks=CHECKS_RUN)


@pytest.mark.skipif(not FULL, reason="the full fuzz runs with QMT_FUZZ_FULL=1")
def test_the_full_fuzz_ran_enough_cases(capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print(f"\nschemathesis cases run: {CASES['count']}")
    assert CASES["count"] >= FULL_MIN_CASES, CASES

"""/health and /ready: no auth, readiness names what is missing."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.logging import setup_logging


class _DownBroker:
    def is_connected(self) -> bool:
        return False


def test_health_is_open(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


def test_ready_when_database_and_broker_are_up(client: TestClient) -> None:
    r = client.get("/ready")
    assert r.status_code == 200, r.text
    assert r.json()["checks"] == {"database": True, "broker": True}


def test_not_ready_names_the_broker(client: TestClient) -> None:
    real = client.app.state.qmt  # type: ignore[attr-defined]
    client.app.state.qmt = _DownBroker()  # type: ignore[attr-defined]
    try:
        r = client.get("/ready")
    finally:
        client.app.state.qmt = real  # type: ignore[attr-defined]
    assert r.status_code == 503
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == "NOT_READY"
    assert body["checks"] == {"database": True, "broker": False}
    assert "broker" in body["detail"]


def test_json_logs_are_one_object_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging(Settings(_env_file=None, log_json=True, log_level="INFO"), force=True)
    try:
        logger.info("hello password=hunter2")
    finally:
        setup_logging(Settings(_env_file=None, log_level="WARNING"), force=True)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["record"]["message"] == "hello password=***"

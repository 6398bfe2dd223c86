"""Finding 5 of issue 14: the stream's handshake never raises, and a user who loses their
rights loses their open streams within a second or two, in every process."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from loguru import logger
from starlette.websockets import WebSocketDisconnect

from backend.app.api.v1 import stream_guard
from backend.app.core.config import Settings
from tests.api.test_risk_multiprocess import REDIS_URL, two_servers
from tests.conftest import poll, redis_up

STREAM = "/api/v1/trading/stream"


@pytest.fixture
def errors_logged() -> Iterator[list[str]]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="ERROR")
    yield seen
    logger.remove(sink)


def close_code(ws: Any, within: float) -> int:
    """The close code the server sends within `within` seconds (fails rather than hangs)."""
    out: dict[str, Any] = {}

    def read() -> None:
        try:
            while True:
                ws.receive_json()
        except WebSocketDisconnect as exc:
            out["code"] = exc.code
        except Exception as exc:
            out["error"] = exc

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(within)
    assert "code" in out, f"stream still open after {within} s ({out.get('error')!r})"
    return int(out["code"])


@pytest.mark.parametrize(
    ("first", "code"),
    [('[1,2]', 4400), ("not json", 4400), ('{"token": 5}', 4400), ('"tok"', 4400),
     ('{"token": "a\\u0000b"}', 4400), ('{"token": "nope"}', 4401), ("{}", 4400)],
)  # fmt: skip
def test_a_malformed_first_message_closes_with_4400_and_no_traceback(
    client: TestClient, errors_logged: list[str], first: str, code: int
) -> None:
    with client.websocket_connect(STREAM) as ws:
        ws.send_text(first)
        assert close_code(ws, within=5) == code
    assert errors_logged == []


def test_no_first_message_in_time_closes_with_4401(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_guard, "AUTH_TIMEOUT", 0.3)
    with client.websocket_connect(STREAM) as ws:
        assert close_code(ws, within=5) == 4401


@pytest.mark.parametrize(
    "change", [{"is_active": False}, {"role": "viewer"}, {"password": "another-pass-123"}]
)
def test_a_changed_user_loses_their_open_stream_at_once(
    client: TestClient,
    admin_token: str,
    trader_token: str,
    auth: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
    change: dict[str, Any],
) -> None:
    monkeypatch.setattr(stream_guard, "RECHECK_SECONDS", 60.0)  # only the change may close it
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        r = client.patch("/api/v1/auth/users/trader", json=change, headers=auth(admin_token))
        assert r.status_code == 200, r.text
        started = time.monotonic()
        assert close_code(ws, within=2) == 4401
    assert time.monotonic() - started < 2


def test_a_promotion_or_another_users_change_keeps_the_stream(
    client: TestClient,
    admin_token: str,
    viewer_token: str,
    make_user: Callable[..., str],
    auth: Callable[[str], dict[str, str]],
) -> None:
    make_user("other", "trader")
    with client.websocket_connect(f"{STREAM}?token={viewer_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        h = auth(admin_token)
        assert client.patch(
            "/api/v1/auth/users/viewer", json={"role": "trader"}, headers=h
        ).is_success
        assert client.patch(
            "/api/v1/auth/users/other", json={"is_active": False}, headers=h
        ).is_success
        time.sleep(0.3)
        ws.send_text("still there?")  # the server only reads to notice a close
        assert client.portal is not None
        client.portal.call(client.app.state.event_log.emit, "asset", {"ping": 1})  # type: ignore[attr-defined]
        event = ws.receive_json()
        assert (event["type"], event["data"]) == ("asset", {"ping": 1})


def test_without_redis_another_process_closes_it_by_the_periodic_check(
    settings_factory: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_guard, "RECHECK_SECONDS", 0.5)
    with two_servers(settings_factory, tmp_path) as (a, b, admin, trader):
        token = trader["Authorization"].split()[1]
        name = b.get("/api/v1/auth/me", headers=trader).json()["username"]
        with b.websocket_connect(f"{STREAM}?token={token}") as ws:
            assert ws.receive_json()["type"] == "connection"
            assert a.patch(
                f"/api/v1/auth/users/{name}", json={"is_active": False}, headers=admin
            ).is_success
            assert close_code(ws, within=3) == 4401


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(), reason="no Redis at 127.0.0.1:6379")
def test_with_redis_another_process_closes_it_at_once(
    settings_factory: Callable[..., Settings], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_guard, "RECHECK_SECONDS", 60.0)  # only Redis may close it
    with two_servers(settings_factory, tmp_path, redis_url=REDIS_URL) as (a, b, admin, trader):
        poll(lambda: b.app.state.risk_sync.listening)  # type: ignore[attr-defined]
        token = trader["Authorization"].split()[1]
        name = b.get("/api/v1/auth/me", headers=trader).json()["username"]
        with b.websocket_connect(f"{STREAM}?token={token}") as ws:
            assert ws.receive_json()["type"] == "connection"
            assert a.patch(
                f"/api/v1/auth/users/{name}", json={"role": "viewer"}, headers=admin
            ).is_success
            assert close_code(ws, within=2) == 4401

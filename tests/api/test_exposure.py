"""Finding 7 of issue 14 (besides login throttling, in test_ops.py): /metrics behind a token
when METRICS_TOKEN is set, and the broker account id masked for viewers."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app

STREAM = "/api/v1/trading/stream"
METRICS_TOKEN = "scrape-token-0123456789"


def test_metrics_need_the_token_when_one_is_set(settings_factory: Callable[..., Settings]) -> None:
    with TestClient(create_app(settings_factory(metrics_token=METRICS_TOKEN))) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": METRICS_TOKEN}):
            r = c.get("/metrics", headers=headers)
            assert r.status_code == 401
            assert r.json()["code"] == "UNAUTHORIZED"
            assert "http_requests_total" not in r.text
        r = c.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert r.status_code == 200
        assert "http_requests_total" in r.text


def test_metrics_stay_open_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 200


def test_viewers_see_the_account_id_masked(
    client: TestClient, viewer_token: str, trader_token: str, auth: Callable[[str], dict[str, str]]
) -> None:
    for path in ("/api/v1/trading/status", "/api/v1/trading/account-info"):
        assert client.get(path, headers=auth(viewer_token)).json()["account_id"] == "*****0001"
        assert client.get(path, headers=auth(trader_token)).json()["account_id"] == "SIM000001"
    with client.websocket_connect(f"{STREAM}?token={viewer_token}") as ws:
        assert ws.receive_json()["data"]["account_id"] == "*****0001"
        assert client.portal is not None
        asset = {"account_id": "SIM000001", "cash": "1"}
        client.portal.call(client.app.state.event_log.emit, "asset", asset)  # type: ignore[attr-defined]
        assert ws.receive_json()["data"] == {"account_id": "*****0001", "cash": "1"}
    with client.websocket_connect(f"{STREAM}?token={trader_token}") as ws:
        assert ws.receive_json()["data"]["account_id"] == "SIM000001"

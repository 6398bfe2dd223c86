"""Crash safety of the order path: a real `qmt-api serve` killed with SIGKILL and restarted.

No order may be lost, doubled or left `pending`, and the simulated account (cash, positions)
must be exactly where it was.
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only"),
]
REPO = Path(__file__).resolve().parents[2]
API = "/api/v1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def _server(tmp: Path, port: int, poll: Callable[..., Any]) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {
        "QMT_MODE": "simulated",
        "DATABASE_URL": f"sqlite:///{(tmp / 'qmt.db').as_posix()}",
        "DATA_DIR": str(tmp / "data"),
        "JWT_SECRET_KEY": "restart-test-key-0123456789abcdef0123456789",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "admin-pass-123",
        "SIM_SEED": "7",
        "RATE_LIMIT_ORDERS_PER_SECOND": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO),
    }
    cmd = [sys.executable, "-c", "from backend.app.cli import main; main()",
           "serve", "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        # Generous: a loaded 2-core CI machine has taken 25 s just to import the app.
        poll(lambda: _ready(port) or proc.poll() is not None, timeout=150, interval=0.1)
        assert proc.poll() is None, "server exited at start"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _client(port: int, stack: ExitStack) -> httpx.Client:
    c = httpx.Client(base_url=f"http://127.0.0.1:{port}{API}", timeout=10)
    stack.callback(c.close)
    r = c.post("/auth/token", data={"username": "admin", "password": "admin-pass-123"})
    assert r.status_code == 200, r.text
    c.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
    return c


def _price(c: httpx.Client, code: str, factor: str) -> str:
    q = c.get(f"/market/quote/{code}").json()
    ref = q["ask"][0][0] if Decimal(factor) > 1 else q["bid"][0][0]
    return str((Decimal(ref) * Decimal(factor)).quantize(Decimal("0.01")))


def _orders(c: httpx.Client) -> list[dict[str, Any]]:
    return list(c.get("/trading/orders", params={"limit": 500}).json()["items"])


def _account(c: httpx.Client) -> tuple[Any, ...]:
    a = c.get("/trading/account-info").json()
    pos = c.get("/trading/positions").json()["items"]
    vols = sorted((p["stock_code"], p["volume"], p["can_use_volume"]) for p in pos)
    return a["available_cash"], a["frozen_cash"], tuple(vols)


@pytest.mark.timeout(600)  # two server starts; slow on a loaded machine
def test_sigkill_loses_doubles_or_strands_no_order(
    tmp_path: Path, eventually: Callable[..., Any], request: pytest.FixtureRequest
) -> None:
    request_cleanup = request.addfinalizer
    port = _free_port()
    stack = ExitStack()
    request_cleanup(stack.close)
    with _server(tmp_path, port, eventually) as proc:
        c = _client(port, stack)
        placed = []
        for code in ("600519.SH", "000001.SZ"):
            for factor in ("1.01", "0.985"):
                price = _price(c, code, factor)
                body = {"stock_code": code, "side": "buy", "quantity": 100, "price": price,
                        "client_order_id": f"{code}-{factor}"}  # fmt: skip
                r = c.post("/trading/order", json=body)
                assert r.status_code == 201, r.text
                placed.append(r.json()["order_id"])
        eventually(lambda: sum(o["status"] == "filled" for o in _orders(c)) == 2, timeout=30)
        for o in _orders(c):
            if o["status"] == "reported":
                assert c.delete(f"/trading/orders/{o['order_id']}").status_code == 202
        eventually(lambda: not [o for o in _orders(c) if o["status"] not in
                                ("filled", "cancelled")], timeout=30)  # fmt: skip
        before_orders = {o["order_id"]: o["status"] for o in _orders(c)}
        before_account = _account(c)
        proc.send_signal(signal.SIGKILL)

    with _server(tmp_path, port, eventually) as proc:
        c = _client(port, stack)
        assert {o["order_id"]: o["status"] for o in _orders(c)} == before_orders
        assert _account(c) == before_account
        burst = []
        for i in range(20):
            price = _price(c, "600036.SH", "0.985")
            body = {"stock_code": "600036.SH", "side": "buy", "quantity": 100, "price": price,
                    "client_order_id": f"burst-{i}"}  # fmt: skip
            r = c.post("/trading/order", json=body)
            assert r.status_code == 201, r.text
            burst.append(r.json()["order_id"])
        proc.send_signal(signal.SIGKILL)

    with _server(tmp_path, port, eventually):
        c = _client(port, stack)
        orders = _orders(c)
        ids = [o["order_id"] for o in orders]
        assert sorted(ids) == sorted(set(placed) | set(burst))
        assert not [o for o in orders if o["status"] == "pending"]
        # A retry of every burst order after the crash places nothing new.
        for i, oid in enumerate(burst):
            body = {"stock_code": "600036.SH", "side": "buy", "quantity": 100,
                    "price": next(o["price"] for o in orders if o["order_id"] == oid),
                    "client_order_id": f"burst-{i}"}  # fmt: skip
            r = c.post("/trading/order", json=body)
            assert r.status_code == 200, r.text
            assert r.json()["order_id"] == oid
        assert len(_orders(c)) == len(ids)

    db = sqlite3.connect(tmp_path / "qmt.db")
    try:
        rows = db.execute("SELECT broker_order_id, status FROM orders").fetchall()
    finally:
        db.close()
    broker_ids = [b for b, _ in rows if b is not None]
    assert len(broker_ids) == len(set(broker_ids))
    # Every order the broker took is matched; the rest were refused as never received.
    assert all(b is not None or s == "rejected" for b, s in rows)

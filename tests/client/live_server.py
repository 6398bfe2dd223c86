"""A real `qmt-api serve` in a subprocess on a free port, for the client's tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
ADMIN = ("admin", "admin-pass-123")
TRADER = ("alice", "alice-pass-123")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """Start, kill -9 and restart one server on one port and one database."""

    def __init__(self, tmp: Path, **env: str) -> None:
        self.tmp, self.port = tmp, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = (
            os.environ
            | {
                "QMT_MODE": "simulated",
                "DATABASE_URL": f"sqlite:///{(tmp / 'qmt.db').as_posix()}",
                "DATA_DIR": str(tmp / "data"),
                "JWT_SECRET_KEY": "client-test-key-0123456789abcdef0123456789ab",
                "ADMIN_USERNAME": ADMIN[0],
                "ADMIN_PASSWORD": ADMIN[1],
                "SIM_SEED": "11",
                "SIM_INITIAL_POSITIONS": "600519.SH:1000,000001.SZ:2000",
                "RATE_LIMIT_ORDERS_PER_SECOND": "0",
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(REPO),
            }
            | env
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-c", "from backend.app.cli import main; main()",
               "serve", "--host", "127.0.0.1", "--port", str(self.port)]  # fmt: skip
        self.proc = subprocess.Popen(  # noqa: S603
            cmd, cwd=self.tmp, env=self.env, stdout=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 150  # a loaded 2-core machine: the import alone took 25 s
        while not self._ready():
            if self.proc.poll() is not None:
                raise RuntimeError("qmt-api serve exited at start")
            if time.monotonic() > deadline:
                raise RuntimeError("qmt-api serve not ready in 150 s")
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL on POSIX: no shutdown, no flush
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def add_trader(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as c:
            r = c.post("/api/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
            h = {"Authorization": f"Bearer {r.json()['access_token']}"}
            body = {"username": TRADER[0], "password": TRADER[1], "role": "trader"}
            r = c.post("/api/v1/auth/users", json=body, headers=h)
            assert r.status_code in (201, 409), r.text

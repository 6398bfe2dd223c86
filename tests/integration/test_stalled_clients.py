"""Finding 6 (the issue's item 7) of issue 14: clients that send half a request head and
stop are dropped, and `/health` keeps answering, against a real `qmt-api serve`.

The server runs with at most 256 file descriptors (as `ulimit -n 256` would), a 2 s head
deadline and at most 40 connections mid-head; the test opens 300 stalled connections on
loopback (more than the server has descriptors for). Before the guard, every `/health`
probe failed until the stalled clients gave up by themselves.
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_FDS = 256
STALLED = 300
HALF_HEAD = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX rlimits and subprocess"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _limit_fds() -> None:  # runs in the child before exec
    resource.setrlimit(resource.RLIMIT_NOFILE, (SERVER_FDS, SERVER_FDS))


def health(port: int, timeout: float = 1.0) -> float:
    """Seconds one `GET /health` took (raises on failure or timeout)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
    return time.monotonic() - started


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QMT_MODE": "simulated",
        "DATABASE_URL": f"sqlite:///{(tmp_path / 'api.db').as_posix()}",
        "DATA_DIR": str(tmp_path / "data"),
        "STRATEGY_DIR": str(tmp_path / "strategies"),
        "JWT_SECRET_KEY": "x" * 48,
        "ADMIN_PASSWORD": "a-long-test-password-1",
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        "HEADER_TIMEOUT_SECONDS": "2",
        "MAX_INCOMPLETE_CONNECTIONS": "40",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-c", "from backend.app.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=err,
            preexec_fn=_limit_fds,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                health(port)
                break
            except (OSError, AssertionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"server did not start: {log.read_text(errors='replace')[-2000:]}")
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _stall(port: int, n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", port))
            s.sendall(HALF_HEAD)
        except OSError:
            s.close()
            continue
        socks.append(s)
    return socks


def _closed_by_server(s: socket.socket) -> bool:
    s.settimeout(0.01)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_stalled_half_requests_are_dropped_and_health_keeps_answering(server: int) -> None:
    socks = _stall(server, STALLED)
    try:
        # While the flood is on: every probe answers, quickly.
        probes = [health(server, timeout=2.0) for _ in range(5)]
        assert max(probes) < 1.0, probes
        # Beyond the cap, the oldest stalled connections were closed at once...
        early = sum(_closed_by_server(s) for s in socks[:100])
        assert early >= 90, early
        # ...and after the head deadline, every one of them.
        time.sleep(3)
        assert all(_closed_by_server(s) for s in socks)
        assert health(server) < 1.0
    finally:
        for s in socks:
            s.close()


def test_a_slow_but_steady_client_within_the_deadline_is_served(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=5) as s:
        for part in (b"GET /health HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"Connection: close\r\n"):
            s.sendall(part)
            time.sleep(0.3)
        s.sendall(b"\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200")


def test_pipelined_requests_are_all_answered_on_one_connection(server: int) -> None:
    one = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server), timeout=5) as s:
        s.sendall(one * 3 + b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.count(b"HTTP/1.1 200") == 4

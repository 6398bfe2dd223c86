"""A second server on the same simulated books refuses to start (it used to run brokerless)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from loguru import logger

from backend.app.core.config import Settings
from backend.app.main import create_app
from xtquant_adapter.sim import BooksLock, SimBooksLocked

ROOT = Path(__file__).resolve().parents[2]


def test_second_app_on_the_same_data_dir_refuses_to_start(settings: Settings) -> None:
    first = create_app(settings)
    with TestClient(first):
        lines: list[str] = []
        sink = logger.add(lambda m: lines.append(str(m)), level="ERROR")
        try:
            second = create_app(settings)
            with pytest.raises(SimBooksLocked), TestClient(second):
                pass
        finally:
            logger.remove(sink)
        refused = [ln for ln in lines if "start-up refused" in ln]
        assert len(refused) == 1, lines
        assert "启动失败" in refused[0]
        assert "Traceback" not in "".join(lines)
        # The holder was left alone: still connected to its broker.
        assert first.state.qmt.is_connected()
        assert second.state.qmt.reconnector.running is False


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX subprocess environment")
def test_qmt_api_serve_exits_non_zero_when_the_books_are_held(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
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
        "LOG_LEVEL": "INFO",
    }
    with BooksLock(tmp_path / "data" / "sim"):  # "another process" holds the books
        r = subprocess.run(  # noqa: S603
            [sys.executable, "-c", "from backend.app.cli import main; main()", "serve",
             "--port", str(port)],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert r.returncode != 0, r.stderr[-2000:]
    assert r.stderr.count("start-up refused") == 1, r.stderr[-2000:]
    assert "模拟账本正被另一个进程使用" in r.stderr
    assert "Traceback" not in r.stderr  # the one clear line is the whole story

"""One process at a time on the simulated books; the OS drops the lock when the holder dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.unit.adapter.simkit import ACCOUNT, make_trader
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.sim import BooksLock, SimBooksLocked, reset_books
from xtquant_adapter.sim.booklock import OWNER_NAME
from xtquant_adapter.sim.store import db_path

MESSAGE = "模拟账本正被另一个进程使用 / the simulated books are in use by another process"


def test_second_trader_on_the_same_books_fails_fast(tmp_path: Path) -> None:
    first, _, _ = make_trader(tmp_path)
    try:
        with pytest.raises(SimBooksLocked) as caught:
            make_trader(tmp_path)
        assert caught.value.pid == os.getpid()
        text = str(caught.value)
        assert text.startswith(f"{MESSAGE} (pid {os.getpid()})")
        assert str(tmp_path) in text
        # The loser left the holder alone: it still trades and commits.
        assert first.order_stock(ACCOUNT, "600000.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 11.0) > 0
    finally:
        first.close()
    second, _, _ = make_trader(tmp_path)  # released by close()
    try:
        assert len(second.query_stock_orders(ACCOUNT)) == 1
    finally:
        second.close()
        second.close()  # idempotent
    assert not (tmp_path / OWNER_NAME).exists()


def test_reset_books_refuses_while_open(tmp_path: Path) -> None:
    trader, _, _ = make_trader(tmp_path)
    try:
        with pytest.raises(SimBooksLocked):
            reset_books(tmp_path)
        assert db_path(tmp_path).exists()
        trader.reset()  # the holder itself may still wipe its own books
        assert trader.query_stock_asset(ACCOUNT).cash == 1_000_000
    finally:
        trader.close()
    reset_books(tmp_path)
    assert not db_path(tmp_path).exists()


def test_a_failed_open_releases_the_lock(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"999999\.SH"):  # found while opening the books
        make_trader(tmp_path, initial_positions={"999999.SH": 100})
    with BooksLock(tmp_path) as lock:
        assert lock.held
    assert not lock.held


def test_sim_reset_cli_refuses_while_the_books_are_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backend.app.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{(tmp_path / 'cli.db').as_posix()}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    monkeypatch.delenv("QMT_MODE", raising=False)
    books = tmp_path / "data" / "sim"
    trader, _, _ = make_trader(books)
    try:
        r = CliRunner().invoke(app, ["sim", "reset", "--yes"])
        assert r.exit_code == 1, r.output
        assert f"SimBooksLocked: {MESSAGE}" in r.output
        assert db_path(books).exists()
    finally:
        trader.close()
    r = CliRunner().invoke(app, ["sim", "reset", "--yes"])
    assert r.exit_code == 0, r.output
    assert not db_path(books).exists()


# Opens the books, says so, then waits for the parent (which kills it).
CHILD = textwrap.dedent(
    """
    import sys
    from datetime import datetime
    from xtquant_adapter.ashare.calendar import SHANGHAI
    from xtquant_adapter.sim import ManualClock, SimulatedXtQuantTrader

    clock = ManualClock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
    trader = SimulatedXtQuantTrader(sys.argv[1], 1, clock=clock)
    trader.start()
    print("ready", flush=True)
    sys.stdin.read()
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
def test_kill_9_of_the_holder_releases_the_lock(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CHILD, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        with pytest.raises(SimBooksLocked) as caught:
            make_trader(tmp_path)
        assert caught.value.pid == child.pid
        with pytest.raises(SimBooksLocked):
            reset_books(tmp_path)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        for pipe in (child.stdin, child.stdout):
            if pipe is not None:
                pipe.close()
    assert child.returncode == -signal.SIGKILL
    # No clean-up ran in the child; its note may remain, but the lock is gone.
    trader, _, _ = make_trader(tmp_path, initial_cash=Decimal("1000000"))
    try:
        assert trader.query_stock_asset(ACCOUNT) is not None
    finally:
        trader.close()
    reset_books(tmp_path)

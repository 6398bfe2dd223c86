"""Helpers for simulator tests: a recording callback, a trader factory, eventually()."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.sim import ManualClock, SimConfig, SimulatedXtQuantTrader
from xtquant_adapter.xttype import StockAccount

ACCOUNT = StockAccount("SIM000001")


class Recorder:
    """Records every push as (name, thread name, record)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []
        self.changed = threading.Condition()

    def __getattr__(self, name: str) -> Callable[..., None]:
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            with self.changed:
                self.events.append(
                    (name, threading.current_thread().name, args[0] if args else None)
                )
                self.changed.notify_all()

        return record

    def of(self, name: str) -> list[Any]:
        return [r for n, _, r in self.events if n == name]

    def statuses(self, order_id: int) -> list[int]:
        return [o.order_status for o in self.of("on_stock_order") if o.order_id == order_id]


def eventually(pred: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait for a condition set by another thread, with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        time.sleep(0.001)


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


def make_trader(
    path: Path, *, when: datetime | None = None, **cfg: Any
) -> tuple[SimulatedXtQuantTrader, Recorder, ManualClock]:
    clock = ManualClock(when or bj(2026, 11, 25, 10, 0))
    cfg.setdefault("seed", 42)
    cfg.setdefault("initial_cash", Decimal("1000000"))
    trader = SimulatedXtQuantTrader(path, 1, config=SimConfig(**cfg), clock=clock)
    rec = Recorder()
    trader.register_callback(rec)  # type: ignore[arg-type]
    trader.start()
    assert trader.connect() == 0
    assert trader.subscribe(ACCOUNT) == 0
    return trader, rec, clock

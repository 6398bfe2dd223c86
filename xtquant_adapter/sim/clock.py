"""Injectable clocks: the server runs on `SystemClock`; tests drive a `ManualClock`."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol

from xtquant_adapter.ashare.calendar import SHANGHAI, to_shanghai


class Clock(Protocol):
    """Source of exchange time. `now()` is timezone-aware, Asia/Shanghai."""

    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in Beijing. With it the simulator's market moves by itself."""

    def now(self) -> datetime:
        return datetime.now(SHANGHAI)


class ManualClock:
    """A clock that only moves when told to; nothing in the simulator moves without it.

    A naive `start` is taken to be Beijing time.
    """

    def __init__(self, start: datetime) -> None:
        self._now = to_shanghai(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = to_shanghai(when)

    def advance(self, delta: timedelta | None = None, /, **kwargs: float) -> datetime:
        """Move forward by `delta` or by timedelta keyword arguments (`seconds=`, `days=`...)."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a clock does not go backwards")
        with self._lock:
            self._now += step
            return self._now

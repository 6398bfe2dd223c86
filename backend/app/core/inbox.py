"""Items from a foreign thread (the SDK's push thread) to the event loop, one wake-up per burst.

`loop.call_soon_threadsafe` per item writes to the loop's self-pipe and wakes it each time;
a broker answers an order with several pushes at once (the answer, the order update, the
asset), so the first item of a burst schedules one drain and the others just join the list.
Order is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    def __init__(self, handle: Callable[[list[T]], None]) -> None:
        self._handle = handle
        self._items: list[T] = []
        self._lock = threading.Lock()

    def post(self, loop: asyncio.AbstractEventLoop, item: T) -> None:
        """From any thread: queue `item`; `handle` gets it on the loop, in order."""
        with self._lock:
            self._items.append(item)
            if len(self._items) > 1:
                return  # a drain is scheduled already
        # The loop may close while we shut down; an item then has nowhere to go.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._lock:
            burst, self._items = self._items, []
        if burst:
            self._handle(burst)

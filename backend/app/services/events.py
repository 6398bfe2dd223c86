"""In-process pub/sub of `{"seq", "type", "data"}` events for the WebSocket stream.

Publishing never blocks and never fails: each subscriber has a bounded queue, and a subscriber
that falls behind loses its oldest events (counted in `dropped`), so a slow WebSocket can never
slow down trading. What it lost is still in the event log (`seq` leaves a gap the stream fills
from the database). Call `publish` on the event loop's thread, and only after the event's row
in the log has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

EventType = Literal["order", "trade", "position", "asset", "connection"]


class Subscription:
    def __init__(self, maxsize: int) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def offer(self, event: dict[str, Any]) -> None:
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()
                self.dropped += 1

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()


class EventBus:
    def __init__(self, *, queue_size: int = 1000) -> None:
        self._queue_size = queue_size
        self._subscribers: set[Subscription] = set()
        self.published = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, seq: int, type_: str, data: dict[str, Any]) -> None:
        """Hand one committed event to every subscriber; returns at once."""
        self.published += 1
        if not self._subscribers:
            return
        event = {"seq": seq, "type": type_, "data": data}
        for sub in tuple(self._subscribers):
            sub.offer(event)

    @asynccontextmanager
    async def subscribe(self, *, maxsize: int | None = None) -> AsyncIterator[Subscription]:
        """A subscription that lives for the `async with` block."""
        sub = Subscription(maxsize or self._queue_size)
        self._subscribers.add(sub)
        try:
            yield sub
        finally:
            self._subscribers.discard(sub)

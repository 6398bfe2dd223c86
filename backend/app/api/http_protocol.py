"""uvicorn's h11 protocol with two guards it lacks: a deadline for the request head and a cap
on connections still sending one.

uvicorn times out idle keep-alive connections but not a client that sends half a request
head and stops: each such connection holds a file descriptor for ever, and 1,100 of them from
one unauthenticated client made every `/health` fail (descriptors ran out). Here:

- each connection must finish its request head within HEADER_TIMEOUT_SECONDS of connecting
  (or of its previous response), else it is closed;
- at most MAX_INCOMPLETE_CONNECTIONS connections may be mid-head at once; one more closes the
  one that has waited longest, so a stalled flood evicts itself, not the quick probe.

Bodies are guarded in ASGI (api/body_limit.py: size and per-chunk timeout). `qmt-api serve`
passes this class as uvicorn's `http` protocol after `configure(settings)`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class GuardedH11Protocol(H11Protocol):
    header_timeout: ClassVar[float] = 10.0
    max_incomplete: ClassVar[int] = 200
    # Connections mid-head, oldest first (one event loop per server process: no lock needed).
    incomplete: ClassVar[OrderedDict[GuardedH11Protocol, None]] = OrderedDict()
    dropped: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE or self.transport.get_protocol() is not self:
            self._head_done()  # the head is in (or the connection became a WebSocket)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._await_head()  # keep-alive: the next head gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        self._head_done()
        incomplete = type(self).incomplete
        while len(incomplete) >= self.max_incomplete:
            oldest, _ = incomplete.popitem(last=False)
            oldest._drop()
        incomplete[self] = None
        self._head_timer = self.loop.call_later(self.header_timeout, self._drop)

    def _head_done(self) -> None:
        type(self).incomplete.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _drop(self) -> None:
        self._head_done()
        if not self.transport.is_closing():
            type(self).dropped += 1
            self.transport.close()


def configure(*, header_timeout: float, max_incomplete: int) -> type[GuardedH11Protocol]:
    """Set the guards (before uvicorn starts) and return the protocol class to pass it."""
    GuardedH11Protocol.header_timeout = header_timeout
    GuardedH11Protocol.max_incomplete = max_incomplete
    return GuardedH11Protocol

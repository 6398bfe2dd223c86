"""uvicorn's httptools protocol with two guards it lacks: a deadline for the request head and
a cap on connections still sending one.

uvicorn times out idle keep-alive connections but not a client that sends half a request
head and stops: each such connection holds a file descriptor for ever, and 1,100 of them from
one unauthenticated client made every `/health` fail (descriptors ran out). Here:

- each connection must finish its request head within HEADER_TIMEOUT_SECONDS of connecting
  (or of its previous response), else it is closed;
- at most MAX_INCOMPLETE_CONNECTIONS connections may be mid-head at once; one more closes the
  one that has waited longest, so a stalled flood evicts itself, not the quick probe.

Built on httptools (C), not h11: wave 2 first put the guard on uvicorn's pure-Python h11
protocol, and parsing plus writing through h11 cost ~15% of an order's CPU at one connection
(docs/performance.md, round 2). The deadline costs no timer per request either: connections
mid-head wait in one insertion-ordered table, and one sweep a second closes those past it.

Bodies are guarded in ASGI (api/body_limit.py: size and per-chunk timeout). `qmt-api serve`
passes this class as uvicorn's `http` protocol after `configure(settings)`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_SWEEP_SECONDS = 1.0


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    header_timeout: ClassVar[float] = 10.0
    max_incomplete: ClassVar[int] = 200
    # Connections mid-head -> when they started waiting, oldest first (one event loop per
    # server process: no lock needed).
    incomplete: ClassVar[OrderedDict[GuardedHttpToolsProtocol, float]] = OrderedDict()
    dropped: ClassVar[int] = 0
    _sweeper: ClassVar[asyncio.TimerHandle | None] = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_head()

    def on_headers_complete(self) -> None:
        self._head_done()  # the head is in (also for a WebSocket upgrade)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a pipelined request, its head already in, is being answered now
        self._await_head()  # keep-alive: the next head gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._head_done()
        super().connection_lost(exc)

    def _await_head(self) -> None:
        incomplete = type(self).incomplete
        incomplete.pop(self, None)
        while len(incomplete) >= self.max_incomplete:
            oldest, _ = incomplete.popitem(last=False)
            oldest._drop()
        incomplete[self] = self.loop.time()
        if GuardedHttpToolsProtocol._sweeper is None:
            GuardedHttpToolsProtocol._sweeper = self.loop.call_later(
                _SWEEP_SECONDS, _sweep, self.loop
            )

    def _head_done(self) -> None:
        type(self).incomplete.pop(self, None)

    def _drop(self) -> None:
        self._head_done()
        if not self.transport.is_closing():
            type(self).dropped += 1
            self.transport.close()


def _sweep(loop: asyncio.AbstractEventLoop) -> None:
    """Close the connections whose head is overdue (the table is in waiting order)."""
    cls = GuardedHttpToolsProtocol
    cls._sweeper = None
    incomplete = cls.incomplete
    cutoff = loop.time() - cls.header_timeout
    while incomplete:
        conn, since = next(iter(incomplete.items()))
        if since > cutoff:
            break
        conn._drop()
    if incomplete:
        cls._sweeper = loop.call_later(_SWEEP_SECONDS, _sweep, loop)


def configure(*, header_timeout: float, max_incomplete: int) -> type[Any]:
    """Set the guards (before uvicorn starts) and return the protocol class to pass it."""
    GuardedHttpToolsProtocol.header_timeout = header_timeout
    GuardedHttpToolsProtocol.max_incomplete = max_incomplete
    return GuardedHttpToolsProtocol

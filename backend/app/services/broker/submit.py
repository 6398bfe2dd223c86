"""The submit batcher: orders placed meanwhile go to the broker in one session-thread call.

One thread hand-off per batch instead of one per order, in arrival order; one failing submit
leaves the others of its batch alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Send = Callable[[], int]
Result = tuple[int, Exception | None]


def send_all(sends: list[Send]) -> list[Result]:
    """On the session thread: each submit in turn."""
    out: list[Result] = []
    for send in sends:
        try:
            out.append((send(), None))
        except Exception as exc:
            out.append((-1, exc))
    return out


class SubmitBatcher:
    """Queues submits; `run(sends)` makes one broker call for a whole batch."""

    def __init__(self, run: Callable[[list[Send]], Awaitable[list[Result]]]) -> None:
        self._run = run
        self._sends: list[tuple[Send, asyncio.Future[int]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def send(self, send: Send) -> int:
        """`send()`'s seq, run in order with the submits queued meanwhile."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        self._sends.append((send, fut))
        if self._sender is None:
            self._sender = loop.create_task(self._send_batches(), name="qmt-submit")
        return await fut

    async def _send_batches(self) -> None:
        try:
            while self._sends:
                batch, self._sends = self._sends, []
                try:
                    results = await self._run([send for send, _ in batch])
                except BaseException as exc:  # broker unavailable, or cancellation
                    for _, fut in batch:
                        if not fut.done():
                            if isinstance(exc, Exception):
                                fut.set_exception(exc)
                            else:
                                fut.cancel()
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, fut), (seq, error) in zip(batch, results, strict=True):
                    if fut.done():
                        continue
                    if error is None:
                        fut.set_result(seq)
                    else:
                        fut.set_exception(error)
        finally:
            self._sender = None

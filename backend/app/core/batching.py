"""One micro-batcher for every hot path that gains from doing many things at once: the
journal writer (one transaction per batch of new orders), the order updater (one
transaction per batch of broker pushes and commands) and the broker submit path (one
thread hand-off per batch of `order_stock_async` calls).

Items are handled in arrival order. While a batch is being handled, new items queue and
form the next batch, so under load batches grow by themselves and at one request at a time
each item is handled at once (no timer, no added latency).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from loguru import logger

T = TypeVar("T")
R = TypeVar("R")


class MicroBatcher(Generic[T, R]):
    """Queue items; one task at a time hands them to `handle` in batches of <= `max_batch`.

    `handle(batch)` answers one outcome per item (a result, or an exception for that item
    alone). If it raises, a batch of several is retried one item at a time when
    `split_on_error` (one bad row must not sink the others), or every item of the batch
    gets the exception when not (a broker call that timed out must never be repeated).
    `gather_turn` waits one loop turn before taking a batch, so what other threads have
    just posted to the loop joins it. `linger` (seconds) waits that long first when nobody is
    waiting on any queued item (only `post`ed ones): work that can wait yields the shared
    database thread to work that cannot, and gathers into fewer transactions.
    """

    def __init__(
        self, handle: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]], *, name: str,
        max_batch: int, split_on_error: bool, gather_turn: bool = False, linger: float = 0.0,
    ) -> None:  # fmt: skip
        self._handle = handle
        self._name = name
        self._max = max_batch
        self._split = split_on_error
        self._gather_turn = gather_turn
        self._linger = linger
        self._queue: list[tuple[T, asyncio.Future[R] | None]] = []
        self._task: asyncio.Task[None] | None = None

    def post(self, item: T) -> None:
        """Queue `item` when nobody waits for its outcome (a failure is logged)."""
        self._enqueue(item, None)

    async def submit(self, item: T) -> R:
        """Queue `item` and wait for its outcome."""
        fut: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._enqueue(item, fut)
        return await fut

    async def stop(self) -> None:
        """Stop the running batch; callers still waiting get CancelledError."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, fut in self._queue:
            if fut is not None and not fut.done():
                fut.cancel()
        self._queue.clear()

    def _enqueue(self, item: T, fut: asyncio.Future[R] | None) -> None:
        self._queue.append((item, fut))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._drain(), name=self._name)

    async def _drain(self) -> None:
        try:
            while self._queue:
                if self._linger and all(fut is None for _, fut in self._queue):
                    await asyncio.sleep(self._linger)
                if self._gather_turn:
                    await asyncio.sleep(0)
                batch = self._queue[: self._max]
                del self._queue[: self._max]
                await self._run(batch)
        finally:
            self._task = None

    async def _run(self, batch: list[tuple[T, asyncio.Future[R] | None]]) -> None:
        try:
            outcomes = await self._handle([item for item, _ in batch])
        except asyncio.CancelledError:
            for _, fut in batch:  # shutting down: nobody may wait forever
                if fut is not None and not fut.done():
                    fut.cancel()
            raise
        except Exception as exc:
            if self._split and len(batch) > 1:
                for one in batch:
                    await self._run([one])
                return
            for item, fut in batch:
                if fut is None:
                    logger.opt(exception=exc).error("{}: {!r} failed, dropped", self._name, item)
            outcomes = [exc] * len(batch)
        for (_, fut), outcome in zip(batch, outcomes, strict=True):
            if fut is not None and not fut.done():
                if isinstance(outcome, BaseException):
                    fut.set_exception(outcome)
                else:
                    fut.set_result(outcome)
            # A posted item's own refusal (an outcome, not a failure) has nobody to tell.

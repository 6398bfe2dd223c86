"""One thread running calls in the order they were handed in, for code on the event loop.

`await SerialThread.run(fn, *args)` costs one queue put and one `call_soon_threadsafe` back:
about half of `loop.run_in_executor` on a one-worker pool, whose concurrent.futures.Future
is chained to an asyncio future through locks and callbacks (`wrap_future`: ~10% of the
event loop's CPU per order in the round-2 profile, docs/performance.md). Used for SQLite's
single writer (db/session.py), where every unit of work runs on one thread anyway.

A caller cancelled while its call runs is told only once the call has ended, never while it
may still commit (as anyio's `to_thread.run_sync` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from loguru import logger

T = TypeVar("T")


class SerialThread:
    def __init__(self, name: str, initializer: Callable[[], None] | None = None) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._initializer = initializer  # run first, on the thread itself
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._queue.put((partial(fn, *args) if args else fn, fut, loop))
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            while not fut.done():  # the call may still commit: wait for its end
                try:
                    await asyncio.wait([fut])
                except asyncio.CancelledError:
                    continue
            raise

    def close(self, timeout: float | None = None) -> None:
        """Finish what is queued, then end the thread."""
        self._queue.put(None)
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _serve(self) -> None:
        if self._initializer is not None:
            try:
                self._initializer()
            except Exception:  # logged; the calls must run all the same
                logger.exception("{}: initializer failed", self._thread.name)
        while True:
            item = self._queue.get()
            if item is None:
                return
            call_and_settle(*item)
            del item  # drop references before blocking again


def call_and_settle(
    fn: Callable[[], Any], fut: asyncio.Future[Any], loop: asyncio.AbstractEventLoop
) -> None:
    """On a worker thread: run `fn` and hand its outcome (result or exception) to `fut` on
    its loop; a future already done (its caller gave up) is left alone."""
    try:
        result, error = fn(), None
    except BaseException as exc:  # handed to the awaiting coroutine
        result, error = None, exc
    with contextlib.suppress(RuntimeError):  # the loop closed during shutdown
        loop.call_soon_threadsafe(_settle, fut, result, error)


def _settle(fut: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if fut.done():
        return
    if error is not None:
        fut.set_exception(error)
    else:
        fut.set_result(result)

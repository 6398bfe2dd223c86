"""Calls into MiniQMT that can never exhaust the gateway.

The real SDK's sync calls wait with no timeout, and nothing fails them on a disconnect
(XTQUANT.md "Read first" 1). So:

* `SdkThread`: every call into ONE trader session runs on that session's own thread, in order,
  each with our deadline. A call that misses its deadline marks the thread `wedged`: the call
  and everything queued behind it fail at once with `CallTimedOut`, later calls fail without
  queueing, and the owner declares the session dead and builds a fresh trader (with a fresh
  thread). A wedged thread is abandoned; closing its trader releases it (real_trader.close()).
  However many calls hang, at most one thread per dead session is stuck, never a shared pool.
* `BoundedCalls`: xtdata (market data) calls on a small pool of their own; when every worker
  is busy (stuck) a new call fails at once instead of queueing behind them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from loguru import logger

from backend.app.core.errors import BrokerUnavailable
from backend.app.core.serial_thread import call_and_settle

T = TypeVar("T")

XTDATA_HINT = (
    "行情服务（xtdata）不可用：请确认 MiniQMT 已启动并登录；装有两套 QMT 时 xtdata 可能连到另一套"
    "（见 MINIQMT_INTEGRATION_GUIDE）/ market data (xtdata) unavailable: is MiniQMT running and "
    "logged in? With two QMT installs xtdata may attach to the other one"
)

_names = itertools.count(1)


class CallTimedOut(Exception):
    """A call into MiniQMT missed its deadline: the session is considered dead. QMTService
    turns it into 503 BROKER_UNAVAILABLE after replacing the session."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def query_failed(what: str) -> BrokerUnavailable:
    """MiniQMT answered a query with None (its "failed"): nothing can be concluded from it."""
    return BrokerUnavailable(f"MiniQMT 查询失败 / {what} failed (the SDK answered None)")


class SdkThread:
    """One thread making every call into one trader session, each with a deadline."""

    def __init__(self, name: str = "qmt-sdk", timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.wedged = ""  # why this thread stopped taking calls ("" while healthy)
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._pending: set[asyncio.Future[Any]] = set()
        self._thread = threading.Thread(
            target=self._run, name=f"{name}-{next(_names)}", daemon=True
        )
        self._thread.start()

    async def call(self, fn: Callable[..., T], *args: Any, timeout: float | None = None) -> T:  # noqa: ASYNC109 - a deadline per call, enforced here
        """Run `fn(*args)` on the session thread; raises `CallTimedOut` after the deadline."""
        if self.wedged:
            raise CallTimedOut(self.wedged)
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        self._pending.add(fut)
        fut.add_done_callback(self._pending.discard)
        self._queue.put((partial(fn, *args), fut, loop))
        limit = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(fut), limit)
        except TimeoutError:
            name = getattr(fn, "__name__", repr(fn))
            self._wedge(
                f"MiniQMT 无响应：{name} 超过 {limit:g}s 未返回，会话已判定失效 / MiniQMT did "
                f"not answer {name} within {limit:g}s; the session is considered dead"
            )
            raise CallTimedOut(self.wedged) from None

    def close(self) -> None:
        """Let the thread end once it is free (a wedged one ends if its call ever returns)."""
        self._queue.put(None)

    def _wedge(self, why: str) -> None:
        self.wedged = self.wedged or why
        for fut in tuple(self._pending):
            if not fut.done():
                fut.set_exception(CallTimedOut(self.wedged))
                fut.exception()  # its awaiter already has its own error: nothing to log
        self.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, fut, loop = item
            if self.wedged or fut.done():
                continue
            call_and_settle(fn, fut, loop)


class BoundedCalls:
    """A small worker pool whose calls have deadlines and never queue behind stuck ones.

    A call waits for a free worker (within its deadline) while the workers are merely busy:
    32 concurrent market orders each asking for a tick are load, not an outage. Once every
    worker holds a call that has outlived its deadline (MiniQMT stopped answering), new calls
    fail at once instead of queueing behind them.
    """

    def __init__(
        self, *, workers: int, timeout: float, unavailable: Callable[[str], Exception]
    ) -> None:
        self.workers = workers
        self.timeout = timeout
        self._unavailable = unavailable
        self._busy = 0
        self._stuck = 0  # calls past their deadline whose thread has not returned yet
        self._slots = asyncio.Semaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="qmt-data")

    @property
    def busy(self) -> int:
        return self._busy

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._stuck >= self.workers:
            raise self._unavailable(f"all {self.workers} workers are waiting on MiniQMT")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        try:
            await asyncio.wait_for(self._slots.acquire(), self.timeout)
        except TimeoutError:
            raise self._unavailable(f"all {self.workers} workers stayed busy") from None
        state = {"done": False, "late": False}
        self._busy += 1
        fut = loop.run_in_executor(self._pool, self._tracked, partial(fn, *args), state, loop)
        try:
            return await asyncio.wait_for(fut, max(deadline - loop.time(), 0.001))
        except TimeoutError:
            if not state["done"]:  # its thread is still in MiniQMT: count it as stuck
                state["late"] = True
                self._stuck += 1
            raise self._unavailable(f"no answer within {self.timeout:g}s") from None

    def _tracked(
        self, fn: Callable[[], T], state: dict[str, bool], loop: asyncio.AbstractEventLoop
    ) -> T:
        try:
            return fn()
        finally:
            with contextlib.suppress(RuntimeError):  # the loop may be gone at shutdown
                loop.call_soon_threadsafe(self._release, state)

    def _release(self, state: dict[str, bool]) -> None:
        """On the loop: the worker is free again (and no longer stuck, if it was)."""
        state["done"] = True
        self._busy -= 1
        if state["late"]:
            self._stuck -= 1
        self._slots.release()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


async def close_off_thread(close: Callable[[], None], limit: float) -> bool:
    """`close()` on a throwaway thread (the session's own may be stuck); True when it returned
    within `limit` seconds. A close that hangs is abandoned with its thread."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finish() -> None:
        if not done.done():
            done.set_result(None)

    def run() -> None:
        try:
            close()
        except Exception as exc:
            logger.warning("closing the trader failed: {}", exc)
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(finish)

    threading.Thread(target=run, name="qmt-close", daemon=True).start()
    try:
        await asyncio.wait_for(asyncio.shield(done), limit)
    except TimeoutError:
        return False
    return True


def send_all(sends: list[Callable[[], int]]) -> list[int | BaseException]:
    """On the session thread: each submit in turn; one failing leaves the others alone."""
    out: list[int | BaseException] = []
    for send in sends:
        try:
            out.append(send())
        except Exception as exc:
            out.append(exc)
    return out

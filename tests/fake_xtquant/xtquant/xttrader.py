"""Fake `xtquant.xttrader` with the real SDK's threading model (XTQUANT.md §2.2).

* The constructor creates an asyncio loop and sets it on the constructing thread.
* `start()` creates ONE push worker; every callback runs there, serially.
* Sync calls post their request to the terminal's native thread and block on a Future whose
  answer is queued on the push worker, behind the pushes: a sync order/cancel (or a query,
  unless relaxed mode is on) made inside a callback would hang the real SDK. Here it is
  recorded in `terminal.deadlocks` and raises `FakeDeadlockError` instead.
* `connect()` is one-shot: 0 once, -1 for a session id another session holds or released
  moments ago, after a drop, or while the terminal is offline. `on_connected` is never called.
* Like the SDK, it does not keep its session id as `session_id` (the terminal reads
  `fake_session`), and sync calls park `lambda resp: future.set_result(resp)` in
  `self.cbs` from `common_op_sync_with_seq`, so `xtquant_adapter.real_trader` can release them
  exactly as it releases the real SDK's.
* A hung terminal (`terminal.hung`) swallows requests: sync calls wait with no timeout (until
  released or the fixture ends), async answers and pushes never arrive.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from xtquant import _fake
from xtquant._terminal import FakeDeadlockError


class XtQuantTraderCallback:
    def on_connected(self) -> None: ...
    def on_disconnected(self) -> None: ...
    def on_account_status(self, status: Any) -> None: ...
    def on_stock_asset(self, asset: Any) -> None: ...
    def on_stock_order(self, order: Any) -> None: ...
    def on_stock_trade(self, trade: Any) -> None: ...
    def on_stock_position(self, position: Any) -> None: ...
    def on_order_error(self, order_error: Any) -> None: ...
    def on_cancel_error(self, cancel_error: Any) -> None: ...
    def on_order_stock_async_response(self, response: Any) -> None: ...
    def on_cancel_order_stock_async_response(self, response: Any) -> None: ...


class XtQuantTrader:
    def __init__(self, path: str, session: int, callback: Any = None) -> None:
        self.terminal = _fake.terminal()
        self.built_on = threading.current_thread().name
        try:
            asyncio.get_running_loop()
            self.terminal.violations.append(
                f"XtQuantTrader({session}) built on {threading.current_thread().name}, a thread "
                "running an asyncio loop: its set_event_loop() would hijack that thread"
            )
        except RuntimeError:
            pass
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.path, self._session, self.callback = path, session, callback
        self.cbs: dict[int, Any] = {}
        self.alive = self.subscribed = self.connected = False
        self.relaxed = False
        self._connect_called = False
        self._seq = itertools.count(1)
        self._push: ThreadPoolExecutor | None = None
        self._resp: ThreadPoolExecutor | None = None
        self._prefix = f"xtquant-push-{session}"
        self.terminal.traders.append(self)

    # --- lifecycle ------------------------------------------------------------------------

    def register_callback(self, callback: Any) -> None:
        self.callback = callback

    def start(self) -> None:
        self._push = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._prefix)
        self._resp = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self._prefix}-resp")

    def connect(self) -> int:
        if self._connect_called or self._push is None:
            return -1
        self._connect_called = True
        rc = self.terminal.connect(self)
        self.alive = self.connected = rc == 0
        return rc

    @property
    def fake_session(self) -> int:
        """The terminal's view of this trader's session (the SDK keeps no such attribute)."""
        return self._session

    def stop(self) -> None:
        if self._on_push_thread():
            self._deadlock("stop() inside a callback (it joins the push worker)")
        was_alive = self.alive or self._connect_called
        self.alive = self.connected = False
        if was_alive:
            self.terminal.session_ended(self._session)
        for pool in (self._push, self._resp):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        if not self.loop.is_closed():
            self.loop.close()

    def set_relaxed_response_order_enabled(self, enabled: bool) -> None:
        self.relaxed = enabled

    def set_timeout(self, timeout: int = 0) -> None: ...

    def run_forever(self) -> None:
        raise RuntimeError("the fake never blocks forever; drive it from the test")

    # --- the push worker ------------------------------------------------------------------

    def post(self, name: str, *args: Any) -> None:
        pool = self._push
        if pool is None or self.terminal.hung:
            return
        try:
            pool.submit(self._dispatch, name, args)
        except RuntimeError:  # the executor is shut down: the push is lost, as with the SDK
            return

    def _dispatch(self, name: str, args: tuple[Any, ...]) -> None:
        handler = getattr(self.callback, name, None)
        if handler is None:
            return
        try:
            handler(*args)
        except BaseException as exc:  # the SDK loses it inside its executor; we report it
            self.terminal.callback_errors.append(exc)

    def _on_push_thread(self) -> bool:
        return threading.current_thread().name.startswith(self._prefix)

    def _deadlock(self, what: str) -> None:
        message = f"{what} on the push thread of session {self._session}: the SDK hangs here"
        self.terminal.deadlocks.append(message)
        raise FakeDeadlockError(message)

    def waiting(self) -> int:
        """Sync calls of this session still waiting for an answer."""
        return sum(1 for cb in list(self.cbs.values()) if "common_op_sync_with_seq" in
                   getattr(cb, "__qualname__", ""))  # fmt: skip

    def release_all(self) -> None:
        for seq in list(self.cbs):
            cb = self.cbs.pop(seq, None)
            if cb is not None and "common_op_sync_with_seq" in getattr(cb, "__qualname__", ""):
                cb(None)

    def common_op_sync_with_seq(self, seq: int, request: Callable[[], None]) -> Any:
        """The SDK's sync call: park a Future setter under `seq`, send, wait for the answer."""
        future: Future[Any] = Future()
        self.cbs[seq] = lambda resp: future.set_result(resp)
        request()
        if self.terminal.hung:
            # The SDK waits forever; so do we, until close() releases us (or the test ends).
            return future.result()
        try:
            return future.result(timeout=self.terminal.sync_timeout)
        except FutureTimeout:
            self.cbs.pop(seq, None)
            self._deadlock(f"sync call {seq} got no answer within {self.terminal.sync_timeout}s;")

    def _answer(self, seq: int, result: Any) -> None:
        callback = self.cbs.pop(seq, None)
        if callback is not None:
            callback(result)

    def _sync(self, what: str, fn: Callable[[], Any], failed: Any, *, query: bool = False) -> Any:
        if self._on_push_thread() and not (query and self.relaxed):
            self._deadlock(f"sync {what}")
        if not self.alive or self._push is None or self._resp is None:
            return failed
        answer_pool = self._resp if (query and self.relaxed) else self._push
        seq = next(self._seq)

        def native() -> None:
            if self.terminal.hung:
                self.terminal.swallowed += 1
                return
            result = fn()
            answer_pool.submit(self._answer, seq, result)

        return self.common_op_sync_with_seq(seq, lambda: self.terminal.native.submit(native))

    def _drain(self, native_done: Future[Any]) -> None:
        """Wait until the native side ran and every push it queued was handled."""
        native_done.result(timeout=self.terminal.sync_timeout)
        if self._push is not None:
            self._push.submit(lambda: None).result(timeout=self.terminal.sync_timeout)

    # --- orders ---------------------------------------------------------------------------

    def subscribe(self, account: Any) -> int:
        ok = self._sync(
            "subscribe",
            lambda: (
                (account.account_id, account.account_type)
                == (self.terminal.account_id, self.terminal.account_type)
            ),
            False,
            query=True,
        )
        self.subscribed = bool(ok)
        return 0 if ok else -1

    def unsubscribe(self, account: Any) -> int:
        self.subscribed = False
        return 0

    def order_stock(
        self,
        account: Any,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        args = {
            "stock_code": stock_code,
            "order_type": order_type,
            "order_volume": order_volume,
            "price_type": price_type,
            "price": price,
            "strategy_name": strategy_name,
            "order_remark": order_remark,
        }
        if self._on_push_thread():
            self._deadlock("order_stock")
        flags = self.terminal.take_flags() if self.alive else {}
        return int(
            self._sync("order_stock", lambda: self.terminal.place(self, None, args, flags), -1)
        )

    def order_stock_async(
        self,
        account: Any,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        if not self.alive:
            return -1
        if self.terminal.hung:  # sent; nothing ever answers
            self.terminal.swallowed += 1
            return next(self._seq)
        args = {
            "stock_code": stock_code,
            "order_type": order_type,
            "order_volume": order_volume,
            "price_type": price_type,
            "price": price,
            "strategy_name": strategy_name,
            "order_remark": order_remark,
        }
        seq = next(self._seq)
        flags = self.terminal.take_flags()
        done = self.terminal.native.submit(self.terminal.place, self, seq, args, flags)
        if self.terminal.push_before_return and not self._on_push_thread():
            self._drain(done)
        return -1 if flags["minus_one"] else seq

    def cancel_order_stock(self, account: Any, order_id: int) -> int:
        if self._on_push_thread():
            self._deadlock("cancel_order_stock")
        return int(
            self._sync("cancel_order_stock", lambda: self.terminal.cancel(self, None, order_id), -1)
        )

    def cancel_order_stock_async(self, account: Any, order_id: int) -> int:
        if not self.alive:
            return -1
        if self.terminal.hung:
            self.terminal.swallowed += 1
            return next(self._seq)
        seq = next(self._seq)
        done = self.terminal.native.submit(self.terminal.cancel, self, seq, order_id)
        if self.terminal.push_before_return and not self._on_push_thread():
            self._drain(done)
        return seq

    # --- queries --------------------------------------------------------------------------

    def query_stock_asset(self, account: Any) -> Any:
        return self._sync("query_stock_asset", self.terminal.query_asset, None, query=True)

    def query_stock_order(self, account: Any, order_id: int) -> Any:
        return self._sync(
            "query_stock_order", lambda: self.terminal.orders.get(order_id), None, query=True
        )

    # A dead session answers None, as the SDK's failed queries do.
    def query_stock_orders(self, account: Any, cancelable_only: bool = False) -> Any:
        return self._sync(
            "query_stock_orders",
            lambda: self.terminal.query_orders(cancelable_only),
            None,
            query=True,
        )

    def query_stock_trades(self, account: Any) -> Any:
        return self._sync("query_stock_trades", self.terminal.query_trades, None, query=True)

    def query_stock_positions(self, account: Any) -> Any:
        return self._sync("query_stock_positions", self.terminal.query_positions, None, query=True)

    def query_stock_position(self, account: Any, stock_code: str) -> Any:
        found = [p for p in self.query_stock_positions(account) or [] if p.stock_code == stock_code]
        return found[0] if found else None

    def query_stock_orders_async(
        self, account: Any, callback: Callable[[Any], None], cancelable_only: bool = False
    ) -> int:
        if not self.alive:
            return -1
        seq = next(self._seq)
        pool = self._resp if self.relaxed else self._push

        def native() -> None:
            if self.terminal.hung:
                self.terminal.swallowed += 1
                return
            orders = self.terminal.query_orders(cancelable_only)
            if pool is not None:
                pool.submit(callback, orders)

        self.terminal.native.submit(native)
        return seq

"""The fake MiniQMT terminal: one account's orders, fills and money, shared by every
`XtQuantTrader` session, so a reconnect with a new session sees the orders placed before it.

Everything a test may switch (the knobs) is a plain attribute of `FakeTerminal`:

* `online`             False: `connect()` answers -1 (the terminal is closed or logging in).
* `auto_fill`          True: an accepted order fills at once, fully, at its price (or `last`).
* `minus_one_but_live` True: the next order call answers -1 although the order is live.
* `lose_async_response` True: the next `order_stock_async` gets a seq, is placed, and its
                       `on_order_stock_async_response` never comes.
* `silent_orders`      True: order pushes are not sent (only a query reveals the order).
* `push_before_return` True: an order call returns only after its pushes were handled.
* `reject_next`        a message: the next order becomes 废单 (57) with `on_order_error`.
* `sync_timeout`       seconds a sync call waits before the test fails (the SDK waits forever).

The real SDK's hostile behaviours (XTQUANT.md "Read first"), each off until a test switches it:

* `hung`               True: MiniQMT stops answering. Requests are swallowed, sync calls wait
                       (like the SDK, with no timeout, until the session is closed and its
                       waiters released), async answers and pushes never come. `connect()`
                       still answers 0, so a reconnect's `subscribe` hangs too.
* `failing_queries`    names (`"orders"`, `"trades"`, `"positions"`, `"asset"`) whose queries
                       answer None, the SDK's "query failed".
* `first_statuses`     e.g. `(48, 49)`: a new order is pushed with these statuses before 50.
* `sysid_late`         True: the first push of an order carries an empty `order_sysid`.
* `repeat_pushes`      n: every order push is sent n times (same status, same content).
* `error_without_push` a message: the next order gets `on_order_error` and no order push.
* `add_foreign_order(...)` an order placed by another client (manual, another script):
                       queries return it and subscribers get its pushes.
* `order_remark` is always cut to `REMARK_LIMIT` (24) characters, as MiniQMT does.

Findings the `fake_xtquant` fixture turns into a failing test: `deadlocks` (a sync call
made on the push thread), `violations` (a trader built on a thread running an asyncio loop)
and `callback_errors` (a callback raised; the SDK would lose the exception silently).
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.xttype import (
    XtAsset,
    XtCancelError,
    XtCancelOrderResponse,
    XtOrder,
    XtOrderError,
    XtOrderResponse,
    XtPosition,
    XtTrade,
)

_CANCELLABLE = frozenset(
    {xc.ORDER_UNREPORTED, xc.ORDER_WAIT_REPORTING, xc.ORDER_REPORTED, xc.ORDER_PART_SUCC}
)


class FakeDeadlockError(RuntimeError):
    """A sync trader call made on the push thread: the real SDK would hang forever here."""


REMARK_LIMIT = 24


class FakeTerminal:
    def __init__(self, account_id: str = "FAKE0001", cash: float = 1_000_000.0) -> None:
        self.account_id = account_id
        self.account_type = xc.SECURITY_ACCOUNT  # CREDIT_ACCOUNT (3) for a margin account
        self.cash = cash
        self.online = True
        self.hung = False
        self.failing_queries: set[str] = set()
        self.first_statuses: tuple[int, ...] = ()
        self.sysid_late = False
        self.repeat_pushes = 1
        self.error_without_push: str | None = None
        self.swallowed = 0  # requests a hung terminal never answered
        self.session_reuse_after = 0.2  # MiniQMT: about 3 s
        self.ended_sessions: dict[int, float] = {}
        self.auto_fill = False
        self.minus_one_but_live = False
        self.lose_async_response = False
        self.silent_orders = False
        self.push_before_return = False
        self.reject_next: str | None = None
        self.sync_timeout = 10.0
        self.last: dict[str, float] = {}
        self.orders: dict[int, XtOrder] = {}
        self.trades: list[XtTrade] = []
        self.positions: dict[str, int] = {}
        self.sessions_seen: list[int] = []
        self.order_calls: list[tuple[int, str]] = []  # (session, remark) of every order call
        self.deadlocks: list[str] = []
        self.violations: list[str] = []
        self.callback_errors: list[BaseException] = []
        self.traders: list[Any] = []
        self._ids = itertools.count(1001)
        self._trade_ids = itertools.count(1)
        self._lock = threading.RLock()
        self.native = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fake-miniqmt")

    # --- sessions -------------------------------------------------------------------------

    def connect(self, trader: Any) -> int:
        """0, or -1 while offline, for a session id another live session holds, or for an id
        whose session ended less than `session_reuse_after` seconds ago."""
        with self._lock:
            sid = trader.fake_session
            busy = any(t.alive and t.fake_session == sid for t in self.traders if t is not trader)
            ended = self.ended_sessions.get(sid)
            cooling = ended is not None and time.monotonic() - ended < self.session_reuse_after
            if not self.online or busy or cooling:
                return -1
            self.sessions_seen.append(sid)
            self._touch_down_queue(trader)
            return 0

    def _touch_down_queue(self, trader: Any) -> None:
        # Each session id MiniQMT sees leaves a file in userdata_mini (the FAQ's down_queue).
        folder = Path(trader.path)
        if folder.is_dir():
            (folder / f"down_queue_{trader.fake_session}").touch()

    def session_ended(self, session_id: int) -> None:
        with self._lock:
            self.ended_sessions[session_id] = time.monotonic()

    def stuck_waiters(self) -> int:
        """Sync calls still waiting for an answer, over every session."""
        return sum(t.waiting() for t in self.traders)

    def drop(self) -> None:
        """The terminal restarts: every live session gets `on_disconnected` and is dead."""
        with self._lock:
            live = [t for t in self.traders if t.alive]
            for trader in live:
                trader.alive = False
        for trader in live:
            trader.post("on_disconnected")

    def subscribers(self) -> list[Any]:
        return [t for t in self.traders if t.alive and t.subscribed]

    def shutdown(self) -> None:
        self.hung = False
        for trader in list(self.traders):
            trader.release_all()
            trader.stop()
        self.native.shutdown(wait=True, cancel_futures=True)

    # --- orders ---------------------------------------------------------------------------

    def take_flags(self) -> dict[str, Any]:
        """Consume the one-shot knobs for the order call being made now."""
        with self._lock:
            flags = {
                "minus_one": self.minus_one_but_live,
                "lose": self.lose_async_response,
                "reject": self.reject_next,
                "error_only": self.error_without_push,
            }
            self.minus_one_but_live = self.lose_async_response = False
            self.reject_next = self.error_without_push = None
            return flags

    def place(
        self, trader: Any, seq: int | None, args: dict[str, Any], flags: dict[str, Any]
    ) -> int:
        """Runs on the native thread. Returns the order id, or -1 for the '-1 but live' case."""
        with self._lock:
            self.order_calls.append((trader.fake_session, args["order_remark"]))
            order = self._new_order(args)
            self.orders[order.order_id] = order
        if seq is not None and not flags["lose"] and not flags["minus_one"]:
            trader.post(
                "on_order_stock_async_response",
                XtOrderResponse(
                    order.account_type,
                    order.account_id,
                    order.order_id,
                    order.strategy_name,
                    order.order_remark,
                    "",
                    seq,
                ),
            )
        if flags.get("error_only") is not None:
            # The counter refused it before any order push: only on_order_error says so.
            reject = flags["error_only"]
            with self._lock:
                order = replace(order, order_status=xc.ORDER_JUNK, status_msg=reject)
                self.orders[order.order_id] = order
            self._order_error(order, reject, seq)
            return -1 if flags["minus_one"] else order.order_id
        self._push_new(order)
        if flags["reject"] is not None:
            reject = flags["reject"]
            self._update(order.order_id, order_status=xc.ORDER_JUNK, status_msg=reject)
            self._order_error(order, reject, seq)
        elif self.auto_fill:
            self.fill(order.order_id)
        return -1 if flags["minus_one"] else order.order_id

    def _order_error(self, order: XtOrder, reject: str, seq: int | None) -> None:
        error = XtOrderError(
            order.account_type,
            order.account_id,
            order.order_id,
            2147483647,
            reject,
            order.strategy_name,
            order.order_remark,
            seq or 0,
        )
        for sub in self.subscribers():
            sub.post("on_order_error", error)

    def _push_new(self, order: XtOrder) -> None:
        """The pushes of a new order: `first_statuses`, then 50; `sysid_late` hides the
        counter's contract number on the first one."""
        first = True
        for status in (*self.first_statuses, order.order_status):
            pushed = replace(order, order_status=status)
            if first and self.sysid_late:
                pushed = replace(pushed, order_sysid="")
            first = False
            self._push_order(pushed)

    def add_foreign_order(
        self,
        remark: str,
        stock_code: str = "510300.SH",
        volume: int = 100,
        price: float = 3.9,
        order_type: int = xc.STOCK_BUY,
        strategy_name: str = "",
    ) -> XtOrder:
        """An order of this account placed by another client (a manual order, another
        script): its id comes from the same counter and its remark is whatever that client
        wrote."""
        args = {
            "stock_code": stock_code, "order_type": order_type, "order_volume": volume,
            "price_type": xc.FIX_PRICE, "price": price, "strategy_name": strategy_name,
            "order_remark": remark,
        }  # fmt: skip
        with self._lock:
            order = self._new_order(args)
            self.orders[order.order_id] = order
        self._push_order(order)
        return order

    def _new_order(self, args: dict[str, Any]) -> XtOrder:
        buy = args["order_type"] == xc.STOCK_BUY
        return XtOrder(
            account_type=xc.SECURITY_ACCOUNT,
            account_id=self.account_id,
            stock_code=args["stock_code"],
            order_id=next(self._ids),
            order_sysid=f"S{len(self.orders) + 1:06d}",
            order_time=int(time.time()),
            order_type=args["order_type"],
            order_volume=int(args["order_volume"]),
            price_type=args["price_type"],
            price=float(args["price"]),
            traded_volume=0,
            traded_price=0.0,
            order_status=xc.ORDER_REPORTED,
            status_msg="",
            strategy_name=args["strategy_name"],
            order_remark=str(args["order_remark"])[:REMARK_LIMIT],
            direction=xc.DIRECTION_FLAG_LONG,
            offset_flag=xc.OFFSET_FLAG_OPEN if buy else xc.OFFSET_FLAG_CLOSE,
        )

    def _update(self, order_id: int, **changes: Any) -> XtOrder:
        with self._lock:
            order = replace(self.orders[order_id], **changes)
            self.orders[order_id] = order
        self._push_order(order)
        return order

    def _push_order(self, order: XtOrder) -> None:
        if not self.silent_orders:
            for sub in self.subscribers():
                for _ in range(self.repeat_pushes):
                    sub.post("on_stock_order", order)

    def fill(self, order_id: int, volume: int | None = None, price: float | None = None) -> None:
        """Fill (part of) a working order; callable from the test thread."""
        with self._lock:
            order = self.orders[order_id]
            qty = volume if volume is not None else order.order_volume - order.traded_volume
            px = price or order.price or self.last.get(order.stock_code, 10.0)
            done = order.traded_volume + qty
            amount = round(px * qty, 2)
            commission = max(5.0, round(amount * 0.00025, 2))
            sign = 1 if order.order_type == xc.STOCK_BUY else -1
            self.cash -= sign * amount + commission
            self.positions[order.stock_code] = self.positions.get(order.stock_code, 0) + sign * qty
            trade = XtTrade(
                order.account_type,
                order.account_id,
                order.stock_code,
                order.order_type,
                f"T{next(self._trade_ids):08d}",
                int(time.time()),
                px,
                qty,
                amount,
                order.order_id,
                order.order_sysid,
                order.strategy_name,
                order.order_remark,
                order.direction,
                order.offset_flag,
                commission,
            )
            self.trades.append(trade)
            avg = (order.traded_price * order.traded_volume + px * qty) / done
        for sub in self.subscribers():
            sub.post("on_stock_trade", trade)
        status = xc.ORDER_SUCCEEDED if done >= order.order_volume else xc.ORDER_PART_SUCC
        self._update(order_id, traded_volume=done, traded_price=avg, order_status=status)

    def cancel(self, trader: Any, seq: int | None, order_id: int) -> int:
        """Runs on the native thread; 0 = cancel accepted, -1 = refused."""
        order = self.orders.get(order_id)
        ok = order is not None and order.order_status in _CANCELLABLE
        if seq is not None:
            sysid = order.order_sysid if order else ""
            trader.post(
                "on_cancel_order_stock_async_response",
                XtCancelOrderResponse(
                    xc.SECURITY_ACCOUNT, self.account_id, 0 if ok else -1, order_id, sysid, seq
                ),
            )
        if order is None or not ok:
            trader.post(
                "on_cancel_error",
                XtCancelError(
                    xc.SECURITY_ACCOUNT,
                    self.account_id,
                    order_id,
                    xc.SH_MARKET,
                    order.order_sysid if order else "",
                    -1,
                    "该委托不可撤 / not cancellable",
                ),
            )
            return -1
        partial = order.traded_volume > 0
        self._update(
            order_id, order_status=xc.ORDER_PARTSUCC_CANCEL if partial else xc.ORDER_REPORTED_CANCEL
        )
        self._update(order_id, order_status=xc.ORDER_PART_CANCEL if partial else xc.ORDER_CANCELED)
        return 0

    # --- queries --------------------------------------------------------------------------

    def query_orders(self, cancelable_only: bool = False) -> list[XtOrder] | None:
        if "orders" in self.failing_queries:
            return None
        with self._lock:
            orders = list(self.orders.values())
        return [o for o in orders if not cancelable_only or o.order_status in _CANCELLABLE]

    def query_trades(self) -> list[XtTrade] | None:
        if "trades" in self.failing_queries:
            return None
        with self._lock:
            return list(self.trades)

    def query_asset(self) -> XtAsset | None:
        if "asset" in self.failing_queries:
            return None
        with self._lock:
            value = sum(v * self.last.get(c, 10.0) for c, v in self.positions.items())
            return XtAsset(
                xc.SECURITY_ACCOUNT,
                self.account_id,
                self.cash,
                0.0,
                value,
                self.cash + value,
                self.cash,
            )

    def query_positions(self) -> list[XtPosition] | None:
        if "positions" in self.failing_queries:
            return None
        with self._lock:
            items = [(c, v) for c, v in self.positions.items() if v]
        return [
            XtPosition(
                xc.SECURITY_ACCOUNT,
                self.account_id,
                code,
                vol,
                vol,
                10.0,
                vol * self.last.get(code, 10.0),
                0,
                0,
                vol,
                10.0,
                xc.DIRECTION_FLAG_LONG,
                self.last.get(code, 10.0),
                0.0,
            )
            for code, vol in items
        ]

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


class FakeTerminal:
    def __init__(self, account_id: str = "FAKE0001", cash: float = 1_000_000.0) -> None:
        self.account_id = account_id
        self.cash = cash
        self.online = True
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
        with self._lock:
            if not self.online or trader.session_id in self.sessions_seen:
                return -1
            self.sessions_seen.append(trader.session_id)
            return 0

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
        for trader in list(self.traders):
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
            }
            self.minus_one_but_live = self.lose_async_response = False
            self.reject_next = None
            return flags

    def place(
        self, trader: Any, seq: int | None, args: dict[str, Any], flags: dict[str, Any]
    ) -> int:
        """Runs on the native thread. Returns the order id, or -1 for the '-1 but live' case."""
        with self._lock:
            self.order_calls.append((trader.session_id, args["order_remark"]))
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
        self._push_order(order)
        if flags["reject"] is not None:
            reject = flags["reject"]
            self._update(order.order_id, order_status=xc.ORDER_JUNK, status_msg=reject)
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
        elif self.auto_fill:
            self.fill(order.order_id)
        return -1 if flags["minus_one"] else order.order_id

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
            order_remark=args["order_remark"],
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

    def query_orders(self, cancelable_only: bool = False) -> list[XtOrder]:
        with self._lock:
            orders = list(self.orders.values())
        return [o for o in orders if not cancelable_only or o.order_status in _CANCELLABLE]

    def query_asset(self) -> XtAsset:
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

    def query_positions(self) -> list[XtPosition]:
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

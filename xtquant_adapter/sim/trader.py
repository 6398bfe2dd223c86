"""`SimulatedXtQuantTrader`: an XtQuantTrader twin over the simulated counter and exchange.

Threading: every state change happens under one lock, on whichever thread asked; the changes
queue in a `Dispatcher` (sim/dispatch.py), whose single push thread commits them to the store
and then delivers the pushes in order. Sync calls wait for the commit (inside a callback they
commit inline, so they cannot deadlock).
"""

from __future__ import annotations

import logging
import math
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import DEFAULT_CALENDAR, Session, session_at
from xtquant_adapter.ashare.codes import InvalidStockCode, normalize_code
from xtquant_adapter.protocol import AccountLike, TraderCallback
from xtquant_adapter.sim import matching
from xtquant_adapter.sim.booklock import BooksLock
from xtquant_adapter.sim.books import (
    CANCELABLE_STATUSES,
    asset_record,
    fast_constructor,
    order_record,
    position_record,
    trade_record,
)
from xtquant_adapter.sim.clock import Clock, ManualClock, SystemClock
from xtquant_adapter.sim.config import SimConfig
from xtquant_adapter.sim.dispatch import Dispatcher
from xtquant_adapter.sim.exchange import Dirty
from xtquant_adapter.sim.market import epoch_ms
from xtquant_adapter.sim.marketdata import SimMarketData
from xtquant_adapter.sim.state import batch_of, open_state
from xtquant_adapter.sim.store import Store, delete_books
from xtquant_adapter.xttype import XtAccountStatus, XtCancelOrderResponse, XtOrderResponse

__all__ = ["SimMarketData", "SimulatedXtQuantTrader"]

log = logging.getLogger(__name__)
_order_response = fast_constructor(XtOrderResponse)


class SimulatedXtQuantTrader:
    """Same public methods and return conventions as xtquant's `XtQuantTrader` (see
    `protocol.Trader`), trading one simulated stock account by A-share rules.

    With a `SystemClock` a background thread takes a market snapshot every
    `config.tick_interval_seconds`; with a `ManualClock` nothing moves until `step()`/`advance()`.
    """

    def __init__(
        self,
        path: str | Path,
        session: int,
        *,
        config: SimConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.path, self.session_id = Path(path), session
        self.config = config or SimConfig()
        self.clock: Clock = clock or SystemClock()
        self._lock = threading.RLock()
        # One process at a time on these books (raises SimBooksLocked); released in close().
        self._books_lock = BooksLock(self.path)
        try:
            self._store = Store(self.path)
            try:
                self._open()
            except BaseException:
                self._store.close()
                raise
        except BaseException:
            self._books_lock.release()
            raise
        self._push = Dispatcher(self._lock, self._store, self._batch)
        self._seq = 0
        self._connected = False
        self._market_thread: threading.Thread | None = None

    def _open(self) -> None:
        now = self.clock.now()
        self._ex, self._seed, self._origin, fresh = open_state(self._store, self.config, now.date())
        self.market = SimMarketData(self._ex.market, self._lock)
        self._session = self._session_at()
        if fresh:
            self._ex.dirty.books = True
            self._ex.dirty.positions.update(self._ex.books.positions)

    # ---- lifecycle ------------------------------------------------------------------------------
    def register_callback(self, callback: TraderCallback) -> None:
        self._push.callback = callback

    def start(self) -> None:
        if self._push.thread is not None:
            return
        self._push.start()
        if not isinstance(self.clock, ManualClock):
            self._market_thread = threading.Thread(
                target=self._market_loop, name="sim-market", daemon=True
            )
            self._market_thread.start()
        with self._lock:
            self._collect()  # a fresh account's opening books reach the store at once

    def stop(self) -> None:
        self._push.stopping.set()
        t = self._market_thread
        if t is not None and t is not threading.current_thread():
            t.join()
        self._market_thread = None
        self._push.stop()
        self._connected = False

    def close(self) -> None:
        """Stop, release the store file and the books lock."""
        self.stop()
        self._store.close()
        self._books_lock.release()

    def connect(self) -> int:
        self._connected = True
        return 0

    def subscribe(self, account: AccountLike) -> int:
        if not self._mine(account):
            return -1
        with self._lock:
            self._push.push(
                "on_account_status",
                XtAccountStatus(self.config.account_id, xc.SECURITY_ACCOUNT, xc.ACCOUNT_STATUS_OK),
            )
        return 0

    def unsubscribe(self, account: AccountLike) -> int:
        return 0 if self._mine(account) else -1

    def simulate_disconnect(self) -> None:
        """Drop the connection like a MiniQMT restart: on_disconnected, calls fail until
        `connect()` again."""
        with self._lock:
            self._connected = False
            self._push.push("on_disconnected", None)

    def reset(self) -> None:
        """Wipe the books and market back to `config` (stop the trader first)."""
        with self._lock, self._push.write_lock:  # no batch half-written into the old store
            self._store.close()
            delete_books(self.path)  # under our own BooksLock
            self._store = self._push.store = Store(self.path)
            self._open()
            self._push.dirty = Dirty()
            self._collect()
            self._push.flush_inline()

    # ---- orders ---------------------------------------------------------------------------------
    def order_stock(
        self,
        account: AccountLike,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        if not self._usable(account):
            return -1
        with self._lock:
            o = self._place(
                stock_code,
                order_type,
                order_volume,
                price_type,
                price,
                strategy_name,
                order_remark,
                0,
            )
            gen = self._collect()
        self._push.wait_committed(gen)
        return int(o.order_id)

    def order_stock_async(
        self,
        account: AccountLike,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        if not self._usable(account):
            return -1
        with self._lock:
            self._seq += 1
            seq, start = self._seq, len(self._ex.out)
            o = self._place(
                stock_code,
                order_type,
                order_volume,
                price_type,
                price,
                strategy_name,
                order_remark,
                seq,
            )
            # The response precedes the order's pushes, as xtquant parks errors behind it.
            self._ex.out.insert(
                start,
                (
                    "on_order_stock_async_response",
                    _order_response(
                        xc.SECURITY_ACCOUNT,
                        self.config.account_id,
                        o.order_id,
                        strategy_name,
                        order_remark,
                        "",
                        seq,
                    ),
                ),
            )
            self._collect()
        return seq

    def cancel_order_stock(self, account: AccountLike, order_id: int) -> int:
        if not self._usable(account):
            return -1
        with self._lock:
            now = self._sync_time()
            result = self._ex.cancel(now, self._session, int(order_id))
            gen = self._collect()
        self._push.wait_committed(gen)
        return result

    def cancel_order_stock_async(self, account: AccountLike, order_id: int) -> int:
        if not self._usable(account):
            return -1
        with self._lock:
            self._seq += 1
            seq, start = self._seq, len(self._ex.out)
            now = self._sync_time()
            result = self._ex.cancel(now, self._session, int(order_id), seq)
            self._ex.out.insert(
                start,
                (
                    "on_cancel_order_stock_async_response",
                    XtCancelOrderResponse(
                        xc.SECURITY_ACCOUNT,
                        self.config.account_id,
                        result,
                        int(order_id),
                        f"{int(order_id):08d}",
                        seq,
                    ),
                ),
            )
            self._collect()
        return seq

    def _place(
        self,
        code: str,
        order_type: int,
        volume: int,
        price_type: int,
        price: float,
        strategy: str,
        remark: str,
        seq: int,
    ) -> Any:
        now = self._sync_time()
        return self._ex.place(
            now, self._session, code, order_type, volume, price_type, price, strategy, remark, seq
        )

    # ---- queries --------------------------------------------------------------------------------
    def query_stock_asset(self, account: AccountLike) -> Any:
        if not self._mine(account):
            return None
        with self._lock:
            return asset_record(self._ex.books, self._ex.market_value())

    def query_stock_order(self, account: AccountLike, order_id: int) -> Any:
        with self._lock:
            o = self._ex.books.orders.get(int(order_id)) if self._mine(account) else None
            return order_record(self._ex.books, o) if o is not None else None

    def query_stock_orders(self, account: AccountLike, cancelable_only: bool = False) -> list[Any]:
        if not self._mine(account):
            return []
        with self._lock:
            b = self._ex.books
            return [
                order_record(b, o)
                for o in b.orders.values()
                if not cancelable_only or o.status in CANCELABLE_STATUSES
            ]

    def query_stock_trades(self, account: AccountLike) -> list[Any]:
        if not self._mine(account):
            return []
        with self._lock:
            return [trade_record(self._ex.books, t) for t in self._ex.books.trades]

    def query_stock_positions(self, account: AccountLike) -> list[Any]:
        if not self._mine(account):
            return []
        with self._lock:
            b, quotes = self._ex.books, self._ex.market.quotes
            return [position_record(b, p, quotes[c].last) for c, p in b.positions.items()]

    def query_stock_position(self, account: AccountLike, stock_code: str) -> Any:
        try:
            code = normalize_code(stock_code)
        except InvalidStockCode:
            return None
        with self._lock:
            p = self._ex.books.positions.get(code) if self._mine(account) else None
            quotes = self._ex.market.quotes
            return position_record(self._ex.books, p, quotes[code].last) if p else None

    def query_account_status(self) -> list[Any]:
        status = xc.ACCOUNT_STATUS_OK if self._connected else xc.ACCOUNT_STATUS_FAIL
        return [XtAccountStatus(self.config.account_id, xc.SECURITY_ACCOUNT, status)]

    # ---- the market -----------------------------------------------------------------------------
    def step(self) -> None:
        """Take one market snapshot at the clock's time and match working orders against it."""
        with self._lock:
            prev = self._session
            now = self._sync_time()
            self._ex.market.step(now, self._session)
            if self.config.enforce_trading_hours:
                matching.on_session(self._ex, prev, self._session, epoch_ms(now))
            if self._session is Session.CONTINUOUS:
                matching.match(self._ex, epoch_ms(now))
            self._push.quotes_dirty = True
            self._collect()

    def advance(self, seconds: float) -> None:
        """ManualClock only: move time forward, one snapshot per tick interval (at most 600)."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock")
        n = max(1, min(600, math.ceil(seconds / self.config.tick_interval_seconds)))
        for _ in range(n):
            self.clock.advance(timedelta(seconds=seconds / n))
            self.step()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed and delivered (tests, shutdown)."""
        return self._push.flush(timeout)

    def _session_at(self) -> Session:
        if not self.config.enforce_trading_hours:
            return Session.CONTINUOUS
        return session_at(self.clock.now())

    def _sync_time(self) -> datetime:
        """Roll the day if the clock crossed into a new trading day; refresh the session.
        Returns the clock's time, for the operation that called it."""
        now = self.clock.now()
        today = now.date()
        if today > self._ex.books.day and (
            not self.config.enforce_trading_hours or DEFAULT_CALENDAR.is_trading_day(today)
        ):
            matching.roll_day(self._ex, today)
            self._push.quotes_dirty = True
        self._session = session_at(now) if self.config.enforce_trading_hours else Session.CONTINUOUS
        return now

    # ---- the push queue -------------------------------------------------------------------------
    def _collect(self) -> int:
        return self._push.collect(self._ex)

    def _batch(self, dirty: Dirty, with_quotes: bool) -> dict[str, Any]:
        return batch_of(self._ex, dirty, self._seed, self._origin, with_quotes)

    def _market_loop(self) -> None:
        while not self._push.stopping.wait(self.config.tick_interval_seconds):
            try:
                self.step()
            except Exception:
                log.exception("simulated market step failed")

    def _mine(self, account: AccountLike) -> bool:
        return getattr(account, "account_id", None) == self.config.account_id

    def _usable(self, account: AccountLike) -> bool:
        return self._connected and self._push.thread is not None and self._mine(account)

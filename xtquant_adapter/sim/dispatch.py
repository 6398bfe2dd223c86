"""The simulated trader's push machinery: commit first, then deliver, on one thread.

State changes (made under the trader's lock, on any thread) queue their pushes and the names of
the books rows they touched. The single push thread drains the queue: it builds the rows under
the lock, commits them in one store transaction outside it, then delivers the pushes one at a
time, in order. So a callback never announces anything the store does not already hold (kill -9
safe), callbacks never run on the caller's thread, and a burst of orders costs one commit.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from xtquant_adapter.protocol import TraderCallback
from xtquant_adapter.sim.exchange import Dirty, Exchange
from xtquant_adapter.sim.store import Store

log = logging.getLogger("xtquant_adapter.sim.trader")

Batch = dict[str, Any]
BatchOf = Callable[[Dirty, bool], Batch]  # rows for (dirty, with quotes?)


class Dispatcher:
    """Generations: `gen` counts queued changes, `committed`/`delivered` how far the store and
    the callbacks have got. Sync calls wait for `committed`; `flush()` for `delivered`."""

    def __init__(self, lock: threading.RLock, store: Store, batch_of: BatchOf) -> None:
        self.cv = threading.Condition(lock)
        self.store = store
        self.batch_of = batch_of
        self.callback: TraderCallback | None = None
        self.events: list[tuple[str, Any]] = []
        self.dirty = Dirty()
        self.quotes_dirty = False
        self.gen = self.committed = self.delivered = 0
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        # Held from taking a batch until it is in the store. One sqlite3 connection must never
        # be used by two threads at once (closing it mid-write crashes the process), so whoever
        # swaps or closes the store (reset, close) takes this after the trader's lock.
        self.write_lock = threading.RLock()

    # ---- producers (caller holds the lock) -----------------------------------------------------
    def collect(self, ex: Exchange) -> int:
        """Move the exchange's pushes and dirty marks into the queue; wake the push thread."""
        out, d = ex.out, ex.dirty
        if out or d.orders or d.trades or d.positions or d.books:
            self.events += out
            out.clear()
            mine = self.dirty
            mine.orders |= d.orders
            mine.trades += d.trades
            mine.positions |= d.positions
            mine.books = True
            ex.dirty = Dirty()
        return self.kick()

    def push(self, name: str, record: Any) -> None:
        self.events.append((name, record))
        self.kick()

    def kick(self) -> int:
        self.gen += 1
        self.cv.notify_all()
        return self.gen

    # ---- the thread -----------------------------------------------------------------------------
    def start(self) -> None:
        self.stopping.clear()
        self.thread = threading.Thread(target=self._loop, name="sim-push", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        with self.cv:
            self.cv.notify_all()
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join()
        self.thread = None

    def wait_committed(self, gen: int) -> None:
        """Return once everything up to `gen` is in the store (commits inline when called with
        no push thread, or from inside a callback, where waiting would deadlock)."""
        with self.cv:
            if self.thread is None or threading.current_thread() is self.thread:
                self.flush_inline()
                return
            self.cv.wait_for(lambda: self.committed >= gen or self.stopping.is_set())

    def flush(self, timeout: float) -> bool:
        with self.cv:
            gen = self.gen
            return self.cv.wait_for(lambda: self.delivered >= gen, timeout)

    def flush_inline(self) -> None:
        """Commit what is queued now, on this thread; the pushes stay queued, in order."""
        with self.write_lock:
            gen, batch, events = self._take()
            self.events = events + self.events
            if batch is not None:
                self.store.write(**batch)
        self.committed = max(self.committed, gen)

    def _take(self) -> tuple[int, Batch | None, list[tuple[str, Any]]]:
        events, self.events = self.events, []
        dirty, self.dirty = self.dirty, Dirty()
        batch = None
        if dirty.any() or self.quotes_dirty:
            batch = self.batch_of(dirty, self.quotes_dirty)
            self.quotes_dirty = False
        return self.gen, batch, events

    def _loop(self) -> None:
        cv = self.cv
        while True:
            with cv:
                cv.wait_for(lambda: self.gen > self.delivered or self.stopping.is_set())
                if self.stopping.is_set() and self.gen <= self.delivered:
                    return
                self.write_lock.acquire()
                gen, batch, events = self._take()
            # Only this thread writes, so committing outside the trader's lock keeps batches in
            # order while callers go on placing orders.
            try:
                if batch is not None:
                    self.store.write(**batch)
            finally:
                self.write_lock.release()
            with cv:
                self.committed = max(self.committed, gen)
                cv.notify_all()
            self._deliver(events)
            with cv:
                self.delivered = max(self.delivered, gen)
                cv.notify_all()

    def _deliver(self, events: list[tuple[str, Any]]) -> None:
        cb = self.callback
        if cb is None:
            return
        handlers: dict[str, Any] = {}
        for name, record in events:
            fn = handlers.get(name, handlers)
            if fn is handlers:
                fn = handlers[name] = getattr(cb, name, None)
            if fn is None:
                continue
            try:
                fn() if record is None else fn(record)
            except Exception:
                log.exception("simulated trader callback %s raised", name)

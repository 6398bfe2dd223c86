"""The single writer of order state: broker pushes and local commands, applied in order.

Every change to an existing order row goes through one queue and one worker task, so a
broker push and a user's cancel can never overwrite each other. The worker drains what is
queued, applies it in ONE transaction (status move + event + fills; order_moves.Moves),
commits, and only then publishes events and runs side effects (reservation release, a
deferred cancel) on the loop. The events are appended to the event log inside that same
transaction, so a reader replaying the log sees exactly what the journal committed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from backend.app.core.batching import MicroBatcher
from backend.app.core.errors import DomainError
from backend.app.db.session import Database
from backend.app.services.event_log import EventLog
from backend.app.services.orders.moves import Barrier, Effects, Item, Moves

_MAX_BATCH = 512
_LINGER_SECONDS = 0.002


class OrderUpdater:
    def __init__(self, *, db: Database, events: EventLog, account_id: str) -> None:
        self._db = db
        self._events = events
        self._account = account_id
        # One loop turn before each batch: the pushes just posted from the broker's thread
        # (an answer and its "reported" come together) join one transaction.
        # Broker pushes (nobody awaits them) linger a moment first: at one order at a time, the
        # next order's journal commit then takes the SQLite thread before this write-back
        # instead of queueing behind it (docs/performance.md, round 2). Commands never wait.
        self._batcher: MicroBatcher[Item, Any] = MicroBatcher(
            self._apply, name="order-updates", max_batch=_MAX_BATCH, split_on_error=True,
            gather_turn=True, linger=_LINGER_SECONDS,
        )  # fmt: skip
        self.cancel_inflight: set[int] = set()  # cancel sent, broker answer not final yet
        self.cancel_wanted: set[int] = set()  # cancel asked before the broker id was known
        self.on_effects: Callable[[Effects], None] | None = None

    async def stop(self) -> None:
        await self._batcher.stop()

    def push(self, item: Item) -> None:
        """Queue a broker update (loop thread)."""
        self._batcher.post(item)

    async def command(self, item: Item) -> Any:
        """Queue `item` and wait until it is committed; its result (or domain error)."""
        return await self._batcher.submit(item)

    async def drain(self) -> None:
        """Wait until everything queued so far has been applied."""
        await self.command(Barrier())

    # --- the worker ------------------------------------------------------------------------

    async def _apply(self, items: list[Item]) -> list[Any]:
        snapshot = (set(self.cancel_inflight), set(self.cancel_wanted))
        effects = await self._db.run_core(lambda c: self._apply_sync(c, items, *snapshot))
        self._after_commit(effects)
        return [effects.results.get(i) for i in range(len(items))]

    def _after_commit(self, fx: Effects) -> None:
        for order_id in fx.finished | fx.cancel_refused:
            self.cancel_inflight.discard(order_id)
            self.cancel_wanted.discard(order_id)
        self.cancel_wanted |= fx.cancel_wanted
        for order_id, _ in fx.send_cancel:
            self.cancel_wanted.discard(order_id)
            self.cancel_inflight.add(order_id)
        self._events.published(fx.seqs, fx.events)
        if self.on_effects is not None:
            self.on_effects(fx)

    # --- applying (worker thread, inside one transaction) ------------------------------------

    def _apply_sync(
        self, c: Connection, items: list[Item], inflight: set[int], wanted: set[int]
    ) -> Effects:
        fx = Effects()
        ctx = Moves(c, self._account, items, fx, inflight, wanted)
        for i, item in enumerate(items):
            try:
                fx.results[i] = ctx.apply(item)
            except DomainError as exc:
                fx.results[i] = exc
        ctx.flush()
        fx.seqs = self._events.append_sync(c, fx.events)
        return fx

"""The single writer of order state: broker pushes and local commands, applied in order.

Every change to an existing order row goes through one queue and one worker task, so a
broker push and a user's cancel can never overwrite each other. The worker drains what is
queued, applies it in ONE transaction (status move + event + fills; order_moves.Moves),
commits, and only then publishes events and runs side effects (reservation release, a
deferred cancel) on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from loguru import logger
from sqlalchemy.orm import Session

from backend.app.core.errors import DomainError
from backend.app.db.session import Database
from backend.app.services.events import EventBus
from backend.app.services.orders.moves import (
    Command,
    Effects,
    Expire,
    Item,
    MarkCancel,
    Moves,
    Reject,
    _Barrier,
    order_read_dict,
    trade_read_dict,
)

__all__ = [
    "Command", "Effects", "Expire", "Item", "MarkCancel", "OrderUpdater", "Reject",
    "order_read_dict", "trade_read_dict",
]  # fmt: skip

_MAX_BATCH = 512


class OrderUpdater:
    def __init__(self, *, db: Database, events: EventBus, account_id: str) -> None:
        self._db = db
        self._events = events
        self._account = account_id
        self._queue: asyncio.Queue[tuple[Item, asyncio.Future[Any] | None]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.cancel_inflight: set[int] = set()  # cancel sent, broker answer not final yet
        self.cancel_wanted: set[int] = set()  # cancel asked before the broker id was known
        self.on_effects: Callable[[Effects], None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="order-updates")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def push(self, item: Item) -> None:
        """Queue a broker update (loop thread)."""
        self._queue.put_nowait((item, None))

    async def command(self, item: Item) -> Any:
        """Queue `item` and wait until it is committed; its result (or domain error)."""
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, fut))
        return await fut

    async def drain(self) -> None:
        """Wait until everything queued so far has been applied."""
        await self.command(_Barrier())

    # --- the worker ------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            # One loop turn for the pushes already posted from the broker's thread (an
            # answer and its "reported" come together): one transaction for both.
            await asyncio.sleep(0)
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._apply(batch)

    async def _apply(self, batch: list[tuple[Item, asyncio.Future[Any] | None]]) -> None:
        items = [item for item, _ in batch]
        snapshot = (
            set(self.cancel_inflight),
            set(self.cancel_wanted),
            bool(self._events.subscriber_count),
        )
        try:
            effects = await self._db.run(lambda s: self._apply_sync(s, items, *snapshot))
        except Exception:
            if len(batch) > 1:
                # One bad item must not sink the batch: retry one by one.
                for one in batch:
                    await self._apply([one])
                return
            logger.exception("order update failed and was dropped: {!r}", items[0])
            _, fut = batch[0]
            if fut is not None and not fut.done():
                fut.set_exception(RuntimeError("order update failed"))
            return
        self._after_commit(effects)
        for i, (_, fut) in enumerate(batch):
            if fut is None or fut.done():
                continue
            result = effects.results.get(i)
            if isinstance(result, DomainError):
                fut.set_exception(result)
            else:
                fut.set_result(result)

    def _after_commit(self, fx: Effects) -> None:
        for order_id in fx.finished | fx.cancel_refused:
            self.cancel_inflight.discard(order_id)
            self.cancel_wanted.discard(order_id)
        self.cancel_wanted |= fx.cancel_wanted
        for order_id, _ in fx.send_cancel:
            self.cancel_wanted.discard(order_id)
            self.cancel_inflight.add(order_id)
        for type_, data in fx.events:
            self._events.publish(type_, data)  # type: ignore[arg-type]
        if self.on_effects is not None:
            self.on_effects(fx)

    # --- applying (worker thread, inside one transaction) ------------------------------------

    def _apply_sync(
        self, s: Session, items: list[Item], inflight: set[int], wanted: set[int], publish: bool
    ) -> Effects:
        fx = Effects()
        ctx = Moves(s, self._account, items, fx, inflight, wanted, publish)
        for i, item in enumerate(items):
            try:
                fx.results[i] = ctx.apply(item)
            except DomainError as exc:
                fx.results[i] = exc
        ctx.flush()
        return fx

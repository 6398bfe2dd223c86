"""The durable, ordered event log behind the stream: write first, publish after the commit.

Order and trade events are appended inside the journal transaction that makes the change
(OrderUpdater, JournalWriter: `append_sync` there, `published` after the commit). Events
with no journal row of their own (position, asset, connection) go through `emit`: queued,
group-committed by one task, then published. Nothing reaches a subscriber before its row
has committed, so a replay from the database can never miss what the stream showed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import Connection

from backend.app.core.errors import EventsExpired
from backend.app.db.repositories import events as event_repo
from backend.app.db.session import Database
from backend.app.db.tables import EventRecord
from backend.app.services.events import EventBus, EventType

_MAX_BATCH = 512
PRUNE_EVERY_SECONDS = 3600.0

Event = tuple[str, dict[str, Any]]


class EventLog:
    def __init__(
        self, *, db: Database, bus: EventBus, account_id: str, retention_days: float
    ) -> None:
        self._db, self.bus, self._account = db, bus, account_id
        self._retention_days = retention_days
        self._queue: list[Event] = []
        self._drain_task: asyncio.Task[None] | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    # --- writing ----------------------------------------------------------------------------

    def append_sync(self, conn: Connection, events: Sequence[Event]) -> list[int]:
        """Append inside the caller's transaction (worker thread); the seqs, in order."""
        return event_repo.append(conn, self._account, events, datetime.now(UTC))

    def _append_batch(self, batch: list[Event], conn: Connection) -> list[int]:
        return self.append_sync(conn, batch)

    def published(self, seqs: Sequence[int], events: Sequence[Event]) -> None:
        """Publish events whose transaction has committed (loop thread)."""
        for seq, (type_, data) in zip(seqs, events, strict=True):
            self.bus.publish(seq, type_, data)

    def emit(self, type_: EventType, data: dict[str, Any]) -> None:
        """Log and then publish an event with no journal row of its own; returns at once."""
        self._queue.append((type_, data))
        self._idle.clear()
        if self._drain_task is None:
            loop = asyncio.get_running_loop()
            self._drain_task = loop.create_task(self._drain(), name="event-log")

    async def flush(self) -> None:
        """Wait until everything `emit`ted so far is committed and published."""
        await self._idle.wait()

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[:_MAX_BATCH]
                del self._queue[:_MAX_BATCH]
                try:
                    seqs = await self._db.run_core(functools.partial(self._append_batch, batch))
                except Exception:
                    # The database is down: the events are lost to the log and so are not
                    # published either (a reader must never see what a replay cannot).
                    logger.exception("{} events could not be logged and were dropped", len(batch))
                    continue
                self.published(seqs, batch)
        finally:
            self._drain_task = None
            if not self._queue:
                self._idle.set()

    # --- reading ----------------------------------------------------------------------------

    async def read(self, since: int | None, limit: int) -> tuple[list[EventRecord], int]:
        """Events with seq > since (oldest retained when None), and the next cursor.

        Raises:
            EventsExpired: `since` is older than the retained log.
        """

        def q(c: Connection) -> tuple[list[EventRecord], int]:
            floor = event_repo.pruned_through(c)
            if since is not None and since < floor:
                raise EventsExpired(
                    f"seq {since} 之后的部分事件已按保留期删除（已删至 {floor}）/ events after "
                    f"seq {since} were pruned (through {floor})", pruned_through=floor,
                )  # fmt: skip
            start = floor if since is None else since
            rows = event_repo.read(c, self._account, start, limit)
            return rows, rows[-1].seq if rows else max(start, event_repo.head(c))

        return await self._db.run_core(q)

    async def between(self, after: int, upto: int) -> list[EventRecord]:
        """Committed events with after < seq <= upto (a stream filling a gap)."""
        rows = await self._db.run_core(
            lambda c: event_repo.read(c, self._account, after, max(upto - after, 1))
        )
        return [r for r in rows if r.seq <= upto]

    async def head(self) -> int:
        return await self._db.run_core(event_repo.head)

    # --- retention --------------------------------------------------------------------------

    async def prune(self, now: datetime | None = None) -> int:
        """Delete events older than the retention; the number deleted (0 keeps forever)."""
        if self._retention_days <= 0:
            return 0
        before = (now or datetime.now(UTC)) - timedelta(days=self._retention_days)
        return await self._db.run_core(lambda c: event_repo.prune(c, before))

    def start(self) -> None:
        if self._prune_task is None and self._retention_days > 0:
            loop = asyncio.get_running_loop()
            self._prune_task = loop.create_task(self._prune_forever(), name="event-retention")

    async def _prune_forever(self) -> None:
        while True:
            try:
                n = await self.prune()
                if n:
                    logger.info("event log: {} events past retention deleted", n)
            except Exception:
                logger.exception("event log pruning failed; retrying in an hour")
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    async def stop(self) -> None:
        await self.flush()
        if self._prune_task is not None:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
            self._prune_task = None

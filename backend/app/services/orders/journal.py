"""Group commit of new orders: the `pending` journal row, its first event and its audit entry.

Every placement awaits `JournalWriter.insert(...)`; requests that arrive while a commit is
running queue up and go into the next transaction together (SQLAlchemy Core, no ORM unit of
work), so at 32 connections one commit and one thread hop serve many orders. Each caller
gets its own order id only after the transaction holding its row has COMMITTED, and only
then may it hand the order to the broker (DESIGN.md "Placing an order", step 4).

A batch that fails (a duplicate client_order_id: the unique constraint) is retried one
order per transaction, so only the offending order sees the IntegrityError.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert

from backend.app.db.session import Database
from backend.app.db.tables import AuditEntry, Order, OrderEvent
from backend.app.domain.actor import Actor
from backend.app.services.accounts.audit import sanitize

_MAX_BATCH = 256
_INSERT_ORDER = insert(cast(Table, Order.__table__))
_INSERT_EVENT = insert(cast(Table, OrderEvent.__table__))
_INSERT_AUDIT = insert(cast(Table, AuditEntry.__table__))

_Item = tuple[dict[str, Any], dict[str, Any], "asyncio.Future[int]"]


def audit_row(
    actor: Actor, *, action: str, outcome: str, detail: Mapping[str, Any], target: str = ""
) -> dict[str, Any]:
    """An audit_log row as AuditLog.record_sync writes it (sanitized, truncated)."""
    return {
        "username": actor.username[:64], "action": action[:48], "target": target[:128],
        "outcome": outcome[:32], "detail": sanitize(detail), "client_ip": actor.client_ip[:64],
        "request_id": actor.request_id[:64], "created_at": datetime.now(UTC),
    }  # fmt: skip


def _insert(c: Connection, items: list[_Item]) -> list[int]:
    ids: list[int] = []
    for fields, _, _ in items:
        key = c.execute(_INSERT_ORDER, fields).inserted_primary_key
        if key is None:  # pragma: no cover - every dialect we support reports it
            raise RuntimeError("the order insert reported no primary key")
        ids.append(int(key[0]))
    events, audits = [], []
    for order_id, (fields, audit, _) in zip(ids, items, strict=True):
        events.append({
            "order_id": order_id, "old_status": None, "new_status": fields["status"],
            "broker_status": None, "message": "accepted", "created_at": fields["created_at"],
        })  # fmt: skip
        audits.append({**audit, "target": f"order:{order_id}"})
    c.execute(_INSERT_EVENT, events)
    c.execute(_INSERT_AUDIT, audits)
    return ids


class JournalWriter:
    """Queues new orders and commits them in batches; one drain task while work is queued."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._queue: list[_Item] = []
        self._task: asyncio.Task[None] | None = None

    async def insert(self, fields: dict[str, Any], audit: dict[str, Any]) -> int:
        """Commit the order row (`fields`), its first event and `audit`; the new order id.

        `audit["target"]` is filled in with the id. Raises what the insert raised
        (IntegrityError for a client_order_id already in the journal).
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        self._queue.append((fields, audit, fut))
        if self._task is None:
            self._task = loop.create_task(self._drain(), name="journal-writer")
        return await fut

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[:_MAX_BATCH]
                del self._queue[:_MAX_BATCH]
                await self._commit(batch)
        finally:
            self._task = None

    async def _commit(self, batch: list[_Item]) -> None:
        try:
            ids = await self._db.run_core(lambda c: _insert(c, batch))
        except asyncio.CancelledError:
            for _, _, fut in batch:  # shutting down: nobody may wait forever
                if not fut.done():
                    fut.cancel()
            raise
        except Exception as exc:
            if len(batch) > 1:
                for item in batch:  # one bad order must not sink the others
                    await self._commit([item])
                return
            fut = batch[0][2]
            if not fut.done():
                fut.set_exception(exc)
            return
        for order_id, (_, _, fut) in zip(ids, batch, strict=True):
            if not fut.done():
                fut.set_result(order_id)

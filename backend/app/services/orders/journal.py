"""Group commit of new orders: the `pending` journal row, its first event, its audit entry and
its entry in the event log (published once the transaction has committed).

Every placement awaits `JournalWriter.insert(...)`; requests that arrive while a commit is
running queue up and go into the next transaction together (SQLAlchemy Core, no ORM unit of
work), so at 32 connections one commit and one thread hop serve many orders. Each caller
gets its own order id only after the transaction holding its row has COMMITTED, and only
then may it hand the order to the broker (DESIGN.md "Placing an order", step 4).

A batch that fails (a duplicate client_order_id: the unique constraint) is retried one
order per transaction, so only the offending order sees the IntegrityError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, insert

from backend.app.core.batching import MicroBatcher
from backend.app.db.session import Database
from backend.app.db.tables import AuditEntry, Order, OrderEvent
from backend.app.domain.actor import Actor
from backend.app.services.accounts.audit import sanitize
from backend.app.services.event_log import Event, EventLog

_MAX_BATCH = 256
_ORDERS = cast(Table, Order.__table__)
# One statement for the whole batch, the new ids in the order of the rows (SQLAlchemy's
# "insertmanyvalues" with RETURNING): a statement per order was ~60 us of SQLAlchemy each.
_INSERT_ORDERS = insert(_ORDERS).returning(_ORDERS.c.id, sort_by_parameter_order=True)
_INSERT_EVENT = insert(cast(Table, OrderEvent.__table__))
_INSERT_AUDIT = insert(cast(Table, AuditEntry.__table__))

_Item = tuple[dict[str, Any], dict[str, Any]]  # the order row's fields, its audit row


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
    ids = [int(row[0]) for row in c.execute(_INSERT_ORDERS, [fields for fields, _ in items])]
    if len(ids) != len(items):  # pragma: no cover - every dialect we support returns them all
        raise RuntimeError("the order insert did not return every new id")
    events, audits = [], []
    for order_id, (fields, audit) in zip(ids, items, strict=True):
        events.append({
            "order_id": order_id, "old_status": None, "new_status": fields["status"],
            "broker_status": None, "message": "accepted", "created_at": fields["created_at"],
        })  # fmt: skip
        audits.append({**audit, "target": f"order:{order_id}"})
    c.execute(_INSERT_EVENT, events)
    c.execute(_INSERT_AUDIT, audits)
    return ids


class JournalWriter:
    """Queues new orders and commits them in batches (MicroBatcher: one commit at a time)."""

    def __init__(
        self, db: Database, log: EventLog, order_event: Callable[[int, dict[str, Any]], Event]
    ) -> None:
        self._db, self._log, self._order_event = db, log, order_event
        self._batcher: MicroBatcher[_Item, int] = MicroBatcher(
            self._commit, name="journal-writer", max_batch=_MAX_BATCH, split_on_error=True
        )

    async def insert(self, fields: dict[str, Any], audit: dict[str, Any]) -> int:
        """Commit the order row (`fields`), its first event and `audit`; the new order id.

        `audit["target"]` is filled in with the id. Raises what the insert raised
        (IntegrityError for a client_order_id already in the journal).
        """
        return await self._batcher.submit((fields, audit))

    async def _commit(self, batch: list[_Item]) -> list[int]:
        ids, events, seqs = await self._db.run_core(lambda c: self._write(c, batch))
        self._log.published(seqs, events)
        return ids

    def _write(self, c: Connection, batch: list[_Item]) -> tuple[list[int], list[Event], list[int]]:
        ids = _insert(c, batch)
        events = [self._order_event(i, fields) for i, (fields, _) in zip(ids, batch, strict=True)]
        return ids, events, self._log.append_sync(c, events)

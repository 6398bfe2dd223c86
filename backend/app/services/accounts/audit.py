"""The audit trail: who placed, cancelled or changed what, when, from where, with what outcome.

Entries never hold secrets: keys that look like passwords or tokens are dropped, and account
ids are masked to their last four characters before anything is written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from backend.app.core.errors import ValidationFailed
from backend.app.db.repositories import audit as repo
from backend.app.db.session import Database
from backend.app.db.tables import AuditEntry
from backend.app.domain.actor import Actor
from backend.app.domain.ids import id_from_text
from backend.app.domain.masking import mask_account
from backend.app.models.risk import AuditEntryRead, AuditPage

_SECRET_KEY = re.compile(r"pass(word|wd)?|token|secret|authorization|api[_-]?key", re.IGNORECASE)
_ACCOUNT_KEY = re.compile(r"(^|_)account(_id)?$", re.IGNORECASE)
MAX_LIMIT = 500
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _clean(value: Any) -> Any:
    if isinstance(value, Mapping):
        return sanitize(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def sanitize(detail: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-safe copy of `detail` with secrets dropped and account ids masked."""
    out: dict[str, Any] = {}
    for key, value in detail.items():
        k = str(key)
        if _SECRET_KEY.search(k):
            continue
        if _ACCOUNT_KEY.search(k) and isinstance(value, str):
            out[k] = mask_account(value)
            continue
        out[k] = _clean(value)
    return out


def encode_cursor(entry_id: int) -> str:
    return str(entry_id)


def decode_cursor(cursor: str) -> int:
    entry_id = id_from_text(cursor)
    if entry_id is None:
        raise ValidationFailed(
            "cursor 无效，请用上一页的 next_cursor / invalid cursor: pass next_cursor as given",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        )
    return entry_id


def _read(entry: AuditEntry) -> AuditEntryRead:
    return AuditEntryRead(
        id=entry.id,
        created_at=entry.created_at,
        username=entry.username,
        action=entry.action,
        target=entry.target,
        outcome=entry.outcome,
        detail=entry.detail or {},
        client_ip=entry.client_ip,
        request_id=entry.request_id,
    )


class AuditLog:
    """Writes and reads the audit trail (db.tables.AuditEntry)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_sync(
        self,
        session: Session,
        *,
        actor: Actor,
        action: str,
        target: str = "",
        outcome: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Add an entry inside the caller's transaction (it commits or rolls back with it)."""
        repo.insert_entry(
            session,
            username=actor.username,
            action=action,
            target=target,
            outcome=outcome,
            detail=sanitize(detail or {}),
            client_ip=actor.client_ip,
            request_id=actor.request_id,
            created_at=datetime.now(UTC),
        )

    async def record(
        self,
        *,
        actor: Actor,
        action: str,
        target: str = "",
        outcome: str,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one entry in its own transaction."""

        def write(s: Session) -> None:
            self.record_sync(
                s, actor=actor, action=action, target=target, outcome=outcome, detail=detail
            )

        await self._db.run(write)

    async def list(
        self,
        *,
        action: str | None = None,
        username: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage:
        """Newest first, `limit` per page; pass `next_cursor` back to get the next page.

        Raises:
            ValidationFailed: the cursor is not one this endpoint handed out.
        """
        before_id = decode_cursor(cursor) if cursor else None
        if since is not None:
            # Stored in UTC; a time without an offset is exchange time (Asia/Shanghai).
            since = (since if since.tzinfo else since.replace(tzinfo=SHANGHAI)).astimezone(UTC)
        size = max(1, min(limit, MAX_LIMIT))

        def read(s: Session) -> list[AuditEntryRead]:
            rows = repo.list_entries(
                s,
                action=action,
                username=username,
                since=since,
                before_id=before_id,
                limit=size + 1,
            )
            return [_read(r) for r in rows]

        items = await self._db.run(read)
        next_cursor = encode_cursor(items[size - 1].id) if len(items) > size else None
        return AuditPage(items=items[:size], next_cursor=next_cursor)

"""Audit trail queries: insert one entry, read newest first with a keyset cursor."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.app.db.tables import AuditEntry


def insert_entry(
    session: Session,
    *,
    username: str,
    action: str,
    target: str,
    outcome: str,
    detail: dict[str, Any],
    client_ip: str,
    request_id: str,
    created_at: datetime,
) -> AuditEntry:
    entry = AuditEntry(
        username=username[:64],
        action=action[:48],
        target=target[:128],
        outcome=outcome[:32],
        detail=detail,
        client_ip=client_ip[:64],
        request_id=request_id[:64],
        created_at=created_at,
    )
    session.add(entry)
    session.flush()
    return entry


def list_entries(
    session: Session,
    *,
    action: str | None = None,
    username: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> Sequence[AuditEntry]:
    """Newest first; `before_id` is the keyset cursor (ids only grow)."""
    stmt = select(AuditEntry)
    if action:
        # `order` matches `order.place` and `order.cancel`; a full name matches itself.
        if "." in action:
            stmt = stmt.where(AuditEntry.action == action)
        else:
            stmt = stmt.where(AuditEntry.action.startswith(f"{action}.", autoescape=True))
    if username:
        stmt = stmt.where(AuditEntry.username == username)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit)
    return session.scalars(stmt).all()

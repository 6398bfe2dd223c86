"""Small persisted switches (risk rules, kill switch) as JSON rows keyed by name."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from backend.app.db.tables import Setting


def get_setting(session: Session, key: str) -> Setting | None:
    return session.get(Setting, key)


def put_setting(session: Session, key: str, value: dict[str, Any], *, by: str) -> Setting:
    row = session.get(Setting, key, with_for_update=True)
    now = datetime.now(UTC)
    if row is None:
        row = Setting(key=key, value=value, updated_at=now, updated_by=by[:64])
        session.add(row)
    else:
        row.value = value
        row.updated_at = now
        row.updated_by = by[:64]
    session.flush()
    return row

"""Small persisted switches (risk rules, kill switch) as JSON rows keyed by name.

Each value carries a `version` that goes up by one on every write, so a server process
can tell with one small SELECT whether another process changed a setting (RiskEngine's
refresh). Rows written before versions existed read as version 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backend.app.db.tables import Setting

VERSION_FIELD = "version"


def setting_version(value: dict[str, Any] | None) -> int:
    """The write counter stored in a setting's value (0 for rows from before versions)."""
    if not value:
        return 0
    v = value.get(VERSION_FIELD, 0)
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def read_settings(session: Session, keys: Iterable[str]) -> dict[str, Setting]:
    """The rows for `keys` in one SELECT (missing keys are simply absent)."""
    rows = session.scalars(select(Setting).where(Setting.key.in_(list(keys))))
    return {row.key: row for row in rows}


def lock_setting(session: Session, key: str) -> Setting | None:
    """The row as stored now, write-locked until the transaction ends.

    An UPDATE takes the write lock on SQLite and the row lock on PostgreSQL alike (SELECT
    ... FOR UPDATE is a no-op on SQLite), so a read-modify-write that starts here cannot
    lose another process's write: two processes writing one setting at once get versions
    n+1 and n+2, never n+1 twice.
    """
    session.execute(
        update(Setting).where(Setting.key == key).values(updated_at=datetime.now(UTC)),
        execution_options={"synchronize_session": False},
    )
    return session.get(Setting, key, populate_existing=True)


def put_setting(session: Session, key: str, value: dict[str, Any], *, by: str) -> Setting:
    """Write `value` (its `version` is set here: the stored one plus one)."""
    row = lock_setting(session, key)
    now = datetime.now(UTC)
    stored = dict(value)
    stored[VERSION_FIELD] = setting_version(row.value if row is not None else None) + 1
    if row is None:
        row = Setting(key=key, value=stored, updated_at=now, updated_by=by[:64])
        session.add(row)
    else:
        row.value = stored
        row.updated_at = now
        row.updated_by = by[:64]
    session.flush()
    return row

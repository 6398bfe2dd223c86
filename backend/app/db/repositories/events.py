"""The durable event log (sync; called inside `Database.run` / `run_core`).

Gap-free reading needs commit order == seq order: a reader that saw seq 7 must never later
find a 6. SQLite gives that for free (one writer holds the lock from its first write to its
commit). On PostgreSQL a sequence hands out numbers outside transactions, so every
transaction that appends takes one advisory lock right before its insert and holds it until
it commits: appends are serialized for the last few milliseconds of each transaction only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, delete, func, insert, select, text

from backend.app.db.tables import EventRecord, Setting

_T = cast(Table, EventRecord.__table__)
_INSERT = insert(_T).returning(_T.c.seq, sort_by_parameter_order=True)
# Any constant; it names "the event log's append lock" among the database's advisory locks.
_PG_LOCK_KEY = 0x71_6D_74_16
PRUNED_KEY = "event_log.pruned_through"


def append(
    conn: Connection, account_id: str, events: Sequence[tuple[str, dict[str, Any]]], now: datetime
) -> list[int]:
    """Insert `events` (type, data) in order; their seqs, ascending. Commit is the caller's."""
    if not events:
        return []
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
    rows = [{"account_id": account_id, "type": t, "data": d, "created_at": now} for t, d in events]
    return [int(r[0]) for r in conn.execute(_INSERT, rows)]


def read(conn: Connection, account_id: str, since: int, limit: int) -> list[EventRecord]:
    """Up to `limit` events of the account with seq > since, oldest first."""
    q = (
        select(_T.c.seq, _T.c.type, _T.c.data, _T.c.created_at)
        .where(_T.c.account_id == account_id, _T.c.seq > since)
        .order_by(_T.c.seq)
        .limit(limit)
    )
    return [
        EventRecord(seq=r.seq, type=r.type, data=r.data, created_at=r.created_at)
        for r in conn.execute(q)
    ]


def head(conn: Connection) -> int:
    """The highest seq handed out so far that is still stored (0 for an empty log).

    Global rather than per account: a stream that starts at the head of the log can never
    miss an event of its account committed later, since later events get larger seqs.
    """
    return int(conn.execute(select(func.coalesce(func.max(_T.c.seq), 0))).scalar_one())


def pruned_through(conn: Connection) -> int:
    """Every seq up to this one may have been deleted by retention (0: nothing pruned)."""
    value = conn.execute(select(Setting.value).where(Setting.key == PRUNED_KEY)).scalar()
    if not isinstance(value, dict):
        return 0
    seq = value.get("seq", 0)
    return seq if isinstance(seq, int) else 0


def prune(conn: Connection, before: datetime) -> int:
    """Delete events created before `before`; record how far; the number deleted.

    The watermark is the largest seq deleted, so a `since` below it is known to be
    incomplete (410), while one at or above it still replays everything.
    """
    top = conn.execute(select(func.max(_T.c.seq)).where(_T.c.created_at < before)).scalar()
    if top is None:
        return 0
    deleted = conn.execute(delete(_T).where(_T.c.seq <= int(top))).rowcount
    mark = max(int(top), pruned_through(conn))
    now = datetime.now(before.tzinfo)
    exists = conn.execute(select(Setting.key).where(Setting.key == PRUNED_KEY)).scalar()
    stt = cast(Table, Setting.__table__)
    if exists is None:
        conn.execute(insert(stt).values(key=PRUNED_KEY, value={"seq": mark}, updated_at=now,
                                        updated_by="event-retention"))  # fmt: skip
    else:
        conn.execute(stt.update().where(stt.c.key == PRUNED_KEY)
                     .values(value={"seq": mark}, updated_at=now))  # fmt: skip
    return int(deleted or 0)

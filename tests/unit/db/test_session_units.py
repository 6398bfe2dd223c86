"""db/session.py on SQLite: units of work run one at a time, in arrival order, on their own
thread; a caller cancelled while its unit runs is told only after the unit has ended."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from backend.app.db.session import Database


def _db(tmp_path: Path) -> Database:
    db = Database(f"sqlite:///{(tmp_path / 'units.db').as_posix()}")
    db.call_core(lambda c: c.execute(text("CREATE TABLE t (n INTEGER)")))
    return db


def _count(db: Database) -> int:
    return int(db.call_core(lambda c: c.execute(text("SELECT COUNT(*) FROM t")).scalar_one()))


def test_units_of_work_run_in_arrival_order_one_at_a_time(tmp_path: Path) -> None:
    db = _db(tmp_path)
    seen: list[int] = []
    running = 0
    overlap = False

    def unit(i: int) -> int:
        def fn(c: Connection) -> int:
            nonlocal running, overlap
            running += 1
            overlap |= running > 1
            c.execute(text("INSERT INTO t VALUES (:n)"), {"n": i})
            seen.append(i)
            running -= 1
            return i

        return fn

    async def main() -> list[int]:
        return list(await asyncio.gather(*(db.run_core(unit(i)) for i in range(50))))

    try:
        assert asyncio.run(main()) == list(range(50))
        assert seen == list(range(50))
        assert not overlap
        assert _count(db) == 50
    finally:
        db.dispose()


def test_a_cancelled_caller_learns_it_only_after_its_unit_committed(tmp_path: Path) -> None:
    db = _db(tmp_path)
    started, release = threading.Event(), threading.Event()

    def slow(c: Connection) -> None:
        started.set()
        release.wait(30)
        c.execute(text("INSERT INTO t VALUES (1)"))

    async def main() -> None:
        task = asyncio.create_task(db.run_core(slow))
        await asyncio.to_thread(started.wait, 30)
        task.cancel()
        for _ in range(5):
            await asyncio.sleep(0)
        assert not task.done()  # still waiting for the unit of work to end
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert _count(db) == 1  # it committed before the caller heard of the cancellation

    try:
        asyncio.run(main())
    finally:
        release.set()
        db.dispose()


def test_a_disposed_database_still_runs_units_of_work(tmp_path: Path) -> None:
    db = _db(tmp_path)
    asyncio.run(db.run_core(lambda c: c.execute(text("INSERT INTO t VALUES (1)"))))
    db.dispose()
    asyncio.run(db.run_core(lambda c: c.execute(text("INSERT INTO t VALUES (2)"))))
    assert _count(db) == 2
    db.dispose()

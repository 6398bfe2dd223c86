"""The database handle: one sync SQLAlchemy engine, used from worker threads.

Routes and services never run a query on the event loop: they call `await db.run(fn)`,
which runs `fn(session)` in a thread and commits. SQLite gets WAL and a busy timeout so
readers never block the single writer; PostgreSQL works from the same URL setting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from backend.app.core.serial_thread import SerialThread

T = TypeVar("T")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # NORMAL under WAL survives a process kill -9 (only an OS crash can lose the last commit).
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        # psycopg (v3) is the driver we ship; accept plain postgresql:// URLs for it.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # SQLite has one writer. Two threads writing at once make SQLite's busy handler sleep
        # (1, 2, 5 ... 100 ms) until the other commits: seconds of p99 under load. Units of
        # work queue on this lock instead (PostgreSQL needs none).
        self._serial = threading.RLock() if self.is_sqlite else None
        # ... and run on one thread of their own, in FIFO order: a SerialThread hop costs a
        # fraction of anyio's to_thread with a limiter of 1, or of an executor's wrap_future
        # (two or three per order: the journal commit, the broker answer's write-back, the
        # asset event).
        self._writer: SerialThread | None = None
        # ... which keeps one connection open for all of them: a pool checkout and return per
        # unit (connect, reset, events) was about a quarter of a journal commit's CPU.
        self._pinned = threading.local()
        self._writer_conn: Connection | None = None
        # How many units of work that wrote (any statement but a SELECT) have ended: a reader
        # that keeps what it read (the order list's page cache) tags it with this number and
        # drops it once the number moves. Bumped after the commit, never before.
        self.writes = 0
        self._writes_lock = threading.Lock()
        self._unit = threading.local()  # per thread: nesting depth, wrote-in-this-unit flag
        event.listen(self.engine, "after_cursor_execute", self._saw_statement)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        pinned = self._pinned_idle()
        with self._sessions(**({"bind": pinned} if pinned is not None else {})) as s, s.begin():
            yield s

    def call(self, fn: Callable[[Session], T]) -> T:
        with self._counted(), self._serial or nullcontext(), self.session() as s:
            return fn(s)

    def call_core(self, fn: Callable[[Connection], T]) -> T:
        """`fn(connection)` in one committed transaction, no ORM session (the hot writes)."""
        with self._counted(), self._serial or nullcontext(), self._transaction() as c:
            return fn(c)

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a new transaction, committed on success: the SQLite writer thread's
        own, else one from the pool."""
        pinned = self._pinned_idle()
        if pinned is None:
            with self.engine.begin() as c:
                yield c
        else:
            with pinned.begin():
                yield pinned

    def _pinned_idle(self) -> Connection | None:
        """The writer thread's connection when it is between transactions (a unit nested in
        another gets a pooled one, as before)."""
        pinned: Connection | None = getattr(self._pinned, "conn", None)
        return None if pinned is None or pinned.in_transaction() else pinned

    def _pin_connection(self) -> None:
        """On the SQLite writer thread, before its first unit."""
        self._writer_conn = self._pinned.conn = self.engine.connect()

    @contextmanager
    def _counted(self) -> Iterator[None]:
        """Around a unit of work (outside its transaction): bump `writes` once it has ended,
        if it (or a unit nested in it) executed anything but a SELECT."""
        unit = self._unit
        depth = getattr(unit, "depth", 0)
        if depth == 0:
            unit.wrote = False
        unit.depth = depth + 1
        try:
            yield
        finally:
            unit.depth = depth
            if unit.wrote:  # committed or rolled back: either way, no longer in flight
                with self._writes_lock:
                    self.writes += 1
                if depth == 0:
                    unit.wrote = False

    def _saw_statement(self, _c: Any, _cur: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip()[:6].upper().startswith("SELECT"):
            self._unit.wrote = True

    async def run_core(self, fn: Callable[[Connection], T]) -> T:
        """Like `run`, for SQLAlchemy Core: `fn(connection)` in a worker thread, committed."""
        return await self._to_thread(self.call_core, fn)

    async def _to_thread(
        self, call: Callable[[Callable[[Any], T]], T], fn: Callable[[Any], T]
    ) -> T:
        if self._serial is None:
            return await anyio.to_thread.run_sync(call, fn)
        # SQLite runs one unit of work at a time anyway: they queue for the one thread rather
        # than parking pool threads on the lock and paying a GIL handoff for each.
        if self._writer is None:
            self._writer = SerialThread("sqlite-unit", initializer=self._pin_connection)
        return await self._writer.run(call, fn)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in a worker thread inside one committed transaction."""
        return await self._to_thread(self.call, fn)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as c:
                c.execute(text("SELECT 1"))
            return True
        except Exception:  # any driver error means "not ready"; /ready reports it
            return False

    def dispose(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()
        conn, self._writer_conn = self._writer_conn, None
        if conn is not None:
            conn.close()
        self.engine.dispose()

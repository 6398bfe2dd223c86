"""One process at a time on the simulated books: an exclusive lock the OS releases.

`BooksLock(path)` holds `<path>/qmt_sim.lock`, a tiny SQLite file opened with
`locking_mode=EXCLUSIVE` and written once: SQLite then keeps its OS file lock (POSIX advisory
lock / Windows LockFileEx) until the connection closes, and the OS drops it when the process
dies, so `kill -9` or a crash leaves nothing stale to clean up. The file itself stays; its
existence means nothing. A second opener — another process, or another connection in this one —
gets SQLITE_BUSY at once (timeout 0) and raises `SimBooksLocked`.

`<path>/qmt_sim.owner` is only a note of the holder's pid for that message, written after the
lock is taken and removed before it is released (a crash may leave it behind; it is never
trusted for locking). The lock file is never opened by anything but SQLite: on POSIX, closing
any other descriptor of it would drop this process's locks on it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from types import TracebackType

LOCK_NAME = "qmt_sim.lock"
OWNER_NAME = "qmt_sim.owner"

_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class SimBooksLocked(RuntimeError):
    """Another process (or another trader in this one) has the simulated books open."""

    def __init__(self, path: str | Path, pid: int | None) -> None:
        self.path, self.pid = Path(path), pid
        who = f"pid {pid}" if pid is not None else "pid unknown"
        super().__init__(
            f"模拟账本正被另一个进程使用 / the simulated books are in use by another process "
            f"({who}): {self.path}"
        )


def holder_pid(path: str | Path) -> int | None:
    """The pid noted by the last holder (best effort; may be stale once the lock is free)."""
    try:
        return int((Path(path) / OWNER_NAME).read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return None


class BooksLock:
    """Exclusive lock on the books under `path`, taken on construction (raises
    `SimBooksLocked` when held elsewhere). `release()` is idempotent; also a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self._mutex = threading.Lock()
        db = sqlite3.connect(
            self.path / LOCK_NAME, timeout=0, isolation_level=None, check_same_thread=False
        )
        try:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("BEGIN EXCLUSIVE")  # the OS lock, or SQLITE_BUSY now
            # A real write, so EXCLUSIVE mode keeps the lock after COMMIT.
            db.execute(f"PRAGMA user_version={os.getpid() & 0x7FFFFFFF}")
            db.execute("COMMIT")
        except sqlite3.OperationalError as exc:
            db.close()
            if getattr(exc, "sqlite_errorcode", None) in _BUSY:
                raise SimBooksLocked(self.path, holder_pid(self.path)) from None
            raise
        except BaseException:
            db.close()
            raise
        self._db: sqlite3.Connection | None = db
        with contextlib.suppress(OSError):  # the note is informational only
            (self.path / OWNER_NAME).write_text(f"{os.getpid()}\n", encoding="ascii")

    @property
    def held(self) -> bool:
        return self._db is not None

    def release(self) -> None:
        with self._mutex:
            db, self._db = self._db, None
            if db is None:
                return
            with contextlib.suppress(OSError):
                (self.path / OWNER_NAME).unlink(missing_ok=True)
            db.close()

    def __enter__(self) -> BooksLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

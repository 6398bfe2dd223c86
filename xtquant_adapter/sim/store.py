"""Durable books of the simulated counter: stdlib sqlite3 in WAL mode, one file under `path`.

The trader commits every change here before any callback announces it, in one transaction per
push-thread drain (synchronous=NORMAL: WAL keeps commits atomic; a power cut may lose the last
commits but never half of one, and `kill -9` of the process loses nothing committed).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from xtquant_adapter.sim.booklock import BooksLock

DB_NAME = "qmt_sim.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    order_id INTEGER PRIMARY KEY, day TEXT, code TEXT, name TEXT, side TEXT,
    order_type INTEGER, price_type INTEGER, price TEXT, volume INTEGER, order_time INTEGER,
    strategy_name TEXT, remark TEXT, status INTEGER, status_msg TEXT, traded INTEGER,
    traded_value TEXT, fees TEXT, frozen TEXT, protect TEXT, placed_step INTEGER, seq INTEGER);
CREATE INDEX IF NOT EXISTS orders_day ON orders(day);
CREATE TABLE IF NOT EXISTS trades (
    traded_id TEXT PRIMARY KEY, order_id INTEGER, code TEXT, name TEXT, side TEXT, price TEXT,
    volume INTEGER, amount TEXT, fees TEXT, traded_time INTEGER, day TEXT, strategy_name TEXT,
    remark TEXT);
CREATE INDEX IF NOT EXISTS trades_day ON trades(day);
CREATE TABLE IF NOT EXISTS positions (
    code TEXT PRIMARY KEY, name TEXT, volume INTEGER, can_use INTEGER, frozen INTEGER,
    yesterday INTEGER, cost TEXT);
CREATE TABLE IF NOT EXISTS quotes (
    code TEXT PRIMARY KEY, fair TEXT, last TEXT, pre_close TEXT, open TEXT, high TEXT, low TEXT,
    volume INTEGER, amount TEXT);
CREATE TABLE IF NOT EXISTS bars (
    code TEXT, period TEXT, time INTEGER, open TEXT, high TEXT, low TEXT, close TEXT,
    volume INTEGER, amount TEXT, PRIMARY KEY (code, period, time));
"""

_INSERT_ORDER = "INSERT OR REPLACE INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
_INSERT_TRADE = "INSERT OR REPLACE INTO trades VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"


def db_path(path: str | Path) -> Path:
    return Path(path) / DB_NAME


def reset_books(path: str | Path) -> None:
    """Delete the simulated account's books under `path`; the next start opens fresh ones.

    Raises `SimBooksLocked` while a simulator (any process) has them open: stop it first.
    """
    with BooksLock(path):
        delete_books(path)


def delete_books(path: str | Path) -> None:
    """Delete the books files; the caller holds the `BooksLock` (see `reset_books`)."""
    base = db_path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{base}{suffix}").unlink(missing_ok=True)


class Store:
    def __init__(self, path: str | Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(db_path(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def meta(self) -> dict[str, str]:
        return dict(self._db.execute("SELECT k, v FROM meta").fetchall())

    def rows(self, table: str, day: str | None = None) -> list[tuple[Any, ...]]:
        if table not in ("orders", "trades", "positions", "quotes", "bars"):
            raise ValueError(table)
        if day is None:
            return self._db.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608
        return self._db.execute(
            f"SELECT * FROM {table} WHERE day = ? ORDER BY rowid",  # noqa: S608 - our table names
            (day,),
        ).fetchall()

    def write(
        self,
        *,
        meta: dict[str, str],
        orders: Iterable[tuple[Any, ...]] = (),
        trades: Iterable[tuple[Any, ...]] = (),
        positions: Iterable[tuple[Any, ...]] = (),
        dropped: Iterable[str] = (),
        quotes: Iterable[tuple[Any, ...]] = (),
        bars: Iterable[tuple[Any, ...]] = (),
    ) -> None:
        """Apply one batch atomically."""
        db = self._db
        db.execute("BEGIN")
        try:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
            db.executemany(_INSERT_ORDER, orders)
            db.executemany(_INSERT_TRADE, trades)
            db.executemany("INSERT OR REPLACE INTO positions VALUES (?,?,?,?,?,?,?)", positions)
            db.executemany("DELETE FROM positions WHERE code = ?", ((c,) for c in dropped))
            db.executemany("INSERT OR REPLACE INTO quotes VALUES (?,?,?,?,?,?,?,?,?)", quotes)
            db.executemany("INSERT OR REPLACE INTO bars VALUES (?,?,?,?,?,?,?,?,?)", bars)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

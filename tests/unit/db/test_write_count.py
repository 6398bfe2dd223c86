"""`Database.writes`: the number a reader's cache is tagged with. It moves once per unit of
work that wrote anything, only after that unit has ended (committed or rolled back), and never
for a unit that only read."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from backend.app.db.session import Database


@pytest.fixture
def db(tmp_path: Path) -> Database:
    d = Database(f"sqlite:///{(tmp_path / 'w.db').as_posix()}")
    d.call_core(lambda c: c.execute(text("CREATE TABLE t (x INTEGER)")))
    return d


def test_reads_leave_the_count_alone_and_each_writing_unit_moves_it_once(db: Database) -> None:
    start = db.writes
    db.call_core(lambda c: c.execute(text("SELECT count(*) FROM t")).scalar())
    db.call(lambda s: s.execute(text("SELECT 1")).scalar())
    assert db.writes == start

    def two_inserts(c: Connection) -> None:
        c.execute(text("INSERT INTO t VALUES (1)"))
        c.execute(text("INSERT INTO t VALUES (2)"))

    db.call_core(two_inserts)
    assert db.writes == start + 1
    db.call(lambda s: s.execute(text("UPDATE t SET x = 3")))
    assert db.writes == start + 2


def test_the_count_moves_only_once_the_write_has_committed(db: Database) -> None:
    seen_inside: list[int] = []

    def insert(c: Connection) -> None:
        c.execute(text("INSERT INTO t VALUES (1)"))
        seen_inside.append(db.writes)  # written but not committed: a reader must not trust it

    before = db.writes
    db.call_core(insert)
    assert seen_inside == [before]
    assert db.writes == before + 1


def test_a_write_that_rolled_back_moves_it_too_and_the_next_read_does_not(db: Database) -> None:
    def fail(c: Connection) -> None:
        c.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("refused")

    before = db.writes
    with pytest.raises(RuntimeError):
        db.call_core(fail)
    assert db.writes == before + 1  # harmless: a cached read is dropped for nothing
    db.call_core(lambda c: c.execute(text("SELECT * FROM t")).all())
    assert db.writes == before + 1


def test_a_write_in_an_outer_unit_is_counted_after_the_outer_unit_ends(db: Database) -> None:
    counts: list[int] = []

    def outer(c: Connection) -> None:
        c.execute(text("INSERT INTO t VALUES (1)"))
        db.call(lambda s: s.execute(text("SELECT 1")).scalar())  # a nested read-only unit
        counts.append(db.writes)

    before = db.writes
    db.call_core(outer)
    assert counts[0] >= before  # whatever the nested unit did...
    assert db.writes > counts[0]  # ...the outer write moves the count once it has committed

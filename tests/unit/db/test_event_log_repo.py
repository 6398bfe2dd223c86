"""The event log's storage on SQLite and PostgreSQL: seqs only grow, commit order is seq order
(a reader tailing `seq > last` under concurrent writers from two processes' handles never
skips an event that commits late), and pruning leaves a watermark."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.app.db.migrate import upgrade_database
from backend.app.db.repositories import events as repo
from backend.app.db.session import Database

WRITERS, BATCHES = 4, 40


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{(tmp_path / 'ev.db').as_posix()}"
    return str(request.getfixturevalue("pg_url"))


def test_a_tailing_reader_sees_every_event_of_concurrent_writers(url: str) -> None:
    # Two handles = two server processes sharing one database, each its own account.
    dbs = [Database(url), Database(url)]
    upgrade_database(dbs[0])
    accounts = [f"A-{uuid.uuid4().hex[:8]}", f"B-{uuid.uuid4().hex[:8]}"]
    now = datetime.now(UTC)
    done = threading.Event()
    tailed: list[int] = []

    def write(i: int) -> None:
        db, account = dbs[i % 2], accounts[i % 2]
        for n in range(BATCHES):
            batch = [("order", {"w": i, "n": n, "k": k}) for k in range(3)]
            db.call_core(lambda c, b=batch: repo.append(c, account, b, now))

    def tail() -> None:
        last = 0
        while True:
            finished = done.is_set()
            rows = dbs[1].call_core(lambda c, s=last: repo.read(c, accounts[0], s, 1000))
            for r in rows:
                tailed.append(r.seq)
                last = r.seq
            if finished and not rows:
                return

    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    reader = threading.Thread(target=tail)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(60)
    try:
        everything = dbs[0].call_core(lambda c: repo.read(c, accounts[0], 0, 100_000))
        assert len(everything) == WRITERS // 2 * BATCHES * 3
        assert [r.seq for r in everything] == sorted({r.seq for r in everything})
        assert tailed == [r.seq for r in everything]  # nothing skipped, nothing twice
        # each batch's events are consecutive in the log, in the order given
        mine = [(r.data["w"], r.data["n"], r.data["k"]) for r in everything]
        assert all(mine[j][2] == j % 3 for j in range(len(mine)))
    finally:
        for db in dbs:
            db.dispose()


def test_pruning_sets_a_watermark_and_never_reuses_a_seq(url: str) -> None:
    db = Database(url)
    upgrade_database(db)
    account = f"P-{uuid.uuid4().hex[:8]}"
    old = datetime.now(UTC) - timedelta(days=10)
    try:
        seqs = db.call_core(lambda c: repo.append(c, account, [("asset", {})] * 3, old))
        assert db.call_core(lambda c: repo.prune(c, datetime.now(UTC))) >= 3
        assert db.call_core(repo.pruned_through) >= seqs[-1]
        assert db.call_core(lambda c: repo.read(c, account, 0, 10)) == []
        again = db.call_core(lambda c: repo.append(c, account, [("asset", {})], old))
        assert again[0] > seqs[-1]  # the log emptied, yet the number still grows
        assert db.call_core(repo.head) >= again[0]
        assert db.call_core(lambda c: repo.prune(c, old - timedelta(days=1))) == 0
    finally:
        db.dispose()

"""Timestamps come back aware and unshifted on SQLite, which stores no offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from backend.app.db.tables import AuditEntry, Base


def test_shanghai_time_reads_back_as_the_same_instant_in_utc(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{(tmp_path / 't.db').as_posix()}")
    Base.metadata.create_all(engine)
    written = datetime(2026, 11, 25, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    with Session(engine) as s, s.begin():
        s.add(AuditEntry(action="t", outcome="ok", detail={}, created_at=written))
    with Session(engine) as s:
        read = s.scalars(select(AuditEntry.created_at)).one()
    assert read.tzinfo is UTC
    assert read == written


def test_naive_datetime_is_refused(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{(tmp_path / 't.db').as_posix()}")
    Base.metadata.create_all(engine)
    with pytest.raises(Exception, match="naive datetime"), Session(engine) as s, s.begin():
        s.add(AuditEntry(action="t", outcome="ok", detail={}, created_at=datetime(2026, 1, 1)))  # noqa: DTZ001

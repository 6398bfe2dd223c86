"""The Alembic head must create exactly db/tables.py: add a revision with every table change."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from backend.app.db.migrate import MIGRATIONS_DIR, current_revision, upgrade_database
from backend.app.db.session import Database
from backend.app.db.tables import Base


def _diff(db: Database) -> list[object]:
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(ctx, Base.metadata))


def test_migrations_ship_inside_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert any(MIGRATIONS_DIR.glob("versions/*.py"))


def test_upgrade_sqlite_matches_tables_and_is_idempotent(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{(tmp_path / 'm.db').as_posix()}")
    try:
        upgrade_database(db)
        upgrade_database(db)
        assert current_revision(db) is not None
        assert set(Base.metadata.tables) <= set(inspect(db.engine).get_table_names())
        assert _diff(db) == []
    finally:
        db.dispose()


@pytest.mark.postgres
def test_upgrade_postgres_matches_tables(pg_url: str) -> None:
    db = Database(pg_url)
    try:
        upgrade_database(db)
        upgrade_database(db)
        assert _diff(db) == []
    finally:
        db.dispose()

"""Run the Alembic migrations from code: no alembic.ini and no particular cwd needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from loguru import logger
from sqlalchemy import text

from backend.app.db.session import Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any fixed number: serializes concurrent upgrades of one PostgreSQL database.
_PG_LOCK_ID = 7_270_423_001


def alembic_config(db: Database | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db is not None:
        # Through attributes, not the ini option: a URL with % would break interpolation.
        cfg.attributes["database_url"] = db.url
    return cfg


def upgrade_database(db: Database, revision: str = "head") -> None:
    """Bring the schema to `revision` (default: the newest). Safe to run on every start."""
    cfg = alembic_config(db)
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        cfg.attributes["connection"] = conn
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(cfg, revision)
        after = MigrationContext.configure(conn).get_current_revision()
    if before != after:
        logger.info("database schema upgraded {} -> {}", before or "empty", after)
    else:
        logger.debug("database schema at {}", after)


def current_revision(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()

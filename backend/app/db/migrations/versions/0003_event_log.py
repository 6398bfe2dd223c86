"""the durable event log behind the resumable stream (issue 16)

Every published event gets a `seq` that only grows; `GET /trading/stream?since=` and
`GET /trading/events` replay from this table. SQLite needs AUTOINCREMENT so a number is never
handed out twice after the newest rows are pruned.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.create_index("ix_event_log_account_seq", ["account_id", "seq"], unique=False)
        batch_op.create_index("ix_event_log_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("event_log", schema=None) as batch_op:
        batch_op.drop_index("ix_event_log_created")
        batch_op.drop_index("ix_event_log_account_seq")
    op.drop_table("event_log")

"""indexes for newest-first pages of orders and trades

Without (account_id, id) SQLite answers `WHERE account_id = ? ORDER BY id DESC LIMIT n` by
sorting every row of the account: 12 ms at 10k orders, growing with the journal (issue 8).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 16:05:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_account_id", ["account_id", "id"], unique=False)
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index("ix_trades_account_id", ["account_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index("ix_trades_account_id")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_account_id")

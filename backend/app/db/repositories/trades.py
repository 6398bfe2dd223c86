"""Fill queries (sync; called inside `Database.run`). A fill is recorded once per trade id."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from backend.app.db.tables import Trade


def existing_ids(c: Connection, account_id: str, trade_ids: Iterable[str]) -> set[str]:
    ids = list(set(trade_ids))
    if not ids:
        return set()
    return set(
        c.execute(
            select(Trade.broker_trade_id).where(
                Trade.account_id == account_id, Trade.broker_trade_id.in_(ids)
            )
        ).scalars()
    )


def totals_core(c: Connection, order_id: int) -> tuple[int, Decimal]:
    """(filled shares, filled amount) of one order from its recorded fills."""
    row = c.execute(
        select(func.coalesce(func.sum(Trade.quantity), 0),
               func.coalesce(func.sum(Trade.price * Trade.quantity), 0))
        .where(Trade.order_id == order_id)
    ).one()  # fmt: skip
    return int(row[0]), Decimal(str(row[1] or 0))


def of_order(s: Session, order_id: int) -> Sequence[Trade]:
    return s.scalars(select(Trade).where(Trade.order_id == order_id).order_by(Trade.id)).all()


def list_page(
    s: Session,
    account_id: str,
    *,
    order_id: int | None,
    stock_code: str | None,
    since: datetime | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Trade]:
    q = select(Trade).where(Trade.account_id == account_id)
    if order_id:
        q = q.where(Trade.order_id == order_id)
    if stock_code:
        q = q.where(Trade.stock_code == stock_code)
    if since:
        q = q.where(Trade.traded_at >= since)
    if before_id:
        q = q.where(Trade.id < before_id)
    return s.scalars(q.order_by(Trade.id.desc()).limit(limit)).all()

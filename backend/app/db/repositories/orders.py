"""Order journal queries (sync; called inside `Database.run`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select
from sqlalchemy.orm import Session

from backend.app.db.tables import Order
from backend.app.domain.order_state import FINAL

_FINAL_VALUES = tuple(s.value for s in FINAL)

# The columns the API's order JSON reads (services/orders/rows.py), in the order it reads them.
ORDER_COLUMNS = (
    Order.id, Order.client_order_id, Order.broker_order_id, Order.stock_code, Order.stock_name,
    Order.side, Order.order_type, Order.price, Order.quantity, Order.filled_quantity,
    Order.avg_fill_price, Order.status, Order.status_msg, Order.broker_status,
    Order.strategy_name, Order.remark, Order.created_at, Order.updated_at,
)  # fmt: skip


def select_orders() -> Any:
    """A Core select of the columns `order_json` reads (no ORM objects built)."""
    return select(*ORDER_COLUMNS)


def status_counts(s: Session, account_id: str, since: datetime) -> dict[str, int]:
    """How many orders created since `since` are in each status (the /metrics gauge)."""
    stmt = (
        select(Order.status, func.count())
        .where(Order.account_id == account_id, Order.created_at >= since)
        .group_by(Order.status)
    )
    return {str(status): int(n) for status, n in s.execute(stmt).all()}


def get(s: Session, account_id: str, order_id: int) -> Order | None:
    order = s.get(Order, order_id)
    return order if order is not None and order.account_id == account_id else None


def by_client_id(s: Session, account_id: str, client_order_id: str) -> Order | None:
    return s.scalar(
        select(Order).where(
            Order.account_id == account_id, Order.client_order_id == client_order_id
        )
    )


def open_orders(s: Session, account_id: str) -> Sequence[Order]:
    return s.scalars(
        select(Order)
        .where(Order.account_id == account_id, Order.status.not_in(_FINAL_VALUES))
        .order_by(Order.id)
    ).all()


def _page_query(
    q: Any, *, status: str | None, stock_code: str | None, side: str | None,
    since: datetime | None, before_id: int | None, limit: int,
) -> Any:  # fmt: skip
    if status == "open":
        q = q.where(Order.status.not_in(_FINAL_VALUES))
    elif status:
        q = q.where(Order.status == status)
    if stock_code:
        q = q.where(Order.stock_code == stock_code)
    if side:
        q = q.where(Order.side == side)
    if since:
        q = q.where(Order.created_at >= since)
    if before_id:
        q = q.where(Order.id < before_id)
    return q.order_by(Order.id.desc()).limit(limit)


def list_page(
    s: Session, account_id: str, *, status: str | None, stock_code: str | None,
    side: str | None, since: datetime | None, before_id: int | None, limit: int,
) -> Sequence[Order]:  # fmt: skip
    """Newest first, keyset-paged on id (`before_id` = the last id of the previous page)."""
    q = _page_query(
        select(Order).where(Order.account_id == account_id), status=status,
        stock_code=stock_code, side=side, since=since, before_id=before_id, limit=limit,
    )  # fmt: skip
    return s.scalars(q).all()


_PAGE_STATEMENTS: dict[tuple[bool, ...], Any] = {}


def list_page_rows(
    c: Connection, account_id: str, *, status: str | None, stock_code: str | None,
    side: str | None, since: datetime | None, before_id: int | None, limit: int,
) -> Sequence[Row[Any]]:  # fmt: skip
    """`list_page` as Core rows of the API's columns (no ORM objects). The statement is
    built once per combination of filters, with bound parameters, and reused."""
    shape = (status == "open", bool(status) and status != "open", bool(stock_code), bool(side),
             bool(since), bool(before_id))  # fmt: skip
    stmt = _PAGE_STATEMENTS.get(shape)
    if stmt is None:
        q = select_orders().where(Order.account_id == bindparam("account"))
        if shape[0]:
            q = q.where(Order.status.not_in(_FINAL_VALUES))
        if shape[1]:
            q = q.where(Order.status == bindparam("status"))
        if shape[2]:
            q = q.where(Order.stock_code == bindparam("stock_code"))
        if shape[3]:
            q = q.where(Order.side == bindparam("side"))
        if shape[4]:
            q = q.where(Order.created_at >= bindparam("since", type_=Order.created_at.type))
        if shape[5]:
            q = q.where(Order.id < bindparam("before_id"))
        stmt = _PAGE_STATEMENTS[shape] = q.order_by(Order.id.desc()).limit(bindparam("limit"))
    params: dict[str, Any] = {"account": account_id, "limit": limit}
    for on, name, value in ((shape[1], "status", status), (shape[2], "stock_code", stock_code),
                            (shape[3], "side", side), (shape[4], "since", since),
                            (shape[5], "before_id", before_id)):  # fmt: skip
        if on:
            params[name] = value
    return c.execute(stmt, params).all()


def day_stats(s: Session, account_id: str, since: datetime) -> tuple[int, Decimal]:
    """(orders, turnover) placed since `since` that were not refused before the broker."""
    row = s.execute(
        select(func.count(Order.id), func.coalesce(func.sum(Order.price * Order.quantity), 0))
        .where(Order.account_id == account_id, Order.created_at >= since)
        .where(~((Order.status == "rejected") & Order.broker_order_id.is_(None)))
    ).one()
    return int(row[0]), Decimal(str(row[1] or 0))

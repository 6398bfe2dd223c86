"""Reconciliation: bring every non-final journal row up to the broker's truth.

Runs at start and after every reconnect. The broker's orders and fills of the day are fed
through the same single writer as live pushes (so the FSM and fill dedupe apply), matched by
`order_remark` (our id) or `broker_order_id`. A `pending` row the broker never saw is then
`rejected` ("not received by broker; safe to re-send"); a working row from an earlier day the
broker no longer lists has expired. Nothing stays `pending` forever.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from loguru import logger

from backend.app.db.repositories import orders as order_repo
from backend.app.db.session import Database
from backend.app.domain.enums import OrderStatus
from backend.app.services.broker.service import QMTService
from backend.app.services.orders.moves import Expire, Reject
from backend.app.services.orders.updater import OrderUpdater

NOT_RECEIVED: Final = "未送达券商，可安全重发 / not received by broker; safe to re-send"
EXPIRED: Final = (
    "券商当日委托中已无此单（隔日失效）/ not in the broker's orders of the day (expired)"
)


async def reconcile(
    *, qmt: QMTService, db: Database, updater: OrderUpdater, account_id: str,
    in_flight: set[int], today_start: datetime,
) -> dict[str, int]:  # fmt: skip
    """Match the journal against the broker; returns counts for the log."""
    broker_orders = await qmt.query_orders()
    broker_trades = await qmt.query_trades()
    open_rows = await db.run(
        lambda s: [
            (o.id, o.status, o.broker_order_id, o.created_at)
            for o in order_repo.open_orders(s, account_id)
        ]
    )
    for u in broker_orders:
        updater.push(u)
    for t in broker_trades:
        updater.push(t)
    await updater.drain()

    seen_ids = {u.order_id for u in broker_orders if u.order_id is not None}
    seen_broker = {u.broker_order_id for u in broker_orders}
    settled = expired = 0
    for order_id, status, broker_id, created_at in open_rows:
        if order_id in seen_ids or (broker_id is not None and broker_id in seen_broker):
            continue
        if order_id in in_flight:
            continue
        if status == OrderStatus.PENDING and broker_id is None:
            await updater.command(Reject(order_id, NOT_RECEIVED))
            settled += 1
        elif created_at < today_start:  # UTCDateTime reads back aware
            await updater.command(Expire(order_id, EXPIRED))
            expired += 1
        else:
            logger.warning("order {} ({}) is open here but unknown to the broker", order_id, status)
    counts = {
        "broker_orders": len(broker_orders),
        "broker_trades": len(broker_trades),
        "open_before": len(open_rows),
        "rejected_unsent": settled,
        "expired": expired,
    }
    logger.info("reconciled with the broker: {}", counts)
    return counts

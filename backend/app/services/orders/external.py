"""Foreign orders: the account's orders that are not ours (manual ones, other scripts).

MiniQMT's queries and pushes carry every order of the account. Only a `qmt-api:` remark makes an
order ours (xt_mapping.remark_order_id); the others are kept here, today's only and read-only,
for `GET /trading/external-orders` and the stream (`source: "external"`). They never enter the
journal's orders and never change ours.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from backend.app.services.broker import xt_mapping as xm

EXTERNAL = "external"


class ExternalOrders:
    """The latest state of each foreign order of the exchange day, by broker order id."""

    def __init__(self) -> None:
        self._day: date | None = None
        self._orders: dict[int, dict[str, Any]] = {}

    def observe(self, update: xm.OrderUpdate, today: date) -> dict[str, Any] | None:
        """Keep `update` if it is a foreign order; its JSON, or None for one of ours."""
        if update.order_id is not None:
            return None
        if today != self._day:
            self._day, self._orders = today, {}
        data = external_order_json(update)
        self._orders[update.broker_order_id] = data
        return data

    def items(self) -> list[dict[str, Any]]:
        """Today's foreign orders, newest broker id first."""
        return [self._orders[k] for k in sorted(self._orders, reverse=True)]


def external_order_json(u: xm.OrderUpdate) -> dict[str, Any]:
    return {
        "source": EXTERNAL,
        "order_id": None,
        "broker_order_id": u.broker_order_id,
        "stock_code": u.stock_code,
        "side": u.side.value if u.side else None,
        "price": str(u.price),
        "quantity": u.order_volume,
        "filled_quantity": u.traded_volume,
        "avg_fill_price": str(u.traded_price) if u.traded_volume else None,
        "status": u.status.value if u.status else None,
        "broker_status": u.broker_status,
        "status_msg": u.status_msg,
        "strategy_name": u.strategy_name,
        "order_sysid": u.order_sysid,
        "created_at": _iso(u.order_time),
    }


def _iso(when: datetime) -> str:
    return when.isoformat()

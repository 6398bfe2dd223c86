"""What a risk check reads besides the order: the day's order count and turnover, identical
recent orders (the duplicate guard), the position and the last price.

`DayCounters` owns the day's figures. They move synchronously on the loop inside the
pre-trade critical section (OrderPlacement), so two concurrent orders can never both pass
a cap. `risk_context` is pure: everything it needs is gathered (awaited) before.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import date
from decimal import Decimal

from backend.app.domain.enums import Side
from backend.app.models.risk import RiskRules
from backend.app.services.risk.engine import RiskContext


class DayCounters:
    """Orders placed today, their turnover, and when identical orders were last placed."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.orders = 0
        self.turnover = Decimal(0)
        self._recent: dict[str, deque[float]] = {}

    def start(self, day: date, orders: int, turnover: Decimal) -> None:
        """Start `day` from the journal's figures, e.g. after a restart."""
        self.day, self.orders, self.turnover = day, orders, turnover

    def roll(self, today: date) -> None:
        if today != self.day:
            self.day, self.orders, self.turnover = today, 0, Decimal(0)

    def count(self, sig: str, value: Decimal, sign: int) -> None:
        """Add (+1) or take back (-1) one order of `value` with signature `sig`."""
        self.orders += sign
        self.turnover += sign * value
        if sign > 0:
            self._recent.setdefault(sig, deque()).append(time.monotonic())
        elif (times := self._recent.get(sig)) and times:
            times.pop()

    def recent(self, sig: str, window_seconds: float) -> int:
        """How many orders with signature `sig` were placed in the last `window_seconds`."""
        times = self._recent.get(sig)
        if not times:
            return 0
        cutoff = time.monotonic() - window_seconds
        while times and times[0] < cutoff:
            times.popleft()
        return len(times)


def risk_context(
    *, rules: RiskRules, counters: DayCounters, sig: str, stock_code: str, side: Side,
    quantity: int, price: Decimal, last_price: Decimal | None, position_value: Decimal,
    client_order_id: str, order_type: str,
) -> RiskContext:  # fmt: skip
    """The RiskContext of one order, read from the counters as they stand now (no await)."""
    window = float(rules.duplicate_window_seconds or 0)
    return RiskContext(
        stock_code=stock_code, side=side, quantity=quantity, price=price,
        last_price=last_price, position_value=position_value, orders_today=counters.orders,
        turnover_today=counters.turnover, client_order_id=client_order_id,
        recent_same_orders=counters.recent(sig, window), order_type=order_type,
    )  # fmt: skip

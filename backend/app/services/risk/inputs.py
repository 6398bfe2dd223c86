"""What the risk check needs besides the order (TradingService's mixin): the day's order
count and turnover, identical recent orders (duplicate guard), the position and last price.

The counters move synchronously on the loop, right after the checks and before any await,
so two concurrent orders can never both pass a cap (TradingService._journal_and_submit).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import date, datetime
from datetime import time as dtime
from decimal import Decimal

from backend.app.db.repositories import orders as order_repo
from backend.app.db.session import Database
from backend.app.domain.enums import OrderType
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.service import QMTService
from backend.app.services.orders.validation import CheckedOrder
from backend.app.services.risk.engine import RiskContext, RiskEngine
from xtquant_adapter.ashare.calendar import SHANGHAI


class RiskInputs:
    _db: Database
    _qmt: QMTService
    _risk: RiskEngine
    _account: str
    _day: date | None
    _orders_today: int
    _turnover_today: Decimal
    _recent: dict[str, deque[float]]

    def _today_start(self) -> datetime:
        return datetime.combine(self._qmt.now().date(), dtime(0), SHANGHAI)

    async def _load_day_counters(self) -> None:
        start = self._today_start()
        self._day = start.date()
        n, turnover = await self._db.run(lambda s: order_repo.day_stats(s, self._account, start))
        self._orders_today, self._turnover_today = n, turnover

    def _roll_day(self) -> None:
        today = self._qmt.now().date()
        if today != self._day:
            self._day, self._orders_today, self._turnover_today = today, 0, Decimal(0)

    def _count(self, sig: str, value: Decimal, sign: int) -> None:
        self._orders_today += sign
        self._turnover_today += sign * value
        if sign > 0:
            self._recent.setdefault(sig, deque()).append(time.monotonic())
        elif (times := self._recent.get(sig)) and times:
            times.pop()

    async def _risk_context(self, c: CheckedOrder, coid: str, sig: str) -> RiskContext:
        rules = self._risk.rules
        pos = self._qmt.positions.get(c.stock_code)
        last = pos.last_price if pos and pos.last_price > 0 else None
        if rules.max_price_deviation_pct or c.order_type is OrderType.MARKET:
            tick = await self._qmt.call(self._qmt.market.get_full_tick, [c.stock_code])
            raw = (tick.get(c.stock_code) or {}).get("lastPrice")
            last = xm.dec(raw, "0.001") if raw else last
        window = float(getattr(rules, "duplicate_window_seconds", 0) or 0)
        times = self._recent.get(sig)
        recent = 0
        if times:
            cutoff = time.monotonic() - window
            while times and times[0] < cutoff:
                times.popleft()
            recent = len(times)
        return RiskContext(
            stock_code=c.stock_code, side=c.side, quantity=c.quantity,
            price=c.price or last or c.freeze_price, last_price=last,
            position_value=pos.market_value if pos else Decimal(0),
            orders_today=self._orders_today, turnover_today=self._turnover_today,
            client_order_id=coid, recent_same_orders=recent, order_type=c.order_type.value,
        )  # fmt: skip

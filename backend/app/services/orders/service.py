"""TradingService: trading's use cases wired together (DESIGN.md "Placing an order").

Placing lives in `placement` (OrderPlacement), reading in `queries` (TradingQueries); every
later change to an order goes through OrderUpdater, the single writer. This module owns the
lifecycle (start, reconcile, stop), cancels, and broker pushes turned into stream events.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime
from datetime import time as dtime
from typing import Any

from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.errors import BrokerUnavailable, DomainError
from backend.app.db.repositories import orders as order_repo
from backend.app.db.session import Database
from backend.app.domain.actor import Actor
from backend.app.domain.order_state import is_final
from backend.app.models.orders import OrderCreate, OrderRead
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.service import QMTService
from backend.app.services.event_log import EventLog
from backend.app.services.market import MarketService
from backend.app.services.orders.external import ExternalOrders
from backend.app.services.orders.moves import Effects, LogEvent, MarkCancel
from backend.app.services.orders.placement import OrderPlacement
from backend.app.services.orders.queries import (
    TradingQueries,
    account_info_json,
    is_held,
    position_read,
)
from backend.app.services.orders.reconcile import reconcile
from backend.app.services.orders.updater import OrderUpdater
from backend.app.services.orders.validation import OrderValidator
from backend.app.services.risk.engine import RiskEngine
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.fees import FeeSchedule


class TradingService:
    """Trading's use cases, one object each, wired together; one per app, built in lifespan.

    `placement` places orders, `queries` reads, `updater` is the single writer of order
    state; this object owns their lifecycle, cancels, and turns broker pushes into events.
    """

    def __init__(
        self, *, settings: Settings, db: Database, qmt: QMTService, risk: RiskEngine,
        audit: AuditLog, events: EventLog,
    ) -> None:  # fmt: skip
        self._settings, self._db, self._qmt = settings, db, qmt
        self._risk, self._audit, self._events = risk, audit, events
        self._account = settings.miniqmt_account_id
        fees = FeeSchedule(commission_rate=settings.sim_commission_rate,
                           commission_min=settings.sim_commission_min)  # fmt: skip
        enforce = settings.sim_enforce_trading_hours if settings.is_simulated else True
        validator = OrderValidator(qmt=qmt, fees=fees, enforce_hours=enforce)
        self._updater = OrderUpdater(db=db, events=events, account_id=self._account)
        self._updater.on_effects = self._on_effects
        self.queries = TradingQueries(
            settings=settings, db=db, qmt=qmt, risk=risk, validator=validator
        )
        self.placement = OrderPlacement(
            account_id=self._account, db=db, qmt=qmt, risk=risk, audit=audit, events=events,
            validator=validator, updater=self._updater,
            get_order=lambda order_id: self.queries.get_order(order_id=order_id),
        )  # fmt: skip
        self.market = MarketService(qmt=qmt, validator=validator)
        # The read side, as the routers call it.
        self.get_order = self.queries.get_order
        self.list_orders = self.queries.list_orders
        self.list_orders_json = self.queries.list_orders_json
        self.list_orders_page = self.queries.list_orders_page
        self.list_trades = self.queries.list_trades
        self.get_positions = self.queries.get_positions
        self.get_account_info = self.queries.get_account_info
        self.get_status = self.queries.get_status
        self._tasks: set[asyncio.Task[Any]] = set()
        self._final_waiters: dict[int, list[asyncio.Future[None]]] = {}
        self._started = False
        self.external = ExternalOrders()
        # MiniQMT's queries list today's orders only: a gateway connected across midnight
        # re-reconciles when the exchange date changes, expiring yesterday's unfinished orders.
        self.day_roll_interval = 60.0
        self._day: date | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the update worker, connect the broker and reconcile the journal."""
        self._qmt.set_sink(self._on_broker_update)
        self._qmt.connection_listeners.append(self._on_connection)
        await self._qmt.start()
        start = self._today_start()
        n, turnover = await self._db.run(lambda s: order_repo.day_stats(s, self._account, start))
        self.placement.counters.start(start.date(), n, turnover)
        if self._qmt.is_connected() and not await self._try_reconcile():
            self._spawn(self._reconcile_until_done())
        self._day = self._qmt.now().date()
        self._spawn(self._watch_day_roll())
        self._started = True

    async def stop(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()
        await self._updater.drain()
        await self._updater.stop()

    async def reconcile(self) -> dict[str, int]:
        """Bring every non-final order up to the broker's state (start, reconnect)."""
        return await reconcile(
            qmt=self._qmt, db=self._db, updater=self._updater, account_id=self._account,
            in_flight=set(self.placement.in_flight), today_start=self._today_start(),
            on_foreign=lambda u: self.external.observe(u, self._qmt.now().date()),
        )  # fmt: skip

    async def _watch_day_roll(self) -> None:
        while True:
            await asyncio.sleep(self.day_roll_interval)
            await self.check_day_roll()

    async def check_day_roll(self) -> bool:
        """Reconcile once the exchange date moved on while connected; True when it ran."""
        today = self._qmt.now().date()
        if today == self._day or not self._qmt.is_connected():
            return False
        try:
            counts = await self.reconcile()
        except DomainError as exc:  # a failed query: try again at the next check
            logger.warning("day-roll reconciliation for {} failed: {}", today, exc)
            return False
        self._day = today
        logger.info("day rolled to {}: {}", today, counts)
        return True

    async def drain(self) -> None:
        """Wait until every broker update received so far is in the journal (tests, bench)."""
        await self._updater.drain()

    def _today_start(self) -> datetime:
        return datetime.combine(self._qmt.now().date(), dtime(0), SHANGHAI)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, connected: bool, detail: str) -> None:
        self._events.emit("connection", {
            "connected": connected, "detail": detail, "mode": self._settings.qmt_mode,
            "account_id": self._account,
        })  # fmt: skip
        if connected and self._started:
            self._spawn(self._reconcile_until_done())

    async def _try_reconcile(self) -> bool:
        try:
            await self.reconcile()
        except DomainError as exc:  # a failed query: nothing may be concluded from it
            logger.warning("reconciliation failed, will retry: {}", exc)
            return False
        return True

    async def _reconcile_until_done(self) -> None:
        """Reconcile; after a failed query try again (1 s doubling to 30 s) while connected."""
        delay = 1.0
        while not await self._try_reconcile() and self._qmt.is_connected():
            await asyncio.sleep(delay)
            delay = min(30.0, delay * 2)

    def _on_broker_update(self, update: xm.BrokerUpdate) -> None:
        # Asset and position events ride in the order updater's next transaction (they come
        # with an order push), not one of their own.
        if isinstance(update, xm.AssetSnapshot):
            self._updater.push(LogEvent("asset", self._asset_event(update)))
        elif isinstance(update, xm.PositionSnapshot):
            self._publish_position(update)
        elif not isinstance(update, xm.ConnectionChange):
            if isinstance(update, xm.OrderUpdate) and update.order_id is None:
                # Another client's order: read-only, shown on the stream, never applied to ours.
                foreign = self.external.observe(update, self._qmt.now().date())
                if foreign is not None:
                    self._events.emit("order", foreign)
                return
            self._updater.push(update)

    def _asset_event(self, asset: xm.AssetSnapshot) -> dict[str, Any]:
        """`GET /trading/account-info`'s object, from the pushed asset and the cached
        positions (QMTService keeps them current from the pushes before this one)."""
        return account_info_json(self._account, asset, self._qmt.positions.values())

    def _publish_position(self, p: xm.PositionSnapshot) -> None:
        """A `GET /trading/positions` item (plus `yesterday_volume`); a name not known yet is
        looked up first (once per code and day), so the event comes a moment later."""
        name = self.queries.known_name(p)
        if name is None:
            self._spawn(self._publish_position_named(p))
            return
        self._updater.push(LogEvent("position", _position_event(p, name)))

    async def _publish_position_named(self, p: xm.PositionSnapshot) -> None:
        name = await self.queries.stock_name(p)
        self._updater.push(LogEvent("position", _position_event(p, name)))

    def _on_effects(self, fx: Effects) -> None:
        for order_id in fx.acknowledged:
            self.placement.reserved.release(order_id)
        for order_id in fx.finished:
            for fut in self._final_waiters.pop(order_id, ()):
                if not fut.done():
                    fut.set_result(None)
        for order_id, broker_id in fx.send_cancel:
            self._spawn(self._send_cancel(order_id, broker_id))

    async def _send_cancel(self, order_id: int, broker_id: int) -> None:
        try:
            seq = await self._qmt.cancel(broker_id)
            msg = "cancel_order_stock_async returned -1"
        except DomainError as exc:
            seq, msg = -1, exc.detail
        if seq <= 0:
            logger.warning("cancel of order {} (broker {}) failed: {}", order_id, broker_id, msg)
            self._updater.push(xm.CancelResult(broker_id, False, msg))

    # --- placing (OrderPlacement) and reading (TradingQueries) ---------------------------------

    async def place_order(
        self, *, request: OrderCreate, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[OrderRead, bool]:
        """Validate, journal as `pending`, submit; (order, created). See OrderPlacement."""
        data, created = await self.placement.place_json(
            request=request, actor=actor, idempotency_key=idempotency_key
        )
        return OrderRead.model_validate(data), created

    async def place_order_json(
        self, *, request: OrderCreate, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """`place_order`, answering the order as OrderRead's JSON dict (the API's hot path)."""
        return await self.placement.place_json(
            request=request, actor=actor, idempotency_key=idempotency_key
        )

    async def settle_unknown(self, order_id: int, *, reason: str = "") -> OrderRead:
        return await self.placement.settle_unknown(order_id, reason=reason)

    # --- what the bulk actions (orders/bulk.py) need --------------------------------------------

    @property
    def is_connected(self) -> bool:
        return self._qmt.is_connected()

    @property
    def account(self) -> str:
        return self._account

    @property
    def db(self) -> Database:
        return self._db

    @property
    def trading_enabled(self) -> bool:
        return self._risk.trading_enabled

    @property
    def validator(self) -> OrderValidator:
        return self.placement.validator

    def sellable(self, stock_code: str) -> int:
        """Shares of `stock_code` that may be sold now: T+1 sellable, net of our open sells
        the broker has not acknowledged yet."""
        pos = self._qmt.positions.get(stock_code)
        held = self.placement.reserved.shares(stock_code)
        return max((pos.can_use_volume if pos else 0) - held, 0)

    def held_codes(self) -> list[str]:
        return sorted(code for code, p in self._qmt.positions.items() if is_held(p))

    async def wait_final(self, order_id: int, wait_seconds: float) -> OrderRead:
        """The order once it is final (filled, cancelled, ...), or as it is after
        `wait_seconds`."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._final_waiters.setdefault(order_id, []).append(fut)
        try:
            order = await self.get_order(order_id=order_id)  # final before we started waiting?
            if is_final(order.status):
                return order
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, wait_seconds)
            return await self.get_order(order_id=order_id)
        finally:
            waiters = self._final_waiters.get(order_id, [])
            if fut in waiters:
                waiters.remove(fut)
            if not waiters:
                self._final_waiters.pop(order_id, None)

    # --- cancelling ----------------------------------------------------------------------------

    async def cancel_order(self, *, order_id: int, actor: Actor) -> OrderRead:
        """Ask the broker to cancel; the order is `pending_cancel` until the broker answers.

        Raises:
            OrderNotFound, OrderNotCancellable, BrokerUnavailable.
        """
        if not self._qmt.is_connected():
            raise BrokerUnavailable("MiniQMT 未连接，无法撤单 / MiniQMT is not connected")
        try:
            data = await self._updater.command(MarkCancel(order_id))
        except DomainError as exc:
            await self._audit.record(actor=actor, action="order.cancel", target=f"order:{order_id}",
                                     outcome="rejected", detail={"code": exc.code})  # fmt: skip
            raise
        await self._audit.record(actor=actor, action="order.cancel", target=f"order:{order_id}",
                                 outcome="ok", detail={})  # fmt: skip
        return OrderRead.model_validate(data)


def _position_event(p: xm.PositionSnapshot, name: str) -> dict[str, Any]:
    data = position_read(p, name).model_dump(mode="json")
    data["yesterday_volume"] = p.yesterday_volume
    return data

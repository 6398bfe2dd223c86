"""TradingService: the order path (DESIGN.md "Placing an order") and the account's reads.

place_order: static checks (order_validation) -> funds/position net of our unacknowledged
orders -> risk check -> journal insert as `pending` (one transaction, with the audit entry)
-> `order_stock_async(..., order_remark=<our id>)`. Idempotency: a client_order_id (or
Idempotency-Key) already used returns the existing order when the content matches, else 409.
All later changes to an order go through OrderUpdater, the single writer.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from loguru import logger
from sqlalchemy.exc import IntegrityError

from backend.app.core.config import Settings
from backend.app.core.errors import BrokerUnavailable, DomainError, DuplicateClientOrderId
from backend.app.db.repositories import orders as order_repo
from backend.app.db.session import Database
from backend.app.domain.actor import Actor
from backend.app.domain.enums import OrderStatus
from backend.app.models.orders import OrderCreate, OrderRead
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.service import QMTService
from backend.app.services.events import EventBus
from backend.app.services.market import MarketService
from backend.app.services.orders.journal import JournalWriter, audit_row
from backend.app.services.orders.queries import (
    TradingQueries,
    account_info,
    is_held,
    position_read,
)
from backend.app.services.orders.reconcile import NOT_RECEIVED, reconcile
from backend.app.services.orders.rows import order_json
from backend.app.services.orders.updater import Effects, MarkCancel, OrderUpdater, Reject
from backend.app.services.orders.validation import CheckedOrder, OrderValidator, Reservations
from backend.app.services.risk.engine import RiskEngine
from backend.app.services.risk.inputs import RiskInputs
from xtquant_adapter.ashare.fees import FeeSchedule


def _content_hash(code: str, req: OrderCreate) -> str:
    price = "" if req.price is None else format(req.price.normalize(), "f")
    text = "|".join((code, req.side.value, str(req.quantity), price, req.order_type.value,
                     req.strategy_name, req.remark))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


class TradingService(TradingQueries, RiskInputs):
    """Use cases of trading; one per app, built in lifespan."""

    def __init__(
        self, *, settings: Settings, db: Database, qmt: QMTService, risk: RiskEngine,
        audit: AuditLog, events: EventBus,
    ) -> None:  # fmt: skip
        self._settings, self._db, self._qmt = settings, db, qmt
        self._risk, self._audit, self._events = risk, audit, events
        self._account = settings.miniqmt_account_id
        fees = FeeSchedule(commission_rate=settings.sim_commission_rate,
                           commission_min=settings.sim_commission_min)  # fmt: skip
        enforce = settings.sim_enforce_trading_hours if settings.is_simulated else True
        self._validator = OrderValidator(qmt=qmt, fees=fees, enforce_hours=enforce)
        self._updater = OrderUpdater(db=db, events=events, account_id=self._account)
        self._journal = JournalWriter(db)
        self.market = MarketService(qmt=qmt, validator=self._validator)
        self._updater.on_effects = self._on_effects
        self._reserved = Reservations()
        self._in_flight: set[int] = set()
        self._day = None
        self._orders_today = 0
        self._turnover_today = Decimal(0)
        self._recent: dict[str, deque[float]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._key_locks: dict[str, asyncio.Lock] = {}
        self._started = False

    # --- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the update worker, connect the broker and reconcile the journal."""
        self._updater.start()
        self._qmt.set_sink(self._on_broker_update)
        self._qmt.connection_listeners.append(self._on_connection)
        await self._qmt.start()
        await self._load_day_counters()
        if self._qmt.is_connected():
            await self.reconcile()
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
            in_flight=set(self._in_flight), today_start=self._today_start(),
        )  # fmt: skip

    async def drain(self) -> None:
        """Wait until every broker update received so far is in the journal (tests, bench)."""
        await self._updater.drain()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection(self, connected: bool, detail: str) -> None:
        self._events.publish("connection", {
            "connected": connected, "detail": detail, "mode": self._settings.qmt_mode,
            "account_id": self._account,
        })  # fmt: skip
        if connected and self._started:
            self._spawn(self.reconcile())

    def _on_broker_update(self, update: xm.BrokerUpdate) -> None:
        if isinstance(update, xm.AssetSnapshot):
            if self._events.subscriber_count:
                self._events.publish("asset", self._asset_event(update))
        elif isinstance(update, xm.PositionSnapshot):
            if self._events.subscriber_count:
                self._publish_position(update)
        elif not isinstance(update, xm.ConnectionChange):
            self._updater.push(update)

    def _asset_event(self, asset: xm.AssetSnapshot) -> dict[str, Any]:
        """`GET /trading/account-info`'s object, from the pushed asset and the cached
        positions (QMTService keeps them current from the pushes before this one)."""
        held = [position_read(p, "") for p in self._qmt.positions.values() if is_held(p)]
        return account_info(self._account, asset, held).model_dump(mode="json")

    def _publish_position(self, p: xm.PositionSnapshot) -> None:
        """A `GET /trading/positions` item (plus `yesterday_volume`); a name not known yet is
        looked up first (once per code and day), so the event comes a moment later."""
        name = self.known_name(p)
        if name is None:
            self._spawn(self._publish_position_named(p))
            return
        self._events.publish("position", _position_event(p, name))

    async def _publish_position_named(self, p: xm.PositionSnapshot) -> None:
        self._events.publish("position", _position_event(p, await self._stock_name(p)))

    def _on_effects(self, fx: Effects) -> None:
        for order_id in fx.acknowledged:
            self._reserved.release(order_id)
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

    # --- placing -------------------------------------------------------------------------------

    async def place_order(
        self, *, request: OrderCreate, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[OrderRead, bool]:
        """Validate, journal as `pending`, submit; (order, created). A repeat is (order, False).

        Raises:
            InvalidStockCode, UnknownInstrument, InvalidQuantity, InvalidPrice,
            PriceOutOfLimit, MarketClosed, InsufficientFunds, InsufficientPosition,
            RiskRejected, TradingDisabled, DuplicateClientOrderId, BrokerUnavailable,
            ValidationFailed.
        """
        data, created = await self.place_order_json(
            request=request, actor=actor, idempotency_key=idempotency_key
        )
        return OrderRead.model_validate(data), created

    async def place_order_json(
        self, *, request: OrderCreate, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """`place_order`, answering the order as OrderRead's JSON dict (the API's hot path)."""
        given = request.client_order_id or idempotency_key
        if (
            request.client_order_id
            and idempotency_key
            and request.client_order_id != idempotency_key
        ):
            raise DuplicateClientOrderId(
                "Idempotency-Key 与 client_order_id 不一致 / Idempotency-Key and client_order_id "
                "differ"
            )
        if not given:
            return await self._place(request, actor, uuid.uuid4().hex, None)
        # Repeats of one key wait for the first to be journaled, then find it (200).
        lock = self._key_locks.setdefault(given, asyncio.Lock())
        try:
            async with lock:
                return await self._place(request, actor, given, given)
        finally:
            if not lock.locked() and self._key_locks.get(given) is lock:
                del self._key_locks[given]

    async def _place(
        self, request: OrderCreate, actor: Actor, coid: str, given: str | None
    ) -> tuple[dict[str, Any], bool]:
        try:
            checked = await self._validator.check(request)
            self._roll_day()
            hold = self._validator.check_account(checked, self._reserved)
            sig = f"{checked.stock_code}|{checked.side}|{checked.quantity}|{checked.price}"
            self._risk.check(await self._risk_context(checked, coid, sig))
        except DomainError as exc:
            if given and (found := await self._existing(coid, request)) is not None:
                return found, False
            await self._audit_rejected(actor, request, coid, exc)
            raise
        return await self._journal_and_submit(request, checked, hold, coid, sig, actor, given)

    async def _journal_and_submit(
        self, request: OrderCreate, checked: CheckedOrder, hold: Any, coid: str, sig: str,
        actor: Actor, given: str | None,
    ) -> tuple[dict[str, Any], bool]:  # fmt: skip
        # Reservation and counters are taken synchronously on the loop right after the
        # checks, so two concurrent orders can never both pass on the same cash or cap.
        tmp_key = -id(request)
        self._reserved.add(tmp_key, hold)
        value = (checked.price or checked.freeze_price) * checked.quantity
        self._count(sig, value, +1)
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "account_id": self._account,
            "client_order_id": coid,
            "request_hash": _content_hash(checked.stock_code, request),
            "broker_order_id": None,
            "broker_seq": None,
            "stock_code": checked.stock_code,
            "stock_name": checked.stock_name,
            "side": checked.side.value,
            "order_type": checked.order_type.value,
            "price_type": checked.price_type,
            "price": checked.price,
            "quantity": checked.quantity,
            "filled_quantity": 0,
            "avg_fill_price": None,
            "status": OrderStatus.PENDING.value,
            "status_msg": "",
            "broker_status": None,
            "strategy_name": request.strategy_name,
            "remark": request.remark,
            "username": actor.username,
            "created_at": now,
            "updated_at": now,
        }
        audit = audit_row(
            actor, action="order.place", outcome="ok",
            detail={"client_order_id": coid, "stock_code": checked.stock_code,
                    "side": fields["side"], "quantity": checked.quantity,
                    "price": checked.price, "order_type": fields["order_type"]},
        )  # fmt: skip
        try:
            order_id = await self._journal.insert(fields, audit)
        except IntegrityError:
            self._reserved.release(tmp_key)
            self._count(sig, value, -1)
            found = await self._existing(coid, request) if given else None
            if found is None:
                raise
            return found, False
        self._reserved.release(tmp_key)
        self._reserved.add(order_id, hold)
        data = order_json(_Row(order_id, fields))
        if self._events.subscriber_count:
            self._events.publish("order", data)
        return await self._submit(order_id, checked, data), True

    async def _submit(
        self, order_id: int, checked: CheckedOrder, data: dict[str, Any]
    ) -> dict[str, Any]:
        self._in_flight.add(order_id)
        reason = "order_stock_async returned -1"
        try:
            seq = await self._qmt.submit(
                order_id, stock_code=checked.stock_code, side=checked.side,
                quantity=checked.quantity, price_type=checked.price_type,
                price=checked.price or Decimal(0), strategy_name=data["strategy_name"],
            )  # fmt: skip
        except DomainError as exc:
            seq, reason = -1, exc.detail
        finally:
            self._in_flight.discard(order_id)
        if seq > 0:
            return data
        logger.warning("order {} not accepted by the broker call: {}", order_id, reason)
        read = await self.settle_unknown(order_id, reason=reason)
        return read.model_dump(mode="json", include=set(OrderRead.model_fields))

    async def settle_unknown(self, order_id: int, *, reason: str = "") -> OrderRead:
        """After a failed or uncertain submit: read our order back from the broker by its
        remark; if the broker has none, it is rejected (safe to re-send). If the broker cannot
        be asked, the order stays `pending` until the next reconciliation settles it."""
        try:
            found = await self._qmt.query_order_by_remark(order_id)
        except (BrokerUnavailable, DomainError) as exc:
            logger.warning("order {} left pending until reconnect: {}", order_id, exc)
            found = None
            if not self._qmt.is_connected():
                return await self.get_order(order_id=order_id)
        if found is not None:
            self._updater.push(found)
            await self._updater.drain()
        else:
            msg = NOT_RECEIVED + (f" ({reason})" if reason else "")
            await self._updater.command(Reject(order_id, msg))
        return await self.get_order(order_id=order_id)

    async def _existing(self, coid: str, request: OrderCreate) -> dict[str, Any] | None:
        order = await self._db.run(lambda s: order_repo.by_client_id(s, self._account, coid))
        if order is None:
            return None
        try:
            code = self._validator_code(request.stock_code)
        except DomainError:
            code = request.stock_code
        if order.request_hash != _content_hash(code, request):
            raise DuplicateClientOrderId(
                f"client_order_id {coid!r} 已用于另一笔订单 {order.id} / already used for order "
                f"{order.id} with other content", order_id=order.id,
            )  # fmt: skip
        return order_json(order)

    @staticmethod
    def _validator_code(stock_code: str) -> str:
        from backend.app.services.orders.validation import normalize

        return normalize(stock_code)

    async def _audit_rejected(
        self, actor: Actor, request: OrderCreate, coid: str, exc: DomainError
    ) -> None:
        try:
            await self._audit.record(
                actor=actor, action="order.place", target=f"client:{coid}", outcome="rejected",
                detail={"code": exc.code, "detail": exc.detail, "stock_code": request.stock_code,
                        "side": request.side, "quantity": request.quantity,
                        "price": request.price, **exc.extra},
            )  # fmt: skip
        except Exception:
            logger.exception("audit of a rejected order failed")

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


class _Row:
    """The just-inserted order as `order_json` reads it (id + the inserted fields)."""

    __slots__ = ("_f", "id")

    def __init__(self, order_id: int, fields: dict[str, Any]) -> None:
        self.id, self._f = order_id, fields

    def __getattr__(self, name: str) -> Any:
        return self._f[name]


def _position_event(p: xm.PositionSnapshot, name: str) -> dict[str, Any]:
    data = position_read(p, name).model_dump(mode="json")
    data["yesterday_volume"] = p.yesterday_volume
    return data

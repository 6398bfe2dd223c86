"""Placing an order (DESIGN.md "Placing an order"): the one use case that must never lose or
double an order.

static checks (validation) -> [critical section: funds/position net of our unacknowledged
orders, risk check, reservation and day counters — synchronous, no await inside] -> journal
insert as `pending` (one transaction, with the audit entry) -> `order_stock_async(...,
order_remark=<our id>)`. Idempotency: a client_order_id (or Idempotency-Key) already used
returns the existing order when the content matches, else 409.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from loguru import logger
from sqlalchemy.exc import IntegrityError

from backend.app.core.errors import DomainError, DuplicateClientOrderId
from backend.app.db.repositories import orders as order_repo
from backend.app.db.session import Database
from backend.app.domain.actor import Actor
from backend.app.domain.enums import OrderStatus, OrderType
from backend.app.models.orders import OrderCreate, OrderDetail, OrderRead
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.service import QMTService
from backend.app.services.event_log import EventLog
from backend.app.services.orders.journal import JournalWriter, audit_row
from backend.app.services.orders.moves import Reject
from backend.app.services.orders.reconcile import NOT_RECEIVED
from backend.app.services.orders.rows import FieldsRow, order_json
from backend.app.services.orders.updater import OrderUpdater
from backend.app.services.orders.validation import (
    CheckedOrder,
    OrderValidator,
    Reservation,
    Reservations,
    normalize,
)
from backend.app.services.risk.engine import RiskEngine
from backend.app.services.risk.inputs import DayCounters, risk_context


def _content_hash(code: str, req: OrderCreate) -> str:
    price = "" if req.price is None else format(req.price.normalize(), "f")
    text = "|".join((code, req.side.value, str(req.quantity), price, req.order_type.value,
                     req.strategy_name, req.remark))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


class OrderPlacement:
    """Owns what placing needs between requests: reservations of orders the broker has not
    acknowledged yet, the day's counters, per-key locks and the ids being submitted."""

    def __init__(
        self, *, account_id: str, db: Database, qmt: QMTService, risk: RiskEngine,
        audit: AuditLog, events: EventLog, validator: OrderValidator, updater: OrderUpdater,
        get_order: Callable[[int], Awaitable[OrderDetail]],
    ) -> None:  # fmt: skip
        self._account, self._db, self._qmt, self._risk = account_id, db, qmt, risk
        self._audit, self._events, self._validator = audit, events, validator
        self._updater, self._get_order = updater, get_order
        self._journal = JournalWriter(
            db, events, lambda order_id, fields: ("order", order_json(FieldsRow(fields, order_id)))
        )
        self.reserved = Reservations()
        self.counters = DayCounters()
        self.in_flight: set[int] = set()
        self._key_locks: dict[str, asyncio.Lock] = {}

    @property
    def validator(self) -> OrderValidator:
        return self._validator

    async def place_json(
        self, *, request: OrderCreate, actor: Actor, idempotency_key: str | None = None
    ) -> tuple[dict[str, Any], bool]:
        """Validate, journal as `pending`, submit; (order as OrderRead's JSON dict, created).
        A repeat is (the existing order, False).

        Raises:
            InvalidStockCode, UnknownInstrument, InvalidQuantity, InvalidPrice,
            PriceOutOfLimit, MarketClosed, InsufficientFunds, InsufficientPosition,
            RiskRejected, TradingDisabled, DuplicateClientOrderId, BrokerUnavailable,
            ValidationFailed.
        """
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
            last = await self._last_price(checked)
            # The critical section: from here to the reservation (the first statements of
            # _journal_and_submit, before its first await) nothing awaits, so two orders can
            # never both pass on the same cash, shares or cap.
            sig = f"{checked.stock_code}|{checked.side}|{checked.quantity}|{checked.price}"
            hold = self._check_account_and_risk(checked, coid, sig, last)
        except DomainError as exc:
            if given and (found := await self._existing(coid, request)) is not None:
                return found, False
            await self._audit_rejected(actor, request, coid, exc)
            raise
        return await self._journal_and_submit(request, checked, hold, coid, sig, actor, given)

    async def _last_price(self, c: CheckedOrder) -> Decimal | None:
        """The last price the risk rules judge against: a fresh tick when a rule needs one
        (price deviation, market orders), else the position's cached last price."""
        pos = self._qmt.positions.get(c.stock_code)
        last = pos.last_price if pos and pos.last_price > 0 else None
        if self._risk.rules.max_price_deviation_pct or c.order_type is OrderType.MARKET:
            tick = await self._qmt.market_call(self._qmt.market.get_full_tick, [c.stock_code])
            raw = (tick.get(c.stock_code) or {}).get("lastPrice")
            last = xm.dec(raw, "0.001") if raw else last
        return last

    def _check_account_and_risk(
        self, c: CheckedOrder, coid: str, sig: str, last: Decimal | None
    ) -> Reservation:
        """Funds/position and the risk rules, synchronously; the reservation it answers is
        taken by the caller before anything awaits."""
        self.counters.roll(self._qmt.now().date())
        hold = self._validator.check_account(c, self.reserved)
        pos = self._qmt.positions.get(c.stock_code)
        self._risk.check(risk_context(
            rules=self._risk.rules, counters=self.counters, sig=sig, stock_code=c.stock_code,
            side=c.side, quantity=c.quantity, price=c.price or last or c.freeze_price,
            last_price=last, position_value=pos.market_value if pos else Decimal(0),
            client_order_id=coid, order_type=c.order_type.value,
        ))  # fmt: skip
        return hold

    async def _journal_and_submit(
        self, request: OrderCreate, checked: CheckedOrder, hold: Reservation, coid: str,
        sig: str, actor: Actor, given: str | None,
    ) -> tuple[dict[str, Any], bool]:  # fmt: skip
        tmp_key = -id(request)
        self.reserved.add(tmp_key, hold)
        value = (checked.price or checked.freeze_price) * checked.quantity
        self.counters.count(sig, value, +1)
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
            self.reserved.release(tmp_key)
            self.counters.count(sig, value, -1)
            found = await self._existing(coid, request) if given else None
            if found is None:
                raise
            return found, False
        self.reserved.release(tmp_key)
        self.reserved.add(order_id, hold)
        data = order_json(FieldsRow(fields, order_id))  # its event went out with the commit
        return await self._submit(order_id, checked, data), True

    async def _submit(
        self, order_id: int, checked: CheckedOrder, data: dict[str, Any]
    ) -> dict[str, Any]:
        self.in_flight.add(order_id)
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
            self.in_flight.discard(order_id)
        if seq > 0:
            return data
        logger.warning("order {} not accepted by the broker call: {}", order_id, reason)
        read = await self.settle_unknown(order_id, reason=reason)
        return read.model_dump(mode="json", include=set(OrderRead.model_fields))

    async def settle_unknown(self, order_id: int, *, reason: str = "") -> OrderDetail:
        """After a failed or uncertain submit: read our order back from the broker by its
        remark; if the broker has none, it is rejected (safe to re-send). If the broker cannot
        be asked, the order stays `pending` until the next reconciliation settles it."""
        try:
            found = await self._qmt.query_order_by_remark(order_id)
        except DomainError as exc:
            # A failed query proves nothing: the order stays pending, and is read back again
            # until a successful query settles it (or the reconnect reconciliation does).
            logger.warning("order {} left pending: read-back failed: {}", order_id, exc)
            if self._qmt.is_connected():
                self._qmt.settler.read_back_later(order_id, reason or "read-back failed")
            return await self._get_order(order_id)
        if found is not None:
            self._updater.push(found)
            await self._updater.drain()
        else:
            msg = NOT_RECEIVED + (f" ({reason})" if reason else "")
            await self._updater.command(Reject(order_id, msg))
        return await self._get_order(order_id)

    async def _existing(self, coid: str, request: OrderCreate) -> dict[str, Any] | None:
        order = await self._db.run(lambda s: order_repo.by_client_id(s, self._account, coid))
        if order is None:
            return None
        try:
            code = normalize(request.stock_code)
        except DomainError:
            code = request.stock_code
        if order.request_hash != _content_hash(code, request):
            raise DuplicateClientOrderId(
                f"client_order_id {coid!r} 已用于另一笔订单 {order.id} / already used for order "
                f"{order.id} with other content", order_id=order.id,
            )  # fmt: skip
        return order_json(order)

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

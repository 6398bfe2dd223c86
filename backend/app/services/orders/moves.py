"""How one batch of broker pushes and local commands moves the journal (OrderUpdater's
transaction): the commands, the side effects a batch reports back, and `Moves`, which loads
the batch's orders once and applies item after item (FSM move, event, fills).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, cast

from loguru import logger
from sqlalchemy import Connection, Table, bindparam, insert, select, update

from backend.app.core.errors import OrderNotCancellable, OrderNotFound
from backend.app.db.repositories import trades as trade_repo
from backend.app.db.tables import Order, OrderEvent, Trade
from backend.app.domain.enums import OrderStatus, Side
from backend.app.domain.order_state import FINAL, IllegalTransition, advance, implied_by_fills
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.orders.rows import FieldsRow, order_json, trade_json

S = OrderStatus
_PRICE = Decimal("0.0001")
_INSERT_EVENT = insert(cast(Table, OrderEvent.__table__))
_INSERT_TRADE = insert(cast(Table, Trade.__table__))
_ORDERS = cast(Table, Order.__table__)
_COLUMNS = tuple(c.key for c in _ORDERS.columns)
_UPDATES: dict[tuple[str, ...], Any] = {}


class JournalOrder:
    """An `orders` row as a plain object (SQLAlchemy Core, no ORM unit of work): the batch
    moves it in memory, remembers which columns changed, and `Moves.flush` writes them."""

    __slots__ = (*_COLUMNS, "dirty")

    def __init__(self, values: Any) -> None:
        for key in _COLUMNS:
            object.__setattr__(self, key, values[key])
        object.__setattr__(self, "dirty", set())

    def __setattr__(self, name: str, value: Any) -> None:
        if getattr(self, name) != value:
            self.dirty.add(name)
            object.__setattr__(self, name, value)

    if TYPE_CHECKING:  # the columns, for the type checker

        def __getattr__(self, name: str) -> Any: ...


_BY_ACCOUNT = select(_ORDERS).where(_ORDERS.c.account_id == bindparam("account"))
_LOAD = {  # built once: no statement construction or cache-key generation per batch
    "id": _BY_ACCOUNT.where(_ORDERS.c.id.in_(bindparam("keys", expanding=True))),
    "broker_order_id": _BY_ACCOUNT.where(
        _ORDERS.c.broker_order_id.in_(bindparam("keys", expanding=True))
    ),
}


def _load(c: Connection, account: str, by: str, keys: Iterable[int]) -> list[JournalOrder]:
    """The account's orders whose `by` column ("id" / "broker_order_id") is in `keys`."""
    rows = c.execute(_LOAD[by], {"account": account, "keys": list(keys)})
    return [JournalOrder(row._mapping) for row in rows]


def _update_statement(keys: tuple[str, ...]) -> Any:
    stmt = _UPDATES.get(keys)
    if stmt is None:
        stmt = _UPDATES[keys] = (
            update(_ORDERS)
            .where(_ORDERS.c.id == bindparam("id_"))
            .values({k: bindparam(f"{k}_") for k in keys})
        )
    return stmt


# --- local commands --------------------------------------------------------------------------


@dataclass(slots=True)
class MarkCancel:
    """User asked to cancel: move to pending_cancel (or refuse if final)."""

    order_id: int


@dataclass(slots=True)
class Reject:
    """Settle an order the broker never got (a -1, or unseen at reconciliation)."""

    order_id: int
    message: str
    only_if_pending: bool = True


@dataclass(slots=True)
class Expire:
    """A non-final order from an earlier day that the broker no longer lists."""

    order_id: int
    message: str


@dataclass(slots=True)
class Barrier:
    """`drain()`: applied after everything queued before it."""


@dataclass(slots=True)
class LogEvent:
    """A stream event with no order row of its own (asset, position), logged in the batch's
    transaction: the broker pushes it beside an order update, and a transaction of its own
    per order cost as much again as the update (docs/performance.md, round 2)."""

    type: str
    data: dict[str, Any]


Command = MarkCancel | Reject | Expire | LogEvent
Item = xm.BrokerUpdate | Command | Barrier


@dataclass(slots=True)
class Effects:
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    acknowledged: set[int] = field(default_factory=set)  # reservations to release
    finished: set[int] = field(default_factory=set)  # orders that became final
    cancel_refused: set[int] = field(default_factory=set)
    send_cancel: list[tuple[int, int]] = field(default_factory=list)  # (order_id, broker id)
    cancel_wanted: set[int] = field(default_factory=set)  # cancel once the broker id comes
    results: dict[int, Any] = field(default_factory=dict)  # index in batch -> result
    seqs: list[int] = field(default_factory=list)  # event log seqs of `events`, once appended


class Moves:
    """One batch's view: orders loaded once, then moved item by item."""

    def __init__(
        self, c: Connection, account: str, items: Iterable[Item], fx: Effects,
        inflight: set[int], wanted: set[int],
    ) -> None:  # fmt: skip
        self.c, self.account, self.fx = c, account, fx
        self.inflight, self.wanted = inflight, wanted
        self.now = datetime.now(UTC)
        self.events: list[dict[str, Any]] = []
        ids: set[int] = set()
        trade_ids: list[str] = []
        for it in items:
            oid = getattr(it, "order_id", None)
            if isinstance(oid, int):
                ids.add(oid)
            if isinstance(it, xm.TradeUpdate):
                trade_ids.append(it.trade_id)
        self.by_id = {o.id: o for o in _load(c, account, "id", ids)} if ids else {}
        self.by_broker = {o.broker_order_id: o for o in self.by_id.values() if o.broker_order_id}
        # Only items our own id did not find are looked up by the broker's id (one query
        # less per batch in the usual case: every push carries our id in its remark).
        broker_ids: set[int] = set()
        for it in items:
            oid = getattr(it, "order_id", None)
            bid = getattr(it, "broker_order_id", None)
            found = isinstance(oid, int) and oid in self.by_id
            if isinstance(bid, int) and bid > 0 and not found:
                broker_ids.add(bid)
        missing = broker_ids - self.by_broker.keys()
        if missing:
            for o in _load(c, account, "broker_order_id", missing):
                self.by_broker[o.broker_order_id] = o
                self.by_id.setdefault(o.id, o)
        self.seen_trades = trade_repo.existing_ids(c, account, trade_ids)

    def find(self, order_id: int | None, broker_order_id: int | None) -> JournalOrder | None:
        if order_id is not None and (o := self.by_id.get(order_id)) is not None:
            return o
        if broker_order_id:
            return self.by_broker.get(broker_order_id)
        return None

    def apply(self, item: Item) -> Any:
        match item:
            case xm.OrderUpdate():
                self._order_update(item)
            case xm.TradeUpdate():
                self._trade(item)
            case xm.OrderResponse():
                self._response(item)
            case xm.OrderError():
                self._error(item)
            case xm.CancelResult():
                self._cancel_result(item)
            case MarkCancel():
                return self._mark_cancel(item)
            case Reject():
                self._reject(item)
            case Expire():
                self._expire(item)
            case LogEvent():
                self.fx.events.append((item.type, item.data))
        return None

    # --- moves --------------------------------------------------------------------------------

    def _move(self, o: JournalOrder, new: OrderStatus | None, message: str) -> None:
        """FSM move + event; an illegal move is recorded and ignored, never raised."""
        old = OrderStatus(o.status)
        if new is None:
            logger.warning("order {} broker status {} unknown; status kept", o.id, o.broker_status)
            self._event(o, old, old, f"unknown broker status {o.broker_status}; kept {old}")
            return
        try:
            target = advance(old, new)
        except IllegalTransition as exc:
            logger.warning("order {}: {} (broker status {}) ignored", o.id, exc, o.broker_status)
            self._event(o, old, old, f"{exc} ignored")
            return
        if target == old:
            return
        o.status = target.value
        o.updated_at = self.now
        self._event(o, old, target, message)
        if target in FINAL:
            self.fx.finished.add(o.id)
            self.fx.acknowledged.add(o.id)

    def _event(self, o: JournalOrder, old: str | None, new: str, message: str) -> None:
        self.events.append({
            "order_id": o.id, "old_status": old, "new_status": new,
            "broker_status": o.broker_status, "message": message[:2000], "created_at": self.now,
        })  # fmt: skip

    def get(self, order_id: int) -> JournalOrder | None:
        """An order of the account by our id, loaded once per batch."""
        o = self.by_id.get(order_id)
        if o is None:
            found = _load(self.c, self.account, "id", (order_id,))
            if found:
                o = self.by_id[order_id] = found[0]
        return o

    def flush(self) -> None:
        """Write the batch: the changed columns of each order (one executemany per set of
        columns) and the order events (one insert)."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for o in self.by_id.values():
            if o.dirty:
                keys = tuple(sorted(o.dirty))
                params = {f"{k}_": getattr(o, k) for k in keys}
                params["id_"] = o.id
                groups.setdefault(keys, []).append(params)
                o.dirty.clear()
        conn = self.c
        for keys, rows in groups.items():
            conn.execute(_update_statement(keys), rows)
        if self.events:
            conn.execute(_INSERT_EVENT, self.events)
            self.events = []

    def _set_broker_id(self, o: JournalOrder, broker_order_id: int) -> None:
        if broker_order_id > 0 and o.broker_order_id is None:
            o.broker_order_id = broker_order_id
            self.by_broker[broker_order_id] = o
            if o.id in self.wanted and o.status == S.PENDING_CANCEL:
                self.fx.send_cancel.append((o.id, broker_order_id))

    def _changed(self, o: JournalOrder) -> None:
        o.updated_at = self.now
        # Built whether anyone listens or not: every event goes to the durable log.
        self.fx.events.append(("order", order_json(o)))

    def _order_update(self, u: xm.OrderUpdate) -> None:
        o = self.find(u.order_id, u.broker_order_id)
        if o is None:
            return  # an order placed outside this gateway
        self._set_broker_id(o, u.broker_order_id)
        o.broker_status = u.broker_status
        if u.status_msg:
            o.status_msg = u.status_msg
        if u.traded_volume > o.filled_quantity:
            o.filled_quantity = u.traded_volume
            if u.traded_price > 0:
                o.avg_fill_price = u.traded_price
        self.fx.acknowledged.add(o.id)
        new = u.status
        if new is not None and o.status not in FINAL:
            # A status lagging the fills already booked (a stale push on a final order is
            # still recorded as illegal and ignored, by _move).
            new = implied_by_fills(new, o.filled_quantity, o.quantity)
        # Our cancel is on its way: a late "reported/partly filled" push must not undo it.
        if (o.status == S.PENDING_CANCEL and o.id in self.inflight | self.wanted
                and new in (S.PENDING, S.REPORTED, S.PARTIALLY_FILLED)):  # fmt: skip
            new = S.PENDING_CANCEL
        self._move(o, new, f"broker status {u.broker_status}" + (
            f": {u.status_msg}" if u.status_msg else ""))  # fmt: skip
        self._follow_fills(o)
        self._changed(o)

    def _follow_fills(self, o: JournalOrder) -> None:
        """Move the status along with `filled_quantity`, so no published order shows fills
        its status denies (e.g. filled 100 of 100 but still `reported`)."""
        old = OrderStatus(o.status)
        implied = implied_by_fills(old, o.filled_quantity, o.quantity)
        if implied != old:
            self._move(o, implied, f"filled {o.filled_quantity}/{o.quantity} (from fills)")

    def _trade(self, t: xm.TradeUpdate) -> None:
        if t.trade_id in self.seen_trades:
            return
        self.seen_trades.add(t.trade_id)
        o = self.find(t.order_id, t.broker_order_id)
        side = t.side or (Side(o.side) if o else None)
        if side is None:
            logger.warning("fill {} has no side and no order; skipped", t.trade_id)
            return
        trade = {
            "account_id": self.account, "broker_trade_id": t.trade_id,
            "order_id": o.id if o else None, "broker_order_id": t.broker_order_id,
            "stock_code": t.stock_code, "side": side.value, "price": t.price,
            "quantity": t.quantity, "amount": t.amount, "commission": t.commission,
            "traded_at": t.traded_at,
        }  # fmt: skip
        conn = self.c
        conn.execute(_INSERT_TRADE, trade)  # Core, like every other journal write
        if o is not None:
            self._set_broker_id(o, t.broker_order_id)
            qty, amount = trade_repo.totals_core(conn, o.id)
            if qty >= o.filled_quantity and qty > 0:
                o.filled_quantity = qty
                o.avg_fill_price = (amount / qty).quantize(_PRICE, rounding=ROUND_HALF_UP)
            self._follow_fills(o)
            self._changed(o)
        self.fx.events.append(("trade", trade_json(FieldsRow(trade))))

    def _response(self, r: xm.OrderResponse) -> None:
        o = self.find(r.order_id, r.broker_order_id)
        if o is None:
            return
        o.broker_seq = r.seq
        if r.broker_order_id > 0:
            self._set_broker_id(o, r.broker_order_id)
            self.fx.acknowledged.add(o.id)
        elif o.status == S.PENDING:
            self._move(o, S.REJECTED, r.error_msg or "broker refused the order")
            o.status_msg = r.error_msg or "broker refused the order"
            self._changed(o)

    def _error(self, e: xm.OrderError) -> None:
        o = self.find(e.order_id, e.broker_order_id)
        if o is None:
            return
        self._set_broker_id(o, e.broker_order_id)
        if e.error_msg:
            o.status_msg = e.error_msg
        if o.status not in FINAL:
            self._move(o, S.REJECTED, f"order error {e.error_id}: {e.error_msg}")
        self._changed(o)

    def _cancel_result(self, c: xm.CancelResult) -> None:
        o = self.find(None, c.broker_order_id)
        if o is None or c.ok:
            return
        self.fx.cancel_refused.add(o.id)
        o.status_msg = f"撤单失败 / cancel refused: {c.error_msg}"
        if o.status == S.PENDING_CANCEL:
            back = S.PARTIALLY_FILLED if o.filled_quantity > 0 else S.REPORTED
            self._move(o, back, f"cancel refused: {c.error_msg}")
        self._changed(o)

    def _mark_cancel(self, c: MarkCancel) -> dict[str, Any]:
        o = self.get(c.order_id)
        if o is None:
            raise OrderNotFound(f"订单 {c.order_id} 不存在 / order {c.order_id} not found")
        if o.status in FINAL:
            raise OrderNotCancellable(
                f"订单已是终态 {o.status} / order {o.id} is already {o.status}",
                order_status=o.status,
            )
        if o.status != S.PENDING_CANCEL:
            self._move(o, S.PENDING_CANCEL, "cancel requested")
            if o.broker_order_id:
                self.fx.send_cancel.append((o.id, o.broker_order_id))
            else:
                self.fx.cancel_wanted.add(o.id)
            self._changed(o)
        return order_json(o)

    def _reject(self, r: Reject) -> None:
        o = self.get(r.order_id)
        if o is None or o.status in FINAL or (r.only_if_pending and o.status != S.PENDING):
            return
        o.status_msg = r.message
        self._move(o, S.REJECTED, r.message)
        self.fx.acknowledged.add(o.id)
        self._changed(o)

    def _expire(self, r: Expire) -> None:
        o = self.get(r.order_id)
        if o is None or o.status in FINAL:
            return
        target = S.PARTIALLY_CANCELLED if o.filled_quantity > 0 else S.CANCELLED
        if o.status == S.PENDING and o.broker_order_id is None:
            target = S.REJECTED
        o.status_msg = r.message
        self._move(o, target, r.message)
        self._changed(o)

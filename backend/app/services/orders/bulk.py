"""Bulk actions: cancel every open order, close positions, replace an order.

Each is built from the single-order paths (TradingService.cancel_order / place_order_json),
so every order inside a bulk action passes the same validation, risk rules, kill switch,
journal and audit as one sent alone; the bulk action adds one audit entry of its own.

Decisions (docs/api_guide.md):
- Cancels are always allowed, kill switch or not.
- Closing a position is a new sell order, so with the kill switch off it is refused
  (TRADING_DISABLED) like every new order: the contract says new orders get 422 while off.
- Replace checks the kill switch and the new order's static rules BEFORE cancelling, so the
  usual refusals leave the original order working; only what can change during the cancel
  (a fill, a risk limit, funds) can still refuse the new order after it.
"""

from __future__ import annotations

import asyncio
from decimal import ROUND_CEILING, Decimal
from typing import TYPE_CHECKING, Any

from backend.app.core.errors import (
    BrokerUnavailable,
    DomainError,
    InsufficientPosition,
    OrderFilled,
    OrderNotCancellable,
    TradingDisabled,
)
from backend.app.db.repositories import orders as order_repo
from backend.app.domain.actor import Actor
from backend.app.domain.enums import OrderStatus, OrderType, Side
from backend.app.domain.order_state import is_final
from backend.app.models.bulk import CancelItem, CloseItem, OrderReplace
from backend.app.models.market import Quote
from backend.app.models.orders import OrderCreate, OrderRead
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.orders.rows import order_json
from backend.app.services.orders.validation import normalize
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.calendar import Session
from xtquant_adapter.ashare.codes import Board, board_of

if TYPE_CHECKING:
    from backend.app.services.orders.service import TradingService

REPLACE_CANCEL_TIMEOUT = 10.0  # seconds to wait for the broker to confirm the cancel
_PAGE = 500


def close_price(code: str, quote: Quote, *, continuous: bool) -> Decimal:
    """The lowest sell price the venue accepts now: the price cage's lower edge in
    continuous trading (ASHARE_RULES §3.4: min(98 % x ref, ref - 10 ticks), ref = best bid,
    else best ask, else last), never below limit-down; limit-down outside continuous."""
    floor = quote.limit_down if quote.limit_down is not None else rules.price_tick(code)
    if not continuous:
        return floor
    ref = (quote.bid[0][0] if quote.bid else None) or (quote.ask[0][0] if quote.ask else None)
    ref = ref or quote.last_price or quote.pre_close
    tick = rules.price_tick(code)
    pct = Decimal("0.05") if board_of(code) is Board.BSE else Decimal("0.02")
    low = min(ref * (1 - pct), ref - 10 * tick)
    edge = (low / tick).to_integral_value(rounding=ROUND_CEILING) * tick  # inside the cage
    return max(edge, floor)


def _failed(exc: DomainError) -> dict[str, Any]:
    return {"ok": False, "order": None, "code": exc.code, "detail": exc.detail}


class BulkActions:
    def __init__(self, trading: TradingService, audit: AuditLog) -> None:
        self._t, self._audit = trading, audit

    # --- cancel all ----------------------------------------------------------------------------

    async def _open_orders(self, stock_code: str | None, side: Side | None) -> list[int]:
        ids: list[int] = []
        cursor: str | None = None
        while True:
            items, cursor = await self._t.list_orders_json(
                status="open", stock_code=stock_code, side=side, since=None, limit=_PAGE,
                cursor=cursor,
            )  # fmt: skip
            ids += [int(o["order_id"]) for o in items if o["status"] != "pending_cancel"]
            if cursor is None:
                return sorted(ids)

    async def cancel_all(
        self, *, actor: Actor, stock_code: str | None = None, side: Side | None = None
    ) -> list[CancelItem]:
        """Ask the broker to cancel every open order (filtered); one result per order.

        Orders already `pending_cancel` are left out (their cancel is on its way).

        Raises:
            BrokerUnavailable (nothing was tried), InvalidStockCode.
        """
        if not self._t.is_connected:
            raise BrokerUnavailable("MiniQMT 未连接，无法撤单 / MiniQMT is not connected")
        code = normalize(stock_code) if stock_code else None
        ids = await self._open_orders(code, side)

        async def one(order_id: int) -> CancelItem:
            try:
                order = await self._t.cancel_order(order_id=order_id, actor=actor)
            except DomainError as exc:
                return CancelItem(order_id=order_id, **_failed(exc))
            return CancelItem(order_id=order_id, ok=True, order=order)

        items = list(await asyncio.gather(*(one(i) for i in ids)))
        await self._audit.record(
            actor=actor, action="order.cancel_all", outcome="ok",
            detail={"stock_code": code, "side": side, "count": len(items),
                    "failed": [i.order_id for i in items if not i.ok]},
        )  # fmt: skip
        return items

    # --- close positions -----------------------------------------------------------------------

    async def close(
        self, *, actor: Actor, stock_code: str | None, order_type: OrderType
    ) -> list[CloseItem]:
        """Sell the sellable volume (T+1) of one position, or of every position.

        Raises:
            TradingDisabled, BrokerUnavailable, InvalidStockCode (nothing was tried).
        """
        if not self._t.trading_enabled:
            raise TradingDisabled(
                "交易开关已关闭，不能平仓（撤单仍可用）/ the kill switch is off: no new orders, "
                "closing included (cancels still work)"
            )
        if not self._t.is_connected:
            raise BrokerUnavailable("MiniQMT 未连接 / MiniQMT is not connected")
        codes = [normalize(stock_code)] if stock_code else self._t.held_codes()
        items = [await self._close_one(c, order_type, actor) for c in codes]
        await self._audit.record(
            actor=actor, action="position.close", target=stock_code or "*", outcome="ok",
            detail={"order_type": order_type.value,
                    "closed": [i.stock_code for i in items if i.ok],
                    "failed": {i.stock_code: i.code for i in items if not i.ok}},
        )  # fmt: skip
        return items

    async def _close_one(self, code: str, order_type: OrderType, actor: Actor) -> CloseItem:
        try:
            quantity = self._t.sellable(code)
            if quantity <= 0:
                raise InsufficientPosition(
                    f"{code} 无可卖数量（当日买入 T+1 才可卖）/ nothing sellable in {code} "
                    "(shares bought today sell tomorrow, T+1)", sellable=0,
                )  # fmt: skip
            quote = await self._t.market.quote(stock_code=code)
            continuous = self._t.validator.session() is Session.CONTINUOUS
            price: Decimal | None = close_price(code, quote, continuous=continuous)
            if order_type is OrderType.MARKET and not rules.needs_protective_price(code):
                price = None  # the venue's market type; STAR/BSE keep it as protective price
            req = OrderCreate(
                stock_code=code, side=Side.SELL, quantity=quantity, price=price,
                order_type=order_type, remark="close position",
            )  # fmt: skip
            data, _ = await self._t.place_order_json(request=req, actor=actor)
        except DomainError as exc:
            return CloseItem(stock_code=code, **_failed(exc))
        order = OrderRead.model_validate(data)
        ok = order.status is not OrderStatus.REJECTED
        return CloseItem(
            stock_code=code, ok=ok, order=order, code=None if ok else "REJECTED",
            detail=None if ok else order.status_msg,
        )  # fmt: skip

    # --- replace -------------------------------------------------------------------------------

    async def replace(
        self, *, order_id: int, body: OrderReplace, actor: Actor
    ) -> tuple[OrderRead, bool]:
        """Cancel `order_id`; once the broker confirms, place the rest at the new price and/or
        quantity; (new order, created). A repeat with the same client_order_id answers the
        order it placed the first time (created False).

        Raises:
            OrderNotFound, OrderFilled (nothing placed), OrderNotCancellable, TradingDisabled,
            BrokerUnavailable (cancel not confirmed in time: nothing placed), and whatever
            placing the new order raises (its problem then names `cancelled_order_id`).
        """
        coid = body.client_order_id
        if coid is not None:
            found = await self._t.db.run(
                lambda s: order_repo.by_client_id(s, self._t.account, coid)
            )
            if found is not None:
                return OrderRead.model_validate(order_json(found)), False
        old = await self._t.get_order(order_id=order_id)
        if is_final(old.status):
            raise self._final_error(old)
        if not self._t.trading_enabled:
            raise TradingDisabled("交易开关已关闭，不能改单 / the kill switch is off: no replace")
        new = self._new_request(old, body, old.quantity - old.filled_quantity)
        await self._t.validator.check(new)  # refuse a bad price before cancelling anything
        await self._t.cancel_order(order_id=order_id, actor=actor)
        done = await self._t.wait_final(order_id, REPLACE_CANCEL_TIMEOUT)
        if not is_final(done.status):
            raise BrokerUnavailable(
                f"撤单未在 {REPLACE_CANCEL_TIMEOUT:g} 秒内确认，未下新单 / the cancel was not "
                "confirmed in time; nothing placed", order_id=order_id,
            )  # fmt: skip
        if done.status is OrderStatus.FILLED:
            raise self._final_error(done)
        new = self._new_request(done, body, done.quantity - done.filled_quantity)
        try:
            data, created = await self._t.place_order_json(request=new, actor=actor)
        except DomainError as exc:
            exc.extra["cancelled_order_id"] = order_id
            await self._audit_replace(actor, order_id, None, exc.code)
            raise
        await self._audit_replace(actor, order_id, int(data["order_id"]), "ok")
        return OrderRead.model_validate(data), created

    @staticmethod
    def _final_error(o: OrderRead) -> DomainError:
        if o.status is OrderStatus.FILLED:
            return OrderFilled(
                f"订单 {o.order_id} 已全部成交，未下新单 / order {o.order_id} filled; nothing "
                "placed", order_id=o.order_id,
            )  # fmt: skip
        return OrderNotCancellable(
            f"订单 {o.order_id} 已是终态 {o.status.value} / order {o.order_id} is final "
            f"({o.status.value})", order_id=o.order_id, order_status=o.status.value,
        )  # fmt: skip

    @staticmethod
    def _new_request(o: OrderRead, body: OrderReplace, rest: int) -> OrderCreate:
        return OrderCreate(
            stock_code=o.stock_code, side=o.side, order_type=o.order_type,
            quantity=body.quantity if body.quantity is not None else max(rest, 1),
            price=body.price if body.price is not None else o.price,
            client_order_id=body.client_order_id, strategy_name=o.strategy_name,
            remark=o.remark,
        )  # fmt: skip

    async def _audit_replace(
        self, actor: Actor, old: int, new: int | None, outcome_code: str
    ) -> None:
        await self._audit.record(
            actor=actor, action="order.replace", target=f"order:{old}",
            outcome="ok" if new is not None else "rejected",
            detail={"new_order_id": new, "code": outcome_code},
        )  # fmt: skip

"""Pre-broker order checks: code, instrument, lot, tick, limit band, session, funds, position.

Every check here runs before the journal insert, so an order that fails one never reaches
the broker and never becomes a row. Instrument details are cached per code and trading day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from backend.app.core.errors import (
    BrokerUnavailable,
    DomainError,
    InsufficientFunds,
    InsufficientPosition,
    InvalidPrice,
    InvalidQuantity,
    InvalidStockCode,
    MarketClosed,
    PriceOutOfLimit,
    UnknownInstrument,
)
from backend.app.domain.enums import OrderType, Side
from backend.app.models.orders import OrderCreate
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.service import QMTService
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.calendar import CalendarNotAvailable, Session, session_at
from xtquant_adapter.ashare.codes import InvalidStockCode as AdapterInvalidCode
from xtquant_adapter.ashare.codes import board_of, is_tradable_board, normalize_code
from xtquant_adapter.ashare.fees import FeeSchedule, buy_freeze
from xtquant_adapter.ashare.orders import Refusal, check_order
from xtquant_adapter.ashare.products import has_no_limit, security_from_detail


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    """An order that passed the static checks; `freeze_price` values it for reservations."""

    stock_code: str
    stock_name: str
    side: Side
    order_type: OrderType
    price_type: int
    quantity: int
    price: Decimal | None  # limit price, or the protective price of a market order
    freeze_price: Decimal  # price cash is reserved at (limit, protective or limit-up)
    limit_up: Decimal | None
    limit_down: Decimal | None


@dataclass(slots=True)
class Reservation:
    side: Side
    stock_code: str
    cash: Decimal
    shares: int


@dataclass(slots=True)
class Reservations:
    """What our orders not yet acknowledged by the broker hold back from its cash/positions.

    Once the broker has an order it freezes the cash or shares itself (its asset and
    position pushes say so), so an order's reservation ends at its first broker push.
    """

    items: dict[int, Reservation] = field(default_factory=dict)

    def cash(self) -> Decimal:
        return sum((r.cash for r in self.items.values()), Decimal(0))

    def shares(self, stock_code: str) -> int:
        return sum(
            r.shares for r in self.items.values()
            if r.side is Side.SELL and r.stock_code == stock_code
        )  # fmt: skip

    def add(self, order_id: int, r: Reservation) -> None:
        self.items[order_id] = r

    def release(self, order_id: int) -> None:
        self.items.pop(order_id, None)


def _d(v: Any) -> Decimal | None:
    if v is None or v == "":
        return None
    d = Decimal(str(v))
    return d if d > 0 else None


def normalize(stock_code: str) -> str:
    try:
        code = normalize_code(stock_code)
    except AdapterInvalidCode as exc:
        raise InvalidStockCode(str(exc)) from exc
    if not is_tradable_board(board_of(code)):
        raise InvalidStockCode(f"{code} 是指数，不可交易 / {code} is an index, not tradable")
    return code


def _error(refusal: Refusal, band: tuple[Decimal, Decimal] | None) -> DomainError:
    """The API error for a refusal of the shared A-share rules (`ashare.orders`)."""
    r = refusal.reason
    if r == "price":
        down, up = band if band is not None else (None, None)
        return PriceOutOfLimit(
            f"价格超出涨跌停 [{down}, {up}] / price outside [{down}, {up}]",
            limit_up=str(up), limit_down=str(down),
        )  # fmt: skip
    if r in ("quantity", "st_cap"):
        return InvalidQuantity(refusal.text)
    if r == "position":
        return InsufficientPosition(refusal.text)
    return InvalidPrice(refusal.text)  # tick, protect, price_type, no_limit_market


class OrderValidator:
    def __init__(self, *, qmt: QMTService, fees: FeeSchedule, enforce_hours: bool) -> None:
        self._qmt = qmt
        self._fees = fees
        self._enforce_hours = enforce_hours
        self._details: dict[str, dict[str, Any]] = {}
        self._details_day: date | None = None

    async def instrument(self, code: str) -> dict[str, Any]:
        """The instrument detail (cached for the trading day); UnknownInstrument if none."""
        today = self._qmt.now().date()
        if self._details_day != today:
            self._details, self._details_day = {}, today
        detail = self._details.get(code)
        if detail is None:
            detail = await self._qmt.market_call(self._qmt.market.get_instrument_detail, code)
            if not detail:
                raise UnknownInstrument(f"证券 {code} 不存在 / no instrument {code}")
            self._details[code] = detail
        return detail

    def cached_instrument(self, code: str) -> dict[str, Any] | None:
        """The detail `instrument` already holds for `code`, without asking the broker."""
        return self._details.get(code)

    def session(self) -> Session:
        if not self._enforce_hours:
            return Session.CONTINUOUS
        try:
            return session_at(self._qmt.now())
        except CalendarNotAvailable:
            return Session.CLOSED

    async def check(self, req: OrderCreate) -> CheckedOrder:
        """Static checks, in the contract's order.

        Raises:
            InvalidStockCode, UnknownInstrument, InvalidQuantity, InvalidPrice,
            PriceOutOfLimit, MarketClosed, BrokerUnavailable.
        """
        code = normalize(req.stock_code)
        if not self._qmt.is_connected():
            raise BrokerUnavailable("MiniQMT 未连接 / MiniQMT is not connected")
        detail = await self.instrument(code)
        market = req.order_type is OrderType.MARKET
        up, down = _d(detail.get("UpStopPrice")), _d(detail.get("DownStopPrice"))
        price = req.price
        if price is None and not market:
            # A business rule, not a shape the schema can state: INVALID_PRICE, not a 422
            # VALIDATION_ERROR for a request the OpenAPI document calls valid.
            raise InvalidPrice("限价单必须填写价格 / price is required for a limit order")
        band = (down, up) if up is not None and down is not None else None
        sec = security_from_detail(code, detail)
        refusal = check_order(
            sec, req.side.value, req.quantity,
            price_type=xm.price_type_for(code, req.order_type), price=price, band=band,
            no_limit=band is None and has_no_limit(sec, self._qmt.now().date()),
            tick=_d(detail.get("PriceTick")),
        )  # fmt: skip
        if refusal is not None:
            raise _error(refusal, band)
        if market and price is not None and band is not None and not band[0] <= price <= band[1]:
            # Our contract: a market order's price is also the price its cash is frozen at.
            raise _error(Refusal("price", ""), band)
        self._check_session(market)
        freeze = price if price is not None else (up or Decimal(0))
        return CheckedOrder(
            stock_code=code, stock_name=str(detail.get("InstrumentName") or ""), side=req.side,
            order_type=req.order_type, price_type=xm.price_type_for(code, req.order_type),
            quantity=req.quantity, price=price, freeze_price=freeze, limit_up=up, limit_down=down,
        )  # fmt: skip

    def _check_session(self, market: bool) -> None:
        session = self.session()
        if session is Session.CLOSED:
            raise MarketClosed("非交易时间 / the market is closed", session=session.value)
        if market and session is not Session.CONTINUOUS:
            raise MarketClosed(
                "市价单仅在连续竞价时段接受 / market orders only in continuous trading",
                session=session.value,
            )

    def check_account(self, order: CheckedOrder, held: Reservations) -> Reservation:
        """Funds or sellable shares for `order`, net of what our unacknowledged orders hold.

        Raises:
            InsufficientFunds, InsufficientPosition, BrokerUnavailable.
        """
        if order.side is Side.BUY:
            asset = self._qmt.asset
            if asset is None:
                raise BrokerUnavailable("未取得账户资金 / no account asset from MiniQMT yet")
            need = buy_freeze(self._fees, order.stock_code, order.freeze_price, order.quantity)
            available = asset.cash - held.cash()
            if need > available:
                raise InsufficientFunds(
                    f"可用资金不足：需要 {need}，可用 {available} / insufficient funds: need "
                    f"{need} (incl. estimated fees), available {available}",
                    required=str(need), available=str(available),
                )  # fmt: skip
            return Reservation(Side.BUY, order.stock_code, need, 0)
        pos = self._qmt.positions.get(order.stock_code)
        sellable = (pos.can_use_volume if pos else 0) - held.shares(order.stock_code)
        if order.quantity > sellable:
            today = (pos.volume - pos.can_use_volume - pos.frozen_volume) if pos else 0
            raise InsufficientPosition(
                f"可卖数量不足：可卖 {max(sellable, 0)} 股（当日买入 T+1 才可卖）/ insufficient "
                f"sellable position: {max(sellable, 0)} sellable (shares bought today sell "
                "tomorrow, T+1)",
                sellable=max(sellable, 0), bought_today=max(today, 0),
            )  # fmt: skip
        if reason := rules.check_quantity(
            order.stock_code, "sell", order.quantity, sellable,
            market=order.order_type is OrderType.MARKET,
        ):  # fmt: skip
            raise InvalidQuantity(reason)
        return Reservation(Side.SELL, order.stock_code, Decimal(0), order.quantity)

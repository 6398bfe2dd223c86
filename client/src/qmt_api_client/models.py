"""Typed answers of the server, named as in its OpenAPI document (a test checks each field).

Unknown fields are kept (`extra="allow"`), so a newer server never breaks an older client.
Money and prices are Decimal, never float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class Fill(_Model):
    trade_id: str
    price: Decimal
    quantity: int
    amount: Decimal
    commission: Decimal
    traded_at: datetime


class Order(_Model):
    order_id: int
    client_order_id: str
    broker_order_id: int | None = None
    stock_code: str
    stock_name: str
    side: Literal["buy", "sell"]
    order_type: Literal["limit", "market"]
    price: Decimal | None = None
    quantity: int
    filled_quantity: int
    avg_fill_price: Decimal | None = None
    status: str
    status_msg: str
    broker_status: int | None = None
    strategy_name: str
    remark: str
    created_at: datetime
    updated_at: datetime
    fills: list[Fill] = Field(default_factory=list)
    # POST /trading/order only:
    success: bool | None = None
    message: str | None = None

    @property
    def is_final(self) -> bool:
        return self.status in ("filled", "cancelled", "partially_cancelled", "rejected")


class OrderPage(_Model):
    items: list[Order]
    next_cursor: str | None = None


class Trade(_Model):
    trade_id: str
    order_id: int | None = None
    broker_order_id: int | None = None
    stock_code: str
    side: Literal["buy", "sell"]
    price: Decimal
    quantity: int
    amount: Decimal
    commission: Decimal
    traded_at: datetime


class TradePage(_Model):
    items: list[Trade]
    next_cursor: str | None = None


class Position(_Model):
    stock_code: str
    stock_name: str
    volume: int
    can_use_volume: int
    frozen_volume: int
    avg_price: Decimal
    last_price: Decimal
    market_value: Decimal
    profit_loss: Decimal


class Account(_Model):
    account_id: str
    available_cash: Decimal
    frozen_cash: Decimal
    market_value: Decimal
    total_value: Decimal
    positions_count: int
    total_profit_loss: Decimal


class Status(_Model):
    mode: str
    connected: bool
    trading_enabled: bool
    account_id: str
    account_type: str
    session: str
    server_time: datetime
    # Whether `session` follows the exchange's clock (the simulator may run around the clock).
    sessions_enforced: bool = True
    sessions_note: str = ""
    # Set when today lies beyond the trading calendar's data (weekdays are then assumed open).
    calendar_note: str = ""


class Quote(_Model):
    stock_code: str
    stock_name: str
    last_price: Decimal
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    pre_close: Decimal
    limit_up: Decimal | None = None
    limit_down: Decimal | None = None
    bid: list[tuple[Decimal, int]]
    ask: list[tuple[Decimal, int]]
    volume: int
    amount: Decimal
    time: datetime


class Me(_Model):
    username: str
    role: str


class CancelResult(_Model):
    """One order of `cancel_all()`: `ok` with the order now `pending_cancel`, or why not."""

    order_id: int
    ok: bool
    order: Order | None = None
    code: str | None = None
    detail: str | None = None


class CloseResult(_Model):
    """One position of `close_position()` / `close_all()`: the sell order placed, or why not."""

    stock_code: str
    ok: bool
    order: Order | None = None
    code: str | None = None
    detail: str | None = None


class Event(_Model):
    """One event of the log: `seq` only grows; `type` is order, trade, position, asset or
    connection; `data` is the same object the REST endpoint of that kind answers."""

    seq: int
    type: str
    data: dict[str, Any]
    created_at: datetime | None = None


class EventPage(_Model):
    items: list[Event]
    next_since: int

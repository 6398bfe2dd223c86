"""API schemas of the account: positions, account info, trading status."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel

from backend.app.domain.enums import MarketSession


class PositionRead(BaseModel):
    stock_code: str
    stock_name: str
    volume: int
    can_use_volume: int
    frozen_volume: int
    avg_price: Decimal
    last_price: Decimal
    market_value: Decimal
    profit_loss: Decimal


class PositionPage(BaseModel):
    items: list[PositionRead]


class AccountInfo(BaseModel):
    account_id: str
    available_cash: Decimal
    frozen_cash: Decimal
    market_value: Decimal
    total_value: Decimal
    positions_count: int
    total_profit_loss: Decimal


class TradingStatus(BaseModel):
    mode: str
    connected: bool
    trading_enabled: bool
    account_id: str
    account_type: str
    session: MarketSession
    server_time: datetime
    detail: str = ""
    # False in the simulator with SIM_ENFORCE_TRADING_HOURS=false: `session` is then always
    # "continuous" whatever the clock says (no auctions, lunch break or holidays).
    sessions_enforced: bool = True
    sessions_note: str = ""
    # Set when today lies beyond the trading calendar's data (weekdays are assumed open).
    calendar_note: str = ""


class ExternalOrder(BaseModel):
    """An order of the account placed elsewhere (manual, another script); read-only."""

    source: Literal["external"] = "external"
    order_id: None = None
    broker_order_id: int
    stock_code: str
    side: str | None
    price: Decimal
    quantity: int
    filled_quantity: int
    avg_fill_price: Decimal | None
    status: str | None
    broker_status: int
    status_msg: str
    strategy_name: str
    order_sysid: str
    created_at: datetime


class ExternalOrderPage(BaseModel):
    items: list[ExternalOrder]

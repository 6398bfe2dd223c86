"""API schemas of market data: quotes, instruments, bars."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, WithJsonSchema

# One book level, [price, volume]. Described without `prefixItems`, which some OpenAPI
# tools (schemathesis among them) mis-read.
Level = Annotated[
    tuple[Decimal, int],
    WithJsonSchema(
        {
            "type": "array",
            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "minItems": 2,
            "maxItems": 2,
            "description": "[price, volume]",
        }
    ),
]


class Quote(BaseModel):
    stock_code: str
    stock_name: str
    last_price: Decimal
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    pre_close: Decimal
    limit_up: Decimal | None
    limit_down: Decimal | None
    bid: list[Level]
    ask: list[Level]
    volume: int
    amount: Decimal
    time: datetime


class Instrument(BaseModel):
    stock_code: str
    stock_name: str
    exchange: str
    board: str
    lot_size: int
    price_tick: Decimal
    pre_close: Decimal
    limit_up: Decimal | None  # null on days without a price limit (a new listing's first days)
    limit_down: Decimal | None
    product: str = "stock"  # stock, etf, etf_star, etf_cross_border, etf_gold, etf_bond, ...
    list_date: date | None = None
    t0: bool = False  # units bought today may be sold today
    is_st: bool = False


class Bar(BaseModel):
    time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: int
    amount: Decimal


class Bars(BaseModel):
    stock_code: str
    period: Literal["1d", "1m"]
    items: list[Bar]


class TradingDays(BaseModel):
    """Trading days of SSE/SZSE in [start, end]."""

    start: date
    end: date
    items: list[date]
    # The first day of the range answered by the weekday assumption (no exchange data yet).
    assumed_from: date | None = None

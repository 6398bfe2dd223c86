"""API schemas of orders and trades. Money is Decimal (a JSON string); quantities are shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.app.domain.enums import OrderStatus, OrderType, Side
from backend.app.models.strict import JSON_INT, STOCK_CODE_PATTERN, STRICT, DecimalRule

# Not rounded: the tick check refuses 10.001 (INVALID_PRICE) rather than trade at 10.00.
_Price = Annotated[Decimal, DecimalRule(le=10**9, signed=True, places=None)]


class OrderCreate(BaseModel):
    """A new order. `side` may come under its legacy name `action` (`hold` is refused), which
    the schema does not list; any other unknown field is refused (the schema says so)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": "1500.00",
                 "order_type": "limit", "client_order_id": "my-order-0001"}
            ]
        },
    )  # fmt: skip

    stock_code: Annotated[str, Field(pattern=STOCK_CODE_PATTERN, examples=["600519.SH"])]
    side: Side
    quantity: Annotated[int, Field(gt=0, le=10**9, description="股数 / shares"), JSON_INT, STRICT]
    price: _Price | None = Field(default=None, description="限价；市价单为保护价 / limit price")
    order_type: OrderType = OrderType.LIMIT
    client_order_id: Annotated[
        str | None, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    ] = None
    strategy_name: Annotated[str, Field(max_length=64)] = ""
    remark: Annotated[str, Field(max_length=255)] = ""

    @model_validator(mode="before")
    @classmethod
    def _legacy_action(cls, data: Any) -> Any:
        if isinstance(data, dict) and "action" in data:
            data = dict(data)
            action = data.pop("action")
            if data.get("side") is None:
                if isinstance(action, str) and action.strip().lower() == "hold":
                    raise ValueError("action 'hold' places no order / hold 不下单")
                data["side"] = action.strip().lower() if isinstance(action, str) else action
        return data


class FillRead(BaseModel):
    trade_id: str
    price: Decimal
    quantity: int
    amount: Decimal
    commission: Decimal
    traded_at: datetime


class OrderRead(BaseModel):
    order_id: int
    client_order_id: str
    broker_order_id: int | None
    stock_code: str
    stock_name: str
    side: Side
    order_type: OrderType
    price: Decimal | None
    quantity: int
    filled_quantity: int
    avg_fill_price: Decimal | None
    status: OrderStatus
    status_msg: str
    broker_status: int | None
    strategy_name: str
    remark: str
    created_at: datetime
    updated_at: datetime


class OrderDetail(OrderRead):
    fills: list[FillRead] = Field(default_factory=list)


class OrderPlaced(OrderRead):
    success: bool = True
    message: str


class OrderPage(BaseModel):
    items: list[OrderRead]
    next_cursor: str | None = None


class TradeRead(BaseModel):
    trade_id: str
    order_id: int | None
    broker_order_id: int | None
    stock_code: str
    side: Side
    price: Decimal
    quantity: int
    amount: Decimal
    commission: Decimal
    traded_at: datetime


class TradePage(BaseModel):
    items: list[TradeRead]
    next_cursor: str | None = None


OrderStatusFilter = Literal["open"] | OrderStatus

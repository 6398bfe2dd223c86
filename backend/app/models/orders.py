"""API schemas of orders and trades. Money is Decimal (a JSON string); quantities are shares."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from backend.app.domain.enums import OrderStatus, OrderType, Side

_Price = Annotated[Decimal, Field(allow_inf_nan=False, max_digits=20, decimal_places=4)]


class OrderCreate(BaseModel):
    """A new order. `side` may come under its legacy name `action` (`hold` is refused)."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": "1500.00",
                 "order_type": "limit", "client_order_id": "my-order-0001"}
            ]
        },
    )  # fmt: skip

    stock_code: Annotated[str, Field(min_length=1, max_length=32, examples=["600519.SH"])]
    side: Side
    quantity: Annotated[int, Field(gt=0, le=10**9, description="股数 / shares")]
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
        if isinstance(data, dict) and data.get("side") is None and "action" in data:
            action = data.get("action")
            if isinstance(action, str) and action.strip().lower() == "hold":
                raise ValueError("action 'hold' places no order / hold 不下单")
            data = {**data, "side": action.strip().lower() if isinstance(action, str) else action}
        return data

    @model_validator(mode="after")
    def _price_for_limit(self) -> OrderCreate:
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("price is required for a limit order / 限价单必须填写价格")
        return self


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

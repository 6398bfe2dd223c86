"""API schemas of the bulk actions (cancel all, close positions, replace) and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from backend.app.models.orders import OrderRead, _Price


class CancelItem(BaseModel):
    """One order of `DELETE /trading/orders`: now `pending_cancel` (ok), or why not."""

    order_id: int
    ok: bool
    order: OrderRead | None = None
    code: str | None = Field(default=None, description="错误码 / the problem code when not ok")
    detail: str | None = None


class CancelAllResult(BaseModel):
    items: list[CancelItem]


class CloseItem(BaseModel):
    """One position of `DELETE /trading/positions[/{code}]`: the sell order placed, or why not."""

    stock_code: str
    ok: bool
    order: OrderRead | None = None
    code: str | None = None
    detail: str | None = None


class CloseResult(BaseModel):
    items: list[CloseItem]


CloseOrderType = Literal["limit", "market"]


class OrderReplace(BaseModel):
    """New price and/or quantity for the unfilled rest of an open order."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"price": "1455.00", "client_order_id": "my-0002"}]},
    )

    price: _Price | None = Field(default=None, description="新价格；不填沿用原价 / new price")
    quantity: Annotated[int | None, Field(gt=0, le=10**9)] = Field(
        default=None, description="新委托数量；不填为未成交部分 / default: the unfilled rest"
    )
    client_order_id: Annotated[
        str | None, Field(min_length=1, max_length=64, pattern=r"^[\x21-\x7e]+$")
    ] = None


class EventRead(BaseModel):
    seq: int
    type: Literal["order", "trade", "position", "asset", "connection"]
    data: dict[str, Any]
    created_at: datetime


class EventPage(BaseModel):
    items: list[EventRead]
    next_since: int = Field(description="下次请求的 since / pass as `since` next time")

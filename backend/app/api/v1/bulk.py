"""Bulk actions: cancel every open order, close positions, replace an order (services/orders/bulk).

Each bulk request spends one rate-limit token (cancel-all in an emergency must not be cut
short half-way); every order inside it is still audited and risk-checked one by one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from backend.app.api.deps import OrderTrader
from backend.app.domain.enums import OrderType, Side
from backend.app.models.bulk import CancelAllResult, CloseOrderType, CloseResult, OrderReplace
from backend.app.models.orders import OrderRead
from backend.app.services.orders.bulk import BulkActions

router = APIRouter(prefix="/trading", tags=["trading"])

OrderId = Annotated[int, Path(ge=1, le=2**62)]
CloseType = Annotated[
    CloseOrderType,
    Query(description="limit: 价格笼子下沿/跌停价 / at the cage edge or limit-down; market: 市价"),
]


def _bulk(request: Request) -> BulkActions:
    return BulkActions(request.app.state.trading, request.app.state.audit)


@router.delete("/orders", response_model=CancelAllResult)
async def cancel_all(
    request: Request,
    user: OrderTrader,
    stock_code: Annotated[str | None, Query(max_length=32)] = None,
    side: Side | None = None,
) -> CancelAllResult:
    """撤销全部未完成委托（可按代码、方向筛选），逐笔返回结果 / Cancel every open order."""
    items = await _bulk(request).cancel_all(actor=user, stock_code=stock_code, side=side)
    return CancelAllResult(items=items)


@router.delete("/positions/{stock_code}", response_model=CloseResult)
async def close_position(
    request: Request,
    user: OrderTrader,
    stock_code: Annotated[str, Path(max_length=32)],
    order_type: CloseType = "limit",
) -> CloseResult:
    """卖出该持仓全部可卖数量（T+1）/ Sell the sellable volume of one position."""
    items = await _bulk(request).close(
        actor=user, stock_code=stock_code, order_type=OrderType(order_type)
    )
    return CloseResult(items=items)


@router.delete("/positions", response_model=CloseResult)
async def close_all(
    request: Request, user: OrderTrader, order_type: CloseType = "limit"
) -> CloseResult:
    """卖出全部持仓的可卖数量 / Sell the sellable volume of every position."""
    items = await _bulk(request).close(
        actor=user, stock_code=None, order_type=OrderType(order_type)
    )
    return CloseResult(items=items)


@router.post(
    "/orders/{order_id}/replace", response_model=OrderRead, status_code=201,
    responses={200: {"model": OrderRead, "description": "A repeat: the replacement placed before"}},
)  # fmt: skip
async def replace_order(
    order_id: OrderId, body: OrderReplace, request: Request, response: Response, user: OrderTrader
) -> OrderRead:
    """改单：先撤单，撤单确认后按新价格/数量下未成交部分 / Cancel, then place the rest anew."""
    order, created = await _bulk(request).replace(order_id=order_id, body=body, actor=user)
    if not created:
        response.status_code = 200
    return order

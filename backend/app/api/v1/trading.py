"""Trading: status, orders, trades, positions, account. Thin: parse, call one service method."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response

from backend.app.api.deps import OrderTrader, TraderUser, TradingDep, ViewerUser
from backend.app.api.limits import rate_limit_orders
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Side
from backend.app.domain.ids import CURSOR_PATTERN, MAX_ID
from backend.app.domain.masking import mask_account, sees_account
from backend.app.models.orders import (
    OrderCreate,
    OrderDetail,
    OrderPage,
    OrderPlaced,
    OrderRead,
    OrderStatusFilter,
    TradePage,
)
from backend.app.models.strict import STOCK_CODE_PATTERN, IsoDateTime
from backend.app.models.trading import (
    AccountInfo,
    ExternalOrderPage,
    PositionPage,
    TradingStatus,
)
from backend.app.services.orders.rows import dumps

if TYPE_CHECKING:
    from backend.app.services.orders.service import TradingService

router = APIRouter(prefix="/trading", tags=["trading"])


class JSONBytes(Response):
    """A JSON body serialized already (orjson): FastAPI returns it as is, no re-validation."""

    media_type = "application/json"


OrderId = Annotated[int, Path(ge=1, le=MAX_ID)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[
    str | None, Query(pattern=CURSOR_PATTERN, description="上一页的 next_cursor / next_cursor")
]
Since = Annotated[IsoDateTime | None, Query(description="ISO 8601 with offset")]


@router.get("/status", response_model=TradingStatus)
async def get_status(trading: TradingDep, user: ViewerUser) -> TradingStatus:
    """Mode, broker connection, kill switch, account (masked for viewers) and the session."""
    status = trading.get_status()
    if sees_account(user.role):
        return status
    return status.model_copy(update={"account_id": mask_account(status.account_id)})


_PLACED = {
    "repeat": "重复请求，返回已有订单 / repeat: the existing order",
    "ok": "委托已提交 / order submitted",
}


@router.post(
    "/order", response_model=OrderPlaced, status_code=201,
    responses={200: {"model": OrderPlaced, "description": "A repeat: the existing order"}},
)  # fmt: skip
async def place_order(
    body: OrderCreate,
    request: Request,
    response: Response,
    user: OrderTrader,
    idempotency_key: Annotated[str | None, Header(max_length=64)] = None,
) -> Response:
    """Place an order (201); a repeat of a client_order_id/Idempotency-Key returns it (200)."""
    return await placed_response(request, body, user, idempotency_key, response)


async def placed_response(
    request: Request, body: OrderCreate, user: Actor, idempotency_key: str | None,
    response: Response,
) -> Response:  # fmt: skip
    """Place the order and answer it (also api/hot_routes.py's fast path). `response` holds
    the headers the dependencies set (X-RateLimit-*)."""
    trading: TradingService = request.app.state.trading
    order, created = await trading.place_order_json(
        request=body, actor=user, idempotency_key=idempotency_key
    )
    # The body is OrderPlaced's JSON, built from the journal row (no model re-validation).
    ok = order["status"] != "rejected"
    if not created:
        message = _PLACED["repeat"]
    elif ok:
        message = _PLACED["ok"]
    else:
        message = order["status_msg"]
    out = JSONBytes(dumps({**order, "success": ok, "message": message}), 201 if created else 200)
    out.headers.raw.extend(response.headers.raw)  # X-RateLimit-*
    return out


router.add_api_route(
    "/place-order", place_order, methods=["POST"], response_model=OrderPlaced, status_code=201,
    responses={200: {"model": OrderPlaced, "description": "A repeat: the existing order"}},
    deprecated=True, summary="Place Order (legacy path)",
    description="The same as `POST /trading/order`.",
)  # fmt: skip


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    trading: TradingDep,
    _: ViewerUser,
    status: Annotated[OrderStatusFilter | None, Query(description="`open` 或状态名")] = None,
    stock_code: Annotated[str | None, Query(pattern=STOCK_CODE_PATTERN)] = None,
    side: Side | None = None,
    since: Since = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> Response:
    """Orders, newest first; `status=open` means not final."""
    page = await trading.list_orders_page(
        status=status, stock_code=stock_code, side=side, since=since, limit=limit, cursor=cursor
    )
    return JSONBytes(page)


@router.get("/orders/{order_id}", response_model=OrderDetail)
async def get_order(order_id: OrderId, trading: TradingDep, _: ViewerUser) -> OrderDetail:
    """One order with its fills."""
    return await trading.get_order(order_id=order_id)


@router.delete(
    "/orders/{order_id}", response_model=OrderRead, status_code=202,
    dependencies=[Depends(rate_limit_orders)],
)  # fmt: skip
async def cancel_order(order_id: OrderId, trading: TradingDep, user: TraderUser) -> OrderRead:
    """Cancel: 202 with status `pending_cancel`; 409 when the order is already final."""
    return await trading.cancel_order(order_id=order_id, actor=user)


@router.get("/external-orders", response_model=ExternalOrderPage)
async def list_external_orders(trading: TradingDep, _: ViewerUser) -> ExternalOrderPage:
    """账户里非本网关的委托（手工、其他脚本），只读 / Today's foreign orders, read-only."""
    return ExternalOrderPage.model_validate({"items": trading.external.items()})


@router.get("/trades", response_model=TradePage)
async def list_trades(
    trading: TradingDep,
    _: ViewerUser,
    order_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    stock_code: Annotated[str | None, Query(pattern=STOCK_CODE_PATTERN)] = None,
    since: Since = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> TradePage:
    """Fills, newest first."""
    return await trading.list_trades(
        order_id=order_id, stock_code=stock_code, since=since, limit=limit, cursor=cursor
    )


@router.get("/positions", response_model=PositionPage)
async def get_positions(trading: TradingDep, _: ViewerUser) -> PositionPage:
    """Holdings with sellable (T+1) and frozen volume and profit/loss."""
    return await trading.get_positions()


@router.get("/account-info", response_model=AccountInfo)
async def get_account_info(trading: TradingDep, user: ViewerUser) -> AccountInfo:
    """Cash, frozen cash, market value, total value and profit/loss; the account id is
    masked for viewers."""
    info = await trading.get_account_info()
    if sees_account(user.role):
        return info
    return info.model_copy(update={"account_id": mask_account(info.account_id)})

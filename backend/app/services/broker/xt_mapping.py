"""The one place xtquant ints and records become domain values (STYLE §3.5, §3.6).

Pure and total: every xtconstant order status maps (255 keeps the current status), and every
record the trader pushes is copied into a frozen dataclass before it leaves the trader's
thread, so nothing downstream ever holds a native object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from backend.app.domain.enums import OrderStatus, OrderType, Side
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.codes import exchange_of

S = OrderStatus

XT_STATUS: Final[Mapping[int, OrderStatus]] = {
    xc.ORDER_UNREPORTED: S.PENDING,  # 48 未报: held by the counter (pre-open, lunch)
    xc.ORDER_WAIT_REPORTING: S.PENDING,  # 49 待报
    xc.ORDER_REPORTED: S.REPORTED,  # 50 已报
    xc.ORDER_REPORTED_CANCEL: S.PENDING_CANCEL,  # 51 已报待撤
    xc.ORDER_PARTSUCC_CANCEL: S.PENDING_CANCEL,  # 52 部成待撤
    xc.ORDER_PART_CANCEL: S.PARTIALLY_CANCELLED,  # 53 部撤
    xc.ORDER_CANCELED: S.CANCELLED,  # 54 已撤
    xc.ORDER_PART_SUCC: S.PARTIALLY_FILLED,  # 55 部成
    xc.ORDER_SUCCEEDED: S.FILLED,  # 56 已成
    xc.ORDER_JUNK: S.REJECTED,  # 57 废单, reason in status_msg
}
# 255 (ORDER_UNKNOWN) and any code a future SDK adds: keep the current status and log it.
UNKNOWN_STATUS: Final = xc.ORDER_UNKNOWN

SIDE_TO_XT: Final[Mapping[Side, int]] = {Side.BUY: xc.STOCK_BUY, Side.SELL: xc.STOCK_SELL}
XT_TO_SIDE: Final[Mapping[int, Side]] = {v: k for k, v in SIDE_TO_XT.items()}

# Market orders per venue (ASHARE_RULES §7): SH/BJ best-5-then-cancel; SZ immediate-or-cancel.
MARKET_PRICE_TYPE: Final[Mapping[str, int]] = {
    "SH": xc.MARKET_SH_CONVERT_5_CANCEL,
    "BJ": xc.MARKET_SH_CONVERT_5_CANCEL,
    "SZ": xc.MARKET_SZ_INSTBUSI_RESTCANCEL,
}


def status_from_xt(code: int) -> OrderStatus | None:
    """Domain status of an xt order status, or None for 255/unknown (keep the current one)."""
    return XT_STATUS.get(code)


def price_type_for(stock_code: str, order_type: OrderType) -> int:
    """xtconstant price type: FIX_PRICE for limit orders, the venue's market type otherwise."""
    if order_type is OrderType.LIMIT:
        return xc.FIX_PRICE
    return MARKET_PRICE_TYPE[exchange_of(stock_code)]


def needs_protective_price(stock_code: str) -> bool:
    """STAR and BSE market orders must carry a protective limit price."""
    return rules.needs_protective_price(stock_code)


def side_from_xt(order_type: int) -> Side | None:
    return XT_TO_SIDE.get(order_type)


def dec(value: float | int | None, places: str = "0.0001") -> Decimal:
    """An SDK float as an exact Decimal (shortest repr, then quantized)."""
    if value is None:
        return Decimal(0)
    return Decimal(repr(float(value))).quantize(Decimal(places))


def xt_time(value: int | float | None) -> datetime:
    """xt order/trade times: epoch seconds (or ms when large); 0/None -> now."""
    if not value:
        return datetime.now(UTC)
    v = float(value)
    if v > 1e11:
        v /= 1000.0
    return datetime.fromtimestamp(v, UTC)


def remark_order_id(remark: str | None) -> int | None:
    """Our order id carried in `order_remark`; None for orders placed elsewhere."""
    if remark and remark.isdigit():
        return int(remark)
    return None


# --- frozen domain copies of the trader's pushes ------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderUpdate:
    broker_order_id: int
    order_id: int | None
    stock_code: str
    side: Side | None
    broker_status: int
    status: OrderStatus | None
    status_msg: str
    order_volume: int
    price: Decimal
    traded_volume: int
    traded_price: Decimal
    order_sysid: str
    strategy_name: str
    order_time: datetime


@dataclass(frozen=True, slots=True)
class TradeUpdate:
    trade_id: str
    broker_order_id: int
    order_id: int | None
    stock_code: str
    side: Side | None
    price: Decimal
    quantity: int
    amount: Decimal
    commission: Decimal
    traded_at: datetime


@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    stock_code: str
    stock_name: str
    volume: int
    can_use_volume: int
    frozen_volume: int
    yesterday_volume: int
    avg_price: Decimal
    last_price: Decimal
    market_value: Decimal


@dataclass(frozen=True, slots=True)
class AssetSnapshot:
    account_id: str
    cash: Decimal
    frozen_cash: Decimal
    market_value: Decimal
    total_asset: Decimal


@dataclass(frozen=True, slots=True)
class OrderResponse:
    """Answer to `order_stock_async`: the broker's order id for our seq (0/-1 = refused)."""

    seq: int
    broker_order_id: int
    order_id: int | None
    error_msg: str


@dataclass(frozen=True, slots=True)
class OrderError:
    seq: int
    broker_order_id: int
    order_id: int | None
    error_id: int
    error_msg: str


@dataclass(frozen=True, slots=True)
class CancelResult:
    """A refused cancel (on_cancel_error, or a cancel response with cancel_result != 0)."""

    broker_order_id: int
    ok: bool
    error_msg: str


@dataclass(frozen=True, slots=True)
class ConnectionChange:
    connected: bool
    detail: str


BrokerUpdate = (
    OrderUpdate
    | TradeUpdate
    | PositionSnapshot
    | AssetSnapshot
    | OrderResponse
    | OrderError
    | CancelResult
    | ConnectionChange
)


def order_update_from_xt(o: Any) -> OrderUpdate:
    return OrderUpdate(
        broker_order_id=int(o.order_id),
        order_id=remark_order_id(o.order_remark),
        stock_code=str(o.stock_code),
        side=side_from_xt(int(o.order_type)),
        broker_status=int(o.order_status),
        status=status_from_xt(int(o.order_status)),
        status_msg=str(o.status_msg or ""),
        order_volume=int(o.order_volume),
        price=dec(o.price),
        traded_volume=int(o.traded_volume),
        traded_price=dec(o.traded_price),
        order_sysid=str(getattr(o, "order_sysid", "") or ""),
        strategy_name=str(o.strategy_name or ""),
        order_time=xt_time(getattr(o, "order_time", 0)),
    )


def trade_update_from_xt(t: Any) -> TradeUpdate:
    return TradeUpdate(
        trade_id=str(t.traded_id),
        broker_order_id=int(t.order_id),
        order_id=remark_order_id(t.order_remark),
        stock_code=str(t.stock_code),
        side=side_from_xt(int(t.order_type)),
        price=dec(t.traded_price),
        quantity=int(t.traded_volume),
        amount=dec(t.traded_amount, "0.01"),
        commission=dec(t.commission, "0.01"),
        traded_at=xt_time(t.traded_time),
    )


def position_from_xt(p: Any) -> PositionSnapshot:
    return PositionSnapshot(
        stock_code=str(p.stock_code),
        stock_name=str(getattr(p, "instrument_name", "") or ""),
        volume=int(p.volume),
        can_use_volume=int(p.can_use_volume),
        frozen_volume=int(p.frozen_volume),
        yesterday_volume=int(getattr(p, "yesterday_volume", 0) or 0),
        avg_price=dec(p.avg_price),
        last_price=dec(p.last_price),
        market_value=dec(p.market_value, "0.01"),
    )


def asset_from_xt(a: Any) -> AssetSnapshot:
    return AssetSnapshot(
        account_id=str(a.account_id),
        cash=dec(a.cash, "0.01"),
        frozen_cash=dec(a.frozen_cash, "0.01"),
        market_value=dec(a.market_value, "0.01"),
        total_asset=dec(a.total_asset, "0.01"),
    )


def order_response_from_xt(r: Any) -> OrderResponse:
    return OrderResponse(
        seq=int(r.seq),
        broker_order_id=int(r.order_id),
        order_id=remark_order_id(getattr(r, "order_remark", "")),
        error_msg=str(getattr(r, "error_msg", "") or ""),
    )


def order_error_from_xt(e: Any) -> OrderError:
    return OrderError(
        seq=int(getattr(e, "seq", 0) or 0),
        broker_order_id=int(e.order_id),
        order_id=remark_order_id(getattr(e, "order_remark", "")),
        error_id=int(e.error_id),
        error_msg=str(e.error_msg or ""),
    )


def cancel_error_from_xt(e: Any) -> CancelResult:
    return CancelResult(broker_order_id=int(e.order_id), ok=False, error_msg=str(e.error_msg or ""))


def cancel_response_from_xt(r: Any) -> CancelResult:
    return CancelResult(
        broker_order_id=int(r.order_id),
        ok=int(r.cancel_result) == 0,
        error_msg=str(getattr(r, "error_msg", "") or ""),
    )

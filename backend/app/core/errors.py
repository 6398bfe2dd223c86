"""The one error tree a client may see. No FastAPI here: `api/problems.py` translates it.

Sorted by what the caller should do (docs/errors.md is generated from this module)::

    DomainError
    ├── fix the request ........................................... 4xx
    │   ├── ValidationFailed            422 VALIDATION_ERROR
    │   ├── InvalidStockCode            422 INVALID_STOCK_CODE
    │   ├── UnknownInstrument           422 UNKNOWN_INSTRUMENT
    │   ├── InvalidQuantity             422 INVALID_QUANTITY
    │   ├── InvalidPrice                422 INVALID_PRICE
    │   ├── PriceOutOfLimit             422 PRICE_OUT_OF_LIMIT
    │   ├── Unauthorized                401 UNAUTHORIZED
    │   ├── Forbidden                   403 FORBIDDEN
    │   ├── NotFound                    404 NOT_FOUND
    │   │   └── OrderNotFound           404 ORDER_NOT_FOUND
    │   ├── Conflict                    409 CONFLICT
    │   │   ├── DuplicateClientOrderId  409 DUPLICATE_CLIENT_ORDER_ID
    │   │   ├── OrderNotCancellable     409 ORDER_NOT_CANCELLABLE
    │   │   └── OrderFilled             409 ORDER_FILLED (replace: it filled first)
    │   ├── EventsExpired               410 EVENTS_EXPIRED (`since` older than retained)
    │   └── RateLimited                 429 RATE_LIMITED (retry after `retry_after` s)
    ├── accept the rejection ...................................... 422
    │   ├── InsufficientFunds           422 INSUFFICIENT_FUNDS
    │   ├── InsufficientPosition        422 INSUFFICIENT_POSITION (T+1 included)
    │   ├── MarketClosed                422 MARKET_CLOSED
    │   ├── RiskRejected                422 RISK_REJECTED (with `rule`)
    │   └── TradingDisabled             422 TRADING_DISABLED (kill switch)
    └── retry later ............................................... 503
        └── BrokerUnavailable           503 BROKER_UNAVAILABLE
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every error a client may see; each subclass owns its status, code and title."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"
    title: ClassVar[str] = "Bad request"
    # One line for docs/errors.md: what the caller should do about it.
    hint: ClassVar[str] = ""

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra  # becomes extra problem members, e.g. rule=


# --- fix the request -------------------------------------------------------------------


class ValidationFailed(DomainError):
    status, code, title = 422, "VALIDATION_ERROR", "Request validation failed"
    hint = "请求字段不合法，见 errors 列表 / A field is malformed; see the errors list."


class InvalidStockCode(DomainError):
    status, code, title = 422, "INVALID_STOCK_CODE", "Invalid stock code"
    hint = "用 600519.SH / 600519 / SH600519 形式 / Use a 6-digit code with an optional exchange."


class UnknownInstrument(DomainError):
    status, code, title = 422, "UNKNOWN_INSTRUMENT", "Unknown instrument"
    hint = "代码格式正确但证券不存在 / Well-formed code that no instrument has."


class InvalidQuantity(DomainError):
    status, code, title = 422, "INVALID_QUANTITY", "Invalid quantity"
    hint = "数量须符合整手规则（主板100股、科创板≥200股）/ Respect the board's lot rules."


class InvalidPrice(DomainError):
    status, code, title = 422, "INVALID_PRICE", "Invalid price"
    hint = "价格须为正且为最小变动价位的整数倍 / Positive and a multiple of the tick."


class PriceOutOfLimit(DomainError):
    status, code, title = 422, "PRICE_OUT_OF_LIMIT", "Price outside the daily limit band"
    hint = "价格须在当日涨跌停价之间 / Between today's limit-down and limit-up."


class Unauthorized(DomainError):
    status, code, title = 401, "UNAUTHORIZED", "Not authenticated"
    hint = "缺少、错误或过期的令牌，重新登录 / Log in again and send a Bearer token."


class Forbidden(DomainError):
    status, code, title = 403, "FORBIDDEN", "Role too low"
    hint = "当前角色无权执行此操作 / Ask an admin for a higher role."


class NotFound(DomainError):
    status, code, title = 404, "NOT_FOUND", "Not found"
    hint = "资源不存在 / No such resource."


class OrderNotFound(NotFound):
    code, title = "ORDER_NOT_FOUND", "Order not found"
    hint = "订单号不存在 / No order with that id for this account."


class Conflict(DomainError):
    status, code, title = 409, "CONFLICT", "Conflict"
    hint = "与现有数据冲突 / Conflicts with existing state."


class DuplicateClientOrderId(Conflict):
    code, title = "DUPLICATE_CLIENT_ORDER_ID", "client_order_id already used for another order"
    hint = "同一 client_order_id 只能对应同一内容的订单 / Use a new key for a new order."


class OrderNotCancellable(Conflict):
    code, title = "ORDER_NOT_CANCELLABLE", "Order cannot be cancelled"
    hint = "订单已是终态或正在撤单 / The order is final or already being cancelled."


class OrderFilled(Conflict):
    code, title = "ORDER_FILLED", "Order filled before it could be replaced"
    hint = "改单前订单已全部成交，未下新单 / It filled before the cancel took; nothing placed."


class EventsExpired(DomainError):
    status, code, title = 410, "EVENTS_EXPIRED", "Events no longer retained"
    hint = (
        "since 早于保留期，请先重新读取状态再不带 since 订阅 / Re-read state (orders, "
        "positions), then stream without `since`."
    )


class RateLimited(DomainError):
    status, code, title = 429, "RATE_LIMITED", "Too many requests"
    hint = "请在 Retry-After 秒后重试 / Wait Retry-After seconds."

    def __init__(
        self,
        detail: str,
        *,
        retry_after: float,
        headers: dict[str, str] | None = None,
        **extra: object,
    ) -> None:
        super().__init__(detail, **extra)
        self.retry_after = retry_after
        # X-RateLimit-Limit/Remaining/Reset, added to the 429 next to Retry-After.
        self.headers = dict(headers or {})


# --- accept the rejection ----------------------------------------------------------------


class Rejected(DomainError):
    """Well-formed, but the account or the market says no."""

    status, code, title = 422, "REJECTED", "Order rejected"


class InsufficientFunds(Rejected):
    code, title = "INSUFFICIENT_FUNDS", "Insufficient funds"
    hint = "可用资金不足（含挂单冻结与预估费用）/ Cash incl. open orders and fees is short."


class InsufficientPosition(Rejected):
    code, title = "INSUFFICIENT_POSITION", "Insufficient sellable position"
    hint = "可卖数量不足，当日买入需 T+1 才能卖出 / Shares bought today sell tomorrow (T+1)."


class MarketClosed(Rejected):
    code, title = "MARKET_CLOSED", "Market closed"
    hint = "非交易时间或该时段不接受此类委托 / Outside the session that accepts this order."


class RiskRejected(Rejected):
    code, title = "RISK_REJECTED", "Rejected by a risk rule"
    hint = "触发风控规则，见 rule 字段 / A pre-trade rule fired; see `rule`."

    def __init__(self, detail: str, *, rule: str, **extra: object) -> None:
        super().__init__(detail, rule=rule, **extra)
        self.rule = rule


class TradingDisabled(Rejected):
    code, title = "TRADING_DISABLED", "Trading disabled (kill switch)"
    hint = "管理员已关闭交易开关；撤单仍可用 / The kill switch is off; cancels still work."


# --- retry later -------------------------------------------------------------------------


class BrokerUnavailable(DomainError):
    status, code, title = 503, "BROKER_UNAVAILABLE", "Broker unavailable"
    hint = "MiniQMT 未连接，稍后重试 / MiniQMT is not connected; retry later."


def all_errors() -> list[type[DomainError]]:
    """Every concrete error class, in tree order (for docs and the problem tests)."""
    out: list[type[DomainError]] = []

    def walk(cls: type[DomainError]) -> None:
        for sub in cls.__subclasses__():
            out.append(sub)
            walk(sub)

    walk(DomainError)
    return out

"""What each API method sends and how its answer is read: shared by the sync and async clients,
so the two differ only in how they wait.

Retry policy (`decide`): a 429 waits `Retry-After` and retries any request (the server did
nothing); a 503 or a dropped connection retries with backoff only where a repeat cannot do
anything twice: reads, and order placement (its `client_order_id` is fixed before the first
attempt, so the server answers a repeat with the order it already has).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote as _q

import httpx
from pydantic import TypeAdapter

from qmt_api_client import models as m

T = TypeVar("T")
Retry = Literal["safe", "connect"]  # safe: repeat freely; connect: only if never sent

MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Call(Generic[T]):
    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Any = None
    retry: Retry = "safe"


def _adapter(tp: Any) -> Callable[[Any], Any]:
    return TypeAdapter(tp).validate_python


def _params(**kw: Any) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in kw.items() if v is not None}


def _items(model: type[T]) -> Callable[[Any], list[T]]:
    read = TypeAdapter(list[model]).validate_python  # type: ignore[valid-type]
    return lambda body: read(body["items"])


def new_client_order_id() -> str:
    """A fresh idempotency key: a retry of one call reuses it, a new call never does."""
    return "py-" + uuid.uuid4().hex[:28]


def place_order(
    *, stock_code: str, side: str, quantity: int, price: Decimal | str | float | None,
    order_type: str, client_order_id: str | None, strategy_name: str, remark: str,
) -> Call[m.Order]:  # fmt: skip
    body: dict[str, Any] = {
        "stock_code": stock_code, "side": side, "quantity": quantity, "order_type": order_type,
        "client_order_id": client_order_id or new_client_order_id(),
        "strategy_name": strategy_name, "remark": remark,
    }  # fmt: skip
    if price is not None:
        body["price"] = str(price)
    return Call("POST", "/api/v1/trading/order", m.Order.model_validate, json=body)


def get_order(order_id: int) -> Call[m.Order]:
    return Call("GET", f"/api/v1/trading/orders/{int(order_id)}", m.Order.model_validate)


def list_orders(**filters: Any) -> Call[m.OrderPage]:
    return Call("GET", "/api/v1/trading/orders", m.OrderPage.model_validate,
                params=_params(**filters))  # fmt: skip


def cancel_order(order_id: int) -> Call[m.Order]:
    return Call("DELETE", f"/api/v1/trading/orders/{int(order_id)}", m.Order.model_validate,
                retry="connect")  # fmt: skip


def cancel_all(stock_code: str | None, side: str | None) -> Call[list[m.CancelResult]]:
    return Call("DELETE", "/api/v1/trading/orders", _items(m.CancelResult),
                params=_params(stock_code=stock_code, side=side), retry="connect")  # fmt: skip


def replace_order(
    order_id: int, *, price: Decimal | str | float | None, quantity: int | None,
    client_order_id: str | None,
) -> Call[m.Order]:  # fmt: skip
    body: dict[str, Any] = {"client_order_id": client_order_id or new_client_order_id()}
    if price is not None:
        body["price"] = str(price)
    if quantity is not None:
        body["quantity"] = quantity
    # A repeat with the same client_order_id answers the replacement already placed.
    return Call("POST", f"/api/v1/trading/orders/{int(order_id)}/replace",
                m.Order.model_validate, json=body)  # fmt: skip


def close_position(stock_code: str, order_type: str) -> Call[list[m.CloseResult]]:
    return Call("DELETE", f"/api/v1/trading/positions/{_q(stock_code, safe='')}",
                _items(m.CloseResult), params={"order_type": order_type},
                retry="connect")  # fmt: skip


def close_all(order_type: str) -> Call[list[m.CloseResult]]:
    return Call("DELETE", "/api/v1/trading/positions", _items(m.CloseResult),
                params={"order_type": order_type}, retry="connect")  # fmt: skip


def trades(**filters: Any) -> Call[m.TradePage]:
    return Call("GET", "/api/v1/trading/trades", m.TradePage.model_validate,
                params=_params(**filters))  # fmt: skip


def positions() -> Call[list[m.Position]]:
    return Call("GET", "/api/v1/trading/positions", _items(m.Position))


def account() -> Call[m.Account]:
    return Call("GET", "/api/v1/trading/account-info", m.Account.model_validate)


def status() -> Call[m.Status]:
    return Call("GET", "/api/v1/trading/status", m.Status.model_validate)


def quote(stock_code: str) -> Call[m.Quote]:
    return Call("GET", f"/api/v1/market/quote/{_q(stock_code, safe='')}", m.Quote.model_validate)


def me() -> Call[m.Me]:
    return Call("GET", "/api/v1/auth/me", m.Me.model_validate)


def events(since: int | None, limit: int) -> Call[m.EventPage]:
    return Call("GET", "/api/v1/trading/events", m.EventPage.model_validate,
                params=_params(since=since, limit=limit))  # fmt: skip


# --- the retry decision ------------------------------------------------------------------


def retry_after(r: httpx.Response) -> float:
    try:
        return min(max(float(r.headers.get("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def backoff(attempt: int) -> float:
    return float(min(0.25 * 2**attempt, 5.0))


def delay_after_response(call: Call[Any], r: httpx.Response, attempt: int) -> float | None:
    """Seconds to wait before another attempt, or None to answer with this response."""
    if r.status_code == 429:
        return retry_after(r)
    if r.status_code == 503 and call.retry == "safe":
        return backoff(attempt)
    return None


def delay_after_error(call: Call[Any], exc: httpx.TransportError, attempt: int) -> float | None:
    never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if call.retry == "safe" or never_sent:
        return backoff(attempt)
    return None


def ws_url(base_url: str, token: str, since: int | None) -> str:
    base = base_url.rstrip("/")
    scheme = "wss" if base.startswith("https") else "ws"
    url = f"{scheme}{base[base.index(':') :]}/api/v1/trading/stream?token={_q(token, safe='')}"
    return url if since is None else f"{url}&since={int(since)}"

"""Journal rows as API JSON, without a pydantic model per row.

`order_json` / `trade_json` read attributes, so they take an ORM object or a Core `Row`
alike, and return exactly what `OrderRead(...).model_dump(mode="json")` would: prices as
strings with at least fen (10.5000 -> "10.50"), datetimes as ISO 8601 UTC with `Z`, enums
as their values. `dumps` turns such dicts into response bytes (orjson). The hot routes
return those bytes; the pydantic models stay the documented schema (response_model=).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson

_FEN = Decimal("0.01")


def px(d: Decimal | None) -> Decimal | None:
    """Drop the journal's trailing zeros but keep at least fen: 10.5000 -> 10.50."""
    if d is None:
        return None
    n = d.normalize()
    return n.quantize(_FEN) if int(n.as_tuple().exponent) > -2 else n


@functools.lru_cache(maxsize=8192)
def _px_text(d: Decimal) -> str:
    return str(px(d))


def _px_str(d: Decimal | None) -> str | None:
    return None if d is None else _px_text(d)


def iso(dt: datetime) -> str:
    """pydantic's JSON form of an aware datetime: `...Z` for UTC."""
    text = dt.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def order_json(o: Any) -> dict[str, Any]:
    """An order row (ORM or Core) as the JSON of OrderRead."""
    return {
        "order_id": o.id, "client_order_id": o.client_order_id,
        "broker_order_id": o.broker_order_id, "stock_code": o.stock_code,
        "stock_name": o.stock_name, "side": o.side, "order_type": o.order_type,
        "price": _px_str(o.price), "quantity": o.quantity, "filled_quantity": o.filled_quantity,
        "avg_fill_price": _px_str(o.avg_fill_price), "status": o.status,
        "status_msg": o.status_msg, "broker_status": o.broker_status,
        "strategy_name": o.strategy_name, "remark": o.remark,
        "created_at": iso(o.created_at), "updated_at": iso(o.updated_at),
    }  # fmt: skip


def order_row_json(row: Sequence[Any]) -> dict[str, Any]:
    """A Core row of `select_orders()` (by position: faster than by name) as OrderRead's
    JSON, datetimes left for `page_json` (orjson writes them as pydantic does)."""
    (oid, coid, bid, code, name, side, otype, price, qty, filled, avg, status, msg, bstatus,
     strategy, remark, created, updated) = row  # fmt: skip
    return {
        "order_id": oid, "client_order_id": coid, "broker_order_id": bid, "stock_code": code,
        "stock_name": name, "side": side, "order_type": otype,
        "price": None if price is None else _px_text(price), "quantity": qty,
        "filled_quantity": filled, "avg_fill_price": None if avg is None else _px_text(avg),
        "status": status, "status_msg": msg, "broker_status": bstatus,
        "strategy_name": strategy, "remark": remark, "created_at": created, "updated_at": updated,
    }  # fmt: skip


def trade_json(t: Any) -> dict[str, Any]:
    """A fill row as the JSON of TradeRead."""
    return {
        "trade_id": t.broker_trade_id, "order_id": t.order_id,
        "broker_order_id": t.broker_order_id, "stock_code": t.stock_code, "side": t.side,
        "price": _px_str(t.price), "quantity": t.quantity, "amount": _px_str(t.amount),
        "commission": _px_str(t.commission), "traded_at": iso(t.traded_at),
    }  # fmt: skip


class FieldsRow:
    """Fields about to be (or just) inserted, read as attributes the way `order_json` and
    `trade_json` read a row — so a new row's JSON comes from the one definition too."""

    __slots__ = ("_f", "id")

    def __init__(self, fields: dict[str, Any], row_id: int | None = None) -> None:
        self.id, self._f = row_id, fields

    def __getattr__(self, name: str) -> Any:
        return self._f[name]


def dumps(data: Any) -> bytes:
    return orjson.dumps(data)


def page_json(items: Sequence[dict[str, Any]], next_cursor: str | None) -> bytes:
    # OPT_UTC_Z: an aware UTC datetime as `...Z`, exactly pydantic's JSON form.
    return orjson.dumps({"items": items, "next_cursor": next_cursor}, option=orjson.OPT_UTC_Z)

"""The order and trade JSON has one definition (services/orders/rows.py) and it is the
documented schema: every field of OrderRead/TradeRead, nothing else, in the form pydantic
itself writes — whether the row is an ORM object, a Core row read by position, or the
fields of a row just inserted."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from backend.app.db.repositories.orders import ORDER_COLUMNS
from backend.app.domain.enums import OrderStatus, OrderType, Side
from backend.app.models.orders import OrderRead, TradeRead
from backend.app.services.orders.rows import (
    FieldsRow,
    order_json,
    order_row_json,
    page_json,
    trade_json,
)

prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999.999"), places=4)
times = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
text = st.text(max_size=12)

orders = st.fixed_dictionaries({
    "id": st.integers(1, 2**62), "client_order_id": text,
    "broker_order_id": st.none() | st.integers(1, 2**40), "stock_code": st.just("600519.SH"),
    "stock_name": text, "side": st.sampled_from([s.value for s in Side]),
    "order_type": st.sampled_from([t.value for t in OrderType]), "price": st.none() | prices,
    "quantity": st.integers(1, 10**6), "filled_quantity": st.integers(0, 10**6),
    "avg_fill_price": st.none() | prices,
    "status": st.sampled_from([s.value for s in OrderStatus]), "status_msg": text,
    "broker_status": st.none() | st.integers(48, 57), "strategy_name": text, "remark": text,
    "created_at": times, "updated_at": times,
})  # fmt: skip

trades = st.fixed_dictionaries({
    "broker_trade_id": text, "order_id": st.none() | st.integers(1, 2**40),
    "broker_order_id": st.none() | st.integers(1, 2**40), "stock_code": st.just("000001.SZ"),
    "side": st.sampled_from([s.value for s in Side]), "price": prices,
    "quantity": st.integers(1, 10**6), "amount": prices, "commission": prices,
    "traded_at": times,
})  # fmt: skip


def _as_model(model: Any, data: dict[str, Any]) -> dict[str, Any]:
    return dict(model.model_validate(data).model_dump(mode="json"))


@given(orders)
def test_order_json_is_what_OrderRead_writes(row: dict[str, Any]) -> None:
    data = order_json(FieldsRow({k: v for k, v in row.items() if k != "id"}, row["id"]))
    assert set(data) == set(OrderRead.model_fields)
    assert _as_model(OrderRead, data) == data


@given(orders)
def test_a_core_row_read_by_position_gives_the_same_json(row: dict[str, Any]) -> None:
    by_position = tuple(row[c.key] for c in ORDER_COLUMNS)
    page = orjson.loads(page_json([order_row_json(by_position)], None))
    expected = order_json(FieldsRow({k: v for k, v in row.items() if k != "id"}, row["id"]))
    assert page == {"items": [expected], "next_cursor": None}


@given(trades)
def test_trade_json_is_what_TradeRead_writes(row: dict[str, Any]) -> None:
    data = trade_json(FieldsRow(row))
    assert set(data) == set(TradeRead.model_fields)
    assert _as_model(TradeRead, data) == data

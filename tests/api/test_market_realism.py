"""Issue 15 through the API: parked SZ orders, new listings, STAR ETF limits, ST daily cap."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import ORDERS, Headers, manual_app, order_of, quote, step

from backend.app.core.config import Settings
from xtquant_adapter.ashare.rules import cage_bounds

D = Decimal


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


def _post(client: TestClient, h: Headers, **body: Any) -> Any:
    return client.post(ORDERS, json={"side": "buy", "quantity": 100} | body, headers=h)


def test_sz_out_of_cage_buy_is_reported_and_parked_not_filled(
    app: FastAPI, client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    q = quote(client, h, "000001.SZ")
    _, high = cage_bounds("000001.SZ", buy_ref=D(q["ask"][0][0]), sell_ref=D(q["bid"][0][0]))
    r = _post(client, h, stock_code="000001.SZ", price=str(high + D("0.20")))
    assert r.status_code == 201, r.text
    oid = r.json()["order_id"]
    o = eventually(lambda: (o := order_of(client, h, oid))["status"] == "reported" and o)
    for _ in range(3):
        step(app)
    o = order_of(client, h, oid)
    assert o["status"] == "reported"
    assert o["filled_quantity"] == 0
    assert "parked" in o["status_msg"]


def test_sh_out_of_cage_buy_is_rejected(
    client: TestClient, h: Headers, eventually: Callable[..., Any]
) -> None:
    q = quote(client, h, "600000.SH")
    _, high = cage_bounds("600000.SH", buy_ref=D(q["ask"][0][0]), sell_ref=D(q["bid"][0][0]))
    oid = _post(client, h, stock_code="600000.SH", price=str(high + D("0.01"))).json()["order_id"]
    o = eventually(lambda: (o := order_of(client, h, oid))["status"] == "rejected" and o)
    assert "251022" in o["status_msg"]


def test_star_etf_buy_above_ten_percent_is_accepted(client: TestClient, h: Headers) -> None:
    # prev close 1.350: 1.600 is +18.5%, inside the STAR ETF's ±20% (refused at ±10% before).
    r = _post(client, h, stock_code="588000.SH", price="1.600")
    assert r.status_code == 201, r.text


def test_new_listing_takes_limit_orders_beyond_ten_percent_but_no_market_orders(
    client: TestClient, h: Headers
) -> None:
    r = _post(client, h, stock_code="001399.SZ", price="30.00")  # +20% on day 1: no band
    assert r.status_code == 201, r.text
    m = _post(client, h, stock_code="001399.SZ", order_type="market")
    assert m.status_code == 422, m.text
    assert m.json()["code"] == "INVALID_PRICE"
    # An established stock: the same +20% is outside its band.
    r = _post(client, h, stock_code="000001.SZ", price="13.80")
    assert r.status_code == 422
    assert r.json()["code"] == "PRICE_OUT_OF_LIMIT"

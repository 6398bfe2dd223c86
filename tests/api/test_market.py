"""GET /market/quote|instruments|bars on the simulated market."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from trading_kit import Headers, manual_app

from backend.app.core.config import Settings


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return manual_app(settings)


@pytest.fixture
def h(viewer_token: str, auth: Callable[[str], Headers]) -> Headers:
    return auth(viewer_token)


def test_quote_has_a_five_level_book_in_shares(client: TestClient, h: Headers) -> None:
    q = client.get("/api/v1/market/quote/600519", headers=h).json()
    assert q["stock_code"] == "600519.SH"
    assert q["stock_name"] == "贵州茅台"
    assert len(q["bid"]) == 5
    assert len(q["ask"]) == 5
    assert all(v % 100 == 0 for _, v in q["bid"] + q["ask"])
    assert float(q["ask"][0][0]) > float(q["bid"][0][0])
    assert float(q["limit_down"]) < float(q["last_price"]) < float(q["limit_up"])


def test_instrument_of_star_board(client: TestClient, h: Headers) -> None:
    i = client.get("/api/v1/market/instruments/688981.SH", headers=h).json()
    assert (i["exchange"], i["board"], i["lot_size"], i["price_tick"]) == (
        "SH",
        "star",
        200,
        "0.01",
    )
    assert float(i["limit_up"]) == pytest.approx(float(i["pre_close"]) * 1.2, abs=0.01)


@pytest.mark.parametrize(
    ("code", "product", "t0", "listed"),
    [
        ("600519.SH", "stock", False, "2001-08-27"),
        ("510300.SH", "etf", False, "2012-05-28"),
        ("588000.SH", "etf_star", False, "2020-11-16"),
        ("510900.SH", "etf_cross_border", True, "2012-10-22"),
        ("159920.SZ", "etf_cross_border", True, "2012-10-22"),
        ("518880.SH", "etf_gold", True, "2013-07-29"),
        ("511010.SH", "etf_bond", True, "2013-03-25"),
        ("511880.SH", "etf_money", True, "2013-04-18"),
    ],
)
def test_instrument_carries_product_and_listing_date(
    client: TestClient, h: Headers, code: str, product: str, t0: bool, listed: str
) -> None:
    i = client.get(f"/api/v1/market/instruments/{code}", headers=h).json()
    assert (i["product"], i["t0"], i["list_date"]) == (product, t0, listed)
    assert i["limit_up"] is not None


def test_star_etf_limit_is_20_percent(client: TestClient, h: Headers) -> None:
    i = client.get("/api/v1/market/instruments/588000.SH", headers=h).json()
    assert (i["limit_down"], i["limit_up"]) == ("1.08", "1.62")


def test_new_listing_in_its_first_days_has_no_limits(client: TestClient, h: Headers) -> None:
    i = client.get("/api/v1/market/instruments/001399.SZ", headers=h).json()
    assert i["list_date"] == "2026-11-25"  # the books' first day
    assert (i["limit_up"], i["limit_down"]) == (None, None)
    q = client.get("/api/v1/market/quote/001399.SZ", headers=h).json()
    assert (q["limit_up"], q["limit_down"]) == (None, None)


def test_st_stock_is_marked(client: TestClient, h: Headers) -> None:
    assert client.get("/api/v1/market/instruments/600200.SH", headers=h).json()["is_st"] is True


@pytest.mark.parametrize("period", ["1d", "1m"])
def test_bars_oldest_first(client: TestClient, h: Headers, period: str) -> None:
    r = client.get(f"/api/v1/market/bars/000001.SZ?period={period}&count=5", headers=h)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert 0 < len(items) <= 5
    assert [b["time"] for b in items] == sorted(b["time"] for b in items)


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("quote/12345", 422, "INVALID_STOCK_CODE"),
        ("quote/605999.SH", 404, "NOT_FOUND"),
        ("instruments/605999.SH", 404, "NOT_FOUND"),
        ("instruments/ABCDEF", 422, "INVALID_STOCK_CODE"),
        ("bars/600519.SH?period=5m", 422, "VALIDATION_ERROR"),
        ("bars/600519.SH?count=0", 422, "VALIDATION_ERROR"),
        ("bars/605999.SH", 404, "NOT_FOUND"),
    ],
)
def test_market_errors_are_problems(
    client: TestClient, h: Headers, path: str, status: int, code: str
) -> None:
    r = client.get(f"/api/v1/market/{path}", headers=h)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code


def test_market_needs_a_token(client: TestClient) -> None:
    assert client.get("/api/v1/market/quote/600519").status_code == 401


def test_calendar_lists_trading_days_and_says_where_it_assumes(
    client: TestClient, h: dict[str, str]
) -> None:
    r = client.get("/api/v1/market/calendar?start=2026-12-30&end=2027-01-05", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["items"] == ["2026-12-30", "2026-12-31", "2027-01-04", "2027-01-05"]
    assert body["assumed_from"] == "2027-01-01"
    bad = client.get("/api/v1/market/calendar?start=2027-01-05&end=2027-01-01", headers=h)
    assert (bad.status_code, bad.json()["code"]) == (422, "VALIDATION_ERROR")

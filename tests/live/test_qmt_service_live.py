"""The QMTService/TradingService path over BOTH the simulator and the fake xtquant SDK.

`fake` runs the product in `QMT_MODE=live`: xtquant_adapter.real builds the fake
`XtQuantTrader` exactly as it would build the real one beside MiniQMT.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app
from backend.app.services.broker.reconnect import ReconnectPolicy
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.sim.clock import ManualClock

ETF, SZ_STOCK = "510300.SH", "000001.SZ"
# Tests of SDK behaviour only the fake can produce (-1, lost answers, ordering, price types).
FAKE_ONLY = pytest.mark.parametrize("settings", ["fake"], indirect=True)
FINAL = {"filled", "cancelled", "partially_cancelled", "rejected"}


def _seed_market() -> None:
    from xtquant import _fake

    for code, name, last, tick in (
        (ETF, "沪深300ETF", 4.0, 0.001),
        (SZ_STOCK, "平安银行", 10.0, 0.01),
    ):
        _fake.details[code] = {
            "ExchangeID": code[-2:], "InstrumentID": code[:6], "InstrumentName": name,
            "PreClose": last, "UpStopPrice": round(last * 1.1, 3),
            "DownStopPrice": round(last * 0.9, 3), "PriceTick": tick, "InstrumentStatus": 0,
        }  # fmt: skip
        _fake.ticks[code] = {
            "time": 1_735_000_000_000, "lastPrice": last, "open": last, "high": last,
            "low": last, "lastClose": last, "amount": 0.0, "volume": 0, "pvolume": 0,
            "askPrice": [last + tick, 0, 0, 0, 0], "bidPrice": [last - tick, 0, 0, 0, 0],
            "askVol": [100, 0, 0, 0, 0], "bidVol": [100, 0, 0, 0, 0], "stockStatus": 13,
        }  # fmt: skip


@pytest.fixture(params=["sim", "fake"])
def settings(
    request: pytest.FixtureRequest, settings_factory: Callable[..., Settings], tmp_path: Path
) -> Settings:
    if request.param == "sim":
        return settings_factory()
    terminal = request.getfixturevalue("fake_xtquant")
    _seed_market()
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    return settings_factory(
        qmt_mode="live", miniqmt_userdata_path=userdata, miniqmt_account_id=terminal.account_id
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    if settings.qmt_mode == "live":
        # Live mode always checks trading hours: pin a Monday morning session.
        app.state.sim_clock = ManualClock(datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI))
    return app


@pytest.fixture
def terminal(settings: Settings, request: pytest.FixtureRequest) -> Any:
    return request.getfixturevalue("fake_xtquant") if settings.qmt_mode == "live" else None


@pytest.fixture
def api(client: TestClient, trader_token: str) -> Callable[..., Any]:
    headers = {"Authorization": f"Bearer {trader_token}"}

    def call(method: str, path: str, **kw: Any) -> Any:
        return client.request(method, f"/api/v1{path}", headers=headers, **kw)

    return call


def _resting_price(api: Callable[..., Any], code: str) -> str:
    quote = api("GET", f"/market/quote/{code}").json()
    tick = Decimal("0.001") if code == ETF else Decimal("0.01")
    below = (Decimal(str(quote["last_price"])) * Decimal("0.97")).quantize(tick)
    return str(max(below, Decimal(str(quote["limit_down"]))))


def _place(api: Callable[..., Any], code: str = ETF, **body: Any) -> dict[str, Any]:
    body = {"stock_code": code, "side": "buy", "quantity": 100, **body}
    body.setdefault("order_type", "limit")
    if body["order_type"] == "limit":
        body.setdefault("price", _resting_price(api, code))
    response = api("POST", "/trading/order", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _order(api: Callable[..., Any], order_id: int) -> dict[str, Any]:
    return dict(api("GET", f"/trading/orders/{order_id}").json())


def _fill(api: Callable[..., Any], terminal: Any, eventually: Any, order: dict[str, Any]) -> None:
    if terminal is not None:
        broker_id = eventually(lambda: _order(api, order["order_id"])["broker_order_id"])
        terminal.fill(broker_id)


def test_place_fill_and_cancel(api: Any, terminal: Any, eventually: Any) -> None:
    bought = _place(api, order_type="market")
    assert bought["status"] in {"pending", "reported", "partially_filled", "filled"}
    _fill(api, terminal, eventually, bought)
    eventually(lambda: _order(api, bought["order_id"])["status"] == "filled")
    trades = api("GET", "/trading/trades").json()["items"]
    assert [t["order_id"] for t in trades] == [bought["order_id"]]

    resting = _place(api)
    eventually(lambda: _order(api, resting["order_id"])["status"] == "reported")
    assert api("DELETE", f"/trading/orders/{resting['order_id']}").status_code == 202
    eventually(lambda: _order(api, resting["order_id"])["status"] == "cancelled")


@FAKE_ONLY
def test_market_orders_use_the_venue_price_type(api: Any, terminal: Any, eventually: Any) -> None:
    for code in (ETF, SZ_STOCK):
        _place(api, code, order_type="market")
    eventually(lambda: len(terminal.orders) == 2)
    types = {o.stock_code: o.price_type for o in terminal.orders.values()}
    assert types == {ETF: xc.MARKET_SH_CONVERT_5_CANCEL, SZ_STOCK: xc.MARKET_SZ_INSTBUSI_RESTCANCEL}


def test_reconnect_after_drop_reconciles_without_loss_or_double(
    api: Any, terminal: Any, eventually: Any, app: Any
) -> None:
    qmt = app.state.qmt
    qmt.reconnector.policy = ReconnectPolicy(initial=0.05, cap=0.1, closed_cap=0.1)
    first_session = qmt.session_id
    resting = _place(api)
    broker_id = eventually(lambda: _order(api, resting["order_id"])["broker_order_id"])

    if terminal is None:
        qmt.trader.simulate_disconnect()
    else:
        terminal.drop()
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is False)
    if terminal is not None:
        terminal.fill(broker_id)  # filled while we are away: no push reaches us

    eventually(lambda: api("GET", "/trading/status").json()["connected"] is True, timeout=10)
    assert qmt.session_id != first_session or terminal is None
    if terminal is not None:
        eventually(lambda: _order(api, resting["order_id"])["status"] == "filled")
        assert len(terminal.sessions_seen) == 2
        assert len(terminal.order_calls) == 1
        trades = api("GET", "/trading/trades").json()["items"]
        assert len(trades) == 1
    after = _place(api)
    eventually(lambda: _order(api, after["order_id"])["broker_order_id"])
    orders = api("GET", "/trading/orders").json()["items"]
    assert sorted(o["order_id"] for o in orders) == sorted({resting["order_id"], after["order_id"]})


@FAKE_ONLY
@pytest.mark.parametrize("silent", [False, True], ids=["with-pushes", "read-back-only"])
def test_minus_one_but_live_ends_as_the_live_order(
    api: Any, terminal: Any, eventually: Any, silent: bool
) -> None:
    terminal.minus_one_but_live = True
    terminal.silent_orders = silent
    placed = _place(api)
    live = next(iter(terminal.orders.values()))
    order = eventually(lambda: (o := _order(api, placed["order_id"]))["broker_order_id"] and o)
    assert order["status"] == "reported"
    assert order["broker_order_id"] == live.order_id
    assert len(terminal.order_calls) == 1
    terminal.silent_orders = False
    terminal.fill(live.order_id)
    eventually(lambda: _order(api, placed["order_id"])["status"] == "filled")


@FAKE_ONLY
def test_lost_async_response_is_settled_by_remark(
    api: Any, terminal: Any, eventually: Any, app: Any
) -> None:
    app.state.qmt.settler.response_timeout = 0.1
    terminal.lose_async_response = True
    terminal.silent_orders = True
    placed = _place(api)
    order = eventually(lambda: (o := _order(api, placed["order_id"]))["broker_order_id"] and o)
    assert order["status"] == "reported"
    assert len(terminal.order_calls) == 1


@FAKE_ONLY
def test_answer_before_submit_returns(api: Any, terminal: Any, eventually: Any) -> None:
    terminal.push_before_return = True
    terminal.auto_fill = True
    placed = _place(api, order_type="market")
    eventually(lambda: _order(api, placed["order_id"])["status"] == "filled")
    assert len(terminal.order_calls) == 1
    assert len(api("GET", "/trading/trades").json()["items"]) == 1


@FAKE_ONLY
def test_rejection_by_the_counter_is_reported(api: Any, terminal: Any, eventually: Any) -> None:
    terminal.reject_next = "资金不足 / insufficient funds at the counter"
    placed = _place(api)
    order = eventually(lambda: (o := _order(api, placed["order_id"]))["status"] in FINAL and o)
    assert order["status"] == "rejected"
    assert "资金不足" in order["status_msg"]


@FAKE_ONLY
def test_callbacks_never_call_the_trader_synchronously(
    api: Any, terminal: Any, eventually: Any
) -> None:
    terminal.auto_fill = True
    ids = [_place(api, order_type="market")["order_id"] for _ in range(3)]
    eventually(lambda: all(_order(api, i)["status"] == "filled" for i in ids))
    assert terminal.deadlocks == []
    assert terminal.callback_errors == []

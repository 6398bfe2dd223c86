"""Live mode against the real SDK's hostile behaviours (issue 13), on the fake xtquant.

Each test switches one behaviour of the fake terminal (tests/fake_xtquant/xtquant/_terminal.py)
and runs the whole product in QMT_MODE=live over it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app
from backend.app.services.broker.reconnect import ReconnectPolicy
from tests.live.test_qmt_service_live import ETF, _order, _place, _seed_market
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.sim.clock import ManualClock

NOT_RECEIVED = "未送达券商，可安全重发"


@pytest.fixture
def terminal(fake_xtquant: Any) -> Any:
    _seed_market()
    return fake_xtquant


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], tmp_path: Path, terminal: Any) -> Settings:
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    return settings_factory(
        qmt_mode="live", miniqmt_userdata_path=userdata, miniqmt_account_id=terminal.account_id
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    app.state.sim_clock = ManualClock(datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI))
    return app


@pytest.fixture
def qmt(app: FastAPI, client: TestClient) -> Any:
    qmt = app.state.qmt
    qmt.call_timeout = 0.5
    qmt.reconnector.policy = ReconnectPolicy(initial=0.05, cap=0.2, closed_cap=0.2)
    qmt.settler.read_interval = 0.05
    return qmt


@pytest.fixture
def api(client: TestClient, trader_token: str, qmt: Any) -> Callable[..., Any]:
    headers = {"Authorization": f"Bearer {trader_token}"}

    def call(method: str, path: str, **kw: Any) -> Any:
        return client.request(method, f"/api/v1{path}", headers=headers, **kw)

    return call


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def test_hung_terminal_never_hangs_the_gateway_and_service_resumes_by_itself(
    api: Any, client: TestClient, terminal: Any, qmt: Any, eventually: Any
) -> None:
    placed = _place(api)
    eventually(lambda: _order(api, placed["order_id"])["status"] == "reported")
    first_session = qmt.session_id
    terminal.hung = True

    # A broker-bound request waits at most the call deadline; /health never waits for it.
    stuck: list[Any] = []
    waiter = threading.Thread(target=lambda: stuck.append(api("GET", "/trading/positions")))
    waiter.start()
    time.sleep(0.1)
    health, took = _timed(lambda: client.get("/health"))
    assert (health.status_code, took < 1.0) == (200, True)
    waiter.join(5)
    assert stuck[0].status_code == 503
    assert stuck[0].json()["code"] == "BROKER_UNAVAILABLE"

    # While down: fast 503s, /ready says why, /health stays up.
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is False)
    for method, path, body in (
        ("GET", "/trading/positions", None),
        ("GET", "/trading/account-info", None),
        ("POST", "/trading/order", {"stock_code": ETF, "side": "buy", "quantity": 100,
                                    "order_type": "limit", "price": "3.900"}),
    ):  # fmt: skip
        response, took = _timed(lambda m=method, p=path, b=body: api(m, p, json=b))
        assert (response.status_code, response.json()["code"]) == (503, "BROKER_UNAVAILABLE")
        assert took < 1.0, (path, took)
    ready = client.get("/ready")
    assert ready.status_code == 503
    assert "MiniQMT" in ready.json()["detail"]
    assert client.get("/health").status_code == 200

    # MiniQMT answers again: a fresh session, nothing lost, nothing doubled, no stuck thread.
    terminal.hung = False
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is True, timeout=10)
    assert qmt.session_id != first_session
    assert api("GET", "/trading/positions").status_code == 200
    assert _order(api, placed["order_id"])["status"] == "reported"
    assert len(terminal.order_calls) == 1
    eventually(lambda: terminal.stuck_waiters() == 0)
    assert client.get("/ready").status_code == 200


def test_a_failed_query_never_makes_an_order_safe_to_resend(
    api: Any, terminal: Any, qmt: Any, eventually: Any
) -> None:
    terminal.minus_one_but_live = True  # -1, although the order reached the counter
    terminal.silent_orders = True  # and no push tells us
    terminal.failing_queries = {"orders"}  # and reading it back fails
    placed = _place(api)
    time.sleep(0.5)  # several read-backs fail meanwhile
    order = _order(api, placed["order_id"])
    assert order["status"] == "pending"
    assert NOT_RECEIVED not in (order["status_msg"] or "")

    # A reconnect reconciliation with failing queries rejects nothing either.
    terminal.drop()
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is True, timeout=10)
    assert _order(api, placed["order_id"])["status"] == "pending"

    # Queries answer again: the retried reconciliation (or the settler) finds the live order.
    terminal.failing_queries = set()
    live = next(iter(terminal.orders.values()))
    order = eventually(
        lambda: (o := _order(api, placed["order_id"]))["broker_order_id"] and o, timeout=15
    )
    assert (order["status"], order["broker_order_id"]) == ("reported", live.order_id)
    assert len(terminal.order_calls) == 1  # never a second order_stock* for one order


def test_absent_order_is_safe_to_resend_only_after_successful_queries(
    api: Any, terminal: Any, qmt: Any, eventually: Any
) -> None:
    terminal.minus_one_but_live = True
    terminal.silent_orders = True
    terminal.failing_queries = {"orders"}
    placed = _place(api)
    assert _order(api, placed["order_id"])["status"] == "pending"
    terminal.orders.clear()  # the counter lost it ...
    terminal.failing_queries = set()  # ... and now successful queries prove it absent
    order = eventually(lambda: (o := _order(api, placed["order_id"]))["status"] != "pending" and o)
    assert order["status"] == "rejected"
    assert NOT_RECEIVED in order["status_msg"] or "not placed" in order["status_msg"]


def test_foreign_order_with_our_digits_never_touches_ours(
    api: Any, terminal: Any, eventually: Any
) -> None:
    ours = _place(api)
    broker_id = eventually(lambda: _order(api, ours["order_id"])["broker_order_id"])
    assert next(iter(terminal.orders.values())).order_remark == f"qmt-api:{ours['order_id']}"
    for remark in (str(ours["order_id"]), "", f"{ours['order_id']}x"):
        foreign = terminal.add_foreign_order(remark, volume=300, price=3.95)
        terminal.fill(foreign.order_id)
    terminal.drop()  # a reconnect reconciles against every order of the account, foreign too
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is True, timeout=10)

    order = _order(api, ours["order_id"])
    assert (order["status"], order["filled_quantity"], order["broker_order_id"]) == (
        "reported", 0, broker_id,
    )  # fmt: skip
    # The account's foreign fills are facts of the account, kept apart: never on our order.
    trades = api("GET", "/trading/trades").json()["items"]
    assert len(trades) == 3
    assert {t["order_id"] for t in trades} == {None}
    assert broker_id not in {t["broker_order_id"] for t in trades}
    orders = api("GET", "/trading/orders").json()["items"]
    assert [o["order_id"] for o in orders] == [ours["order_id"]]


def test_our_long_remark_is_cut_by_the_terminal_and_still_maps(
    api: Any, terminal: Any, eventually: Any
) -> None:
    placed = _place(api)
    eventually(lambda: _order(api, placed["order_id"])["broker_order_id"])
    (sent,) = terminal.order_calls
    assert len(sent[1]) <= 24


def test_status_48_49_late_sysid_and_repeated_pushes_end_as_one_clean_fill(
    api: Any, terminal: Any, eventually: Any
) -> None:
    terminal.first_statuses = (xc.ORDER_UNREPORTED, xc.ORDER_WAIT_REPORTING)
    terminal.sysid_late = True
    terminal.repeat_pushes = 3
    placed = _place(api)
    broker_id = eventually(lambda: _order(api, placed["order_id"])["broker_order_id"])
    eventually(lambda: _order(api, placed["order_id"])["status"] == "reported")
    terminal.fill(broker_id)
    eventually(lambda: _order(api, placed["order_id"])["status"] == "filled")
    order = _order(api, placed["order_id"])
    assert order["filled_quantity"] == 100
    assert len(api("GET", "/trading/trades").json()["items"]) == 1


def test_order_error_without_any_order_push_rejects_the_order(
    api: Any, terminal: Any, eventually: Any
) -> None:
    terminal.error_without_push = "[COUNTER] 可用资金不足"
    placed = _place(api)
    order = eventually(lambda: (o := _order(api, placed["order_id"]))["status"] == "rejected" and o)
    assert "可用资金不足" in order["status_msg"]


def test_partial_fill_then_cancel_ends_partially_cancelled(
    api: Any, terminal: Any, eventually: Any
) -> None:
    placed = _place(api, quantity=300)
    broker_id = eventually(lambda: _order(api, placed["order_id"])["broker_order_id"])
    terminal.fill(broker_id, volume=100)
    eventually(lambda: _order(api, placed["order_id"])["status"] == "partially_filled")
    assert api("DELETE", f"/trading/orders/{placed['order_id']}").status_code == 202
    order = eventually(
        lambda: (o := _order(api, placed["order_id"]))["status"] == "partially_cancelled" and o
    )
    assert (order["filled_quantity"], order["broker_status"]) == (100, xc.ORDER_PART_CANCEL)


def test_session_ids_are_reused_so_userdata_keeps_a_bounded_file_count(
    api: Any, terminal: Any, qmt: Any, eventually: Any, settings: Settings
) -> None:
    terminal.session_reuse_after = 0.0
    for _ in range(12):
        before = qmt.reconnector.reconnects
        terminal.drop()
        eventually(lambda b=before: qmt.reconnector.reconnects > b, timeout=10)
        eventually(lambda: api("GET", "/trading/status").json()["connected"] is True)
    assert settings.miniqmt_userdata_path is not None
    files = list(settings.miniqmt_userdata_path.glob("down_queue_*"))
    assert 1 < len(files) <= 8


def test_day_roll_while_connected_expires_yesterdays_open_orders(
    api: Any, app: FastAPI, client: TestClient, terminal: Any, eventually: Any
) -> None:
    placed = _place(api)
    eventually(lambda: _order(api, placed["order_id"])["status"] == "reported")
    trading = app.state.trading
    # Journal rows carry wall-clock times: the next exchange day is tomorrow's.
    app.state.sim_clock.set(datetime.now(SHANGHAI) + timedelta(days=1))
    terminal.orders.clear()  # MiniQMT's queries list today's orders only
    terminal.failing_queries = {"orders"}
    assert not client.portal.call(trading.check_day_roll)  # a failed query expires nothing
    assert _order(api, placed["order_id"])["status"] == "reported"
    terminal.failing_queries = set()
    assert client.portal.call(trading.check_day_roll)
    order = _order(api, placed["order_id"])
    assert order["status"] == "cancelled"
    assert "expired" in order["status_msg"]
    assert not client.portal.call(trading.check_day_roll)  # once per day


@pytest.fixture
def terminal_calendar(terminal: Any) -> None:
    """The terminal knows 2025 and closes an extra day (2025-03-04) the bundled data keeps open;
    requested before `api`, so it is in place when the app connects."""
    from xtquant import _fake

    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(365)]
    _fake.calendar[2025] = [d for d in days if d.weekday() < 5 and d != date(2025, 3, 4)]


def test_live_calendar_comes_from_the_terminal(terminal_calendar: None, api: Any) -> None:
    r = api("GET", "/market/calendar?start=2025-03-03&end=2025-03-05")
    assert r.json()["items"] == ["2025-03-03", "2025-03-05"]


def test_foreign_orders_are_listed_read_only_as_external(
    api: Any, terminal: Any, eventually: Any
) -> None:
    ours = _place(api)
    eventually(lambda: _order(api, ours["order_id"])["broker_order_id"])
    foreign = terminal.add_foreign_order(str(ours["order_id"]), volume=200, price=3.95)
    items = eventually(lambda: api("GET", "/trading/external-orders").json()["items"])
    assert [(o["source"], o["broker_order_id"], o["quantity"]) for o in items] == [
        ("external", foreign.order_id, 200)
    ]
    assert [o["order_id"] for o in api("GET", "/trading/orders").json()["items"]] == [
        ours["order_id"]
    ]


def test_xtdata_failures_are_503_with_a_hint_never_500(api: Any) -> None:
    from xtquant import _fake

    _fake.xtdata_down = True
    quote = api("GET", f"/market/quote/{ETF}")
    assert (quote.status_code, quote.json()["code"]) == (503, "MARKET_DATA_UNAVAILABLE")
    assert "xtdata" in quote.json()["detail"]
    assert "两套 QMT" in quote.json()["detail"]
    order = api("POST", "/trading/order", json={"stock_code": ETF, "side": "buy",
                                                "quantity": 100, "price": "3.900"})  # fmt: skip
    assert order.status_code == 503
    _fake.xtdata_down = False
    assert api("GET", f"/market/quote/{ETF}").status_code == 200


@pytest.mark.parametrize(("kind", "connects"), [("STOCK", False), ("CREDIT", True)])
def test_a_margin_account_needs_account_type_credit(
    terminal: Any, settings_factory: Callable[..., Settings], tmp_path: Path, kind: str,
    connects: bool,
) -> None:  # fmt: skip
    terminal.account_type = xc.CREDIT_ACCOUNT
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    settings = settings_factory(
        qmt_mode="live", miniqmt_userdata_path=userdata, miniqmt_account_id=terminal.account_id,
        miniqmt_account_type=kind.lower(),
    )  # fmt: skip
    app = create_app(settings)
    app.state.sim_clock = ManualClock(datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI))
    with TestClient(app):
        qmt = app.state.qmt
        assert qmt.is_connected() is connects
        if not connects:
            assert "subscribe" in qmt.last_error


def test_stream_shows_foreign_orders_as_external(
    client: TestClient, trader_token: str, terminal: Any, qmt: Any
) -> None:
    with client.websocket_connect(f"/api/v1/trading/stream?token={trader_token}") as ws:
        assert ws.receive_json()["type"] == "connection"
        foreign = terminal.add_foreign_order("3", volume=200)
        event = ws.receive_json()
    assert event["type"] == "order"
    assert event["data"]["source"] == "external"
    assert (event["data"]["order_id"], event["data"]["broker_order_id"]) == (None, foreign.order_id)


def test_a_reconciliation_that_failed_is_retried_until_queries_answer(
    api: Any, terminal: Any, qmt: Any, eventually: Any
) -> None:
    placed = _place(api)
    broker_id = eventually(lambda: _order(api, placed["order_id"])["broker_order_id"])
    terminal.failing_queries = {"orders", "trades"}
    terminal.drop()
    terminal.fill(broker_id)  # filled while we are away: no push reaches us
    eventually(lambda: api("GET", "/trading/status").json()["connected"] is True, timeout=10)
    time.sleep(0.3)  # the first reconciliation failed on the queries
    assert _order(api, placed["order_id"])["status"] == "reported"
    terminal.failing_queries = set()
    eventually(lambda: _order(api, placed["order_id"])["status"] == "filled", timeout=15)
    assert len(api("GET", "/trading/trades").json()["items"]) == 1

"""QmtClient / AsyncQmtClient against a real server: every call of the issue's example, typed
answers, QmtApiError, idempotent placement, token renewal."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from live_server import TRADER, Server
from qmt_api_client import AsyncQmtClient, Order, QmtApiError, QmtClient

# Starting the server (the first test here may) takes tens of seconds on a loaded machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def _passive_buy(c: QmtClient, code: str = "600519.SH", qty: int = 100) -> Order:
    bid = c.quote(code).bid[0][0]
    price = (bid * Decimal("0.985")).quantize(Decimal("0.01"))
    return c.place_order(stock_code=code, side="buy", quantity=qty, price=price)


def test_the_issue_example_end_to_end(qc: QmtClient) -> None:
    o = _passive_buy(qc, "600519")
    assert isinstance(o.order_id, int)
    assert o.status in ("pending", "reported")
    assert o.client_order_id.startswith("py-")  # generated, so a retry cannot double it
    assert qc.get_order(o.order_id).order_id == o.order_id
    assert o.order_id in [x.order_id for x in qc.list_orders(status="open")]
    assert qc.cancel_order(o.order_id).status == "pending_cancel"
    _passive_buy(qc)
    results = qc.cancel_all()
    assert results
    assert all(r.ok for r in results)
    acct = qc.account()
    assert acct.total_value > 0
    assert {p.stock_code for p in qc.positions()} >= {"600519.SH", "000001.SZ"}
    q = qc.quote("600519")
    assert q.limit_down is not None
    assert q.last_price > 0
    closed = qc.close_position("000001.SZ")
    assert closed.ok, closed
    assert closed.order is not None
    assert closed.order.quantity == 2000


def test_a_refusal_is_a_qmt_api_error_with_code_status_detail(qc: QmtClient) -> None:
    with pytest.raises(QmtApiError) as exc:
        qc.place_order(stock_code="600519.SH", side="buy", quantity=150, price="1.00")
    assert exc.value.status == 422
    assert exc.value.code == "INVALID_QUANTITY"
    assert exc.value.detail
    with pytest.raises(QmtApiError) as missing:
        qc.get_order(10**12)
    assert (missing.value.status, missing.value.code) == (404, "ORDER_NOT_FOUND")


def test_a_repeat_with_the_same_client_order_id_places_nothing_new(qc: QmtClient) -> None:
    bid = qc.quote("600519.SH").bid[0][0]
    price = (bid * Decimal("0.985")).quantize(Decimal("0.01"))
    kw = {"stock_code": "600519.SH", "side": "buy", "quantity": 100, "price": price,
          "client_order_id": "retry-test-1"}  # fmt: skip
    first = qc.place_order(**kw)  # type: ignore[arg-type]
    again = qc.place_order(**kw)  # type: ignore[arg-type]
    assert again.order_id == first.order_id
    qc.cancel_order(first.order_id)


def test_replace_returns_the_new_order(qc: QmtClient) -> None:
    o = _passive_buy(qc, qty=200)
    new = qc.replace_order(o.order_id, price=o.price - Decimal("1.00"))  # type: ignore[operator]
    assert new.order_id != o.order_id
    assert new.quantity == 200
    assert qc.get_order(o.order_id).status == "cancelled"
    qc.cancel_order(new.order_id)


def test_the_token_is_renewed_before_it_expires_and_after_a_401(server: Server) -> None:
    with QmtClient(server.url, username=TRADER[0], password=TRADER[1]) as c:
        logins: list[str] = []
        login = c.login

        def counted() -> str:
            logins.append(login())
            return logins[-1]

        c.login = counted  # type: ignore[method-assign]
        c.me()
        assert len(logins) == 1
        c.me()
        assert len(logins) == 1  # a live token is reused
        c._auth.renew_at = 0.0  # as if the token were about to expire
        assert c.me().username == TRADER[0]
        assert len(logins) == 2  # renewed before the call
        c._auth.token = "garbage"  # revoked early: one 401, a fresh login, the answer
        c._auth.renew_at = float("inf")
        assert c.me().username == TRADER[0]
        assert len(logins) == 3
        assert c._auth.token == logins[-1]


def test_without_credentials_a_401_is_an_error(server: Server) -> None:
    with QmtClient(server.url, token="garbage") as c, pytest.raises(QmtApiError) as exc:
        c.account()
    assert (exc.value.status, exc.value.code) == (401, "UNAUTHORIZED")


def test_the_async_client_does_the_same(server: Server) -> None:
    async def run() -> None:
        async with AsyncQmtClient(server.url, username=TRADER[0], password=TRADER[1]) as c:
            q = await c.quote("600519.SH")
            price = (q.bid[0][0] * Decimal("0.985")).quantize(Decimal("0.01"))
            orders = await asyncio.gather(*(
                c.place_order(stock_code="600519.SH", side="buy", quantity=100, price=price)
                for _ in range(5)
            ))  # fmt: skip
            assert len({o.order_id for o in orders}) == 5
            assert len({o.client_order_id for o in orders}) == 5
            results = await c.cancel_all(stock_code="600519.SH")
            assert {r.order_id for r in results} >= {o.order_id for o in orders}
            with pytest.raises(QmtApiError) as exc:
                await c.get_order(10**12)
            assert exc.value.code == "ORDER_NOT_FOUND"
            page = await c.events(limit=5)
            assert len(page.items) == 5
            assert page.next_since == page.items[-1].seq

    asyncio.run(run())

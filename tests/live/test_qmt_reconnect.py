"""Reconnect policy and submit settlement, against a hand-written stub of QMTService."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any

from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.reconnect import (
    NOT_PLACED_ERROR_ID,
    Reconnector,
    ReconnectPolicy,
    SubmitSettler,
    market_may_trade,
)
from xtquant_adapter.ashare.calendar import SHANGHAI


def _order(order_id: int, broker_id: int = 555) -> xm.OrderUpdate:
    return xm.OrderUpdate(
        broker_id, order_id, "510300.SH", None, 50, None, "", 100, Decimal("4"), 0,
        Decimal("0"), "S1", "", datetime.now(SHANGHAI),
    )  # fmt: skip


class StubService:
    def __init__(self, *, held: dict[int, xm.OrderUpdate] | None = None) -> None:
        self.held = held or {}
        self.delivered: list[Any] = []
        self.reads = 0
        self.closing = False
        self.connected = True
        self.last_error = ""
        self.account_id = "A1"
        self.session_id = 1
        self.outcomes: list[bool] = []

    def now(self) -> datetime:
        return datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)

    def is_connected(self) -> bool:
        return self.connected

    def deliver(self, update: Any) -> None:
        self.delivered.append(update)

    async def query_order_by_remark(self, order_id: int) -> xm.OrderUpdate | None:
        self.reads += 1
        return self.held.get(order_id)

    async def reconnect(self) -> bool:
        self.session_id += 1
        return self.outcomes.pop(0)


async def _no_sleep(_: float) -> None:
    return None


def test_backoff_doubles_and_caps_lower_while_the_market_may_trade() -> None:
    policy = ReconnectPolicy(initial=1, factor=2, cap=30, closed_cap=300)
    assert [policy.delay(a, True) for a in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    assert policy.delay(20, False) == 300
    assert policy.delay(1000, True) == 30


def test_market_may_trade_only_on_trading_days_in_hours() -> None:
    assert market_may_trade(datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI))  # Monday
    assert not market_may_trade(datetime(2025, 3, 3, 20, 0, tzinfo=SHANGHAI))
    assert not market_may_trade(datetime(2025, 3, 1, 10, 0, tzinfo=SHANGHAI))  # Saturday


def test_reconnector_retries_until_connected_with_new_sessions() -> None:
    svc = StubService()
    svc.outcomes = [False, False, True]

    async def run() -> Reconnector:
        rec = Reconnector(svc, policy=ReconnectPolicy(initial=0.001, cap=0.002))  # type: ignore[arg-type]
        rec.schedule()
        rec.schedule()  # a second disconnect while reconnecting starts nothing new
        assert rec._task is not None
        await asyncio.wait_for(rec._task, 5)
        return rec

    rec = asyncio.run(run())
    assert (rec.attempts, rec.reconnects, svc.session_id) == (3, 1, 4)


def test_minus_one_but_live_follows_the_broker_order() -> None:
    svc = StubService(held={7: _order(7)})

    async def run() -> None:
        settler = SubmitSettler(svc, sleep=_no_sleep)  # type: ignore[arg-type]
        settler.begin(7)
        settler.refused(7)
        await asyncio.gather(*settler._settling)

    asyncio.run(run())
    assert [(u.order_id, u.broker_order_id) for u in svc.delivered] == [(7, 555)]
    assert svc.reads == 1


def test_minus_one_and_absent_is_rejected_after_every_read() -> None:
    svc = StubService()

    async def run() -> None:
        settler = SubmitSettler(svc, reads=3, sleep=_no_sleep)  # type: ignore[arg-type]
        settler.refused(8)
        await asyncio.gather(*settler._settling)

    asyncio.run(run())
    assert svc.reads == 3
    (error,) = svc.delivered
    assert isinstance(error, xm.OrderError)
    assert (error.order_id, error.error_id) == (8, NOT_PLACED_ERROR_ID)
    assert "order_remark=8" in error.error_msg


def test_lost_response_is_read_back_after_the_timeout() -> None:
    svc = StubService(held={9: _order(9)})

    async def run() -> SubmitSettler:
        settler = SubmitSettler(svc, response_timeout=0.01, sleep=_no_sleep)  # type: ignore[arg-type]
        settler.begin(9)
        settler.submitted(9, seq=3)
        assert settler._task is not None
        await asyncio.wait_for(settler._task, 5)
        await asyncio.gather(*settler._settling)
        return settler

    settler = asyncio.run(run())
    assert svc.delivered[0].order_id == 9
    assert settler.pending() == set()


def test_answer_before_submit_returns_needs_no_read_back() -> None:
    svc = StubService()

    async def run() -> SubmitSettler:
        settler = SubmitSettler(svc, response_timeout=0.01)  # type: ignore[arg-type]
        settler.begin(10)
        settler.observe(xm.OrderResponse(seq=1, broker_order_id=77, order_id=10, error_msg=""))
        settler.submitted(10, seq=1)
        return settler

    settler = asyncio.run(run())
    assert settler.pending() == set()
    assert svc.reads == 0


def test_unanswered_while_disconnected_waits_for_reconciliation() -> None:
    svc = StubService()
    svc.connected = False

    async def run() -> SubmitSettler:
        settler = SubmitSettler(svc, response_timeout=0.01)  # type: ignore[arg-type]
        settler.submitted(11, seq=2)
        assert settler._task is not None
        with contextlib.suppress(TimeoutError):  # bounded wait: the watchdog must not finish
            await asyncio.wait_for(asyncio.shield(settler._task), 0.05)
        pending = settler.pending()
        await settler.stop()
        assert pending == {11}
        return settler

    asyncio.run(run())
    assert svc.reads == 0

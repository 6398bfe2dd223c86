"""Calls into MiniQMT that can never exhaust the gateway (services/broker/calls.py)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from backend.app.core.errors import MarketDataUnavailable
from backend.app.services.broker.calls import BoundedCalls, CallTimedOut, SdkThread


def test_a_hung_call_wedges_its_session_thread_and_everything_after_fails_fast() -> None:
    release = threading.Event()

    async def run() -> tuple[list[BaseException], float]:
        sdk = SdkThread(timeout=0.2)
        hung = asyncio.ensure_future(sdk.call(release.wait))
        queued = asyncio.ensure_future(sdk.call(lambda: 1))  # behind the hung call
        errors = [e for e in await asyncio.gather(hung, queued, return_exceptions=True)
                  if isinstance(e, BaseException)]  # fmt: skip
        start = time.perf_counter()
        with pytest.raises(CallTimedOut):
            await sdk.call(lambda: 2)  # never queued behind the hung one
        return errors, time.perf_counter() - start

    threads_before = threading.active_count()
    errors, took = asyncio.run(run())
    assert [type(e) for e in errors] == [CallTimedOut, CallTimedOut]
    assert took < 0.05
    assert threading.active_count() <= threads_before + 1  # one stuck thread, no pool
    release.set()


def test_calls_run_in_order_on_one_thread() -> None:
    async def run() -> list[str]:
        sdk = SdkThread(timeout=1.0)
        names = await asyncio.gather(
            *(sdk.call(lambda: threading.current_thread().name) for _ in range(5))
        )
        sdk.close()
        return list(names)

    names = asyncio.run(run())
    assert len(set(names)) == 1
    assert names[0] != threading.current_thread().name


def test_market_data_calls_fail_at_once_when_every_worker_is_stuck() -> None:
    release = threading.Event()

    async def run() -> float:
        calls = BoundedCalls(workers=2, timeout=0.1, unavailable=MarketDataUnavailable)
        for _ in range(2):
            with pytest.raises(MarketDataUnavailable):
                await calls.call(release.wait)
        start = time.perf_counter()
        with pytest.raises(MarketDataUnavailable, match="all 2 workers"):
            await calls.call(lambda: 1)
        took = time.perf_counter() - start
        release.set()
        calls.shutdown()
        return took

    assert asyncio.run(run()) < 0.05


def test_market_data_calls_wait_for_a_busy_worker_instead_of_failing() -> None:
    """Load is not an outage: more concurrent calls than workers all get their answer."""

    async def run() -> list[int]:
        calls = BoundedCalls(workers=2, timeout=2.0, unavailable=MarketDataUnavailable)

        def slow(i: int) -> int:
            time.sleep(0.02)
            return i

        try:
            return list(await asyncio.gather(*(calls.call(slow, i) for i in range(12))))
        finally:
            calls.shutdown()

    assert asyncio.run(run()) == list(range(12))

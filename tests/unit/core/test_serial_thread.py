"""The SQLite writer's thread: calls run one at a time in the order handed in, off the event
loop; an error reaches its caller; a cancelled caller learns it only after the call ended."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from backend.app.core.serial_thread import SerialThread


def test_calls_run_in_order_on_one_other_thread() -> None:
    seen: list[tuple[int, str]] = []

    def work(i: int) -> int:
        time.sleep(0.002 * (5 - i))  # later calls are quicker: order must not depend on it
        seen.append((i, threading.current_thread().name))
        return i * 10

    async def scenario() -> list[int]:
        t = SerialThread("t-order")
        try:
            return list(await asyncio.gather(*(t.run(work, i) for i in range(5))))
        finally:
            t.close()

    assert asyncio.run(scenario()) == [0, 10, 20, 30, 40]
    assert [i for i, _ in seen] == [0, 1, 2, 3, 4]
    assert {name for _, name in seen} == {"t-order"}


def test_an_error_reaches_its_caller_and_the_thread_goes_on() -> None:
    def boom() -> None:
        raise ValueError("refused")

    async def scenario() -> int:
        t = SerialThread("t-error")
        try:
            with pytest.raises(ValueError, match="refused"):
                await t.run(boom)
            return await t.run(lambda: 7)
        finally:
            t.close()

    assert asyncio.run(scenario()) == 7


def test_a_cancelled_caller_is_told_only_after_the_call_has_finished() -> None:
    release = threading.Event()
    finished: list[float] = []

    def slow_commit() -> None:
        release.wait(5)
        finished.append(time.monotonic())

    async def scenario() -> float:
        t = SerialThread("t-cancel")
        try:
            task = asyncio.create_task(t.run(slow_commit))
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.sleep(0.05)
            assert not task.done()  # still committing: the canceller must not be told yet
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await task
            return time.monotonic()
        finally:
            t.close()

    told = asyncio.run(scenario())
    assert finished
    assert finished[0] <= told


def test_a_failing_initializer_is_logged_and_the_calls_still_run() -> None:
    def broken() -> None:
        raise OSError("cannot open")

    async def scenario() -> int:
        t = SerialThread("t-init", initializer=broken)
        try:
            return await t.run(lambda: 5)
        finally:
            t.close()

    assert asyncio.run(scenario()) == 5

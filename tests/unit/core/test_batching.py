"""The one micro-batcher: arrival order, batches that grow under load, one bad item never
sinks the others where splitting is safe, and a failed batch is never repeated where not."""

from __future__ import annotations

import asyncio

import pytest

from backend.app.core.batching import MicroBatcher


class Refused(Exception):
    pass


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_items_queued_during_a_batch_form_the_next_batch_in_order() -> None:
    seen: list[list[int]] = []

    async def handle(batch: list[int]) -> list[int]:
        seen.append(batch)
        await asyncio.sleep(0.01)
        return [i * 10 for i in batch]

    async def scenario() -> list[int]:
        b: MicroBatcher[int, int] = MicroBatcher(handle, name="t", max_batch=3, split_on_error=True)
        return list(await asyncio.gather(*(b.submit(i) for i in range(7))))

    assert run(scenario()) == [0, 10, 20, 30, 40, 50, 60]
    assert seen == [[0, 1, 2], [3, 4, 5], [6]]


def test_a_per_item_exception_reaches_only_that_caller() -> None:
    async def handle(batch: list[int]) -> list[int | BaseException]:
        return [Refused(i) if i == 2 else i for i in batch]

    async def scenario() -> list[object]:
        b: MicroBatcher[int, int] = MicroBatcher(handle, name="t", max_batch=9, split_on_error=True)
        return list(await asyncio.gather(*(b.submit(i) for i in range(4)), return_exceptions=True))

    out = run(scenario())
    assert out[:2] == [0, 1]
    assert out[3] == 3
    assert isinstance(out[2], Refused)


def test_a_failing_batch_is_split_when_that_is_safe() -> None:
    calls: list[list[int]] = []

    async def handle(batch: list[int]) -> list[int]:
        calls.append(batch)
        if 2 in batch:
            raise Refused("constraint")
        return batch

    async def scenario() -> list[object]:
        b: MicroBatcher[int, int] = MicroBatcher(handle, name="t", max_batch=9, split_on_error=True)
        return list(await asyncio.gather(*(b.submit(i) for i in range(4)), return_exceptions=True))

    out = run(scenario())
    assert out[0] == 0
    assert out[1] == 1
    assert out[3] == 3
    assert isinstance(out[2], Refused)
    assert calls[0] == [0, 1, 2, 3]
    assert [2] in calls


def test_a_failing_batch_is_never_repeated_when_splitting_is_unsafe() -> None:
    calls: list[list[int]] = []

    async def handle(batch: list[int]) -> list[int]:
        calls.append(batch)
        raise TimeoutError("broker did not answer")

    async def scenario() -> list[object]:
        b: MicroBatcher[int, int] = MicroBatcher(
            handle, name="t", max_batch=9, split_on_error=False
        )
        return list(await asyncio.gather(*(b.submit(i) for i in range(3)), return_exceptions=True))

    out = run(scenario())
    assert all(isinstance(o, TimeoutError) for o in out)
    assert calls == [[0, 1, 2]]


def test_stop_cancels_waiting_callers() -> None:
    async def handle(batch: list[int]) -> list[int]:
        await asyncio.sleep(10)
        return batch

    async def scenario() -> None:
        b: MicroBatcher[int, int] = MicroBatcher(handle, name="t", max_batch=9, split_on_error=True)
        waiting = asyncio.ensure_future(b.submit(1))
        await asyncio.sleep(0.01)
        await b.stop()
        with pytest.raises(asyncio.CancelledError):
            await waiting

    run(scenario())


def test_posted_items_linger_so_a_burst_gathers_but_awaited_items_never_wait() -> None:
    seen: list[list[int]] = []

    async def handle(batch: list[int]) -> list[int]:
        seen.append(batch)
        return batch

    async def scenario() -> float:
        loop = asyncio.get_running_loop()
        b: MicroBatcher[int, int] = MicroBatcher(
            handle, name="t", max_batch=10, split_on_error=True, linger=0.05
        )
        b.post(1)
        await asyncio.sleep(0.01)
        b.post(2)  # within the linger: same batch
        await asyncio.sleep(0.1)
        t0 = loop.time()
        assert await b.submit(3) == 3  # someone waits: no linger
        return loop.time() - t0

    awaited = run(scenario())
    assert seen == [[1, 2], [3]]
    assert awaited < 0.04

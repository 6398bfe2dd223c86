"""Broker pushes reach the loop in order, a burst with one wake-up."""

from __future__ import annotations

import asyncio
import threading

from backend.app.core.inbox import Inbox


def test_a_burst_from_another_thread_arrives_in_order_in_one_drain() -> None:
    bursts: list[list[int]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        inbox: Inbox[int] = Inbox(bursts.append)

        def pusher() -> None:
            for i in range(100):
                inbox.post(loop, i)

        t = threading.Thread(target=pusher)
        t.start()
        t.join()  # all 100 posted before the loop runs again: one drain
        await asyncio.sleep(0.01)
        inbox.post(loop, 100)  # a later push: a drain of its own
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert bursts == [list(range(100)), [100]]

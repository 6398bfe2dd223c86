"""EventBus: fan-out, bounded queues, a slow subscriber never blocks publishing."""

from __future__ import annotations

import asyncio

from backend.app.services.events import EventBus


def test_every_subscriber_gets_every_event() -> None:
    async def run() -> None:
        bus = EventBus()
        async with bus.subscribe() as a, bus.subscribe() as b:
            bus.publish(1, "order", {"order_id": 1})
            assert (await a.get()) == {"seq": 1, "type": "order", "data": {"order_id": 1}}
            assert (await b.get())["type"] == "order"
        assert bus.subscriber_count == 0

    asyncio.run(run())


def test_slow_subscriber_drops_its_oldest_events() -> None:
    async def run() -> None:
        bus = EventBus(queue_size=3)
        async with bus.subscribe() as slow:
            for i in range(10):
                bus.publish(i + 1, "trade", {"n": i})
            assert slow.dropped == 7
            assert [(await slow.get())["data"]["n"] for _ in range(3)] == [7, 8, 9]

    asyncio.run(run())


def test_publish_without_subscribers_is_a_no_op() -> None:
    bus = EventBus()
    bus.publish(1, "asset", {})
    assert bus.published == 1

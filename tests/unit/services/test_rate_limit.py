"""Token buckets with an injected clock: no sleeps, exact refills."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backend.app.core.errors import RateLimited
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role
from backend.app.services.risk.rate_limit import (
    LOGIN_CEILING_FACTOR,
    MemoryBuckets,
    RateLimiter,
    RedisBuckets,
)
from tests.conftest import redis_up

TRADER = Actor(username="t1", role=Role.TRADER)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: FakeClock, *, per_second: float = 2, logins: int = 3) -> RateLimiter:
    return RateLimiter(
        orders_per_second=per_second, logins_per_minute=logins, buckets=MemoryBuckets(clock)
    )


def test_orders_burst_is_twice_the_rate_then_429_with_headers() -> None:
    clock = FakeClock()
    rl = limiter(clock)

    async def flood() -> None:
        for i in range(4):
            d = await rl.hit_orders(TRADER)
            assert d is not None
            assert d.remaining == 3 - i
        with pytest.raises(RateLimited) as info:
            await rl.hit_orders(TRADER)
        assert info.value.retry_after == pytest.approx(0.5)
        assert info.value.headers == {
            "X-RateLimit-Limit": "4",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": "2",
        }

    asyncio.run(flood())


def test_bucket_refills_with_the_clock() -> None:
    clock = FakeClock()
    rl = limiter(clock)

    async def scenario() -> None:
        for _ in range(4):
            await rl.hit_orders(TRADER)
        with pytest.raises(RateLimited):
            await rl.hit_orders(TRADER)
        clock.now += 0.5  # one token at 2/s
        await rl.hit_orders(TRADER)
        with pytest.raises(RateLimited):
            await rl.hit_orders(TRADER)
        clock.now += 3600  # never more than the burst
        for _ in range(4):
            await rl.hit_orders(TRADER)
        with pytest.raises(RateLimited):
            await rl.hit_orders(TRADER)

    asyncio.run(scenario())


def test_buckets_are_per_user_and_zero_turns_them_off() -> None:
    clock = FakeClock()
    rl = limiter(clock, per_second=0.5)
    other = Actor(username="t2", role=Role.TRADER)

    async def scenario() -> None:
        await rl.hit_orders(TRADER)
        with pytest.raises(RateLimited):
            await rl.hit_orders(TRADER)
        await rl.hit_orders(other)
        off = limiter(clock, per_second=0)
        assert all([await off.hit_orders(TRADER) is None for _ in range(100)])

    asyncio.run(scenario())


def test_failed_logins_lock_the_pair_and_the_address_not_the_user_elsewhere() -> None:
    clock = FakeClock()
    rl = limiter(clock, logins=3)

    async def scenario() -> None:
        for _ in range(3):
            await rl.check_login(username="admin", client_ip="1.1.1.1")
            await rl.record_login_failure(username="admin", client_ip="1.1.1.1")
        with pytest.raises(RateLimited):
            await rl.check_login(username="ADMIN", client_ip="1.1.1.1")  # same pair
        with pytest.raises(RateLimited):
            await rl.check_login(username="bob", client_ip="1.1.1.1")  # same address
        await rl.check_login(username="admin", client_ip="2.2.2.2")  # the admin, elsewhere
        await rl.check_login(username="bob", client_ip="2.2.2.2")
        clock.now += 20  # 3 per minute: one failure back every 20 s
        await rl.check_login(username="admin", client_ip="1.1.1.1")

    asyncio.run(scenario())


def test_failures_from_many_addresses_hit_the_users_ceiling_but_not_a_known_address() -> None:
    clock = FakeClock()
    rl = limiter(clock, logins=3)

    async def scenario() -> None:
        await rl.record_login_success(username="admin", client_ip="10.0.0.1")  # the admin's
        # A distributed guesser: 15 addresses, 1 failure each = the ceiling (5 x 3).
        for i in range(LOGIN_CEILING_FACTOR * 3):
            addr = f"203.0.113.{i}"
            await rl.check_login(username="admin", client_ip=addr)
            await rl.record_login_failure(username="admin", client_ip=addr)
        with pytest.raises(RateLimited) as exc:
            await rl.check_login(username="admin", client_ip="203.0.113.200")  # a fresh one
        # Refilling 5x slower than the per-address limit: 100 s for one more guess.
        assert exc.value.retry_after == pytest.approx(60 / 3 * LOGIN_CEILING_FACTOR, rel=0.01)
        await rl.check_login(username="admin", client_ip="10.0.0.1")  # the admin gets in
        await rl.check_login(username="bob", client_ip="203.0.113.201")  # other users too

    asyncio.run(scenario())


def test_memory_buckets_forget_old_keys_past_the_cap() -> None:
    clock = FakeClock()
    b = MemoryBuckets(clock)
    b.MAX_KEYS = 10
    for i in range(25):
        clock.now += 1
        b.take_sync(f"k{i}", rate=1, burst=1)
    assert len(b._state) <= 10


@pytest.mark.redis
@pytest.mark.skipif(not redis_up(), reason="no Redis server at 127.0.0.1:6379")
def test_redis_buckets_are_shared_between_limiters() -> None:
    """Two limiters (two server processes) on one Redis enforce one limit together."""
    prefix = f"qmt-api-test:{uuid.uuid4().hex}:"

    async def scenario() -> None:
        a = RateLimiter(
            orders_per_second=0.01,
            logins_per_minute=0,
            buckets=RedisBuckets(
                "redis://127.0.0.1:6379/0", prefix=prefix, fallback=MemoryBuckets()
            ),
        )
        b = RateLimiter(
            orders_per_second=0.01,
            logins_per_minute=0,
            buckets=RedisBuckets(
                "redis://127.0.0.1:6379/0", prefix=prefix, fallback=MemoryBuckets()
            ),
        )
        try:
            results = []
            for rl in (a, b, a, b):
                try:
                    await rl.hit_orders(TRADER)
                    results.append(True)
                except RateLimited:
                    results.append(False)
            assert results == [True, False, False, False]  # burst = ceil(0.02) = 1
        finally:
            await a.close()
            await b.close()

    asyncio.run(scenario())


def test_redis_down_falls_back_to_in_process_buckets() -> None:
    async def scenario() -> None:
        rl = RateLimiter(
            orders_per_second=1,
            logins_per_minute=0,
            buckets=RedisBuckets("redis://127.0.0.1:1/0", fallback=MemoryBuckets(FakeClock())),
        )
        try:
            await rl.hit_orders(TRADER)
            await rl.hit_orders(TRADER)
            with pytest.raises(RateLimited):
                await rl.hit_orders(TRADER)
        finally:
            await rl.close()

    asyncio.run(scenario())

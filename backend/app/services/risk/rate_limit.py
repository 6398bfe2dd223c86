"""Token-bucket rate limits: orders+cancels per user; failed logins per (user, address), per
address, and a per-user ceiling that addresses the user logged in from before are exempt of.

Why three login buckets: one per user alone let anyone, anywhere, keep the admin out with
ten wrong passwords a minute. Now an attacker only spends their own (user, address) and
address buckets; across all addresses a user's failures hit a ceiling (LOGIN_CEILING_FACTOR
times the per-minute limit, refilling LOGIN_CEILING_FACTOR times slower), which bounds a
distributed guesser but does not stop the user from an address that logged in as them in
the last KNOWN_ADDRESS_DAYS days.

In-process by default. With `REDIS_URL` the buckets live in Redis and one Lua script
updates each atomically, so several server processes enforce one limit. Should Redis stop
answering, the process falls back to its own buckets (logged) rather than refusing every
order: the risk rules, not the rate limiter, are what keep an account safe.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from loguru import logger

from backend.app.core.config import Settings
from backend.app.core.errors import RateLimited
from backend.app.domain.actor import Actor

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one take: what the X-RateLimit-* headers report."""

    allowed: bool
    limit: int  # bucket capacity (the burst)
    remaining: int  # whole tokens left after this take
    reset_after: float  # seconds until the bucket is full again
    retry_after: float  # seconds until one token is back (0 when allowed)

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(math.ceil(self.reset_after)),
        }


LOGIN_CEILING_FACTOR = 5
KNOWN_ADDRESS_DAYS = 30


class Buckets(Protocol):
    """Storage of token buckets (`cost=0` peeks: allowed iff a whole token is left) and of
    remembered keys that expire."""

    async def take(self, key: str, *, rate: float, burst: int, cost: int = 1) -> Decision: ...

    async def remember(self, key: str, *, seconds: float) -> None: ...

    async def remembered(self, key: str) -> bool: ...

    async def close(self) -> None: ...


def _decide(tokens: float, *, rate: float, burst: int, cost: int) -> tuple[bool, float, Decision]:
    need = max(cost, 1)
    allowed = tokens >= need
    if allowed:
        tokens -= cost
    retry = 0.0 if allowed else (need - tokens) / rate
    decision = Decision(
        allowed=allowed,
        limit=burst,
        remaining=int(tokens),
        reset_after=(burst - tokens) / rate,
        retry_after=retry,
    )
    return allowed, tokens, decision


class MemoryBuckets:
    """Buckets in this process; the clock is injectable so tests never sleep."""

    MAX_KEYS = 100_000

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._memory: dict[str, float] = {}  # key -> expires at

    async def remember(self, key: str, *, seconds: float) -> None:
        now = self._clock()
        if len(self._memory) >= self.MAX_KEYS and key not in self._memory:
            self._memory = {k: t for k, t in self._memory.items() if t > now}
            if len(self._memory) >= self.MAX_KEYS:
                self._memory.clear()
        self._memory[key] = now + seconds

    async def remembered(self, key: str) -> bool:
        return self._memory.get(key, float("-inf")) > self._clock()

    def take_sync(self, key: str, *, rate: float, burst: int, cost: int = 1) -> Decision:
        with self._lock:
            now = self._clock()
            tokens, stamp = self._state.get(key, (float(burst), now))
            tokens = min(float(burst), tokens + max(now - stamp, 0.0) * rate)
            _, tokens, decision = _decide(tokens, rate=rate, burst=burst, cost=cost)
            if len(self._state) >= self.MAX_KEYS and key not in self._state:
                self._prune(now)
            self._state[key] = (tokens, now)
            return decision

    def _prune(self, now: float) -> None:
        # Spraying addresses must not grow memory without bound: forget the oldest half.
        for k, _ in sorted(self._state.items(), key=lambda kv: kv[1][1])[: self.MAX_KEYS // 2]:
            del self._state[k]

    async def take(self, key: str, *, rate: float, burst: int, cost: int = 1) -> Decision:
        return self.take_sync(key, rate=rate, burst=burst, cost=cost)

    async def close(self) -> None:
        self._state.clear()
        self._memory.clear()


# KEYS[1] bucket; ARGV rate, burst, cost. Redis' own clock, so every process agrees.
_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1])
local ts = tonumber(b[2])
if tokens == nil then tokens = burst; ts = now end
tokens = math.min(burst, tokens + math.max(now - ts, 0) * rate)
local need = math.max(cost, 1)
local allowed = 0
if tokens >= need then allowed = 1; tokens = tokens - cost end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisBuckets:
    """Buckets shared through Redis (one atomic script per take)."""

    def __init__(self, url: str, *, prefix: str = "qmt-api:rl:", fallback: MemoryBuckets) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._script = self._redis.register_script(_LUA)
        self._prefix = prefix
        self._fallback = fallback
        self._failing = False

    async def take(self, key: str, *, rate: float, burst: int, cost: int = 1) -> Decision:
        try:
            allowed, left = await self._script(
                keys=[self._prefix + key], args=[repr(rate), burst, cost]
            )
        except Exception as exc:  # any Redis failure: keep limiting in-process
            if not self._failing:
                logger.error("rate limiter: Redis unavailable ({}), using in-process buckets", exc)
                self._failing = True
            return await self._fallback.take(key, rate=rate, burst=burst, cost=cost)
        if self._failing:
            logger.info("rate limiter: Redis is back")
            self._failing = False
        tokens = float(left)
        need = max(cost, 1)
        return Decision(
            allowed=bool(int(allowed)),
            limit=burst,
            remaining=int(tokens),
            reset_after=(burst - tokens) / rate,
            retry_after=0.0 if int(allowed) else (need - tokens) / rate,
        )

    async def remember(self, key: str, *, seconds: float) -> None:
        try:
            await self._redis.set(self._prefix + key, b"1", px=max(1, int(seconds * 1000)))
        except Exception:
            await self._fallback.remember(key, seconds=seconds)

    async def remembered(self, key: str) -> bool:
        try:
            return bool(await self._redis.exists(self._prefix + key))
        except Exception:
            return await self._fallback.remembered(key)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    """The limits of API.md, over one bucket store."""

    def __init__(
        self,
        *,
        orders_per_second: float,
        logins_per_minute: int,
        buckets: Buckets,
    ) -> None:
        self.orders_per_second = orders_per_second
        self.logins_per_minute = logins_per_minute
        self._buckets = buckets

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> RateLimiter:
        memory = MemoryBuckets(clock)
        buckets: Buckets = (
            RedisBuckets(settings.redis_url, fallback=memory) if settings.redis_url else memory
        )
        return cls(
            orders_per_second=settings.rate_limit_orders_per_second,
            logins_per_minute=settings.rate_limit_logins_per_minute,
            buckets=buckets,
        )

    @property
    def orders_burst(self) -> int:
        return max(1, math.ceil(self.orders_per_second * 2))

    async def hit_orders(self, actor: Actor) -> Decision | None:
        """Take one token for a new order or a cancel; None when the limit is off.

        Raises:
            RateLimited: the user's bucket is empty.
        """
        if self.orders_per_second <= 0:
            return None
        d = await self._buckets.take(
            f"orders:{actor.username}", rate=self.orders_per_second, burst=self.orders_burst
        )
        if not d.allowed:
            raise _limited(
                d,
                f"下单/撤单过于频繁（每秒 {self.orders_per_second:g} 次，突发 {d.limit}）"
                f" / too many orders and cancels: {self.orders_per_second:g}/s, burst {d.limit}",
            )
        return d

    def _login_buckets(
        self, username: str, client_ip: str, *, known: bool
    ) -> list[tuple[str, float, int]]:
        """(key, rate per second, burst) of each bucket a failed login spends."""
        user = username.strip().lower()[:64]
        per_s, burst = self.logins_per_minute / 60.0, self.logins_per_minute
        out = [(f"login:pair:{user}:{client_ip}", per_s, burst)]
        if client_ip:
            out.append((f"login:ip:{client_ip}", per_s, burst))
        if not known:
            ceiling = burst * LOGIN_CEILING_FACTOR
            out.append((f"login:user:{user}", per_s / LOGIN_CEILING_FACTOR, ceiling))
        return out

    async def _known(self, username: str, client_ip: str) -> bool:
        user = username.strip().lower()[:64]
        return bool(client_ip) and await self._buckets.remembered(f"login:ok:{user}:{client_ip}")

    async def check_login(self, *, username: str, client_ip: str) -> None:
        """Refuse a login attempt while this (user, address), this address, or (from an
        address the user never logged in from) the user as a whole has no failures left.

        Raises:
            RateLimited: too many failed logins.
        """
        if self.logins_per_minute <= 0:
            return
        known = await self._known(username, client_ip)
        for key, rate, burst in self._login_buckets(username, client_ip, known=known):
            d = await self._buckets.take(key, rate=rate, burst=burst, cost=0)
            if not d.allowed:
                raise _limited(
                    d,
                    f"登录失败次数过多（每分钟 {self.logins_per_minute} 次）/ too many failed "
                    f"logins ({self.logins_per_minute} per minute)",
                )

    async def record_login_failure(self, *, username: str, client_ip: str) -> None:
        """Spend one failure token in each bucket of this attempt."""
        if self.logins_per_minute <= 0:
            return
        known = await self._known(username, client_ip)
        for key, rate, burst in self._login_buckets(username, client_ip, known=known):
            await self._buckets.take(key, rate=rate, burst=burst, cost=1)

    async def record_login_success(self, *, username: str, client_ip: str) -> None:
        """Remember the address: the per-user ceiling no longer applies from it."""
        if self.logins_per_minute <= 0 or not client_ip:
            return
        user = username.strip().lower()[:64]
        await self._buckets.remember(
            f"login:ok:{user}:{client_ip}", seconds=KNOWN_ADDRESS_DAYS * 86400
        )

    async def close(self) -> None:
        await self._buckets.close()


def _limited(d: Decision, detail: str) -> RateLimited:
    retry = max(d.retry_after, 0.001)
    return RateLimited(
        f"{detail}，请 {retry:.2f} 秒后重试 / retry in {retry:.2f} s",
        retry_after=round(retry, 3),
        headers=d.headers(),
    )

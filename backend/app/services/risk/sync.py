"""Keep the kill switch and the risk rules the same in every server process.

Several processes may share one database (DESIGN.md, "Growing past one machine"). A change
made through one of them is persisted with a new version (db/repositories/settings.py);
the others take it over here:

- polling: every RISK_STATE_REFRESH_SECONDS (default 1 s) `RiskEngine.refresh()` reads the
  two settings rows in one small SELECT and reloads only what another process changed.
  It always runs, so the database alone bounds how long a process can hold stale state.
- Redis (when REDIS_URL is set): after a change, the process that made it publishes
  `{"key", "version"}` on CHANNEL; every process subscribes and refreshes at once. While
  Redis is down the subscriber retries with backoff and polling carries on alone.

Both loops log errors and keep going; `RiskEngine.check()` never waits for either.

The same channel carries user changes (`{"user": name}`): a user disabled, demoted or given
a new password in one process has their open streams re-checked in every other at once
(without Redis each stream re-checks its token every couple of seconds by itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any

from loguru import logger

from backend.app.services.risk.engine import RiskEngine

CHANNEL = "qmt-api:risk-state"
_MAX_BACKOFF = 10.0


class RiskStateSync:
    """Background refresh of one RiskEngine: `await start()` in the lifespan, `await stop()`."""

    def __init__(
        self,
        risk: RiskEngine,
        *,
        interval: float,
        redis_url: str | None = None,
        channel: str = CHANNEL,
    ) -> None:
        self._risk = risk
        self._interval = interval
        self._redis_url = redis_url
        self._channel = channel
        self._redis: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._db_failing = False
        self._redis_failing = False
        self.listening = False  # subscribed to CHANNEL right now
        self._user_listeners: list[Callable[[str], None]] = []
        self.refresh_errors = 0  # refreshes that failed (database errors), for tests and logs

    async def start(self) -> None:
        if self._redis_url:
            import redis.asyncio as aioredis

            self._redis = aioredis.from_url(
                self._redis_url,
                socket_connect_timeout=0.5,
                socket_timeout=2.0,
                health_check_interval=5,
            )
            self._risk.add_change_listener(self._publish)
            self._tasks.append(asyncio.create_task(self._listen(), name="risk-sync-redis"))
        self._tasks.append(asyncio.create_task(self._poll(), name="risk-sync-poll"))

    def add_user_listener(self, listener: Callable[[str], None]) -> None:
        """Called with the username of each user change another process announces."""
        self._user_listeners.append(listener)

    async def announce_user_change(self, username: str) -> None:
        """Tell the other processes (no-op without Redis: their streams poll)."""
        if self._redis is not None:
            await self._redis.publish(self._channel, json.dumps({"user": username}))

    def _user_note(self, data: Any) -> str | None:
        try:
            note = json.loads(data)
            return str(note["user"]) if isinstance(note, dict) and "user" in note else None
        except (ValueError, TypeError):
            return None

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.listening = False
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
            self._redis = None

    async def refresh(self) -> None:
        """One refresh; a database error is logged (once per outage) and swallowed."""
        try:
            await self._risk.refresh()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.refresh_errors += 1
            if not self._db_failing:
                self._db_failing = True
                logger.error(
                    "risk sync: cannot read the risk settings ({}: {}); keeping the rules and "
                    "kill switch held now, retrying every {:g} s",
                    type(exc).__name__,
                    exc,
                    self._interval,
                )
            return
        if self._db_failing:
            self._db_failing = False
            logger.info("risk sync: the risk settings are readable again")

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.refresh()

    async def _publish(self, key: str, version: int) -> None:
        await self._redis.publish(self._channel, json.dumps({"key": key, "version": version}))

    def _already_held(self, data: Any) -> bool:
        try:
            note = json.loads(data)
            return bool(self._risk.versions.get(str(note["key"])) == int(note["version"]))
        except (ValueError, TypeError, KeyError):
            return False  # unreadable: refresh to be safe

    async def _on_message(self, data: Any) -> None:
        user = self._user_note(data)
        if user is not None:
            for listener in self._user_listeners:
                listener(user)
        elif not self._already_held(data):
            await self.refresh()

    async def _listen(self) -> None:
        backoff = 0.5
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.subscribe(self._channel)
                while True:
                    msg = await pubsub.get_message(timeout=1.0)
                    if msg is None:
                        continue
                    if msg["type"] == "subscribe":
                        self.listening, backoff = True, 0.5
                        if self._redis_failing:
                            self._redis_failing = False
                            logger.info("risk sync: Redis is back, listening on {}", self._channel)
                        await self.refresh()  # anything published while we were away
                    elif msg["type"] == "message":
                        await self._on_message(msg["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.listening = False
                if not self._redis_failing:
                    self._redis_failing = True
                    logger.error(
                        "risk sync: Redis unavailable ({}: {}); polling every {:g} s until it "
                        "is back",
                        type(exc).__name__,
                        exc,
                        self._interval,
                    )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF)
            finally:
                self.listening = False
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

"""QMTService's recovery paths: reconnect after a lost session, and settle unanswered submits.

Reconnect (XTQUANT.md §2.1): `connect()` is one-shot and MiniQMT has no auto-reconnect, so
after `on_disconnected` (or a failed first connect) `Reconnector` builds a NEW trader with a
NEW session id, connects and subscribes it, with exponential backoff capped at
`ReconnectPolicy.cap` while the market may trade and at `closed_cap` outside (no tight retry
loop all weekend). A successful reconnect reports `connected` to the connection listeners,
which is where TradingService reconciles the day's orders and trades.

Settlement: an `order_stock_async` answered by -1, or whose `on_order_stock_async_response`
never comes, may still be a live order (the SDK reports -1 for some orders that reached the
counter). `SubmitSettler` never re-sends it: it reads the order back by its `order_remark`
(our order id) and delivers what the broker holds as an ordinary order update; only when the
broker has no such order after a few reads does it deliver an `OrderError`, and TradingService
rejects the journal row with that message.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from datetime import time as dtime
from typing import TYPE_CHECKING, Final

from loguru import logger

from backend.app.services.broker import xt_mapping as xm
from xtquant_adapter.ashare.calendar import CalendarNotAvailable, is_trading_day, to_shanghai

if TYPE_CHECKING:
    from backend.app.services.broker.service import QMTService

# MiniQMT is expected up from before the pre-open until after the close; outside this window a
# restarted or logged-out terminal is normal and retries slow down.
_ACTIVE_FROM: Final = dtime(8, 30)
_ACTIVE_UNTIL: Final = dtime(15, 30)
NOT_PLACED_ERROR_ID: Final = -1


def market_may_trade(now: datetime) -> bool:
    """True on a trading day between 08:30 and 15:30 Beijing time."""
    local = to_shanghai(now)
    try:
        trading_day = is_trading_day(local.date())
    except CalendarNotAvailable:
        trading_day = local.weekday() < 5
    return trading_day and _ACTIVE_FROM <= local.time().replace(tzinfo=None) < _ACTIVE_UNTIL


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    closed_cap: float = 300.0

    def delay(self, attempt: int, market_open: bool) -> float:
        """Seconds to wait before reconnect attempt `attempt` (0-based)."""
        limit = self.cap if market_open else self.closed_cap
        return min(limit, self.initial * self.factor ** min(attempt, 32))


class Reconnector:
    """One background task at a time that brings the broker session back."""

    def __init__(
        self,
        service: QMTService,
        *,
        policy: ReconnectPolicy | None = None,
        market_open: Callable[[datetime], bool] = market_may_trade,
    ) -> None:
        self._svc = service
        self.policy = policy or ReconnectPolicy()
        self._market_open = market_open
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.attempts = 0
        self.reconnects = 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def schedule(self) -> None:
        """Start the reconnect loop unless it already runs (call on the loop thread)."""
        if self.running or self._svc.closing:
            return
        self._wake.clear()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="qmt-reconnect")

    def retry_now(self) -> None:
        """Cut the current wait short (an operator asked, or the terminal is known back)."""
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        attempt = 0
        while not self._svc.closing:
            is_open = self._market_open(self._svc.now())
            delay = self.policy.delay(attempt, is_open)
            logger.warning(
                "MiniQMT reconnect attempt {} in {:.0f}s (market {}); last error: {}",
                attempt + 1, delay, "open" if is_open else "closed", self._svc.last_error or "-",
            )  # fmt: skip
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            self._wake.clear()
            self.attempts += 1
            if await self._svc.reconnect():
                self.reconnects += 1
                logger.info(
                    "MiniQMT reconnected after {} attempt(s): account={} session={}",
                    attempt + 1, self._svc.account_id, self._svc.session_id,
                )  # fmt: skip
                return
            attempt += 1


class SubmitSettler:
    """Watches each submitted order until the broker has answered for it."""

    def __init__(
        self,
        service: QMTService,
        *,
        response_timeout: float = 10.0,
        reads: int = 3,
        read_interval: float = 1.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._svc = service
        self.response_timeout = response_timeout
        self.reads = reads
        self.read_interval = read_interval
        self._sleep = sleep
        self._inflight: dict[int, bool] = {}  # our order id -> answered before submit returned
        self._deadlines: dict[int, float] = {}  # our order id -> monotonic deadline
        self._seqs: dict[int, int] = {}  # our order id -> seq
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._settling: set[asyncio.Task[None]] = set()

    def pending(self) -> set[int]:
        """Our order ids still waiting for the broker's answer or being read back."""
        return set(self._deadlines) | set(self._inflight)

    def begin(self, order_id: int) -> None:
        """Call just before `order_stock_async`: pushes may answer before it returns."""
        self._inflight[order_id] = False

    def submitted(self, order_id: int, seq: int) -> None:
        """`order_stock_async` returned `seq`: wait for an answer unless one came already."""
        if self._inflight.pop(order_id, False):
            return
        self._seqs[order_id] = seq
        self._deadlines[order_id] = time.monotonic() + self.response_timeout
        self._ensure_watchdog()

    def abandon(self, order_id: int) -> None:
        """The submit call failed or answered -1 and its caller settles it: stop watching."""
        self._inflight.pop(order_id, None)
        self._deadlines.pop(order_id, None)
        self._seqs.pop(order_id, None)

    def refused(self, order_id: int) -> None:
        """`order_stock_async` returned -1: read the order back now; never re-send it."""
        self._inflight.pop(order_id, None)
        self._deadlines.pop(order_id, None)
        logger.warning("order {}: submit answered -1; reading it back by order_remark", order_id)
        self._start_settle(order_id, "submit answered -1")

    def observe(self, update: xm.BrokerUpdate) -> None:
        """Every broker update passes here on the loop: anything naming the order answers it."""
        if not isinstance(update, xm.OrderResponse | xm.OrderUpdate | xm.OrderError):
            return
        order_id = update.order_id
        if order_id is None:
            return
        if order_id in self._inflight:
            self._inflight[order_id] = True
        self._deadlines.pop(order_id, None)
        self._seqs.pop(order_id, None)

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._settling) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _ensure_watchdog(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="qmt-settle")
        self._wake.set()

    async def _watch(self) -> None:
        while self._deadlines:
            self._wake.clear()
            now = time.monotonic()
            overdue = [oid for oid, deadline in self._deadlines.items() if deadline <= now]
            for order_id in overdue:
                if not self._svc.is_connected():
                    # Reconnect reconciliation reads every open order; look again after it.
                    self._deadlines[order_id] = now + self.response_timeout
                    continue
                seq = self._seqs.pop(order_id, None)
                del self._deadlines[order_id]
                logger.warning(
                    "order {}: no answer to seq {} within {}s; reading it back by order_remark",
                    order_id, seq, self.response_timeout,
                )  # fmt: skip
                self._start_settle(order_id, f"no answer to seq {seq}")
            if self._deadlines:
                wait = max(0.0, min(self._deadlines.values()) - time.monotonic())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    def _start_settle(self, order_id: int, why: str) -> None:
        task = asyncio.get_running_loop().create_task(self._settle(order_id, why))
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)

    async def _settle(self, order_id: int, why: str) -> None:
        for read in range(1, self.reads + 1):
            try:
                found = await self._svc.query_order_by_remark(order_id)
            except Exception as exc:
                logger.warning("order {}: read-back {} failed: {}", order_id, read, exc)
                found = None
            if found is not None:
                logger.warning(
                    "order {}: {}, but the broker holds it as {} (status {}); following it",
                    order_id, why, found.broker_order_id, found.broker_status,
                )  # fmt: skip
                self._svc.deliver(found)
                return
            if read < self.reads:
                await self._sleep(self.read_interval)
        msg = (
            f"MiniQMT 未受理该委托（{why}，按 order_remark 查无此单）/ not placed: {why}, and "
            f"MiniQMT holds no order with order_remark={order_id}"
        )
        logger.error("order {}: {}; rejected", order_id, msg)
        self._svc.deliver(xm.OrderError(0, 0, order_id, NOT_PLACED_ERROR_ID, msg))

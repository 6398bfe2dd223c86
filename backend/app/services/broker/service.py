"""QMTService: the one owner of the broker (one Trader session, one StockAccount, one MarketData).

One code path for both modes: the trader is xtquant's `XtQuantTrader` (live, in a
`RealTrader`) or the simulator's `SimulatedXtQuantTrader`, built by `build_broker`.

Threading (XTQUANT.md §2.2, "Read first" 1): every call into a trader session runs on that
session's own `SdkThread`, never on the event loop and never inside a callback, each with a
deadline. A missed deadline means the terminal hangs: the session is declared dead at once
(broker-bound requests get 503 BROKER_UNAVAILABLE without waiting), its trader is closed (which
frees the SDK's waiting threads) and `Reconnector` builds a fresh one until MiniQMT answers
again. xtdata calls run on a small bounded pool of their own (`market_call`).

Callbacks arrive on the trader's push thread; `bridge.Bridge` copies each record into a frozen
domain value (xt_mapping) and `_post` hops it to the loop (core/inbox.py: one wake-up per
burst), where `_deliver` updates the caches and hands it to the sink (TradingService). Pushes
of a replaced session are dropped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from loguru import logger

from backend.app.core.batching import MicroBatcher
from backend.app.core.config import Settings
from backend.app.core.errors import BrokerUnavailable, DomainError, MarketDataUnavailable
from backend.app.core.inbox import Inbox
from backend.app.domain.enums import Side
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.bridge import Bridge, Broker, BrokerFactory, build_broker
from backend.app.services.broker.calls import (
    XTDATA_HINT,
    BoundedCalls,
    CallTimedOut,
    SdkThread,
    close_off_thread,
    query_failed,
    send_all,
)
from backend.app.services.broker.reconnect import Reconnector, SubmitSettler
from backend.app.services.calendar import load_terminal_calendar
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.protocol import MarketData, Trader
from xtquant_adapter.real import SessionIds
from xtquant_adapter.sim.booklock import SimBooksLocked

T = TypeVar("T")
Sink = Callable[[xm.BrokerUpdate], None]


class QMTService:
    """Process-wide owner of the trader session; built once in lifespan."""

    def __init__(
        self, *, settings: Settings, clock: Any = None, factory: BrokerFactory = build_broker,
        call_timeout: float = 10.0, build_timeout: float = 60.0,
    ) -> None:  # fmt: skip
        self.settings = settings
        self._clock: Any = clock
        self._factory = factory
        self.call_timeout = call_timeout
        self.build_timeout = build_timeout
        self._broker: Broker | None = None
        self._sdk: SdkThread | None = None
        self._generation = 0  # the current session's number; older sessions' pushes are dropped
        self._session_ids = SessionIds(settings.miniqmt_session_id)
        self._data = BoundedCalls(
            workers=4, timeout=call_timeout,
            unavailable=lambda why: MarketDataUnavailable(f"{XTDATA_HINT} ({why})"),
        )  # fmt: skip
        # Submits queue here; each batch is one call on the session thread, in arrival order.
        # A batch that fails as a whole (timeout) fails every submit in it: none is repeated.
        self._sends: MicroBatcher[Callable[[], int], int] = MicroBatcher(
            self._send_batch, name="qmt-submit", max_batch=256, split_on_error=False
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        # Pushes on their way to the loop: one wake-up per burst (core/inbox.py).
        self._inbox: Inbox[tuple[int, xm.BrokerUpdate, float]] = Inbox(self._deliver_burst)
        self._sink: Sink | None = None
        self._connected = False
        self.last_error = ""
        self.connection_listeners: list[Callable[[bool, str], None]] = []
        self._seq_orders: dict[int, int] = {}
        self.asset: xm.AssetSnapshot | None = None
        self.positions: dict[str, xm.PositionSnapshot] = {}
        # Told how long each push waited between the broker's thread and the loop (/metrics).
        self.on_callback_lag: Callable[[float], None] | None = None
        self.closing = False
        self.session_id: int | None = None
        self.reconnector = Reconnector(
            reconnect=self.reconnect, closing=lambda: self.closing, now=self.now,
            describe=lambda: self.last_error,
        )  # fmt: skip
        self.settler = SubmitSettler(
            read_back=self.query_order_by_remark, deliver=self._deliver,
            is_connected=self.is_connected,
        )  # fmt: skip

    # --- state ------------------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        return self.settings.miniqmt_account_id

    @property
    def mode(self) -> str:
        return self.settings.qmt_mode

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise BrokerUnavailable(self._unavailable_text())
        return self._broker

    @property
    def trader(self) -> Trader:
        return self.broker.trader

    @property
    def market(self) -> MarketData:
        return self.broker.market

    def now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(SHANGHAI)

    def set_sink(self, sink: Sink) -> None:
        """Where broker updates go, called on the loop thread in push order."""
        self._sink = sink

    def is_connected(self) -> bool:
        return self._connected

    def _unavailable_text(self) -> str:
        why = f" ({self.last_error})" if self.last_error else ""
        return f"MiniQMT 未连接 / MiniQMT is not connected{why}"

    def _set_connected(self, connected: bool, detail: str) -> None:
        changed = connected != self._connected
        self._connected = connected
        if changed or not connected:
            for listener in tuple(self.connection_listeners):
                listener(connected, detail)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Capture the loop and open a session (failures are reported and retried, not
        raised; except SimBooksLocked: another process has the simulated books)."""
        self._loop = asyncio.get_running_loop()
        if not await self._open_session():
            self.reconnector.schedule()

    async def reconnect(self) -> bool:
        """Replace the session by a fresh trader (connect is one-shot); True when live."""
        await self._close_session()
        try:
            return await self._open_session()
        except SimBooksLocked as exc:
            self._failed(exc)
            return False

    async def disconnect(self) -> None:
        self.closing = True
        await self.reconnector.stop()
        await self.settler.stop()
        await self._close_session()
        self._set_connected(False, "stopped")
        self._data.shutdown()

    def _failed(self, exc: BaseException) -> None:
        self.last_error = (
            exc.detail if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
        )
        logger.error("MiniQMT connection failed: {}", self.last_error)

    async def _open_session(self) -> bool:
        session_id = self._session_ids.acquire()
        if session_id is None:
            self.last_error = "所有会话号仍在冷却 / every session id is still cooling down"
            return False
        sdk = SdkThread(timeout=self.call_timeout)
        try:
            broker = await sdk.call(
                self._factory, self.settings, self._clock, session_id, timeout=self.build_timeout
            )
        except BaseException as exc:
            sdk.close()
            self._session_ids.release(session_id)
            if isinstance(exc, SimBooksLocked | asyncio.CancelledError):
                raise
            self._failed(exc)
            self._set_connected(False, self.last_error)
            return False
        self._generation += 1
        self._broker, self._sdk, self._clock = broker, sdk, broker.clock
        self.session_id = broker.trader.session_id
        trader = broker.trader
        try:
            await sdk.call(trader.register_callback, Bridge(partial(self._post, self._generation)))
            await sdk.call(trader.start)
            rc = await sdk.call(trader.connect)
            if rc != 0:
                raise ConnectionError(f"connect() returned {rc} (session {session_id})")
            rc = await sdk.call(trader.subscribe, broker.account)
            if rc != 0:
                raise ConnectionError(f"subscribe({self.account_id}) returned {rc}")
        except Exception as exc:
            self._failed(exc)
            await self._close_session()
            self._set_connected(False, self.last_error)
            return False
        self.last_error = ""
        await self.refresh_account(broker)
        calendar = partial(self.market_call, broker.market.get_trading_calendar)
        await load_terminal_calendar(calendar, self.now().date())
        if sdk.wedged:  # the refresh found the terminal hung; the session is dead already
            return False
        self._set_connected(True, "connected")
        logger.info(
            "MiniQMT connected: mode={} account={} session={}", self.mode, self.account_id,
            session_id,
        )  # fmt: skip
        return True

    async def _close_session(self) -> None:
        broker, sdk = self._broker, self._sdk
        self._broker = self._sdk = None
        self._generation += 1
        self._seq_orders.clear()  # a new trader numbers its seqs from 1 again
        if sdk is not None:
            sdk.close()
        if broker is None:
            return
        trader = broker.trader
        if not await close_off_thread(trader.close, self.call_timeout):
            logger.warning("trader.close() of session {} did not return", trader.session_id)
        self._session_ids.release(trader.session_id)

    def _session_died(self, sdk: SdkThread, why: str) -> None:
        """A call missed its deadline: report at once, replace the session in the background."""
        if sdk is not self._sdk or self.closing:
            return
        self.last_error = why
        logger.error("MiniQMT session {} is dead: {}", self.session_id, why)
        self._set_connected(False, why)
        self.reconnector.schedule()

    # --- the thread bridges -----------------------------------------------------------------

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` on the current session's thread, with the call deadline."""
        sdk = self._sdk
        if sdk is None:
            raise BrokerUnavailable(self._unavailable_text())
        try:
            return await sdk.call(fn, *args, timeout=self.call_timeout)
        except CallTimedOut as exc:
            self._session_died(sdk, exc.detail)
            raise BrokerUnavailable(exc.detail) from None

    async def market_call(self, fn: Callable[..., T], *args: Any) -> T:
        """An xtdata (market data) call with a deadline; its failures are 503
        MARKET_DATA_UNAVAILABLE with a hint, never a 500."""
        try:
            return await self._data.call(fn, *args)
        except DomainError:
            raise
        except Exception as exc:
            # xtdata raises a bare Exception when it cannot reach its terminal (xtdata.py ~94).
            if type(exc) is Exception or isinstance(exc, OSError | RuntimeError):
                raise MarketDataUnavailable(f"{XTDATA_HINT} ({exc})") from exc
            raise

    def _post(self, generation: int, update: xm.BrokerUpdate) -> None:
        """From the push thread: hand a frozen update to the loop (none once it closed)."""
        if (loop := self._loop) is not None and not loop.is_closed():
            self._inbox.post(loop, (generation, update, time.perf_counter()))

    def _deliver_burst(self, burst: list[tuple[int, xm.BrokerUpdate, float]]) -> None:
        if self.on_callback_lag is not None:  # once per burst: its oldest push's wait
            self.on_callback_lag(time.perf_counter() - burst[0][2])
        for generation, update, _ in burst:
            if generation != self._generation:
                continue  # a replaced session's late push; reconciliation covers what it said
            try:
                self._deliver(update)
            except Exception:  # one bad push must not take the rest of its burst with it
                logger.exception("broker push {!r} could not be handled", update)

    def _deliver(self, update: xm.BrokerUpdate) -> None:
        if isinstance(update, xm.AssetSnapshot):
            self.asset = update
        elif isinstance(update, xm.PositionSnapshot):
            self.positions[update.stock_code] = update
        elif isinstance(update, xm.ConnectionChange):
            if not update.connected:
                self.last_error = update.detail
                self._set_connected(False, update.detail)
                logger.warning("MiniQMT disconnected: account={}", self.account_id)
                self.reconnector.schedule()
        elif isinstance(update, xm.OrderResponse | xm.OrderError) and update.order_id is None:
            order_id = self._seq_orders.get(update.seq)
            if order_id is not None:
                update = replace(update, order_id=order_id)
        self.settler.observe(update)
        if self._sink is not None:
            self._sink(update)

    # --- orders -----------------------------------------------------------------------------

    def _require_connected(self) -> Broker:
        if not self._connected or self._broker is None:
            raise BrokerUnavailable(self._unavailable_text())
        return self._broker

    async def submit(
        self,
        order_id: int,
        *,
        stock_code: str,
        side: Side,
        quantity: int,
        price_type: int,
        price: Decimal,
        strategy_name: str = "",
    ) -> int:
        """`order_stock_async` with our remark (`xm.order_remark`); the seq (> 0) or -1."""
        broker = self._require_connected()
        remark = xm.order_remark(order_id)

        def send() -> int:
            seq = broker.trader.order_stock_async(
                broker.account, stock_code, xm.SIDE_TO_XT[side], int(quantity), price_type,
                float(price), strategy_name, remark,
            )  # fmt: skip
            if seq > 0:
                self._seq_orders[seq] = order_id
            return int(seq)

        # The answer may arrive before order_stock_async returns; the settler expects that.
        self.settler.begin(order_id)
        try:
            seq = await self._sends.submit(send)
        except BaseException:
            self.settler.abandon(order_id)
            raise
        if seq > 0:
            self.settler.submitted(order_id, seq)
        else:
            self.settler.abandon(order_id)  # TradingService.settle_unknown reads a -1 back
        return seq

    async def _send_batch(self, sends: list[Callable[[], int]]) -> list[int | BaseException]:
        return await self._call(send_all, sends)

    async def cancel(self, broker_order_id: int) -> int:
        """`cancel_order_stock_async`; the seq (> 0) or -1."""
        b = self._require_connected()
        return int(
            await self._call(b.trader.cancel_order_stock_async, b.account, int(broker_order_id))
        )

    async def query_orders(self) -> list[xm.OrderUpdate]:
        """Every order of the account today (ours and foreign). Raises BrokerUnavailable when the
        broker did not answer with a list: a failed query is never "no orders"."""
        broker = self._require_connected()
        rows = await self._call(broker.trader.query_stock_orders, broker.account, False)
        if rows is None:
            raise query_failed("query_stock_orders")
        return [xm.order_update_from_xt(o) for o in rows]

    async def query_trades(self) -> list[xm.TradeUpdate]:
        """Every fill of the account today; raises BrokerUnavailable like `query_orders`."""
        broker = self._require_connected()
        rows = await self._call(broker.trader.query_stock_trades, broker.account)
        if rows is None:
            raise query_failed("query_stock_trades")
        return [xm.trade_update_from_xt(t) for t in rows]

    async def query_order_by_remark(self, order_id: int) -> xm.OrderUpdate | None:
        """The broker's copy of our order (matched by our remark prefix); None only when a
        successful query shows none. Raises BrokerUnavailable otherwise."""
        return next((o for o in await self.query_orders() if o.order_id == order_id), None)

    # --- account ----------------------------------------------------------------------------

    async def refresh_account(self, broker: Broker | None = None) -> None:
        """Reload the asset and position caches (of `broker` while it is being connected;
        everyone else gets a fast 503 while the session is not up, never a wait)."""
        try:
            await self.get_account_info(broker)
            await self.get_all_positions(broker)
        except Exception as exc:
            logger.warning("account refresh failed: {}", exc)

    async def get_account_info(self, broker: Broker | None = None) -> xm.AssetSnapshot:
        broker = broker or self._require_connected()
        asset = await self._call(broker.trader.query_stock_asset, broker.account)
        if asset is None:
            raise query_failed("query_stock_asset")
        self.asset = xm.asset_from_xt(asset)
        return self.asset

    async def get_all_positions(self, broker: Broker | None = None) -> list[xm.PositionSnapshot]:
        broker = broker or self._require_connected()
        rows = await self._call(broker.trader.query_stock_positions, broker.account)
        if rows is None:
            raise query_failed("query_stock_positions")
        positions = [xm.position_from_xt(p) for p in rows]
        self.positions = {p.stock_code: p for p in positions}
        return positions

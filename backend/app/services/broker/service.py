"""QMTService: the one owner of the broker (one Trader, one StockAccount, one MarketData).

Both modes share one code path: the trader is xtquant's `XtQuantTrader` (live) or the
simulator's `SimulatedXtQuantTrader`, built by `build_broker` from Settings.

Threading (XTQUANT.md §2.2): every trader call runs on this service's own worker threads,
never on the event loop and never inside a callback. Callbacks arrive on the trader's push
thread; `qmt_broker.Bridge` copies each record into a frozen domain value (xt_mapping) and
hops to the loop with `loop.call_soon_threadsafe`, where `_deliver` updates the caches and hands the
update to the sink (TradingService). The loop is captured in `start()` (called in lifespan).

Extension points for reconnect/-1 settling: `_on_disconnected` (runs on the loop after a
disconnect push) and `reconnect()`; the sink's owner reconciles after `connection` events.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from loguru import logger

from backend.app.core.batching import MicroBatcher
from backend.app.core.config import Settings
from backend.app.core.errors import BrokerUnavailable, InvalidStockCode
from backend.app.domain.enums import OrderType, Side
from backend.app.services.broker import xt_mapping as xm
from backend.app.services.broker.bridge import Bridge, Broker, BrokerFactory, build_broker
from backend.app.services.broker.reconnect import Reconnector, SubmitSettler
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.codes import InvalidStockCode as AdapterInvalidCode
from xtquant_adapter.ashare.codes import normalize_code
from xtquant_adapter.protocol import MarketData, Trader
from xtquant_adapter.sim.booklock import SimBooksLocked

T = TypeVar("T")
Sink = Callable[[xm.BrokerUpdate], None]


class QMTService:
    """Process-wide owner of the trader; built once in lifespan."""

    def __init__(
        self,
        *,
        settings: Settings,
        clock: Any = None,
        factory: BrokerFactory = build_broker,
        call_timeout: float = 30.0,
    ) -> None:
        self.settings = settings
        self._clock_arg = clock
        self._factory = factory
        self._timeout = call_timeout
        self._broker: Broker | None = None
        self._executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="qmt-call")
        # Submits queue here; one sender task hands each batch to one worker call (in order).
        self._sends: MicroBatcher[Callable[[], int], int] = MicroBatcher(
            self._send_batch, name="qmt-submit", max_batch=256, split_on_error=False
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sink: Sink | None = None
        self._connected = False
        self.last_error = ""
        self.connection_listeners: list[Callable[[bool, str], None]] = []
        self._seq_orders: dict[int, int] = {}
        self.asset: xm.AssetSnapshot | None = None
        self.positions: dict[str, xm.PositionSnapshot] = {}
        # Told how long each push waited between the broker's thread and the loop (/metrics).
        self.on_callback_lag: Callable[[float], None] | None = None
        # Recovery (LIVE, services/qmt_reconnect.py): new session after a drop, lost answers.
        self.closing = False
        self.session_id: int | None = None
        self.reconnector = Reconnector(self)
        self.settler = SubmitSettler(self)

    # --- lifecycle -------------------------------------------------------------------------

    @property
    def account_id(self) -> str:
        return self.settings.miniqmt_account_id

    @property
    def mode(self) -> str:
        return self.settings.qmt_mode

    @property
    def broker(self) -> Broker:
        if self._broker is None:
            raise BrokerUnavailable("MiniQMT 未连接 / MiniQMT is not connected")
        return self._broker

    @property
    def trader(self) -> Trader:
        return self.broker.trader

    @property
    def market(self) -> MarketData:
        return self.broker.market

    def now(self) -> datetime:
        clock = self._broker.clock if self._broker else self._clock_arg
        return clock.now() if clock is not None else datetime.now(SHANGHAI)

    def set_sink(self, sink: Sink) -> None:
        """Where broker updates go, called on the loop thread in push order."""
        self._sink = sink

    async def start(self) -> None:
        """Capture the loop, build the broker and connect (failures are reported and retried,
        not raised; except SimBooksLocked: another process has the simulated books)."""
        self._loop = asyncio.get_running_loop()
        if not await self.connect():
            self.reconnector.schedule()

    def is_connected(self) -> bool:
        return self._connected

    async def connect(self) -> bool:
        """Build (if needed), start, connect and subscribe; True when the account is live."""
        try:
            if self._broker is None:
                self._broker = await self.call(self._factory, self.settings, self._clock_arg)
            broker = self._broker
            self.session_id = getattr(broker.trader, "session_id", None)
            await self.call(broker.trader.register_callback, Bridge(self))
            await self.call(broker.trader.start)
            rc = await self.call(broker.trader.connect)
            if rc != 0:
                raise ConnectionError(f"connect() returned {rc}")
            rc = await self.call(broker.trader.subscribe, broker.account)
            if rc != 0:
                raise ConnectionError(f"subscribe({self.account_id}) returned {rc}")
        except SimBooksLocked:
            # Another process trades these books: retrying cannot help, start-up must fail.
            # (reconnect() builds its trader itself and keeps its own handling.)
            raise
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            logger.error("MiniQMT connection failed: {}", self.last_error)
            self._set_connected(False, self.last_error)
            return False
        self.last_error = ""
        await self.refresh_account()
        self._set_connected(True, "connected")
        logger.info("MiniQMT connected: mode={} account={}", self.mode, self.account_id)
        return True

    async def disconnect(self) -> None:
        self.closing = True
        await self.reconnector.stop()
        await self.settler.stop()
        broker, self._broker = self._broker, None
        if broker is not None:
            # The simulator's close() also releases its books file; the SDK has only stop().
            stop = getattr(broker.trader, "close", None) or broker.trader.stop
            try:
                await self.call(stop)
            except Exception as exc:
                logger.warning("trader.stop failed: {}", exc)
        self._set_connected(False, "stopped")
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _set_connected(self, connected: bool, detail: str) -> None:
        changed = connected != self._connected
        self._connected = connected
        if changed or not connected:
            for listener in tuple(self.connection_listeners):
                listener(connected, detail)

    # --- the thread bridge ------------------------------------------------------------------

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        fut = loop.run_in_executor(self._executor, partial(fn, *args, **kwargs))
        try:
            return await asyncio.wait_for(fut, self._timeout)
        except TimeoutError as exc:
            raise BrokerUnavailable(
                f"MiniQMT 无响应（{self._timeout}s）/ MiniQMT did not answer within "
                f"{self._timeout}s"
            ) from exc

    def _post(self, update: xm.BrokerUpdate) -> None:
        """From the push thread: hand a frozen update to the loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        # The loop may close while we shut down; a push then has nowhere to go.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._deliver_timed, update, time.perf_counter())

    def _deliver_timed(self, update: xm.BrokerUpdate, posted: float) -> None:
        if self.on_callback_lag is not None:
            self.on_callback_lag(time.perf_counter() - posted)
        self._deliver(update)

    def _deliver(self, update: xm.BrokerUpdate) -> None:
        if isinstance(update, xm.AssetSnapshot):
            self.asset = update
        elif isinstance(update, xm.PositionSnapshot):
            self.positions[update.stock_code] = update
        elif isinstance(update, xm.ConnectionChange):
            if not update.connected:
                self._set_connected(False, update.detail)
                self._on_disconnected()
        elif isinstance(update, xm.OrderResponse | xm.OrderError) and update.order_id is None:
            order_id = self._seq_orders.get(update.seq)
            if order_id is not None:
                update = _with_order_id(update, order_id)
        self.settler.observe(update)
        if self._sink is not None:
            self._sink(update)

    def _on_disconnected(self) -> None:
        """Hook for reconnect-with-backoff (LIVE); the state is already reported."""
        logger.warning("MiniQMT disconnected: account={}", self.account_id)
        self.reconnector.schedule()

    def deliver(self, update: xm.BrokerUpdate) -> None:
        """Hand an update to the sink as if pushed (on the loop; used by settlement)."""
        self._deliver(update)

    async def reconnect(self) -> bool:
        """Replace the dead trader by a new one on a new session id (connect is one-shot)."""
        old, self._broker = self._broker, None
        if old is not None:
            stop = getattr(old.trader, "close", None) or old.trader.stop
            try:
                await self.call(stop)
            except Exception as exc:
                logger.warning("stopping the old trader failed: {}", exc)
        self._seq_orders.clear()  # a new trader numbers its seqs from 1 again
        fresh = self.settings.model_copy(update={"miniqmt_session_id": None})
        try:
            self._broker = await self.call(self._factory, fresh, self._clock_arg)
        except Exception as exc:
            self.last_error = f"{type(exc).__name__}: {exc}"
            logger.error("MiniQMT connection failed: {}", self.last_error)
            return False
        return await self.connect()

    # --- orders -----------------------------------------------------------------------------

    def _require_connected(self) -> Broker:
        if not self._connected or self._broker is None:
            raise BrokerUnavailable(
                "MiniQMT 未连接 / MiniQMT is not connected"
                + (f" ({self.last_error})" if self.last_error else "")
            )
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
        """`order_stock_async` with our id in `order_remark`; the seq (> 0) or -1."""
        broker = self._require_connected()

        def send() -> int:
            seq = broker.trader.order_stock_async(
                broker.account, stock_code, xm.SIDE_TO_XT[side], int(quantity), price_type,
                float(price), strategy_name, str(order_id),
            )  # fmt: skip
            if seq > 0:
                self._seq_orders[seq] = order_id
            return int(seq)

        # The answer may arrive before order_stock_async returns; the settler expects that.
        self.settler.begin(order_id)
        try:
            seq = await self._send(send)
        except BaseException:
            self.settler.abandon(order_id)
            raise
        if seq > 0:
            self.settler.submitted(order_id, seq)
        else:
            self.settler.abandon(order_id)  # TradingService.settle_unknown reads a -1 back
        return seq

    async def _send(self, send: Callable[[], int]) -> int:
        """Run `send` on a broker worker thread, batched with the submits queued meanwhile:
        one thread hand-off per batch instead of one per order, in arrival order. A batch
        that fails as a whole (timeout) fails every submit in it: none is ever repeated."""
        return await self._sends.submit(send)

    async def _send_batch(self, sends: list[Callable[[], int]]) -> list[int | BaseException]:
        return await self.call(_send_all, sends)

    async def cancel(self, broker_order_id: int) -> int:
        """`cancel_order_stock_async`; the seq (> 0) or -1."""
        broker = self._require_connected()
        return int(
            await self.call(broker.trader.cancel_order_stock_async, broker.account,
                             int(broker_order_id))
        )  # fmt: skip

    async def query_orders(self) -> list[xm.OrderUpdate]:
        broker = self._require_connected()
        rows = await self.call(broker.trader.query_stock_orders, broker.account, False)
        return [xm.order_update_from_xt(o) for o in rows or []]

    async def query_trades(self) -> list[xm.TradeUpdate]:
        broker = self._require_connected()
        rows = await self.call(broker.trader.query_stock_trades, broker.account)
        return [xm.trade_update_from_xt(t) for t in rows or []]

    async def query_order_by_remark(self, order_id: int) -> xm.OrderUpdate | None:
        """The broker's copy of our order (matched by `order_remark`), or None."""
        for o in await self.query_orders():
            if o.order_id == order_id:
                return o
        return None

    # --- account (the seed's names) -----------------------------------------------------------

    async def refresh_account(self) -> None:
        """Reload the asset and position caches from the broker."""
        try:
            self.asset = await self.get_account_info()
            self.positions = {p.stock_code: p for p in await self.get_all_positions()}
        except Exception as exc:
            logger.warning("account refresh failed: {}", exc)

    async def get_account_info(self) -> xm.AssetSnapshot:
        broker = self._require_connected() if self._connected else self.broker
        asset = await self.call(broker.trader.query_stock_asset, broker.account)
        if asset is None:
            raise BrokerUnavailable("MiniQMT 未返回资产 / MiniQMT returned no asset")
        self.asset = xm.asset_from_xt(asset)
        return self.asset

    async def get_all_positions(self) -> list[xm.PositionSnapshot]:
        broker = self.broker
        rows = await self.call(broker.trader.query_stock_positions, broker.account)
        positions = [xm.position_from_xt(p) for p in rows or []]
        self.positions = {p.stock_code: p for p in positions}
        return positions

    @staticmethod
    def _format_stock_code(stock_code: str) -> str:
        """`600519` / `SH600519` / `600519.sh` -> `600519.SH` (raises InvalidStockCode)."""
        try:
            return normalize_code(stock_code)
        except AdapterInvalidCode as exc:
            raise InvalidStockCode(str(exc)) from exc

    async def _order_sync(
        self, side: Side, stock_code: str, quantity: int, price: Decimal, order_type: OrderType,
        strategy_name: str, remark: str,
    ) -> int:  # fmt: skip
        broker = self._require_connected()
        code = self._format_stock_code(stock_code)
        price_type = xm.price_type_for(code, order_type)
        return int(
            await self.call(
                broker.trader.order_stock, broker.account, code, xm.SIDE_TO_XT[side],
                int(quantity), price_type, float(price), strategy_name, remark,
            )
        )  # fmt: skip

    async def buy_stock(
        self, stock_code: str, quantity: int, price: Decimal, *,
        order_type: OrderType = OrderType.LIMIT, strategy_name: str = "", remark: str = "",
    ) -> int:  # fmt: skip
        """Direct broker buy (no journal, no risk): the broker order id, or -1.

        Use TradingService.place_order for anything users do; this is the seed's raw call.
        """
        return await self._order_sync(
            Side.BUY, stock_code, quantity, price, order_type, strategy_name, remark
        )

    async def sell_stock(
        self, stock_code: str, quantity: int, price: Decimal, *,
        order_type: OrderType = OrderType.LIMIT, strategy_name: str = "", remark: str = "",
    ) -> int:  # fmt: skip
        """Direct broker sell (no journal, no risk): the broker order id, or -1."""
        return await self._order_sync(
            Side.SELL, stock_code, quantity, price, order_type, strategy_name, remark
        )


def _send_all(sends: list[Callable[[], int]]) -> list[int | BaseException]:
    """On a broker worker thread: each submit in turn; one failing leaves the others alone."""
    out: list[int | BaseException] = []
    for send in sends:
        try:
            out.append(send())
        except Exception as exc:
            out.append(exc)
    return out


def _with_order_id(update: Any, order_id: int) -> Any:
    from dataclasses import replace

    return replace(update, order_id=order_id)

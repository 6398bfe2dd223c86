"""The broker behind QMTService: how it is built (simulated or live) and the callback bridge
that copies each push on the trader's thread and hops it to the loop (`QMTService._post`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from loguru import logger

from backend.app.core.config import Settings
from backend.app.services.broker import xt_mapping as xm
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.protocol import AccountLike, MarketData, Trader

if TYPE_CHECKING:
    from backend.app.services.broker.service import QMTService


class Clock:
    """Anything with `now() -> aware datetime` (the simulator's SystemClock / ManualClock)."""

    def now(self) -> datetime:
        return datetime.now(SHANGHAI)


@dataclass(slots=True)
class Broker:
    trader: Trader
    market: MarketData
    account: AccountLike
    clock: Any


BrokerFactory = Callable[[Settings, Any], Broker]

_session_counter = itertools.count(1)


def _fees(settings: Settings) -> Any:
    from xtquant_adapter.ashare.fees import FeeSchedule

    return FeeSchedule(
        commission_rate=settings.sim_commission_rate, commission_min=settings.sim_commission_min
    )


def build_broker(settings: Settings, clock: Any = None) -> Broker:
    """Simulated -> SimulatedXtQuantTrader on `data_dir`; live -> xtquant_adapter.real."""
    if settings.is_simulated:
        from xtquant_adapter.sim import SimConfig, SimulatedXtQuantTrader, SystemClock
        from xtquant_adapter.xttype import StockAccount

        config = SimConfig(
            account_id=settings.miniqmt_account_id,
            initial_cash=settings.sim_initial_cash,
            initial_positions=dict(settings.sim_initial_positions),
            enforce_trading_hours=settings.sim_enforce_trading_hours,
            seed=settings.sim_seed,
            fees=_fees(settings),
        )
        clock = clock or SystemClock()
        session = settings.miniqmt_session_id or int(time.time()) % 1_000_000
        trader = SimulatedXtQuantTrader(
            str(settings.data_dir / "sim"), session, config=config, clock=clock
        )
        return Broker(trader, trader.market, StockAccount(settings.miniqmt_account_id), clock)
    from xtquant_adapter import real

    ids = real.SessionIds(settings.miniqmt_session_id)
    live = real.build_trader(settings.miniqmt_userdata_path or "", ids.next())
    return Broker(  # a test's ManualClock stands in for wall time (trading-hours checks)
        live,
        real.RealMarketData(),
        real.make_account(settings.miniqmt_account_id),
        clock or Clock(),
    )


class Bridge:
    """The TraderCallback: copy on the push thread, then hop to the loop. Never blocks."""

    def __init__(self, service: QMTService) -> None:
        self._svc = service

    def _hop(self, convert: Callable[[Any], xm.BrokerUpdate], record: Any) -> None:
        try:
            update = convert(record)
        except Exception:
            logger.exception("could not copy a broker push {!r}", record)
            return
        self._svc._post(update)

    def on_connected(self) -> None:
        self._svc._post(xm.ConnectionChange(True, "connected"))

    def on_disconnected(self) -> None:
        self._svc._post(xm.ConnectionChange(False, "MiniQMT disconnected"))

    def on_account_status(self, status: Any) -> None:
        logger.info("account status {} = {}", status.account_id, status.status)

    def on_stock_asset(self, asset: Any) -> None:
        self._hop(xm.asset_from_xt, asset)

    def on_stock_order(self, order: Any) -> None:
        self._hop(xm.order_update_from_xt, order)

    def on_stock_trade(self, trade: Any) -> None:
        self._hop(xm.trade_update_from_xt, trade)

    def on_stock_position(self, position: Any) -> None:
        self._hop(xm.position_from_xt, position)

    def on_order_error(self, order_error: Any) -> None:
        self._hop(xm.order_error_from_xt, order_error)

    def on_cancel_error(self, cancel_error: Any) -> None:
        self._hop(xm.cancel_error_from_xt, cancel_error)

    def on_order_stock_async_response(self, response: Any) -> None:
        self._hop(xm.order_response_from_xt, response)

    def on_cancel_order_stock_async_response(self, response: Any) -> None:
        self._hop(xm.cancel_response_from_xt, response)

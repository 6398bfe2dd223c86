"""The broker behind QMTService: how it is built (simulated or live) and the callback bridge
that copies each push on the trader's thread and hands it to a `post` callable (which hops to
the loop). Neither knows QMTService.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loguru import logger

from backend.app.core.config import Settings
from backend.app.services.broker import xt_mapping as xm
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.protocol import AccountLike, MarketData, Trader


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


# (settings, clock or None, session id) -> a built, not yet started broker.
BrokerFactory = Callable[[Settings, Any, int], Broker]


def _fees(settings: Settings) -> Any:
    from xtquant_adapter.ashare.fees import FeeSchedule

    return FeeSchedule(
        commission_rate=settings.sim_commission_rate, commission_min=settings.sim_commission_min
    )


def build_broker(settings: Settings, clock: Any, session_id: int) -> Broker:
    """Simulated -> SimulatedXtQuantTrader on `data_dir`; live -> xtquant_adapter.real, on the
    MiniQMT session `session_id` with a `MINIQMT_ACCOUNT_TYPE` account."""
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
        trader = SimulatedXtQuantTrader(
            str(settings.data_dir / "sim"), session_id, config=config, clock=clock
        )
        return Broker(trader, trader.market, StockAccount(settings.miniqmt_account_id), clock)
    from xtquant_adapter import real

    live = real.build_trader(settings.miniqmt_userdata_path or "", session_id)
    try:
        account = real.make_account(settings.miniqmt_account_id, settings.miniqmt_account_type)
        market = real.RealMarketData()
    except BaseException:
        live.close()
        raise
    # A test's ManualClock stands in for wall time (trading-hours checks).
    return Broker(live, market, account, clock or Clock())


class Bridge:
    """The TraderCallback of ONE session: copy on the push thread, then `post`. Never blocks.

    `post(update)` must be thread-safe (QMTService's hops to the loop). Pushes of a session the
    owner has already replaced are dropped by the owner, which knows the current session.
    """

    def __init__(self, post: Callable[[xm.BrokerUpdate], None]) -> None:
        self._post = post

    def _hop(self, convert: Callable[[Any], xm.BrokerUpdate], record: Any) -> None:
        try:
            update = convert(record)
        except Exception:
            logger.exception("could not copy a broker push {!r}", record)
            return
        self._post(update)

    def on_connected(self) -> None:
        self._post(xm.ConnectionChange(True, "connected"))

    def on_disconnected(self) -> None:
        self._post(xm.ConnectionChange(False, "MiniQMT disconnected"))

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

"""Trade mode: the script runs on the live bar clock and orders through TradingService.

Every order is an ordinary journal order (risk rules, audit, events) placed in the name of the
user who started the run and tagged with the strategy's name. A refusal (risk rule, funds,
T+1, kill switch, market closed) is written to the run log; the script goes on.

The bar clock polls the market every `poll_interval` seconds: `handlebar` runs once at start
on the latest bar, then once for every new bar of the main code (the bar that just opened,
as in QMT's real-time mode where the last bar is the forming one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final

from backend.app.core.errors import DomainError
from backend.app.domain.actor import Actor
from backend.app.domain.enums import OrderStatus, OrderType, Side
from backend.app.models.orders import OrderCreate, OrderRead
from backend.app.services.strategies.guard import Guard
from backend.app.services.strategies.hooks import ScriptHooks
from backend.app.services.strategies.live_market import LiveMarket, quote_price
from backend.app.services.strategies.loader import load
from backend.app.services.strategies.paints import Paints
from backend.app.services.strategies.qmt_api import OrderIntent, QmtApi
from backend.app.services.strategies.records import (
    FLAG_BUY,
    FLAG_SELL,
    AccountRecord,
    DealRecord,
    OrderRecord,
    PositionRecord,
    split_code,
)
from backend.app.services.strategies.runlog import RunLog
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.rules import round_to_tick
from xtquant_adapter.protocol import MarketData

if TYPE_CHECKING:  # pandas (~60 MB) loads with the first strategy run, not at start-up
    pass

CALL_TIMEOUT: Final = 15.0
_XT_STATUS: Final = {
    OrderStatus.PENDING: xc.ORDER_WAIT_REPORTING,
    OrderStatus.REPORTED: xc.ORDER_REPORTED,
    OrderStatus.PARTIALLY_FILLED: xc.ORDER_PART_SUCC,
    OrderStatus.FILLED: xc.ORDER_SUCCEEDED,
    OrderStatus.PENDING_CANCEL: xc.ORDER_REPORTED_CANCEL,
    OrderStatus.CANCELLED: xc.ORDER_CANCELED,
    OrderStatus.PARTIALLY_CANCELLED: xc.ORDER_PART_CANCEL,
    OrderStatus.REJECTED: xc.ORDER_JUNK,
}


@dataclass(slots=True)
class TradeStats:
    bars: int = 0
    orders: int = 0
    refused: int = 0


class TradeBroker:
    """`qmt_api.Broker` over TradingService; runs on the run's thread, awaits on the app loop."""

    def __init__(
        self,
        *,
        trading: Any,
        loop: asyncio.AbstractEventLoop,
        market: MarketData,
        actor: Actor,
        account_id: str,
        run_id: int,
        log: RunLog,
        stats: TradeStats,
    ) -> None:
        self.trading, self.loop, self.market = trading, loop, market
        self.actor, self.account_id, self.run_id = actor, account_id, run_id
        self.log, self.stats = log, stats
        self._seq = 0
        self._seen_deals: set[str] = set()
        self._deals_primed = False
        # QMT's order_callback/deal_callback/account_callback, fed by the runner.
        self.on_event: Callable[[str, Any], None] = lambda _kind, _record: None

    def poll_deals(self) -> None:
        """Push deals that appeared since the last bar (deal_callback, account_callback)."""
        new = [d for d in self.deals() if d.m_strTradeID not in self._seen_deals]
        self._seen_deals.update(d.m_strTradeID for d in new)
        if not self._deals_primed:
            self._deals_primed = True  # deals from before the run are not this run's pushes
            return
        for deal in new:
            self.on_event("deal", deal)
        if new:
            self.on_event("account", self.accounts()[0])

    def _await(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(CALL_TIMEOUT)

    def last_price(self, code: str) -> float | None:
        tick = self.market.get_full_tick([code]).get(code)
        price = float(tick.get("lastPrice") or 0) if tick else 0.0
        return price if price > 0 else None

    def submit(self, intent: OrderIntent) -> str | None:
        if intent.price_type == xc.FIX_PRICE:
            price = Decimal(str(intent.price))
        else:
            # Every other prType becomes a limit at the price it names, read from the tick
            # (as QMT's counter does for 最新价/对手价/盘口价; market types at the limit price).
            tick = dict(self.market.get_full_tick([intent.code]).get(intent.code) or {})
            if intent.price_type == 12 or intent.price_type >= 42:
                detail = self.market.get_instrument_detail(intent.code) or {}
                tick["upStopPrice"] = detail.get("UpStopPrice")
                tick["downStopPrice"] = detail.get("DownStopPrice")
            quoted = quote_price(intent.price_type, intent.side, tick)
            if quoted is None:
                self._refused(intent, f"prType {intent.price_type} 无可用报价 / no quote")
                return None
            price = round_to_tick(intent.code, Decimal(str(quoted)))
        self._seq += 1
        request = OrderCreate(
            stock_code=intent.code,
            side=Side(intent.side),
            quantity=intent.quantity,
            price=price,
            order_type=OrderType.LIMIT,
            client_order_id=f"stg{self.run_id}-{self._seq}",
            strategy_name=intent.strategy_name[:64],
            remark=intent.remark[:255],
        )
        try:
            order, _ = self._await(self.trading.place_order(request=request, actor=self.actor))
        except DomainError as exc:
            rule = exc.extra.get("rule")
            why = f"{exc.code}{f' ({rule})' if rule else ''}: {exc.detail}"
            self._refused(intent, why)
            return None
        self.stats.orders += 1
        self.log.write(
            f"委托 / order {order.order_id}: {intent.side} {intent.quantity} {intent.code}"
            f" @ {price} -> {order.status.value}"
        )
        self.on_event("order", _order_record(order, self.account_id))
        return str(order.order_id)

    def _refused(self, intent: OrderIntent, why: str) -> None:
        self.stats.refused += 1
        self.log.write(
            f"委托被拒 / order refused: {intent.side} {intent.quantity} {intent.code} — {why}"
        )

    def cancel(self, order_id: str) -> bool:
        if not order_id.isdigit():
            return False
        try:
            self._await(self.trading.cancel_order(order_id=int(order_id), actor=self.actor))
        except DomainError as exc:
            self.log.write(f"撤单失败 / cancel of {order_id} refused: {exc.code}: {exc.detail}")
            return False
        return True

    def positions(self) -> list[PositionRecord]:
        page = self._await(self.trading.get_positions())
        out = []
        for p in page.items:
            digits, exchange = split_code(p.stock_code)
            cost = float(p.avg_price) * p.volume
            out.append(
                PositionRecord(
                    m_strAccountID=self.account_id,
                    m_strInstrumentID=digits,
                    m_strExchangeID=exchange,
                    m_strInstrumentName=p.stock_name,
                    m_nVolume=p.volume,
                    m_nCanUseVolume=p.can_use_volume,
                    m_nFrozenVolume=p.frozen_volume,
                    m_nYesterdayVolume=p.can_use_volume + p.frozen_volume,
                    m_nOnRoadVolume=0,
                    m_dOpenPrice=float(p.avg_price),
                    m_dMarketValue=float(p.market_value),
                    m_dLastPrice=float(p.last_price),
                    m_dPositionProfit=float(p.profit_loss),
                    m_dFloatProfit=float(p.profit_loss),
                    m_dProfitRate=float(p.profit_loss) / cost if cost else 0.0,
                )
            )
        return out

    def accounts(self) -> list[AccountRecord]:
        info = self._await(self.trading.get_account_info())
        return [
            AccountRecord(
                m_strAccountID=self.account_id,
                m_dAvailable=float(info.available_cash),
                m_dBalance=float(info.total_value),
                m_dAssetBalance=float(info.total_value),
                m_dInstrumentValue=float(info.market_value),
                m_dFrozenCash=float(info.frozen_cash),
                m_dFetchBalance=float(info.available_cash),
                m_dCommission=0.0,
                m_dPositionProfit=float(info.total_profit_loss),
            )
        ]

    def _today(self) -> datetime:
        return datetime.combine(datetime.now(SHANGHAI).date(), time(0), SHANGHAI)

    def _orders_today(self) -> list[OrderRead]:
        page = self._await(self.trading.list_orders(since=self._today(), limit=500))
        return list(page.items)

    def orders(self) -> list[OrderRecord]:
        return [_order_record(o, self.account_id) for o in reversed(self._orders_today())]

    def deals(self) -> list[DealRecord]:
        by_id = {o.order_id: o for o in self._orders_today()}
        page = self._await(self.trading.list_trades(since=self._today(), limit=500))
        out = []
        for t in reversed(page.items):
            order = by_id.get(t.order_id) if t.order_id is not None else None
            digits, exchange = split_code(t.stock_code)
            flag = FLAG_BUY if t.side is Side.BUY else FLAG_SELL
            when = t.traded_at.astimezone(SHANGHAI)
            out.append(
                DealRecord(
                    m_strAccountID=self.account_id,
                    m_strTradeID=t.trade_id,
                    m_strOrderSysID=str(t.order_id or ""),
                    m_strInstrumentID=digits,
                    m_strExchangeID=exchange,
                    m_strInstrumentName=order.stock_name if order else "",
                    m_nOffsetFlag=flag,
                    m_nDirection=flag,
                    m_strOptName="限价买入" if flag == FLAG_BUY else "限价卖出",
                    m_dPrice=float(t.price),
                    m_nVolume=t.quantity,
                    m_dTradeAmount=float(t.amount),
                    m_dComssion=float(t.commission),
                    m_strTradeDate=when.strftime("%Y%m%d"),
                    m_strTradeTime=when.strftime("%H%M%S"),
                    m_strRemark=order.remark if order else "",
                    m_strStrategyName=order.strategy_name if order else "",
                )
            )
        return out


def _order_record(o: OrderRead, account_id: str) -> OrderRecord:
    digits, exchange = split_code(o.stock_code)
    flag = FLAG_BUY if o.side is Side.BUY else FLAG_SELL
    when = o.created_at.astimezone(SHANGHAI)
    filled = o.filled_quantity
    avg = float(o.avg_fill_price or 0)
    return OrderRecord(
        m_strAccountID=account_id,
        m_strOrderSysID=str(o.order_id),
        m_strInstrumentID=digits,
        m_strExchangeID=exchange,
        m_strInstrumentName=o.stock_name,
        m_nOffsetFlag=flag,
        m_nDirection=flag,
        m_strOptName="限价买入" if flag == FLAG_BUY else "限价卖出",
        m_nOrderPriceType=xc.FIX_PRICE if o.order_type is OrderType.LIMIT else xc.LATEST_PRICE,
        m_dLimitPrice=float(o.price or 0),
        m_nVolumeTotalOriginal=o.quantity,
        m_nVolumeTraded=filled,
        m_nVolumeTotal=o.quantity - filled,
        m_dTradedPrice=avg,
        m_dTradeAmount=avg * filled,
        m_nOrderStatus=o.broker_status if o.broker_status is not None else _XT_STATUS[o.status],
        m_strErrorMsg=o.status_msg,
        m_strInsertDate=when.strftime("%Y%m%d"),
        m_strInsertTime=when.strftime("%H%M%S"),
        m_strRemark=o.remark,
        m_strStrategyName=o.strategy_name,
    )


@dataclass(slots=True)
class TradeSpec:
    name: str
    source: str
    filename: str
    codes: list[str]
    period: str
    params: dict[str, Any]
    poll_interval: float


def run_trade(
    spec: TradeSpec,
    guard: Guard,
    log: RunLog,
    broker: TradeBroker,
    market: MarketData,
    paints: Paints | None = None,
) -> None:
    """Run until stopped: `init` once, then `handlebar` per new bar of the main code."""
    live = LiveMarket(market, spec.codes[0], spec.period)
    log.clock = lambda: datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    api = QmtApi(broker=broker, guard=guard, log=log, strategy_name=spec.name, sector=live.sector)
    from backend.app.services.strategies.context import ContextInfo  # brings pandas

    ctx = ContextInfo(
        market=live,
        guard=guard,
        stock_code=spec.codes[0],
        period=spec.period,
        capital=0.0,
        params=spec.params,
        universe=spec.codes,
        strategy_name=spec.name,
        account_id=broker.account_id,
        backtest=False,
        log=log.write,
        paints=paints,
    )
    script_globals = {**api.globals(), "ContextInfo": ctx}
    loaded = guard.call(
        "module", load, spec.source, spec.filename, spec.name, script_globals, spec.params
    )
    hooks = ScriptHooks(loaded, ctx, guard)
    broker.on_event = hooks.emit
    init, handlebar = loaded.entry("init"), loaded.entry("handlebar")
    ctx.capital = broker.accounts()[0].m_dBalance
    if init is not None:
        live.refresh()
        guard.call("init", init, ctx)
    hooks.after_init()
    last_seen: int | None = None
    while not guard.stopping:
        newest = live.refresh()
        if newest is not None and newest != last_seen:
            last_seen = newest
            ctx.barpos = live.bar_count() - 1
            broker.stats.bars += 1
            if handlebar is not None:
                guard.call("handlebar", handlebar, ctx)
            broker.poll_deals()
            hooks.after_bar()
        guard.stop_event.wait(spec.poll_interval)
    if guard.abort_reason is None:
        hooks.stop()

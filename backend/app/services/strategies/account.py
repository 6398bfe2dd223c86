"""The backtest's own simulated account: fills at the bar close under the A-share rules.

Fill model (docs/strategy_guide.md): an order placed during bar *t* is decided at once
against bar *t* — never against a later bar. It follows QMT's backtest matching rule (指定
价格在当前K线高低点之间的按指定价格撮合，超过高低点的按收盘价撮合；委托数量大于可用数量时按
可用数量撮合):

* fixed-price (prType 11) orders whose limit lies inside the bar's [low, high] fill at the
  limit; a buy above the high (sell below the low) fills at the close *P*; a buy below the
  low (sell above the high) was never reached and is cancelled (QMT fills even those at the
  close; we do not fill a limit order at a worse price than its limit);
* every other prType (latest, 对手价 14, 盘口价 0-10, 涨跌停价 12, 挂单价 13, market types)
  fills at *P*: bars carry no order book;
* a sell larger than the sellable quantity fills the sellable quantity;
* no resting orders, no partial fills, no volume cap;
* refused like the exchange/counter would: lots (100, STAR >= 200 step 1, odd-lot sells only
  as the whole remainder), tick multiples, limit prices outside the day's band from the
  previous close, buys when P is at limit-up, sells when P is at limit-down, sells beyond the
  T+1 sellable quantity, buys whose value plus fees exceed the cash;
* fees from `ashare.fees` (commission with its per-order minimum, stamp duty on sells,
  transfer fee) are taken from cash at the fill; money is `Decimal`, rounded to the fen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from backend.app.services.strategies.bars import local_dt
from backend.app.services.strategies.qmt_api import OrderIntent, RunLog
from backend.app.services.strategies.records import (
    FLAG_BUY,
    FLAG_SELL,
    AccountRecord,
    DealRecord,
    OrderRecord,
    PositionRecord,
    split_code,
)
from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.codes import board_of, is_tradable_board
from xtquant_adapter.ashare.fees import FeeSchedule, fen, order_fees
from xtquant_adapter.ashare.rules import (
    check_quantity,
    is_t0,
    is_tick_multiple,
    limit_prices,
    round_to_tick,
)


class PriceSource(Protocol):
    """The backtest market as the account sees it: the current bar of each code."""

    def now(self) -> int: ...
    def close(self, code: str) -> float | None: ...  # latest known close (valuation)
    def fill_close(self, code: str) -> float | None: ...  # close of a bar starting now
    def fill_range(self, code: str) -> tuple[float, float] | None: ...  # that bar's low, high
    def prev_close(self, code: str) -> float | None: ...
    def instrument_name(self, code: str) -> str: ...
    def is_st(self, code: str) -> bool: ...


@dataclass(slots=True)
class _Position:
    volume: int = 0
    can_use: int = 0
    yesterday: int = 0
    cost: Decimal = Decimal(0)  # money paid for the shares held, fees included
    trip_flow: Decimal = Decimal(0)  # cash in - cash out since the position opened
    trip_opened: int = 0


@dataclass(slots=True)
class Ledger:
    """What the result reports besides the equity curve."""

    trades: list[dict[str, Any]] = field(default_factory=list)
    round_trips: list[dict[str, Any]] = field(default_factory=list)
    fees: Decimal = Decimal(0)


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BacktestAccount:
    """Implements `qmt_api.Broker` for a backtest; never touches the trading account."""

    def __init__(
        self,
        *,
        market: PriceSource,
        cash: Decimal,
        fees: FeeSchedule,
        log: RunLog,
        account_id: str = "BACKTEST",
    ) -> None:
        self.account_id = account_id
        self.market = market
        self.initial_cash = cash
        self.cash = cash
        self.fees = fees
        self.log = log
        self.ledger = Ledger()
        self._positions: dict[str, _Position] = {}
        self._orders: list[OrderRecord] = []
        self._deals: list[DealRecord] = []
        self._day: date | None = None
        # QMT's order_callback/deal_callback/account_callback, fed by the runner.
        self.on_event: Callable[[str, Any], None] = lambda _kind, _record: None

    def reset_cash(self, cash: Decimal) -> bool:
        """A script's `C.capital = ...` in init sets the backtest's capital (before trading)."""
        if self._orders:
            return False
        self.initial_cash = self.cash = cash
        return True

    # --- the bar clock --------------------------------------------------------------------

    def roll_to(self, day: date) -> None:
        """Start of trading day `day`: yesterday's buys become sellable (T+1)."""
        if day == self._day:
            return
        self._day = day
        for pos in self._positions.values():
            pos.can_use = pos.volume
            pos.yesterday = pos.volume

    def equity(self) -> Decimal:
        value = self.cash
        for code, pos in self._positions.items():
            if pos.volume:
                value += Decimal(str(self.market.close(code) or 0)) * pos.volume
        return value

    # --- Broker ---------------------------------------------------------------------------

    def last_price(self, code: str) -> float | None:
        return self.market.fill_close(code)

    def submit(self, intent: OrderIntent) -> str | None:
        can_use = self._positions.get(intent.code, _Position()).can_use
        if intent.side == "sell" and 0 < can_use < intent.quantity:
            self.log.write(
                f"按可用数量撮合 / sell {intent.quantity} {intent.code} reduced to the "
                f"sellable {can_use}"
            )
            intent = replace(intent, quantity=can_use)
        order = self._new_order(intent)
        try:
            price = self._fill_price(intent)
            self._fill(intent, order, price)
        except _Rejected as exc:
            order.m_nOrderStatus = exc.status
            order.m_strErrorMsg = str(exc)
            verb = "未成交已撤" if exc.status == xc.ORDER_CANCELED else "废单"
            self.log.write(
                f"{verb} / {'cancelled' if exc.status == xc.ORDER_CANCELED else 'rejected'}: "
                f"{intent.side} {intent.quantity} {intent.code} — {exc}"
            )
            self.on_event("order", order)
            return order.m_strOrderSysID if exc.status == xc.ORDER_CANCELED else None
        self.on_event("order", order)
        self.on_event("deal", self._deals[-1])
        self.on_event("account", self.accounts()[0])
        return order.m_strOrderSysID

    def cancel(self, order_id: str) -> bool:
        # Orders are decided within their bar; nothing is ever left to cancel.
        return False

    def positions(self) -> list[PositionRecord]:
        out = []
        for code, pos in sorted(self._positions.items()):
            last = self.market.close(code) or 0.0
            digits, exchange = split_code(code)
            value = last * pos.volume
            cost = float(pos.cost)
            out.append(
                PositionRecord(
                    m_strAccountID=self.account_id,
                    m_strInstrumentID=digits,
                    m_strExchangeID=exchange,
                    m_strInstrumentName=self.market.instrument_name(code),
                    m_nVolume=pos.volume,
                    m_nCanUseVolume=pos.can_use,
                    m_nFrozenVolume=0,
                    m_nYesterdayVolume=pos.yesterday,
                    m_nOnRoadVolume=0,
                    m_dOpenPrice=cost / pos.volume if pos.volume else 0.0,
                    m_dMarketValue=value,
                    m_dLastPrice=last,
                    m_dPositionProfit=value - cost,
                    m_dFloatProfit=value - cost,
                    m_dProfitRate=(value - cost) / cost if cost else 0.0,
                )
            )
        return out

    def accounts(self) -> list[AccountRecord]:
        equity = self.equity()
        held = equity - self.cash
        pnl = sum((p.m_dPositionProfit for p in self.positions()), 0.0)
        return [
            AccountRecord(
                m_strAccountID=self.account_id,
                m_dAvailable=float(self.cash),
                m_dBalance=float(equity),
                m_dAssetBalance=float(equity),
                m_dInstrumentValue=float(held),
                m_dFrozenCash=0.0,
                m_dFetchBalance=float(self.cash),
                m_dCommission=float(self.ledger.fees),
                m_dPositionProfit=pnl,
            )
        ]

    def orders(self) -> list[OrderRecord]:
        return list(self._orders)

    def deals(self) -> list[DealRecord]:
        return list(self._deals)

    # --- the fill -------------------------------------------------------------------------

    def _new_order(self, intent: OrderIntent) -> OrderRecord:
        digits, exchange = split_code(intent.code)
        when = local_dt(self.market.now())
        flag = FLAG_BUY if intent.side == "buy" else FLAG_SELL
        order = OrderRecord(
            m_strAccountID=self.account_id,
            m_strOrderSysID=str(len(self._orders) + 1),
            m_strInstrumentID=digits,
            m_strExchangeID=exchange,
            m_strInstrumentName=self.market.instrument_name(intent.code),
            m_nOffsetFlag=flag,
            m_nDirection=flag,
            m_strOptName="限价买入" if intent.side == "buy" else "限价卖出",
            m_nOrderPriceType=intent.price_type,
            m_dLimitPrice=intent.price,
            m_nVolumeTotalOriginal=intent.quantity,
            m_nVolumeTraded=0,
            m_nVolumeTotal=intent.quantity,
            m_dTradedPrice=0.0,
            m_dTradeAmount=0.0,
            m_nOrderStatus=xc.ORDER_REPORTED,
            m_strErrorMsg="",
            m_strInsertDate=when.strftime("%Y%m%d"),
            m_strInsertTime=when.strftime("%H%M%S"),
            m_strRemark=intent.remark,
            m_strStrategyName=intent.strategy_name,
        )
        self._orders.append(order)
        return order

    def _fill_price(self, intent: OrderIntent) -> Decimal:
        code = intent.code
        close = self.market.fill_close(code)
        if close is None:
            raise _Rejected(
                xc.ORDER_JUNK, "无行情（该时刻没有此代码的K线）/ no bar for this code now"
            )
        if not is_tradable_board(board_of(code)):
            raise _Rejected(xc.ORDER_JUNK, f"{code} 是指数，不可交易 / an index is not tradable")
        price = round_to_tick(code, Decimal(str(close)))
        pos = self._positions.get(code, _Position())
        sellable = pos.can_use if intent.side == "sell" else None
        why = check_quantity(code, intent.side, intent.quantity, sellable)
        if why:
            raise _Rejected(xc.ORDER_JUNK, why)
        band = self._band(code)
        if intent.price_type != xc.FIX_PRICE:
            if band and intent.side == "buy" and price >= band[1]:
                raise _Rejected(xc.ORDER_CANCELED, "收盘涨停，买单无法成交 / sealed at limit-up")
            if band and intent.side == "sell" and price <= band[0]:
                raise _Rejected(xc.ORDER_CANCELED, "收盘跌停，卖单无法成交 / sealed at limit-down")
            return price
        limit = Decimal(str(intent.price))
        if limit <= 0 or not is_tick_multiple(code, limit):
            raise _Rejected(
                xc.ORDER_JUNK, f"价格 {intent.price} 不是最小变动价位的整数倍 / bad tick"
            )
        if band and not band[0] <= limit <= band[1]:
            raise _Rejected(
                xc.ORDER_JUNK, f"价格超出涨跌停 {band[0]}~{band[1]} / outside the limit band"
            )
        low, high = (Decimal(str(v)) for v in self.market.fill_range(code) or (close, close))
        buy = intent.side == "buy"
        if (buy and limit < low) or (not buy and limit > high):
            raise _Rejected(
                xc.ORDER_CANCELED, f"限价未触及本K线 {low}~{high} / limit not reached in the bar"
            )
        fill = limit if low <= limit <= high else price
        if band and buy and low >= band[1]:
            raise _Rejected(xc.ORDER_CANCELED, "本K线封涨停 / bar sealed at limit-up")
        if band and not buy and high <= band[0]:
            raise _Rejected(
                xc.ORDER_CANCELED, "本K线封跌停，卖单无法成交 / bar sealed at limit-down"
            )
        return fill

    def _band(self, code: str) -> tuple[Decimal, Decimal] | None:
        prev = self.market.prev_close(code)
        if prev is None or self._day is None:
            return None  # the first day of the data has no previous close: no band known
        return limit_prices(code, Decimal(str(prev)), is_st=self.market.is_st(code), on=self._day)

    def _fill(self, intent: OrderIntent, order: OrderRecord, price: Decimal) -> None:
        code, qty = intent.code, intent.quantity
        value = price * qty
        day = self._day or local_dt(self.market.now()).date()
        fees = order_fees(self.fees, code, intent.side, value, on=day)
        pos = self._positions.setdefault(code, _Position())
        if intent.side == "buy":
            if value + fees.total > self.cash:
                raise _Rejected(xc.ORDER_JUNK, "可用资金不足 / insufficient funds")
            self.cash -= value + fees.total
            if pos.volume == 0:
                pos.trip_flow, pos.trip_opened = Decimal(0), self.market.now()
            pos.volume += qty
            pos.cost += value + fees.total
            pos.trip_flow -= value + fees.total
            if is_t0(code):
                pos.can_use += qty
        else:
            self.cash += value - fees.total
            pos.cost -= pos.cost * qty / pos.volume
            pos.volume -= qty
            pos.can_use -= qty
            pos.trip_flow += value - fees.total
        self.ledger.fees += fees.total
        self._record_fill(intent, order, price, value, fees.total)
        self.ledger.trades[-1].update(
            commission=float(fees.commission),
            stamp_duty=float(fees.stamp_duty),
            transfer_fee=float(fees.transfer_fee),
        )
        if intent.side == "sell" and pos.volume == 0:
            pos.cost = Decimal(0)
            self.ledger.round_trips.append(
                {
                    "code": code,
                    "opened": local_dt(pos.trip_opened).isoformat(),
                    "closed": local_dt(self.market.now()).isoformat(),
                    "pnl": float(fen(pos.trip_flow)),
                }
            )

    def _record_fill(
        self, intent: OrderIntent, order: OrderRecord, price: Decimal, value: Decimal, fee: Decimal
    ) -> None:
        when = local_dt(self.market.now())
        order.m_nVolumeTraded, order.m_nVolumeTotal = intent.quantity, 0
        order.m_dTradedPrice, order.m_dTradeAmount = float(price), float(value)
        order.m_nOrderStatus = xc.ORDER_SUCCEEDED
        self._deals.append(
            DealRecord(
                m_strAccountID=self.account_id,
                m_strTradeID=str(len(self._deals) + 1),
                m_strOrderSysID=order.m_strOrderSysID,
                m_strInstrumentID=order.m_strInstrumentID,
                m_strExchangeID=order.m_strExchangeID,
                m_strInstrumentName=order.m_strInstrumentName,
                m_nOffsetFlag=order.m_nOffsetFlag,
                m_nDirection=order.m_nDirection,
                m_strOptName=order.m_strOptName,
                m_dPrice=float(price),
                m_nVolume=intent.quantity,
                m_dTradeAmount=float(value),
                m_dComssion=float(fee),
                m_strTradeDate=when.strftime("%Y%m%d"),
                m_strTradeTime=when.strftime("%H%M%S"),
                m_strRemark=intent.remark,
                m_strStrategyName=intent.strategy_name,
            )
        )
        trade = {
            "time": when.isoformat(),
            "order_id": order.m_strOrderSysID,
            "code": intent.code,
            "side": intent.side,
            "price": float(price),
            "quantity": intent.quantity,
            "amount": float(value),
            "fees": float(fee),
            "cash_after": float(self.cash),
        }
        self.ledger.trades.append(trade)
        self.log.write(f"成交 / filled: {intent.side} {intent.quantity} {intent.code} @ {price}")

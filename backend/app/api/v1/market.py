"""Market data: quote, instrument, bars."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from backend.app.api.deps import TradingDep, ViewerUser
from backend.app.models.market import Bars, Instrument, Quote, TradingDays
from backend.app.models.strict import STOCK_CODE_PATTERN
from backend.app.services.calendar import trading_days

router = APIRouter(prefix="/market", tags=["market"])
Code = Annotated[str, Path(pattern=STOCK_CODE_PATTERN, examples=["600519.SH"])]


@router.get("/calendar", response_model=TradingDays)
async def get_calendar(
    _: ViewerUser,
    start: Annotated[date, Query(examples=["2027-01-01"])],
    end: Annotated[date, Query(examples=["2027-01-08"])],
) -> TradingDays:
    """交易日列表 / Trading days in [start, end]; `assumed_from`: weekdays assumed from there."""
    return trading_days(start, end)


@router.get("/quote/{stock_code}", response_model=Quote)
async def get_quote(stock_code: Code, trading: TradingDep, _: ViewerUser) -> Quote:
    """Latest price and the five-level book (volumes in shares)."""
    return await trading.market.quote(stock_code=stock_code)


@router.get("/instruments/{stock_code}", response_model=Instrument)
async def get_instrument(stock_code: Code, trading: TradingDep, _: ViewerUser) -> Instrument:
    """Exchange, board, lot size, tick and today's limit prices."""
    return await trading.market.instrument(stock_code=stock_code)


@router.get("/bars/{stock_code}", response_model=Bars)
async def get_bars(
    stock_code: Code,
    trading: TradingDep,
    _: ViewerUser,
    period: Literal["1d", "1m"] = "1d",
    count: Annotated[int, Query(ge=1, le=5000)] = 100,
) -> Bars:
    """The last `count` bars of `period`, oldest first."""
    return await trading.market.bars(stock_code=stock_code, period=period, count=count)

"""Market data: quote, instrument, bars."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from backend.app.api.deps import TradingDep, ViewerUser
from backend.app.models.market import Bars, Instrument, Quote
from backend.app.models.strict import STOCK_CODE_PATTERN

router = APIRouter(prefix="/market", tags=["market"])
Code = Annotated[str, Path(pattern=STOCK_CODE_PATTERN, examples=["600519.SH"])]


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

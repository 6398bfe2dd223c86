"""Market data for the /market endpoints, from the broker's MarketData (xtdata-shaped).

xtdata units are converted here: book and tick volumes arrive in lots and leave in shares,
times arrive as epoch ms and leave as Asia/Shanghai datetimes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from backend.app.core.errors import NotFound, ValidationFailed
from backend.app.models.market import Bar, Bars, Instrument, Quote
from backend.app.services.broker.service import QMTService
from backend.app.services.orders.validation import OrderValidator, normalize
from xtquant_adapter.ashare import rules
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.ashare.codes import board_of, exchange_of


def _d(v: Any, places: str = "0.001") -> Decimal:
    return Decimal(repr(float(v or 0))).quantize(Decimal(places)).normalize() + Decimal("0.00")


def _opt(v: Any) -> Decimal | None:
    return _d(v) if v else None


def _ms(ms: Any) -> datetime:
    return datetime.fromtimestamp(float(ms or 0) / 1000, SHANGHAI)


def _lots(code: str) -> int:
    return 10 if board_of(code).value == "cb" else 100


class MarketService:
    def __init__(self, *, qmt: QMTService, validator: OrderValidator) -> None:
        self._qmt = qmt
        self._validator = validator

    async def _detail(self, stock_code: str) -> tuple[str, dict[str, Any]]:
        code = normalize(stock_code)
        try:
            detail = await self._validator.instrument(code)
        except Exception as exc:
            if getattr(exc, "code", "") == "UNKNOWN_INSTRUMENT":
                raise NotFound(f"证券 {code} 不存在 / no instrument {code}") from exc
            raise
        return code, detail

    async def quote(self, *, stock_code: str) -> Quote:
        """The latest snapshot with a five-level book.

        Raises:
            InvalidStockCode, NotFound, BrokerUnavailable.
        """
        code, detail = await self._detail(stock_code)
        ticks = await self._qmt.call(self._qmt.market.get_full_tick, [code])
        t = ticks.get(code)
        if not t:
            raise NotFound(f"{code} 暂无行情 / no quote for {code}")
        lot = _lots(code)

        def book(prices: str, vols: str) -> list[tuple[Decimal, int]]:
            return [(_d(p), int(v) * lot) for p, v in zip(t.get(prices) or [], t.get(vols) or [],
                                                          strict=False)]  # fmt: skip

        volume = t.get("pvolume")
        return Quote(
            stock_code=code, stock_name=str(detail.get("InstrumentName") or ""),
            last_price=_d(t.get("lastPrice")), open=_opt(t.get("open")), high=_opt(t.get("high")),
            low=_opt(t.get("low")), pre_close=_d(t.get("lastClose") or detail.get("PreClose")),
            limit_up=_opt(detail.get("UpStopPrice")), limit_down=_opt(detail.get("DownStopPrice")),
            bid=book("bidPrice", "bidVol"), ask=book("askPrice", "askVol"),
            volume=int(volume if volume is not None else int(t.get("volume") or 0) * lot),
            amount=_d(t.get("amount"), "0.01"), time=_ms(t.get("time")),
        )  # fmt: skip

    async def instrument(self, *, stock_code: str) -> Instrument:
        """Static and daily data of one security.

        Raises:
            InvalidStockCode, NotFound, BrokerUnavailable.
        """
        code, d = await self._detail(stock_code)
        lot = rules.lot_rule(code)
        return Instrument(
            stock_code=code, stock_name=str(d.get("InstrumentName") or ""),
            exchange=exchange_of(code), board=board_of(code).value, lot_size=lot.min_qty,
            price_tick=_d(d.get("PriceTick") or rules.price_tick(code)),
            pre_close=_d(d.get("PreClose")), limit_up=_opt(d.get("UpStopPrice")),
            limit_down=_opt(d.get("DownStopPrice")),
        )  # fmt: skip

    async def bars(self, *, stock_code: str, period: str, count: int) -> Bars:
        """The last `count` bars, oldest first.

        Raises:
            InvalidStockCode, NotFound, ValidationFailed, BrokerUnavailable.
        """
        if period not in ("1d", "1m"):
            raise ValidationFailed(
                "period 只能是 1d 或 1m / period must be 1d or 1m",
                errors=[{"loc": ["query", "period"], "msg": "1d or 1m"}],
            )
        code, _ = await self._detail(stock_code)
        rows = await self._qmt.call(self._qmt.market.get_bars, code, period, count)
        items = [
            Bar(time=_ms(b["time"]), open=_d(b["open"]), high=_d(b["high"]), low=_d(b["low"]),
                close=_d(b["close"]), volume=int(b["volume"]), amount=_d(b["amount"], "0.01"))
            for b in rows
        ]  # fmt: skip
        return Bars(stock_code=code, period=period, items=items)

"""What a trade run sees of the live market: the bars behind `ContextInfo` (`LiveMarket`,
refreshed once per bar) and the limit price a QMT prType names (`quote_price`)."""

from __future__ import annotations

from typing import Any, Final

from backend.app.services.strategies.bars import BarSeries
from backend.app.services.strategies.guard import StrategyError
from xtquant_adapter.protocol import MarketData
from xtquant_adapter.sim.catalog import sector_members, sector_of_index

HISTORY_BARS: Final = 500


def quote_price(pr_type: int, side: str, tick: dict[str, Any]) -> float | None:
    """The limit price QMT's prType names, from an xtdata tick; None when it has none.

    0-4 卖5..卖1 (askPrice[4..0]), 5 最新价, 6-10 买1..买5 (bidPrice[0..4]), 12 涨跌停价 and
    the market types 42-48 (a buy at the limit-up price, a sell at the limit-down price,
    which the exchange fills at the best prices available), 13 挂单价 (own side's best),
    14 对手价 (the other side's best).
    """
    asks = list(tick.get("askPrice") or [])
    bids = list(tick.get("bidPrice") or [])
    last = float(tick.get("lastPrice") or 0)
    buy = side == "buy"
    price: float = 0.0
    if 0 <= pr_type <= 4:
        price = asks[4 - pr_type] if len(asks) > 4 - pr_type else 0.0
    elif 6 <= pr_type <= 10:
        price = bids[pr_type - 6] if len(bids) > pr_type - 6 else 0.0
    elif pr_type == 13:
        price = (bids if buy else asks)[0] if (bids if buy else asks) else 0.0
    elif pr_type == 14:
        price = (asks if buy else bids)[0] if (asks if buy else bids) else 0.0
    elif pr_type == 12 or pr_type >= 42:
        price = float(tick.get("upStopPrice" if buy else "downStopPrice") or 0)
    if not price or price <= 0:
        price = last  # an empty level (or no limit prices in the tick): the last price
    return float(price) if price and price > 0 else None


class LiveMarket:
    """`MarketView` over the server's market data, refreshed once per bar."""

    def __init__(self, market: MarketData, main: str, period: str) -> None:
        self.market, self.main_code, self.period = market, main, period
        self._cache: dict[tuple[str, str], BarSeries] = {}
        self.main = BarSeries(main, period)

    def refresh(self) -> int | None:
        """Fetch the main code's bars; the newest bar's time (None if there are none)."""
        self._cache.clear()
        self.main = self.history(self.main_code, self.period)
        return self.main.time[-1] if len(self.main) else None

    def history(self, code: str, period: str) -> BarSeries:
        key = (code, period)
        if key not in self._cache:
            try:
                bars = self.market.get_bars(code, period, HISTORY_BARS)
            except ValueError as exc:
                raise StrategyError(str(exc)) from None
            self._cache[key] = BarSeries.from_bars(code, period, bars)
        return self._cache[key]

    def bar_time(self, barpos: int) -> int:
        return self.main.time[barpos]

    def bar_count(self) -> int:
        return len(self.main)

    def is_last_bar(self) -> bool:
        return True

    def instrument_name(self, code: str) -> str:
        detail = self.market.get_instrument_detail(code)
        return str(detail.get("InstrumentName") or "") if detail else ""

    def now(self) -> int:
        return self.main.time[-1] if len(self.main) else 0

    def sector(self, name: str) -> list[str] | None:
        # xtdata's own sector lists when the market data has them (live), else the snapshot.
        lookup = getattr(self.market, "get_stock_list_in_sector", None)
        if callable(lookup):
            members = lookup(sector_of_index(name))
            if members:
                return list(members)
        found = sector_members(name)
        return None if found is None else list(found)

    def detail(self, code: str) -> dict[str, Any] | None:
        return self.market.get_instrument_detail(code)

    def full_tick(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        return self.market.get_full_tick(codes)

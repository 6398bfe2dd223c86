"""`SimMarketData`: the xtdata-shaped `MarketData` view of the simulated market."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

from xtquant_adapter.sim.market import Market


class SimMarketData:
    """`MarketData` over the simulated market (thread-safe through the trader's lock)."""

    def __init__(self, market: Market, lock: threading.RLock) -> None:
        self._market, self._lock = market, lock

    def get_full_tick(self, code_list: list[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {c: self._market.tick(c) for c in code_list if c in self._market.quotes}

    def get_instrument_detail(self, code: str) -> dict[str, Any] | None:
        with self._lock:
            return self._market.detail(code) if code in self._market.quotes else None

    def get_bars(self, code: str, period: str, count: int) -> list[dict[str, Any]]:
        with self._lock:
            if code not in self._market.quotes:
                if period not in ("1d", "1m"):
                    raise ValueError(f"unsupported period {period!r}")
                return []
            return self._market.bars(code, period, count)

    def get_trading_calendar(self, year: int) -> list[date] | None:
        """None: the simulator has no terminal calendar; the bundled one applies."""
        return None

    def set_price(self, code: str, price: Any) -> None:
        """Scenario knob: move `code`'s price (see `Market.set_price`)."""
        with self._lock:
            self._market.set_price(code, Decimal(str(price)))

"""The simulated MiniQMT: `SimulatedXtQuantTrader` and what it is built from."""

from xtquant_adapter.sim.booklock import BooksLock, SimBooksLocked
from xtquant_adapter.sim.clock import Clock, ManualClock, SystemClock
from xtquant_adapter.sim.config import SimConfig
from xtquant_adapter.sim.store import reset_books
from xtquant_adapter.sim.trader import SimMarketData, SimulatedXtQuantTrader

__all__ = [
    "BooksLock",
    "Clock",
    "ManualClock",
    "SimBooksLocked",
    "SimConfig",
    "SimMarketData",
    "SimulatedXtQuantTrader",
    "SystemClock",
    "reset_books",
]

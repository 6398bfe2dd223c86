"""Knobs of the simulated MiniQMT; the backend maps its SIM_* settings onto `SimConfig`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from xtquant_adapter.ashare.fees import FeeSchedule


@dataclass(frozen=True, slots=True)
class SimConfig:
    """Simulator settings; only read when the books are first created, except where noted.

    - `initial_cash`, `initial_positions` (code -> shares, sellable at once): the opening books.
    - `enforce_trading_hours` (SIM_ENFORCE_TRADING_HOURS): follow the sessions and calendar;
      when False the market is open around the clock and every calendar day is a trading day.
    - `seed`: market seed (SIM_SEED); None picks one and stores it with the books.
    - `fees`: the broker's fee terms (read on every start).
    - `tick_interval_seconds`: one market snapshot per this many seconds of clock time.
    - `history_days`: daily bars generated before the first day.
    """

    account_id: str = "SIM000001"
    initial_cash: Decimal = Decimal("1000000")
    initial_positions: Mapping[str, int] = field(default_factory=dict)
    enforce_trading_hours: bool = False
    seed: int | None = None
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    tick_interval_seconds: float = 1.0
    history_days: int = 120

"""The strategy runner (the stgentry role): QMT-style scripts, backtested or traded.

Modules, by concept: `loader` (files in STRATEGY_DIR), `guard` (threads, time budget, error
text), `qmt_api` (the QMT functions), `context` (`ContextInfo`), `records` (m_* objects),
`bars`/`sources` (bar data), `account` (the backtest account), `backtest`, `trade`,
`metrics`, `chart`, `service` (StrategyService). The terminal command lives in
`backend/app/cli/strategy.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from backend.app.core.config import Settings
from backend.app.services.strategies.service import StrategyService

__all__ = ["StrategyService", "build_strategies"]


@asynccontextmanager
async def build_strategies(app: Any, settings: Settings) -> AsyncIterator[None]:
    """Start-up step: app.state.strategies; stale `running` rows become `stopped`.

    Tests may set `app.state.strategy_poll_interval` / `strategy_budget_seconds` first.
    """
    qmt = app.state.qmt
    service = StrategyService(
        settings=settings,
        db=app.state.db,
        trading=app.state.trading,
        market=lambda: qmt.market,
        poll_interval=getattr(app.state, "strategy_poll_interval", 1.0),
        budget_seconds=getattr(app.state, "strategy_budget_seconds", 10.0),
    )
    await service.recover()
    app.state.strategies = service
    try:
        yield
    finally:
        await service.shutdown()

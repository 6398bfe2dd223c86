"""Strategy tests: scripts are written into the test's STRATEGY_DIR; runs use a fast clock.

write_strategy(name, source) -> path     a script in STRATEGY_DIR (dedented)
wait_run(client, token, run_id, timeout) the run once it is no longer `running`
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from backend.app.core.config import Settings
from backend.app.main import create_app

FAST_POLL = 0.05
BUDGET = 1.0


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    app = create_app(settings)
    # Read by the strategies start-up step: a quick bar clock and a short handlebar budget.
    app.state.strategy_poll_interval = FAST_POLL
    app.state.strategy_budget_seconds = BUDGET
    return app


@pytest.fixture
def write_strategy(settings: Settings) -> Callable[[str, str], Path]:
    def write(name: str, source: str) -> Path:
        settings.strategy_dir.mkdir(parents=True, exist_ok=True)
        path = settings.strategy_dir / name
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
        return path

    return write


@pytest.fixture
def wait_run(eventually: Callable[..., Any]) -> Callable[..., dict[str, Any]]:
    def wait(client: Any, headers: dict[str, str], run_id: int, timeout: float = 10.0) -> Any:
        def done() -> Any:
            body = client.get(f"/api/v1/strategies/runs/{run_id}", headers=headers).json()
            return body if body["status"] != "running" else None

        return eventually(done, timeout=timeout)

    return wait

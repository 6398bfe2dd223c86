"""Helpers shared by the trading API tests: a simulator on a ManualClock, prices that fill."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.main import create_app
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.sim import ManualClock

# A Wednesday, in continuous trading.
TRADING_MORNING = datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI)
ORDERS = "/api/v1/trading/order"
Headers = dict[str, str]


def manual_app(settings: Settings, when: datetime = TRADING_MORNING) -> FastAPI:
    """create_app(settings) whose simulator only moves when a test steps it."""
    app = create_app(settings)
    app.state.sim_clock = ManualClock(when)
    return app


def step(app: FastAPI, seconds: float = 3.0) -> None:
    """Move the simulated market forward and let it match working orders."""
    app.state.qmt.trader.advance(seconds)


def quote(client: TestClient, headers: Headers, code: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/market/quote/{code}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def marketable(client: TestClient, headers: Headers, code: str, side: str) -> str:
    """A limit price 1% through the touch: fills at the next snapshot, inside the price cage."""
    q = quote(client, headers, code)
    if side == "buy":
        p = Decimal(q["ask"][0][0]) * Decimal("1.01")
    else:
        p = Decimal(q["bid"][0][0]) * Decimal("0.99")
    return str(p.quantize(Decimal("0.01")))


def passive(client: TestClient, headers: Headers, code: str) -> str:
    """A buy price 1.5% under the bid: rests without filling."""
    q = quote(client, headers, code)
    return str((Decimal(q["bid"][0][0]) * Decimal("0.985")).quantize(Decimal("0.01")))


def order_of(client: TestClient, headers: Headers, order_id: int) -> dict[str, Any]:
    r = client.get(f"/api/v1/trading/orders/{order_id}", headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())

"""The example bot of docs/client.md works against a real server: it lays its grid, and a fill
re-centres it."""

from __future__ import annotations

import importlib.util
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from qmt_api_client import Event, QmtClient

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # may start the server
EXAMPLES = Path(__file__).resolve().parents[2] / "client" / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_grid_bot_lays_a_grid_and_recentres_on_a_fill(qc: QmtClient, tmp_path: Path) -> None:
    bot = _load("grid_bot")
    bot.CURSOR = tmp_path / "seq"
    bot.CODE = "600519.SH"  # held since the start (sellable); other tests trade 000001.SZ
    qc.cancel_all(stock_code=bot.CODE)
    center = qc.quote(bot.CODE).last_price
    bot.place_grid(qc, center)
    mine = qc.list_orders(status="open", stock_code=bot.CODE)
    sides = {o.side: o for o in mine if o.strategy_name == "grid"}
    assert sides["buy"].price == (center * (1 - bot.STEP)).quantize(Decimal("0.01"))
    assert sides["sell"].price == (center * (1 + bot.STEP)).quantize(Decimal("0.01"))
    at = qc.quote(bot.CODE).bid[0][0]
    fill = Event(seq=1, type="trade", data={"stock_code": bot.CODE, "side": "buy",
                                            "quantity": 100, "price": str(at)})  # fmt: skip
    bot.on_event(qc, fill)
    after = [o for o in qc.list_orders(status="open", stock_code=bot.CODE)
             if o.status != "pending_cancel"]  # fmt: skip
    grid = {(at * (1 - bot.STEP)).quantize(Decimal("0.01")),
            (at * (1 + bot.STEP)).quantize(Decimal("0.01"))}  # fmt: skip
    assert {o.price for o in after} == grid
    bot.save_cursor(41)
    assert bot.load_cursor() == 41
    qc.cancel_all(stock_code=bot.CODE)

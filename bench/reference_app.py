"""A bare FastAPI app: the yardstick the order path is measured against.

Same routes' shapes as the gateway, none of its work (no auth, no database, no risk,
no broker): a POST that validates the same body and answers a similar order, a GET
that answers the same payload as `GET /trading/orders?limit=100` (re-serialized on
every request, as any endpoint would), and a GET like account-info.

The payloads are the gateway's own answers, captured by the benchmark and passed in
through `BENCH_SAMPLE_DIR` (orders.json, account.json); without them synthetic ones
of the same shape are used.

Run: `python -m bench.reference_app --host 127.0.0.1 --port 8100`
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from fastapi import FastAPI
from pydantic import BaseModel, Field


class OrderBody(BaseModel):
    stock_code: str = Field(min_length=1, max_length=16)
    side: Literal["buy", "sell"]
    quantity: int = Field(gt=0)
    price: Decimal | None = None
    order_type: Literal["limit", "market"] = "limit"
    client_order_id: str | None = Field(default=None, max_length=64)
    strategy_name: str = ""
    remark: str = ""


def _synthetic_order(i: int) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {
        "order_id": i,
        "client_order_id": f"c-{i}",
        "broker_order_id": 1000 + i,
        "stock_code": "000001.SZ",
        "stock_name": "平安银行",
        "side": "buy",
        "order_type": "limit",
        "price": "9.0000",
        "quantity": 100,
        "filled_quantity": 0,
        "avg_fill_price": None,
        "status": "reported",
        "status_msg": "",
        "broker_status": 50,
        "strategy_name": "",
        "remark": "",
        "created_at": now,
        "updated_at": now,
    }


def _load(name: str) -> Any:
    d = os.environ.get("BENCH_SAMPLE_DIR")
    if d and (Path(d) / name).is_file():
        return json.loads((Path(d) / name).read_text(encoding="utf-8"))
    return None


ORDERS: dict[str, Any] = _load("orders.json") or {
    "items": [_synthetic_order(i) for i in range(1, 101)],
    "next_cursor": None,
}
ACCOUNT: dict[str, Any] = _load("account.json") or {
    "account_id": "SIM000001",
    "available_cash": "1000000.00",
    "frozen_cash": "0.00",
    "market_value": "0.00",
    "total_value": "1000000.00",
    "positions_count": 0,
    "total_profit_loss": "0.00",
}
_ids = itertools.count(1)

app = FastAPI(title="bench reference")


@app.post("/api/v1/trading/order", status_code=201)
async def place_order(body: OrderBody) -> dict[str, Any]:
    """Validate the body and answer an order, doing nothing else."""
    oid = next(_ids)
    now = datetime.now(UTC).isoformat()
    return {
        "order_id": oid,
        "client_order_id": body.client_order_id or f"ref-{oid}",
        "broker_order_id": None,
        "stock_code": body.stock_code,
        "stock_name": "",
        "side": body.side,
        "order_type": body.order_type,
        "price": str(body.price) if body.price is not None else None,
        "quantity": body.quantity,
        "filled_quantity": 0,
        "avg_fill_price": None,
        "status": "pending",
        "status_msg": "",
        "broker_status": None,
        "strategy_name": body.strategy_name,
        "remark": body.remark,
        "created_at": now,
        "updated_at": now,
        "success": True,
        "message": "accepted",
    }


@app.get("/api/v1/trading/orders")
async def list_orders(limit: int = 100) -> dict[str, Any]:
    """The gateway's own page of orders, re-serialized per request."""
    return {"items": ORDERS["items"][:limit], "next_cursor": ORDERS.get("next_cursor")}


@app.get("/api/v1/trading/account-info")
async def account_info() -> dict[str, Any]:
    """A constant account summary of the gateway's shape."""
    return ACCOUNT


@app.get("/ready")
async def ready() -> dict[str, str]:
    return {"status": "ready"}


def main() -> None:
    import uvicorn

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8100)
    p.add_argument("--access-log", action="store_true", help="log every request, like the gateway")
    a = p.parse_args()
    uvicorn.run(
        app, host=a.host, port=a.port, workers=1, access_log=a.access_log, log_level="warning"
    )


if __name__ == "__main__":
    main()

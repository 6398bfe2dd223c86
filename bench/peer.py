"""`--peer qmtlink`: the peer measured beside us, when `import qmtlink` works.

Two qmtlink processes on its MockBridge: one takes the POSTs (its book grows as ours does);
the other holds exactly 100 orders, so its `GET /api/v1/account/orders` (which has no
limit: it answers every order) returns a page the size of our `?limit=100`.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import httpx

from bench.contenders import Contender
from bench.peer_qmtlink import (
    ASSET_PATH,
    ORDER_PATH,
    ORDERS_PATH,
    QMTLINK_VERSION,
    READY_PATH,
)
from bench.servers import Proc, free_port, start_peer

API_KEY = "bench-peer-key-not-secret"
AUTH_HEADER = "X-API-Key"


def unavailable_reason() -> str | None:
    """None when qmtlink QMTLINK_VERSION is importable, else why the peer is skipped."""
    try:
        got = importlib.metadata.version("qmtlink")
    except importlib.metadata.PackageNotFoundError:
        return (
            f"qmtlink is not installed (uv pip install --pre qmtlink=={QMTLINK_VERSION}); "
            "the peer is skipped"
        )
    if got != QMTLINK_VERSION:
        return f"qmtlink {got} is installed, the benchmark drives {QMTLINK_VERSION}"
    return None


def order_body(inst: dict[str, str | int]) -> str:
    """The same order as ours in qmtlink's shape (`live: true` to submit at all)."""
    return json.dumps(
        {
            "symbol": inst["stock_code"],
            "side": "buy",
            "quantity": inst["lot"],
            "price": float(inst["price"]),
            "order_type": "limit",
            "client_order_id": "__COID__",
            "live": True,
        }
    )


def _seed(proc: Proc, body: str, n: int) -> None:
    headers = {AUTH_HEADER: API_KEY, "Content-Type": "application/json"}
    with httpx.Client(base_url=proc.base, headers=headers, timeout=10) as c:
        for i in range(n):
            r = c.post(ORDER_PATH, content=body.replace("__COID__", f"seed-order-{i:04d}"))
            if r.status_code != 200:
                raise RuntimeError(f"qmtlink refused an order: {r.status_code} {r.text[:300]}")


def start(
    root: Path, inst: dict[str, str | int], idempotency: str = "memory"
) -> tuple[Contender, list[Proc]]:
    """Start both peer processes, seed the reading one; the contender and its processes.
    `idempotency`: where qmtlink keeps its client_order_id table ("memory": MockBridge's
    default; "file": as its real bridge does), see bench/peer_qmtlink.py."""
    body = order_body(inst)
    writer = start_peer(root / "peer-post", free_port(), API_KEY, idempotency)
    reader = start_peer(root / "peer-get", free_port(), API_KEY, idempotency)
    procs = [writer, reader]
    try:
        for p in procs:
            p.wait_ready(READY_PATH, headers={AUTH_HEADER: API_KEY})
        _seed(writer, body, 3)  # the probe: fails loudly if the body is refused
        _seed(reader, body, 100)
    except BaseException:
        for p in procs:
            p.stop()
        raise
    contender = Contender(
        key="peer",
        label=f"qmtlink {QMTLINK_VERSION} (MockBridge, idempotency table in {idempotency})",
        token=API_KEY,
        auth_header=AUTH_HEADER,
        body=body,
        routes={
            "post_order": (writer, "POST", ORDER_PATH),
            "get_orders": (reader, "GET", ORDERS_PATH),
            "account_info": (reader, "GET", ASSET_PATH),
        },
    )
    return contender, procs

"""The gateway as a client sees it: log in, widen the risk rules, pick an instrument, build
the order body, place orders in bulk and count the journal's rows."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.servers import ADMIN_PASSWORD, ADMIN_USER

API = "/api/v1"
FINAL = ("filled", "cancelled", "partially_cancelled", "rejected")
CANDIDATE_CODES = ("000001.SZ", "601988.SH", "600000.SH", "000002.SZ", "600519.SH")


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def login(base: str) -> str:
    r = httpx.post(
        f"{base}{API}/auth/token",
        data={"username": ADMIN_USER, "password": ADMIN_PASSWORD},
        timeout=30,
    )
    r.raise_for_status()
    return str(r.json()["access_token"])


def _generous(key: str, value: Any) -> Any:
    """A rule value that lets the benchmark's orders through but keeps the check running."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, list):
        return []  # blocked_codes / allowed_codes: none
    k = key.lower()
    if "dup" in k or "same" in k:
        return 0  # duplicate guard: the orders are alike
    if "pct" in k or "percent" in k or "deviation" in k:
        return 50
    numeric_text = isinstance(value, str) and re.fullmatch(r"[\d.]+", value)
    if isinstance(value, int | float) or numeric_text:
        return 10**12
    return value


def relax_risk_rules(base: str, headers: dict[str, str]) -> dict[str, Any]:
    r = httpx.get(f"{base}{API}/trading/risk-rules", headers=headers, timeout=10)
    if r.status_code != 200:
        log(f"risk-rules not readable ({r.status_code}); leaving them as they are")
        return {}
    rules = r.json()
    new = {k: _generous(k, v) for k, v in rules.items()}
    p = httpx.put(f"{base}{API}/trading/risk-rules", headers=headers, json=new, timeout=10)
    if p.status_code >= 400:
        log(f"PUT risk-rules -> {p.status_code} {p.text[:300]}")
    return new


def pick_instrument(base: str, headers: dict[str, str], wanted: str | None) -> dict[str, Any]:
    """A liquid, cheap instrument and a resting buy price (limit-down: never fills)."""
    for code in (wanted,) if wanted else CANDIDATE_CODES:
        r = httpx.get(f"{base}{API}/market/instruments/{code}", headers=headers, timeout=10)
        if r.status_code != 200:
            continue
        inst = r.json()
        return {
            "stock_code": inst["stock_code"],
            "lot": int(inst.get("lot_size") or 100),
            "price": str(inst["limit_down"]),
        }
    raise RuntimeError(f"none of {wanted or CANDIDATE_CODES} is a known instrument")


def order_body(inst: dict[str, Any]) -> str:
    return json.dumps(
        {
            "stock_code": inst["stock_code"],
            "side": "buy",
            "quantity": inst["lot"],
            "price": inst["price"],
            "order_type": "limit",
            "client_order_id": "__COID__",
            "strategy_name": "bench",
        }
    )


def probe_order(base: str, headers: dict[str, str], body: str) -> None:
    for i in range(3):
        r = httpx.post(
            f"{base}{API}/trading/order",
            headers={**headers, "Content-Type": "application/json"},
            content=body.replace("__COID__", f"probe-{i}"),
            timeout=10,
        )
        if r.status_code != 201:
            raise RuntimeError(f"a benchmark order is refused: {r.status_code} {r.text[:500]}")


def count_orders(db: Path, open_only: bool = False) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
        q = "SELECT COUNT(*) FROM orders"
        if open_only:
            q += f" WHERE status NOT IN ({','.join('?' * len(FINAL))})"
            return int(c.execute(q, FINAL).fetchone()[0])
        return int(c.execute(q).fetchone()[0])


def place_many(base: str, token: str, body: str, n: int, run_id: str, limit_s: float) -> None:
    """Place about n orders at 32 connections (a few more may land: in-flight ones)."""
    if n <= 0:
        return
    load.run_load(
        base,
        f"{API}/trading/order",
        method="POST",
        connections=32,
        duration_s=limit_s,
        token=token,
        body=body,
        run_id=run_id,
        max_requests=n,
    )

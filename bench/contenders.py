"""The HTTP phase: each endpoint at 1 and 32 connections on every contender (us, the bare
reference, the peer when present), one after the other for each measurement, so that the
ratios compare runs taken within seconds of each other."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import load
from bench.client import API, log
from bench.servers import Proc

ENDPOINTS = (
    ("post_order", "POST", f"{API}/trading/order"),
    ("get_orders", "GET", f"{API}/trading/orders?limit=100"),
    # The same page under a different URL each time: the journal read the page cache saves.
    ("get_orders_miss", "GET", f"{API}/trading/orders?limit=100&cursor=__N__"),
    ("account_info", "GET", f"{API}/trading/account-info"),
)


@dataclass
class Contender:
    """A server measured: `routes` maps an endpoint name to (process, method, path)."""

    key: str  # "server", "reference" or "peer": the key of its figures in a row
    label: str
    token: str
    auth_header: str
    body: str
    routes: dict[str, tuple[Proc, str, str]] = field(default_factory=dict)


def same_routes(proc: Proc) -> dict[str, tuple[Proc, str, str]]:
    """Our endpoints on `proc` (the gateway, and the reference that mimics its paths)."""
    return {name: (proc, method, path) for name, method, path in ENDPOINTS}


def measure_one(c: Contender, endpoint: str, conns: int, duration: float) -> dict[str, Any]:
    """A 1 s warm-up at the same concurrency, then the measured run with its CPU time."""
    proc, method, path = c.routes[endpoint]
    run_id = f"{c.key[0]}{conns}{int(time.time() * 1000) % 10**9}"
    kw: dict[str, Any] = {
        "method": method, "connections": conns, "token": c.token, "body": c.body,
        "auth_header": c.auth_header,
    }  # fmt: skip
    load.run_load(proc.base, path, duration_s=1, run_id=run_id + "w", **kw)
    cpu0 = proc.cpu_seconds()
    r = load.run_load(proc.base, path, duration_s=duration, run_id=run_id, **kw)
    cpu1 = proc.cpu_seconds()
    out: dict[str, Any] = r.as_dict()
    ok = cpu0 is not None and cpu1 is not None and r.requests
    out["cpu_ms_per_req"] = (cpu1 - cpu0) * 1000 / r.requests if ok else None  # type: ignore[operator]
    out["path"] = path
    return out


def _ratio(a: float, b: float) -> float | None:
    return a / b if b else None


def measure_http(
    contenders: list[Contender], duration: float, conns_list: tuple[int, ...]
) -> list[dict[str, Any]]:
    """One row per (connections, endpoint): every contender's figures and our ratios."""
    rows: list[dict[str, Any]] = []
    for conns in conns_list:
        for name, _, _ in ENDPOINTS:
            res = {
                c.key: measure_one(c, name, conns, duration) for c in contenders if name in c.routes
            }
            s, rf, peer = res["server"], res["reference"], res.get("peer")
            row: dict[str, Any] = {
                "endpoint": name,
                "connections": conns,
                **res,
                "rps_ratio": _ratio(s["rps"], rf["rps"]),
                "added_p50_ms": s["p50_ms"] - rf["p50_ms"],
                "peer_ratio": _ratio(s["rps"], peer["rps"]) if peer else None,
            }
            rows.append(row)
            msg = (
                f"{name:13s} c={conns:<3d} qmt-api {s['rps']:7.0f} rps p50 {s['p50_ms']:.2f} "
                f"p99 {s['p99_ms']:.2f} cpu {s['cpu_ms_per_req'] or 0:.3f} err {s['errors']} "
                f"| ref {rf['rps']:7.0f} p50 {rf['p50_ms']:.2f} p99 {rf['p99_ms']:.2f} "
                f"| ×ref {row['rps_ratio'] or 0:.2f}"
            )
            if peer:
                msg += (
                    f" | qmtlink {peer['rps']:7.0f} p50 {peer['p50_ms']:.2f} "
                    f"p99 {peer['p99_ms']:.2f} err {peer['errors']} | ×peer {row['peer_ratio']:.2f}"
                )
            log(msg)
    return rows


def capture_samples(base: str, headers: dict[str, str], out: Path) -> None:
    """Our own answers, for the reference app to serve the same payloads."""
    out.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("orders.json", f"{API}/trading/orders?limit=100"),
        ("account.json", f"{API}/trading/account-info"),
    ):
        r = httpx.get(base + path, headers=headers, timeout=30)
        r.raise_for_status()
        (out / name).write_bytes(r.content)

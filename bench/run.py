"""The benchmark run: `uv run python -m bench [--quick] [--peer qmtlink]`.

Phases (each bounded in time): start `qmt-api serve` on a fresh SQLite file, the bare
reference app and, with `--peer qmtlink`, the peer; measure three endpoints at 1 and 32
connections on each, alternating (bench/contenders.py); top the journal up to 100k orders,
read the server's RSS and measure GET orders?limit=100 again at 1 connection; seed 10k open
orders on a fresh server, restart it and time start-up to /ready (bench/startup.py); run
SIM's bench/sim_bench.py; write the report (bench/report.py).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load, peer, report
from bench.client import (
    count_orders,
    log,
    login,
    order_body,
    pick_instrument,
    place_many,
    probe_order,
    relax_risk_rules,
)
from bench.contenders import Contender, capture_samples, measure_http, measure_one, same_routes
from bench.machine import machine_info, run_sim_bench
from bench.servers import Proc, free_port, start_gateway, start_reference
from bench.startup import measure_reconciliation

RESULTS = Path(__file__).parent / "results"


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick",
        action="store_true",
        help="3 s per measurement, 10k orders for RSS, 2k for reconciliation",
    )
    ap.add_argument("--duration", type=float, help="seconds per measurement (default 10, quick 3)")
    ap.add_argument("--rss-orders", type=int, help="orders before reading RSS (default 100000)")
    ap.add_argument("--reconcile-orders", type=int, help="open orders to reconcile (default 10000)")
    ap.add_argument("--stock-code", help="instrument to trade (default: first known of a list)")
    ap.add_argument(
        "--peer",
        choices=["qmtlink"],
        help="measure this peer beside us (qmtlink 0.1.0a22 on its MockBridge, when importable)",
    )
    ap.add_argument(
        "--peer-idempotency",
        choices=["memory", "file"],
        default="memory",
        help="where the peer keeps its client_order_id table (memory: MockBridge's default)",
    )
    ap.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["http", "rss", "reconcile", "sim"],
        help="skip a phase",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (DB, server logs)")
    return ap.parse_args(argv)


def _rss_phase(
    gw: Proc, ref: Contender, us: Contender, root: Path, n: int, duration: float
) -> dict[str, Any]:
    """Top the journal up to n orders; RSS, and GET orders?limit=100 at 1 connection again."""
    db = root / "main" / "bench.db"
    have = count_orders(db)
    log(f"RSS: {have:,} orders journaled; topping up to {n:,}")
    start = gw.rss_mb()
    place_many(gw.base, us.token, us.body, n - have, "rss", limit_s=900)
    rss = gw.rss_mb()
    if not rss:
        return {"skipped": "no /proc on this platform"}
    out: dict[str, Any] = {
        "orders": count_orders(db),
        "vmrss_mb": rss["VmRSS"],
        "vmhwm_mb": rss.get("VmHWM"),
        "before_top_up_mb": (start or {}).get("VmRSS"),
    }
    # The page must stay cheap however long the journal grows.
    out["get_orders_1"] = {
        "server": measure_one(us, "get_orders", 1, duration),
        "reference": measure_one(ref, "get_orders", 1, duration),
    }
    out["get_orders_miss_1"] = {
        "server": measure_one(us, "get_orders_miss", 1, duration),
        "reference": measure_one(ref, "get_orders_miss", 1, duration),
    }
    s, m = out["get_orders_1"]["server"], out["get_orders_miss_1"]["server"]
    log(f"after {out['orders']:,} orders: RSS {rss['VmRSS']:.1f} MB; GET orders c=1 "
        f"{s['rps']:.0f} rps p50 {s['p50_ms']:.2f} p99 {s['p99_ms']:.2f}; cache miss "
        f"{m['rps']:.0f} rps p50 {m['p50_ms']:.2f} p99 {m['p99_ms']:.2f}")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    duration = a.duration or (3.0 if a.quick else 10.0)
    rss_orders = a.rss_orders or (10_000 if a.quick else 100_000)
    rec_orders = a.reconcile_orders or (2_000 if a.quick else 10_000)

    root = Path(tempfile.mkdtemp(prefix="qmt-bench-"))
    log(f"work dir {root}; load generator: {load.generator_name()}")
    res: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": a.quick,
        "duration_s": duration,
        "generator": load.generator_name(),
        "machine": machine_info(),
    }
    if a.peer:
        why_not = peer.unavailable_reason()
        res["peer"] = {"name": a.peer, "skipped": why_not}
        if why_not:
            log(why_not)
    body: str | None = None
    if not {"http", "rss"} <= set(a.skip):
        procs: list[Proc] = []
        gw = start_gateway(root / "main", free_port())
        procs.append(gw)
        try:
            log(f"qmt-api ready in {gw.wait_ready():.2f} s (pid {gw.pid})")
            start_rss = gw.rss_mb()
            token = login(gw.base)
            h = {"Authorization": f"Bearer {token}"}
            res["risk_rules_used"] = relax_risk_rules(gw.base, h)
            inst = pick_instrument(gw.base, h, a.stock_code)
            res["instrument"] = inst
            body = order_body(inst)
            probe_order(gw.base, h, body)
            place_many(gw.base, token, body, 200, "fill", limit_s=30)
            capture_samples(gw.base, h, root / "samples")
            ref_proc = start_reference(root / "ref", free_port(), root / "samples")
            procs.append(ref_proc)
            ref_proc.wait_ready()
            us = Contender("server", "qmt-api", token, "Authorization", body, same_routes(gw))
            ref = Contender("reference", "bare FastAPI", "", "Authorization", body,
                            same_routes(ref_proc))  # fmt: skip
            contenders = [us, ref]
            if a.peer and not res["peer"]["skipped"]:
                pc, pprocs = peer.start(root, inst, a.peer_idempotency)
                procs += pprocs
                contenders.append(pc)
                res["peer"]["label"] = pc.label
                res["peer"]["paths"] = {k: v[2] for k, v in pc.routes.items()}
            if "http" not in a.skip:
                res["http"] = measure_http(contenders, duration, (1, 32))
            if "rss" not in a.skip:
                res["rss"] = _rss_phase(gw, ref, us, root, rss_orders, duration)
                res["rss"]["start_mb"] = (start_rss or {}).get("VmRSS")
        finally:
            for p in reversed(procs):
                p.stop()
    if "reconcile" not in a.skip:
        res["reconciliation"] = measure_reconciliation(root, rec_orders, body, a.stock_code)
    if "sim" not in a.skip:
        log("running bench/sim_bench.py")
        res["sim_bench"] = run_sim_bench(a.quick)
    res["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    if hasattr(os, "getloadavg"):
        # Other work on the machine skews rps and latency; CPU ms/req much less so.
        res["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    res["targets"] = report.evaluate_targets(res)

    RESULTS.mkdir(exist_ok=True)
    md = report.markdown(res)
    (RESULTS / "latest.md").write_text(md, encoding="utf-8")
    report.write_json(res, RESULTS / "latest.json")
    png = report.chart(res, RESULTS / "latest.png")
    print()
    print(md)
    log(f"wrote {RESULTS / 'latest.md'}, latest.json{', latest.png' if png else ''}")
    if a.keep:
        log(f"kept {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0

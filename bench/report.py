"""Turn the results dict into a Markdown report, a JSON file and a PNG chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ENDPOINT_LABEL = {
    "post_order": "POST /trading/order",
    "get_orders": "GET /trading/orders?limit=100",
    "account_info": "GET /trading/account-info",
}

TARGETS = {
    "post_ratio": ("POST /trading/order ≥ 0.5× reference rps (32 conns)", 0.5, ">="),
    "post_rps": ("POST /trading/order ≥ 3,000 orders/s (32 conns)", 3000.0, ">="),
    "post_p99_32": ("POST p99 ≤ 10 ms at 32 conns", 10.0, "<="),
    "post_added_p50_1": ("POST added p50 ≤ 1 ms at 1 conn", 1.0, "<="),
    "orders_ratio": ("GET orders?limit=100 ≥ 0.5× reference rps (32 conns)", 0.5, ">="),
    "rss_mb": ("RSS ≤ 200 MB after 100k orders", 200.0, "<="),
    "reconcile_s": ("reconciliation of 10k open orders ≤ 3 s", 3.0, "<="),
}


def _find(rows: list[dict[str, Any]], endpoint: str, conns: int) -> dict[str, Any] | None:
    return next((r for r in rows if r["endpoint"] == endpoint and r["connections"] == conns), None)


def evaluate_targets(res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows = res.get("http", [])
    got: dict[str, float | None] = dict.fromkeys(TARGETS)
    if (p32 := _find(rows, "post_order", 32)) is not None:
        got["post_ratio"] = p32["rps_ratio"]
        got["post_rps"] = p32["server"]["rps"]
        got["post_p99_32"] = p32["server"]["p99_ms"]
    if (p1 := _find(rows, "post_order", 1)) is not None:
        got["post_added_p50_1"] = p1["added_p50_ms"]
    if (g32 := _find(rows, "get_orders", 32)) is not None:
        got["orders_ratio"] = g32["rps_ratio"]
    if not str(res.get("generator", "")).startswith("wrk"):
        got["post_ratio"] = got["orders_ratio"] = None  # the fallback client is the bottleneck
    # The two scale targets count only at their scale (not after a --quick run's smaller one).
    rss = res.get("rss") or {}
    got["rss_mb"] = rss.get("vmrss_mb") if rss.get("orders", 0) >= 100_000 else None
    rec = res.get("reconciliation") or {}
    got["reconcile_s"] = rec.get("reconcile_s") if rec.get("open_orders", 0) >= 10_000 else None
    out: dict[str, dict[str, Any]] = {}
    for key, (text, limit, op) in TARGETS.items():
        v = got[key]
        met = None if v is None else (v >= limit if op == ">=" else v <= limit)
        out[key] = {"target": text, "limit": limit, "value": v, "met": met}
    return out


def _f(v: float | None, nd: int = 2) -> str:
    return "n/a" if v is None else f"{v:,.{nd}f}"


def markdown(res: dict[str, Any]) -> str:
    m = res["machine"]
    lines = [
        f"### qmt-api benchmark — {res['finished_at']}",
        "",
        f"Machine: {m['nproc']} cores, {m['cpu_model']}, Python {m['python']}, {m['platform']}; "
        f"load generator: {res['generator']}; {res['duration_s']:g} s per measurement"
        f"{' (--quick)' if res['quick'] else ''}; commit {m['commit']}; load average "
        f"{m.get('loadavg_1m_at_start')} at start, {m.get('loadavg_1m_at_end')} at end.",
        "",
        "| endpoint | conns | qmt-api rps | reference rps | ratio | qmt-api p50 ms | ref p50 ms "
        "| added p50 ms | qmt-api p99 ms | ref p99 ms | CPU ms/req qmt-api / ref | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in res.get("http", []):
        s, ref = r["server"], r["reference"]
        lines.append(
            f"| {ENDPOINT_LABEL[r['endpoint']]} | {r['connections']} | {_f(s['rps'], 0)} | "
            f"{_f(ref['rps'], 0)} | {_f(r['rps_ratio'])} | {_f(s['p50_ms'])} | "
            f"{_f(ref['p50_ms'])} | {_f(r['added_p50_ms'])} | {_f(s['p99_ms'])} | "
            f"{_f(ref['p99_ms'])} | {_f(s.get('cpu_ms_per_req'), 3)} / "
            f"{_f(ref.get('cpu_ms_per_req'), 3)} | {s['errors']}/{ref['errors']} |"
        )
    lines += ["", "| other measurement | value |", "|---|---:|"]
    rss = res.get("rss") or {}
    if rss.get("vmrss_mb") is not None:
        lines.append(
            f"| server RSS after {rss['orders']:,} orders (VmRSS / peak VmHWM) | "
            f"{_f(rss['vmrss_mb'], 1)} MB / {_f(rss.get('vmhwm_mb'), 1)} MB |"
        )
        lines.append(f"| server RSS right after start | {_f(rss.get('start_mb'), 1)} MB |")
    else:
        lines.append(f"| server RSS | skipped: {rss.get('skipped', 'not measured')} |")
    rec = res.get("reconciliation") or {}
    if rec.get("reconcile_s") is not None:
        lines.append(
            f"| start-up to /ready, empty journal → {rec['open_orders']:,} open orders "
            f"(process start, imports included) | {_f(rec['start_empty_s'])} s → "
            f"{_f(rec['start_loaded_s'])} s |"
        )
        lines.append(
            f"| app lifespan start-up, empty → {rec['open_orders']:,} open orders | "
            f"{_f(rec.get('lifespan_empty_s'))} s → {_f(rec.get('lifespan_loaded_s'))} s |"
        )
        lines.append(
            f"| reconciliation of {rec['open_orders']:,} open orders (server log: broker "
            f"connected → journal reconciled; {rec['open_after_restart']:,} still open after) | "
            f"{_f(rec['reconcile_s'])} s |"
        )
    else:
        lines.append(f"| reconciliation | skipped: {rec.get('skipped', 'not measured')} |")
    sim = res.get("sim_bench") or {}
    ops = sim.get("orders_per_s")
    shown = _f(ops, 0) if ops else sim.get("skipped", "n/a")
    lines.append(f"| simulator (bench/sim_bench.py) orders/s | {shown} |")
    if not res["generator"].startswith("wrk"):
        lines += [
            "",
            "**Fallback load generator: the Python client saturates before a fast server "
            "does, so the reference's figures and every ratio here understate the gap.**",
        ]
    lines += ["", "| target | measured | met |", "|---|---:|:---:|"]
    for t in res.get("targets", {}).values():
        mark = {True: "yes", False: "**no**", None: "n/a"}[t["met"]]
        lines.append(f"| {t['target']} | {_f(t['value'])} | {mark} |")
    return "\n".join(lines) + "\n"


def write_json(res: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(res, indent=2, ensure_ascii=False, default=str), encoding="utf-8")


def chart(res: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    rows = res.get("http", [])
    if not rows:
        return False
    labels = [
        f"{ENDPOINT_LABEL[r['endpoint']].split('?')[0]}\n{r['connections']} conn" for r in rows
    ]
    x = list(range(len(rows)))
    w = 0.4
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(11, 8))
    a1.bar([i - w / 2 for i in x], [r["server"]["rps"] for r in rows], w, label="qmt-api")
    a1.bar([i + w / 2 for i in x], [r["reference"]["rps"] for r in rows], w, label="bare FastAPI")
    a1.set_ylabel("requests/s")
    a1.set_xticks(x, labels, fontsize=7)
    a1.legend()
    a1.set_title(
        f"qmt-api vs bare FastAPI ({res['generator'].split(':')[0]}, "
        f"{res['machine']['nproc']} cores)"
    )
    a2.bar([i - w / 2 for i in x], [r["server"]["p99_ms"] for r in rows], w, label="qmt-api p99")
    a2.bar(
        [i + w / 2 for i in x],
        [r["reference"]["p99_ms"] for r in rows],
        w,
        label="bare FastAPI p99",
    )
    a2.set_ylabel("p99 latency (ms)")
    a2.set_xticks(x, labels, fontsize=7)
    a2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True

"""bench/report.py: the issue-18 targets are judged from one run's figures — ratios against the
bare reference and the peer, the scale targets only at their scale, no ratio verdict from the
fallback load generator."""

from __future__ import annotations

from typing import Any

from bench import report


def _fig(rps: float, p50: float = 1.0, p99: float = 2.0) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": 0, "cpu_ms_per_req": 0.5}


def _row(endpoint: str, conns: int, us: float, bare: float, peer: float | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "endpoint": endpoint,
        "connections": conns,
        "server": _fig(us, p50=1.4, p99=12.0),
        "reference": _fig(bare, p50=0.2),
        "rps_ratio": us / bare,
        "added_p50_ms": 1.2,
        "peer_ratio": us / peer if peer else None,
    }
    if peer:
        row["peer"] = _fig(peer)
    return row


def _result(generator: str = "wrk", orders: int = 100_000) -> dict[str, Any]:
    return {
        "generator": generator,
        "http": [
            _row("post_order", 1, 1_100, 6_000, 1_000),
            _row("get_orders", 1, 2_000, 5_000, 900),
            _row("post_order", 32, 3_000, 9_000, 1_000),
            _row("get_orders", 32, 4_000, 7_000, 900),
        ],
        "rss": {
            "orders": orders,
            "vmrss_mb": 180.0,
            "get_orders_1": {"server": _fig(800, p99=1.5), "reference": _fig(2_000)},
        },
    }


def test_each_target_is_judged_from_the_run() -> None:
    t = report.evaluate_targets(_result())
    met = {k: v["met"] for k, v in t.items()}
    assert met == {
        "post_vs_peer_1": True,  # 1,100 vs 1,000
        "post_added_p50_1": False,  # 1.2 ms over bare
        "post_ratio_32": False,  # 0.33x bare
        "post_vs_peer_32": True,  # 3x qmtlink
        "post_p99_32": True,  # 12 ms
        "orders_ratio_1": False,  # 0.4x
        "orders_ratio_32": True,  # 0.57x
        "orders_p99_1_100k": True,  # 1.5 ms after 100k orders
        "orders_miss_ratio_1": None,  # the cache-miss rows: not in this run
        "orders_miss_ratio_32": None,
        "orders_miss_p99_1_100k": None,
        "rss_mb": True,
        "reconcile_s": None,  # not measured
    }


def test_without_the_peer_its_targets_are_not_judged() -> None:
    res = _result()
    for row in res["http"]:
        row.pop("peer", None)
        row["peer_ratio"] = None
    t = report.evaluate_targets(res)
    assert t["post_vs_peer_1"]["met"] is None
    assert t["post_vs_peer_32"]["met"] is None


def test_scale_targets_wait_for_their_scale() -> None:
    t = report.evaluate_targets(_result(orders=10_000))
    assert t["rss_mb"]["met"] is None
    assert t["orders_p99_1_100k"]["met"] is None


def test_the_fallback_generator_gives_no_ratio_verdicts() -> None:
    t = report.evaluate_targets(_result(generator="fallback: asyncio+httpx"))
    for key in ("post_vs_peer_1", "post_ratio_32", "post_vs_peer_32", "orders_ratio_32"):
        assert t[key]["met"] is None, key
    assert t["post_p99_32"]["met"] is True  # latency is still the server's


def test_the_report_shows_the_peer_beside_us() -> None:
    res = {
        **_result(),
        "finished_at": "now",
        "duration_s": 3,
        "quick": True,
        "machine": {
            "nproc": 2,
            "cpu_model": "x",
            "python": "3.11",
            "platform": "linux",
            "commit": "abc",
        },
        "peer": {
            "name": "qmtlink",
            "skipped": None,
            "label": "qmtlink 0.1.0a22",
            "paths": {"post_order": "/api/v1/orders"},
        },
    }
    res["targets"] = report.evaluate_targets(res)
    md = report.markdown(res)
    assert "Peer: qmtlink 0.1.0a22 — POST /trading/order ↔ /api/v1/orders." in md
    assert "| POST /trading/order | 32 | 3,000 / 9,000 / 1,000 | 0.33 | 3.00 |" in md

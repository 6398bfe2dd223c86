"""Start-up phase: a fresh server, N resting orders, a restart; the time to /ready and the
reconciliation span read from the server's log."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.client import (
    count_orders,
    log,
    login,
    order_body,
    pick_instrument,
    place_many,
    relax_risk_rules,
)
from bench.servers import Proc, free_port, start_gateway

_TS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})")


def _log_span(text: str, start_marker: str, end_marker: str) -> float | None:
    """Seconds between the first log line containing start_marker and the next with end_marker."""
    t0 = None
    for ln in text.splitlines():
        m = _TS.match(ln)
        if not m:
            continue
        ts = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
        if t0 is None and start_marker in ln:
            t0 = ts
        elif t0 is not None and end_marker in ln:
            return (ts - t0).total_seconds()
    return None


def _startup_spans(proc: Proc) -> dict[str, float | None]:
    text = proc.log_path.read_text(encoding="utf-8", errors="replace")
    return {
        # From the broker connected to the journal reconciled (TradingService.start).
        "reconcile_s": _log_span(text, "MiniQMT connected", "reconciled with the broker"),
        # The whole application start-up (lifespan), imports excluded.
        "lifespan_s": _log_span(text, "Waiting for application startup", "startup complete"),
    }


def measure_reconciliation(
    root: Path, n_open: int, token_body: str | None, wanted: str | None
) -> dict[str, Any]:
    """Fresh server, n_open resting orders, restart, time to /ready and the reconcile span."""
    work = root / "reconcile"
    port = free_port()
    gw = start_gateway(work, port)
    try:
        start_empty = gw.wait_ready()
        token = login(gw.base)
        h = {"Authorization": f"Bearer {token}"}
        relax_risk_rules(gw.base, h)
        body = token_body or order_body(pick_instrument(gw.base, h, wanted))
        log(f"reconciliation: seeding {n_open:,} resting orders")
        place_many(gw.base, token, body, n_open, "seed", limit_s=300)
    finally:
        gw.stop()
    empty = _startup_spans(gw)
    db = work / "bench.db"
    open_before = count_orders(db, open_only=True)
    log(f"reconciliation: {open_before:,} open orders journaled; restarting")
    gw2 = start_gateway(work, port)
    try:
        start_loaded = gw2.wait_ready(timeout=300)
        open_after = count_orders(db, open_only=True)
    finally:
        gw2.stop()
    loaded = _startup_spans(gw2)
    line = next(
        (ln for ln in gw2.log_tail(400).splitlines() if "reconciled with the broker" in ln), ""
    )
    return {
        "open_orders": open_before,
        "open_after_restart": open_after,
        "start_empty_s": start_empty,
        "start_loaded_s": start_loaded,
        "lifespan_empty_s": empty["lifespan_s"],
        "lifespan_loaded_s": loaded["lifespan_s"],
        "reconcile_empty_s": empty["reconcile_s"],
        "reconcile_s": loaded["reconcile_s"],
        "log_line": line.partition(" - ")[2][:200],
    }

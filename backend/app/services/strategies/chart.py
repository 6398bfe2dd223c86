"""The run chart: equity on top, drawdown below, as a PNG (matplotlib's Agg backend)."""

from __future__ import annotations

import os
import threading
from datetime import datetime
from pathlib import Path

# pyplot keeps global state; one chart at a time keeps concurrent runs from mixing figures.
_LOCK = threading.Lock()


def render(path: Path, title: str, curve: list[list[object]], initial: float) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    times = [datetime.fromisoformat(str(t)) for t, _ in curve]
    values = [float(v) for _, v in curve]  # type: ignore[arg-type]
    peak, dd = initial, []
    for v in values:
        peak = max(peak, v)
        dd.append(-(1 - v / peak) * 100 if peak else 0.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    with _LOCK:
        fig = Figure(figsize=(10, 6), dpi=100)
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        top.plot(times, values, color="#1f77b4", linewidth=1.2)
        top.axhline(initial, color="#999999", linewidth=0.8, linestyle="--")
        top.set_title(title)
        top.set_ylabel("Equity (CNY)")
        top.grid(alpha=0.3)
        bottom.fill_between(times, dd, 0, color="#d62728", alpha=0.4)
        bottom.set_ylabel("Drawdown (%)")
        bottom.grid(alpha=0.3)
        fig.autofmt_xdate()
        fig.tight_layout()
        # Written beside the target and renamed over it: a reader (GET /runs/{id}/chart) sees
        # the old picture or the new one, never a half-written PNG.
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            fig.savefig(tmp, format="png")
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return path

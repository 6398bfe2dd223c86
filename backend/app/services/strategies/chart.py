"""The run chart: equity on top, drawdown below, as a PNG (matplotlib's Agg backend).

When the script called QMT's `C.paint(...)`, its series get a panel of their own at the
bottom (QMT draws them under its K-line chart), and `draw_text` marks are shown as
labelled ticks on the equity line.
"""

from __future__ import annotations

import os
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any, Final

# pyplot keeps global state; one chart at a time keeps concurrent runs from mixing figures.
_LOCK = threading.Lock()


MAX_PAINTED: Final = 8  # series drawn; all of them stay in the result
# Fonts with Chinese glyphs where the machine has one (Windows: Microsoft YaHei / SimHei);
# without any, Chinese paint names and marks show as boxes (the glyph warning is silenced).
CJK_FONTS: Final = ["Microsoft YaHei", "SimHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei",
                    "PingFang SC", "DejaVu Sans"]  # fmt: skip


def render(
    path: Path,
    title: str,
    curve: list[list[object]],
    initial: float,
    paints: dict[str, list[list[object]]] | None = None,
    marks: list[dict[str, Any]] | None = None,
) -> Path:
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
    painted = list((paints or {}).items())[:MAX_PAINTED]
    with _LOCK, warnings.catch_warnings(), matplotlib.rc_context({"font.sans-serif": CJK_FONTS}):
        warnings.filterwarnings(
            "ignore", message="Glyph .* missing from font", category=UserWarning
        )
        rows = 3 if painted else 2
        fig = Figure(figsize=(10, 8 if painted else 6), dpi=100)
        axes = fig.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1, 2][:rows]})
        top, bottom = axes[0], axes[1]
        top.plot(times, values, color="#1f77b4", linewidth=1.2)
        by_time = dict(zip(times, values, strict=True))
        for mark in (marks or [])[:200]:
            when = datetime.fromisoformat(str(mark["time"]))
            if when in by_time and mark.get("text"):
                top.annotate(str(mark["text"]), (when, by_time[when]), fontsize=7,
                             xytext=(0, 8), textcoords="offset points", ha="center")  # fmt: skip
        if painted:
            panel = axes[2]
            for name, points in painted:
                panel.plot(
                    [datetime.fromisoformat(str(t)) for t, _ in points],
                    [float("nan") if v is None else float(v) for _, v in points],  # type: ignore[arg-type]
                    linewidth=1.0, label=name,
                )  # fmt: skip
            panel.set_ylabel("paint()")
            panel.legend(fontsize=7, loc="upper left")
            panel.grid(alpha=0.3)
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

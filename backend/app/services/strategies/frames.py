"""Bar series as the frames and columns QMT's data calls return (`pandas_compat` frames).

Times a script passes are labels: a daily bar is its day, a minute bar is labelled by its end.
"""

from __future__ import annotations

import math
from typing import Any, Final

from backend.app.services.strategies.bars import (
    BarSeries,
    label_ms,
    parse_when,
    prev_closes,
    start_of_label,
    timetag,
)
from backend.app.services.strategies.guard import StrategyError
from backend.app.services.strategies.pandas_compat import QmtFrame

ALL_FIELDS: Final = (
    "time", "open", "high", "low", "close", "volume", "amount", "preClose", "suspendFlag",
)  # fmt: skip


def check_fields(wanted: list[str]) -> None:
    unknown = [f for f in wanted if f not in ALL_FIELDS]
    if unknown:
        raise StrategyError(f"不支持的字段 {unknown} / unsupported fields; use {ALL_FIELDS}")


def frame(
    series: BarSeries, wanted: list[str], start_time: Any, end_time: Any, count: int
) -> QmtFrame:
    lo, hi = window(series, start_time, end_time, count)
    # Columns come from the whole visible history so the first preClose is known.
    columns = {k: v[lo:hi] for k, v in bar_columns(series, wanted).items()}
    index = [timetag(t, series.period) for t in series.time[lo:hi]]
    return QmtFrame(columns, index=index, columns=wanted)


def window(series: BarSeries, start_time: Any, end_time: Any, count: int) -> tuple[int, int]:
    # Times a script passes are labels; a minute bar is labelled one minute after its start.
    lo, hi = 0, len(series)
    if start_time:
        lo = series.upto(start_of_label(parse_when(start_time), series.period) - 1)
    if end_time:
        when = parse_when(end_time, end_of_day=len(str(end_time)) == 8)
        hi = series.upto(start_of_label(when, series.period))
    if count is not None and count >= 0:
        lo = max(lo, hi - count)
    return lo, max(lo, hi)


def bar_columns(series: BarSeries, wanted: list[str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {}
    for name in wanted:
        if name == "preClose":
            pcs = prev_closes(series) if series.period == "1m" else [None, *series.close[:-1]]
            cols[name] = [math.nan if p is None else p for p in pcs]
        elif name == "suspendFlag":
            cols[name] = [0] * len(series)
        elif name == "time":
            cols[name] = [label_ms(t, series.period) for t in series.time]
        else:
            cols[name] = list(getattr(series, name))
    return cols

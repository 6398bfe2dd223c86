"""Bar series and where they come from: a user's CSV file or the simulator's seeded market.

A bar's `time` is its start in epoch milliseconds; daily bars start at 00:00 Beijing time of
their trading day, which is what QMT's `timetag` of a daily bar is. What scripts see is QMT's
*label* (`label_ms`, `timetag`): the day for daily bars, the **end** of the minute for minute
bars (QMT's and xtdata's 1m bars run 09:31 ... 11:30, 13:01 ... 15:00).
"""

from __future__ import annotations

import csv
import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

from xtquant_adapter.ashare.calendar import SHANGHAI

PERIODS: Final = ("1m", "1d")
PERIOD_MS: Final = {"1m": 60_000, "1d": 86_400_000}


class BarDataError(ValueError):
    """Bars that cannot be read or are unusable (bad CSV, empty range, unknown period)."""


@dataclass(slots=True)
class BarSeries:
    """One code's bars of one period, oldest first."""

    code: str
    period: str
    time: list[int] = field(default_factory=list)
    open: list[float] = field(default_factory=list)
    high: list[float] = field(default_factory=list)
    low: list[float] = field(default_factory=list)
    close: list[float] = field(default_factory=list)
    volume: list[float] = field(default_factory=list)
    amount: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.time)

    def append(self, bar: dict[str, Any]) -> None:
        self.time.append(int(bar["time"]))
        for name in ("open", "high", "low", "close", "volume"):
            getattr(self, name).append(float(bar[name]))
        amount = bar.get("amount")
        self.amount.append(
            float(amount)
            if amount not in (None, "")
            else float(bar["close"]) * float(bar["volume"])
        )

    def upto(self, t: int) -> int:
        """How many bars start at or before epoch-ms `t` (the no-look-ahead cut)."""
        return bisect_right(self.time, t)

    def slice(self, lo: int, hi: int) -> BarSeries:
        return BarSeries(
            self.code,
            self.period,
            self.time[lo:hi],
            self.open[lo:hi],
            self.high[lo:hi],
            self.low[lo:hi],
            self.close[lo:hi],
            self.volume[lo:hi],
            self.amount[lo:hi],
        )

    def between(self, start: date | None, end: date | None) -> BarSeries:
        lo = 0 if start is None else bisect_right(self.time, day_start_ms(start) - 1)
        hi = len(self) if end is None else bisect_right(self.time, day_start_ms(end) + 86_399_999)
        return self.slice(lo, hi)

    @classmethod
    def from_bars(cls, code: str, period: str, bars: Iterable[dict[str, Any]]) -> BarSeries:
        out = cls(code, period)
        for bar in sorted(bars, key=lambda b: int(b["time"])):
            out.append(bar)
        return out


def day_start_ms(day: date) -> int:
    return int(datetime.combine(day, time(0), SHANGHAI).timestamp() * 1000)


def local_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, SHANGHAI)


def trade_date(ms: int) -> date:
    return local_dt(ms).date()


def label_ms(start_ms: int, period: str) -> int:
    """QMT's label of the bar starting at `start_ms`: its end for minute bars."""
    return start_ms + PERIOD_MS["1m"] if period == "1m" else start_ms


def start_of_label(label: int, period: str) -> int:
    return label - PERIOD_MS["1m"] if period == "1m" else label


def timetag(ms: int, period: str) -> str:
    """QMT's bar label of the bar starting at `ms`: '20240102' daily, '20240102093100' for
    the minute 09:30-09:31."""
    if period == "1d":
        return local_dt(ms).strftime("%Y%m%d")
    return local_dt(label_ms(ms, period)).strftime("%Y%m%d%H%M%S")


def parse_when(text: str | int | float, *, end_of_day: bool = False) -> int:
    """Epoch ms from '20240102', '2024-01-02', '20240102093100', '2024-01-02 09:31[:00]', ms.

    A bare date means its 00:00 (or its last millisecond with `end_of_day`), Beijing time.
    """
    if isinstance(text, int | float) and not isinstance(text, bool):
        return int(text)
    raw = str(text).strip()
    if raw.isdigit() and len(raw) in (10, 13):
        # Epoch seconds or milliseconds (QMT timetags are ms).
        return int(raw) * (1000 if len(raw) == 10 else 1)
    digits = "".join(ch for ch in raw if ch.isdigit())
    try:
        if len(digits) == 8:
            ms = day_start_ms(datetime.strptime(digits, "%Y%m%d").date())  # noqa: DTZ007
            return ms + (86_399_999 if end_of_day else 0)
        if len(digits) in (12, 14):
            fmt = "%Y%m%d%H%M%S" if len(digits) == 14 else "%Y%m%d%H%M"
            naive = datetime.strptime(digits, fmt)  # noqa: DTZ007 - Beijing wall time
            return int(naive.replace(tzinfo=SHANGHAI).timestamp() * 1000)
    except ValueError:
        pass
    raise BarDataError(f"无法识别的时间 {raw!r} / unrecognised time {raw!r}")


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise BarDataError(
            f"不支持的周期 {period!r}，可用 1m、1d / period must be one of {PERIODS}"
        )
    return period


_CSV_COLUMNS: Final = ("time", "open", "high", "low", "close", "volume")


def read_csv(path: Path, default_code: str, period: str) -> dict[str, BarSeries]:
    """Bars from a CSV with a header `time,open,high,low,close,volume[,amount][,code]`.

    Without a `code` column every row belongs to `default_code`. `time` is any form
    `parse_when` takes. Rows must have positive prices with low <= open, close <= high.
    """
    check_period(period)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            missing = [c for c in _CSV_COLUMNS if c not in header]
            if missing:
                raise BarDataError(f"CSV 缺少列 {missing} / CSV lacks columns {missing}")
            rows: dict[str, list[dict[str, Any]]] = {}
            for n, row in enumerate(reader, start=2):
                row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
                rows.setdefault(row.get("code") or default_code, []).append(_csv_bar(row, n))
    except OSError as exc:
        raise BarDataError(f"无法读取 CSV {path.name}: {exc.strerror} / cannot read CSV") from exc
    if not rows:
        raise BarDataError("CSV 没有数据行 / the CSV has no rows")
    return {code: BarSeries.from_bars(code, period, bars) for code, bars in rows.items()}


def _csv_bar(row: dict[str, str], line: int) -> dict[str, Any]:
    try:
        bar: dict[str, Any] = {"time": parse_when(row["time"])}
        for name in ("open", "high", "low", "close", "volume"):
            bar[name] = float(row[name])
        if row.get("amount"):
            bar["amount"] = float(row["amount"])
    except (ValueError, BarDataError) as exc:
        raise BarDataError(f"CSV 第 {line} 行无法解析 / CSV line {line}: {exc}") from exc
    prices = (bar["open"], bar["high"], bar["low"], bar["close"])
    if not all(math.isfinite(p) and p > 0 for p in prices) or not (
        bar["low"]
        <= min(bar["open"], bar["close"])
        <= max(bar["open"], bar["close"])
        <= bar["high"]
    ):
        raise BarDataError(f"CSV 第 {line} 行价格不合理 / CSV line {line}: inconsistent prices")
    return bar


def merge_daily(minutes: BarSeries, upto: int) -> dict[str, float] | None:
    """The still-forming daily bar made of `minutes[:upto]` on the last one's day."""
    if upto <= 0:
        return None
    day = trade_date(minutes.time[upto - 1])
    lo = upto - 1
    while lo > 0 and trade_date(minutes.time[lo - 1]) == day:
        lo -= 1
    return {
        "time": day_start_ms(day),
        "open": minutes.open[lo],
        "high": max(minutes.high[lo:upto]),
        "low": min(minutes.low[lo:upto]),
        "close": minutes.close[upto - 1],
        "volume": sum(minutes.volume[lo:upto]),
        "amount": sum(minutes.amount[lo:upto]),
    }


def prev_closes(series: BarSeries) -> list[float | None]:
    """Previous trading day's close for each bar (None on the series' first day)."""
    out: list[float | None] = []
    last_close_of_prev_day: float | None = None
    current_day: date | None = None
    running_close: float | None = None
    for t, close in zip(series.time, series.close, strict=True):
        day = trade_date(t)
        if day != current_day:
            last_close_of_prev_day = running_close
            current_day = day
        out.append(last_close_of_prev_day)
        running_close = close
    return out

"""Live mode: the real xtquant SDK (XTQUANT.md), imported only when live mode asks for it.

Nothing here but construction and translation; QMTService owns retries, mapping and logging.

* `build_trader(path, session_id)` builds `xtquant.xttrader.XtQuantTrader` on a short-lived
  thread of its own, because its constructor creates an asyncio loop and calls
  `asyncio.set_event_loop()` on the constructing thread (XTQUANT.md §2.1); that must never be
  the thread running our server's loop, nor a pooled thread other code reuses.
* `SessionIds` hands out a fresh session id per connect: `connect()` is one-shot and a
  reconnect needs a new `XtQuantTrader` with a session id MiniQMT has not seen yet.
* `make_account(id)` builds `xtquant.xttype.StockAccount`.
* `RealMarketData` serves `xtquant_adapter.protocol.MarketData` from `xtquant.xtdata` with
  plain dicts and lists only (no pandas objects cross the seam).

Portable: threads and pathlib only, no POSIX-only calls.
"""

from __future__ import annotations

import importlib
import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, Final, cast

from xtquant_adapter.ashare.codes import Board, board_of, normalize_code
from xtquant_adapter.protocol import AccountLike, Trader

LIVE_EXTRA_HINT: Final = (
    "live mode needs the real xtquant SDK (Windows x64, Python 3.11-3.13, beside a running "
    "MiniQMT): install it with `uv sync --extra live` / "
    "实盘模式需要安装 xtquant：`uv sync --extra live`"
)
BAR_PERIODS: Final = ("1d", "1m")
_BAR_FIELDS: Final = ["time", "open", "high", "low", "close", "volume", "amount"]
_SHANGHAI_OFFSET: Final = timedelta(hours=8)


class XtQuantNotInstalled(ImportError):
    """The `live` extra is missing, or this platform cannot load xtquant's native engines."""


def import_xtquant(module: str) -> ModuleType:
    """Import `xtquant.<module>` now, or raise `XtQuantNotInstalled` naming the `live` extra."""
    try:
        return importlib.import_module(f"xtquant.{module}")
    except ImportError as exc:
        # On Linux the wheel imports, but xttrader/xtdata fail on the Windows-only .pyd engines.
        raise XtQuantNotInstalled(f"{LIVE_EXTRA_HINT}. (import xtquant.{module}: {exc})") from exc


class SessionIds:
    """Unique session ids: time-based, so a restarted process does not reuse the ids of its
    previous run, and strictly increasing across every instance in this process.

    `first`, when given (MINIQMT_SESSION_ID), is used for this instance's first id only.
    Ids stay below 2**31 because MiniQMT stores them as a C int.
    """

    _MODULO: Final = 2_000_000_000
    _last = 0
    _lock = threading.Lock()

    def __init__(self, first: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self._first = first
        self._clock = clock

    def next(self) -> int:
        with SessionIds._lock:
            if self._first is not None:
                chosen, self._first = self._first, None
                return chosen

            # Tenths of a second: two connects rarely share one, and `_last + 1` covers it.
            candidate = int(self._clock() * 10) % self._MODULO
            SessionIds._last = max(candidate, SessionIds._last + 1) % self._MODULO or 1
            return SessionIds._last


_counter = itertools.count(1)


def build_trader(userdata_path: Path | str, session_id: int, *, timeout: float = 30.0) -> Trader:
    """Construct `XtQuantTrader(userdata_path, session_id)` on a dedicated thread.

    Only construction: the caller registers its callback, then `start()`, `connect()` (0 = ok)
    and `subscribe(account)`, each from a worker thread. Raises `XtQuantNotInstalled`,
    `FileNotFoundError` (no such userdata folder) or `TimeoutError` (the constructor hung).
    """
    path = Path(userdata_path).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"MINIQMT_USERDATA_PATH {str(path)!r} is not a folder; point it at MiniQMT's "
            "userdata_mini / MiniQMT 的 userdata_mini 目录不存在"
        )
    xttrader = import_xtquant("xttrader")
    box: dict[str, Any] = {}

    def construct() -> None:
        try:
            box["trader"] = xttrader.XtQuantTrader(str(path), int(session_id))
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=construct, name=f"xtquant-build-{next(_counter)}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(
            f"XtQuantTrader({str(path)!r}, {session_id}) did not return within {timeout}s"
        )
    if "error" in box:
        raise box["error"]
    return cast(Trader, box["trader"])


def make_account(account_id: str, account_type: str = "STOCK") -> AccountLike:
    """`xtquant.xttype.StockAccount(account_id)`; raises ValueError where the SDK returns a
    message string instead of an account (XTQUANT.md §4)."""
    xttype = import_xtquant("xttype")
    account = xttype.StockAccount(account_id, account_type)
    if isinstance(account, str):
        raise ValueError(f"StockAccount({account_id!r}): {account}")
    return cast(AccountLike, account)


# --- market data --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """numpy scalars/arrays and tuples -> Python floats, ints, strs and lists."""
    if isinstance(value, str | bytes | bool | int | float) or value is None:
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def _timetag(ms: int) -> str:
    return (datetime.fromtimestamp(ms / 1000, UTC) + _SHANGHAI_OFFSET).strftime("%Y%m%d %H:%M:%S")


def _lot_shares(code: str) -> int:
    """Shares (or bonds) in one unit of xtdata's `volume`: lots of 100, or 10 for bonds."""
    return 10 if board_of(code) is Board.CB else 100


def _history_start(period: str, count: int, today: date) -> str:
    # Calendar days that surely hold `count` bars: about 245 trading days a year, 240 bars a day.
    days = count * 1.6 + 15 if period == "1d" else (count // 240 + 1) * 1.6 + 10
    return (today - timedelta(days=int(days))).strftime("%Y%m%d")


class RealMarketData:
    """`MarketData` over `xtquant.xtdata`, which connects to the running MiniQMT on first use.

    Limit prices and ticks are the instrument detail's `UpStopPrice`, `DownStopPrice` and
    `PriceTick`. Tick and bar volumes arrive in lots; `get_bars` returns shares as the
    protocol says, and the tick keeps xtdata's lots with `pvolume` in shares.
    """

    def __init__(self, xtdata: ModuleType | None = None) -> None:
        self._xtdata = xtdata if xtdata is not None else import_xtquant("xtdata")

        # The SDK prints a banner on its first connect; our logs say what matters.
        if hasattr(self._xtdata, "enable_hello"):
            setattr(self._xtdata, "enable_hello", False)  # noqa: B010

    def get_full_tick(self, code_list: list[str]) -> dict[str, dict[str, Any]]:
        raw = self._xtdata.get_full_tick(list(code_list)) or {}
        out: dict[str, dict[str, Any]] = {}
        for code, tick in raw.items():
            snap = {str(k): _plain(v) for k, v in dict(tick).items()}
            if "timetag" not in snap and isinstance(snap.get("time"), int | float):
                snap["timetag"] = _timetag(int(snap["time"]))
            if "pvolume" not in snap and isinstance(snap.get("volume"), int | float):
                snap["pvolume"] = int(snap["volume"]) * _lot_shares(code)
            out[str(code)] = snap
        return out

    def get_instrument_detail(self, code: str) -> dict[str, Any] | None:
        detail = self._xtdata.get_instrument_detail(code)

        # Older SDKs answer an unknown code with {} instead of None.
        if not detail:
            return None
        return {str(k): _plain(v) for k, v in dict(detail).items()}

    def get_stock_list_in_sector(self, sector_name: str) -> list[str]:
        """xtdata's members of a sector (沪深300, 上证50, 沪深A股, ...); [] when unknown.

        Not part of `MarketData`: the strategy runner asks for it when present (QMT scripts'
        `get_stock_list_in_sector`) and uses the simulator's snapshot otherwise.
        """
        return [str(c) for c in self._xtdata.get_stock_list_in_sector(sector_name) or []]

    def get_bars(self, code: str, period: str, count: int) -> list[dict[str, Any]]:
        if period not in BAR_PERIODS:
            raise ValueError(f"period must be one of {BAR_PERIODS}, not {period!r}")
        if count <= 0:
            return []
        code = normalize_code(code)
        start = _history_start(period, count, datetime.now(UTC).date())

        # get_market_data_ex reads MiniQMT's local cache only; fill it for the window first.
        self._xtdata.download_history_data(code, period, start_time=start, end_time="")
        frames = self._xtdata.get_market_data_ex(
            _BAR_FIELDS, [code], period=period, start_time=start, end_time="",
            count=count, dividend_type="none", fill_data=True,
        )  # fmt: skip
        frame = (frames or {}).get(code)
        if frame is None or len(frame) == 0:
            return []
        shares = _lot_shares(code)
        bars = [
            {
                "time": int(row["time"]),
                "open": float(row["open"]),
                "high": float(row["high"]),
                "low": float(row["low"]),
                "close": float(row["close"]),
                "volume": int(row["volume"]) * shares,
                "amount": float(row["amount"]),
            }
            for row in frame.to_dict(orient="records")
        ]
        bars.sort(key=lambda bar: bar["time"])
        return bars[-count:]

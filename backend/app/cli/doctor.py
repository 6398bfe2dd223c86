"""`qmt-api doctor` and `qmt-api smoke --live`: check a Windows machine beside MiniQMT.

`doctor` reads only: Python and xtquant versions, the `userdata_mini` folder, the
`up_queue_xtquant` file (no file = no API permission, official FAQ), then connect, subscribe,
an asset query and xtdata, each with a deadline (the SDK has none). `smoke` places ONE real
order: the smallest lot of a cheap ETF at a price that cannot trade, cancels it and checks
the states. Both print a Chinese + English report to attach to a bug report.

They use a session id of their own (the gateway's range + 100), so they can run beside it.
"""

from __future__ import annotations

import importlib
import platform
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Final, TypeVar

from backend.app.core.config import Settings
from xtquant_adapter import real
from xtquant_adapter import xtconstant as xc

T = TypeVar("T")
SMOKE_CODE: Final = "510300.SH"  # 沪深300ETF: liquid, about 4 CNY a share
SMOKE_REMARK: Final = "qmt-smoke"  # never our order-id prefix: the gateway sees it as foreign
_FINAL: Final = {xc.ORDER_CANCELED, xc.ORDER_PART_CANCEL, xc.ORDER_SUCCEEDED, xc.ORDER_JUNK}


@dataclass
class Check:
    name: str
    ok: bool | None  # None: skipped, because an earlier check failed
    detail: str = ""

    def line(self) -> str:
        mark = {True: "OK  ", False: "FAIL", None: "SKIP"}[self.ok]
        return f"[{mark}] {self.name}" + (f": {self.detail}" if self.detail else "")


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(self, name: str, ok: bool | None, detail: str = "") -> bool:
        self.checks.append(Check(name, ok, detail))
        return bool(ok)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def text(self) -> str:
        head = f"qmt-api doctor — Python {platform.python_version()} on {platform.platform()}"
        return "\n".join([head, *(c.line() for c in self.checks)])


def within(seconds: float, fn: Callable[[], T]) -> T:
    """`fn()` on a daemon thread; TimeoutError if it does not return in time (it may hang
    forever inside the SDK: the thread is abandoned)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=run, name="qmt-doctor", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g}s")
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


class Recorder:
    """A TraderCallback keeping what MiniQMT pushes (thread-safe)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.events: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            with self.cond:
                self.events.append((name, args[0] if args else None))
                self.cond.notify_all()

        return record

    def wait(self, pred: Callable[[], bool], seconds: float) -> bool:
        with self.cond:
            return self.cond.wait_for(pred, seconds)


def _xtquant_version() -> tuple[bool, str]:
    try:
        return True, metadata.version("xtquant")
    except metadata.PackageNotFoundError:
        pass
    try:  # importable without a distribution record (a vendored copy)
        return True, str(getattr(importlib.import_module("xtquant"), "__version__", "?"))
    except ImportError:
        return False, real.LIVE_EXTRA_HINT


def _session_id(settings: Settings) -> int:
    return (settings.miniqmt_session_id or real.SessionIds.DEFAULT_BASE) + 100


def open_session(
    settings: Settings, report: Report, timeout: float
) -> tuple[Any, Any, Recorder] | None:
    """The environment checks, then connect + subscribe; the live session or None."""
    version_ok = (3, 11) <= sys.version_info[:2] <= (3, 13)
    report.add("Python 3.11-3.13 / Python 版本", version_ok, platform.python_version())
    report.add("xtquant 已安装 / installed", *_xtquant_version())
    path = settings.miniqmt_userdata_path
    if path is None or not Path(path).is_dir():
        report.add(
            "userdata_mini 目录 / folder", False, str(path or "MINIQMT_USERDATA_PATH 未设置")
        )
        return None
    report.add("userdata_mini 目录 / folder", True, str(path))
    queue = Path(path) / "up_queue_xtquant"
    report.add(
        "up_queue_xtquant 文件（API 权限）/ file (API permission)", queue.is_file(),
        "" if queue.is_file() else "没有此文件 = 券商未开通 xtquant 接口权限，请联系券商 / "
        "no file = the broker has not granted xtquant API access",
    )  # fmt: skip
    recorder = Recorder()
    try:
        trader = real.build_trader(path, _session_id(settings), timeout=timeout)
        trader.register_callback(recorder)
        within(timeout, trader.start)
        rc = within(timeout, trader.connect)
    except Exception as exc:
        report.add("连接 MiniQMT / connect", False, f"{type(exc).__name__}: {exc}")
        return None
    if not report.add("连接 MiniQMT / connect", rc == 0, f"connect() = {rc}"):
        trader.close()
        return None
    account = real.make_account(settings.miniqmt_account_id, settings.miniqmt_account_type)
    name = f"订阅账户 / subscribe {settings.miniqmt_account_id} ({settings.miniqmt_account_type})"
    try:
        answer = str(within(timeout, lambda: trader.subscribe(account)))
    except TimeoutError as exc:
        answer = str(exc)
    if not report.add(name, answer == "0", f"subscribe() = {answer}"):
        trader.close()
        return None
    return trader, account, recorder


def run_doctor(settings: Settings, timeout: float = 10.0) -> Report:
    report = Report()
    session = open_session(settings, report, timeout)
    if session is None:
        report.add("资产查询 / asset query", None)
        report.add("行情 xtdata / market data", None)
        return report
    trader, account, _ = session
    try:
        asset = within(timeout, lambda: trader.query_stock_asset(account))
        report.add(
            "资产查询 / asset query", asset is not None,
            f"total_asset={asset.total_asset}" if asset is not None else "None (查询失败 / failed)",
        )  # fmt: skip
    except TimeoutError as exc:
        report.add("资产查询 / asset query", False, str(exc))
    try:
        tick = within(timeout, lambda: real.RealMarketData().get_full_tick([SMOKE_CODE]))
        last = (tick.get(SMOKE_CODE) or {}).get("lastPrice")
        report.add("行情 xtdata / market data", bool(last), f"{SMOKE_CODE} lastPrice={last}")
    except Exception as exc:
        report.add("行情 xtdata / market data", False, f"{type(exc).__name__}: {exc}")
    finally:
        trader.close()
    return report


def _resting_price(detail: dict[str, Any] | None, tick: dict[str, Any]) -> Decimal:
    """A buy price that cannot trade: 3% under the last price, never under limit-down."""
    last = Decimal(str(tick.get("lastPrice") or 0))
    floor = Decimal(str((detail or {}).get("DownStopPrice") or 0))
    price = max((last * Decimal("0.97")).quantize(Decimal("0.001"), ROUND_DOWN), floor)
    if price <= 0:
        raise ValueError(f"no usable price for {SMOKE_CODE}: tick={tick!r}")
    return price


def run_smoke(settings: Settings, timeout: float = 10.0) -> Report:
    """Buy 100 shares of SMOKE_CODE at a resting price, cancel, check the states."""
    report = Report()
    session = open_session(settings, report, timeout)
    if session is None:
        return report
    trader, account, rec = session
    try:
        market = real.RealMarketData()
        tick = within(timeout, lambda: market.get_full_tick([SMOKE_CODE])).get(SMOKE_CODE, {})
        price = _resting_price(
            within(timeout, lambda: market.get_instrument_detail(SMOKE_CODE)), tick
        )
        seq = trader.order_stock_async(
            account, SMOKE_CODE, xc.STOCK_BUY, 100, xc.FIX_PRICE, float(price), "qmt-smoke",
            SMOKE_REMARK,
        )  # fmt: skip
        report.add(f"下单 / order_stock_async {SMOKE_CODE} 100 @ {price}", seq > 0, f"seq={seq}")
        answered = rec.wait(lambda: _response(rec, seq) is not None, timeout)
        response = _response(rec, seq)
        order_id = int(response.order_id) if response is not None else -1
        report.add("委托回报 / async response", answered and order_id > 0, f"order_id={order_id}")
        if order_id <= 0:
            return report
        rec.wait(lambda: bool(_statuses(rec, order_id)), timeout)
        cancel_seq = trader.cancel_order_stock_async(account, order_id)
        report.add("撤单 / cancel_order_stock_async", cancel_seq > 0, f"seq={cancel_seq}")
        done = rec.wait(lambda: bool(set(_statuses(rec, order_id)) & _FINAL), timeout)
        statuses = _statuses(rec, order_id)
        report.add(
            "状态 / order states", done and statuses[-1] == xc.ORDER_CANCELED,
            " -> ".join(map(str, statuses)) + " (54 = 已撤 cancelled)",
        )  # fmt: skip
    except Exception as exc:
        report.add("冒烟测试 / smoke", False, f"{type(exc).__name__}: {exc}")
    finally:
        trader.close()
    return report


def _response(rec: Recorder, seq: int) -> Any:
    for name, arg in rec.events:
        if name == "on_order_stock_async_response" and arg.seq == seq:
            return arg
    return None


def _statuses(rec: Recorder, order_id: int) -> list[int]:
    return [
        int(arg.order_status) for name, arg in rec.events
        if name == "on_stock_order" and int(arg.order_id) == order_id
    ]  # fmt: skip

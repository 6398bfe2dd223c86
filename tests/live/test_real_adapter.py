"""xtquant_adapter.real over the fake SDK, and the fake's own SDK-like behaviour."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from xtquant_adapter import real
from xtquant_adapter import xtconstant as xc


class Recorder:
    """A TraderCallback that records pushes and can wait for them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []
        self.threads: set[str] = set()
        self._cond = threading.Condition()

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("on_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            with self._cond:
                self.events.append((name, args[0] if args else None))
                self.threads.add(threading.current_thread().name)
                self._cond.notify_all()

        return record

    def wait_for(self, name: str, count: int = 1, timeout: float = 5.0) -> list[Any]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.of(name)) >= count, timeout)
        assert ok, f"no {count} x {name} within {timeout}s: {self.events}"
        return self.of(name)

    def of(self, name: str) -> list[Any]:
        return [arg for n, arg in self.events if n == name]


def _connected(tmp_path: Path, terminal: Any, session: int = 7) -> tuple[Any, Any, Recorder]:
    trader = real.build_trader(tmp_path, session)
    account = real.make_account(terminal.account_id)
    callback = Recorder()
    trader.register_callback(callback)
    trader.start()
    assert trader.connect() == 0
    assert trader.subscribe(account) == 0
    return trader, account, callback


def test_import_without_live_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xtquant", None)
    with pytest.raises(real.XtQuantNotInstalled, match="uv sync --extra live"):
        real.build_trader(Path.cwd(), 1)


def test_build_trader_missing_userdata_folder_is_explicit(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="userdata_mini"):
        real.build_trader(tmp_path / "nope", 1)


def test_session_ids_are_unique_and_honour_the_configured_first() -> None:
    ids = real.SessionIds(first=42, clock=lambda: 5.0)
    got = [ids.next() for _ in range(4)]
    assert got[0] == 42
    assert len(set(got)) == 4
    assert all(0 < i < 2**31 for i in got)


def test_trader_is_built_off_the_calling_thread(tmp_path: Path, fake_xtquant: Any) -> None:
    trader = real.build_trader(tmp_path, 11)
    assert trader.built_on.startswith("xtquant-build-")  # type: ignore[attr-defined]
    assert trader.built_on != threading.current_thread().name  # type: ignore[attr-defined]


def test_connect_is_one_shot_and_sessions_are_never_reused(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    trader, _, _ = _connected(tmp_path, fake_xtquant, session=21)
    assert trader.connect() == -1
    again = real.build_trader(tmp_path, 21)
    again.start()
    assert again.connect() == -1


def test_pushes_run_on_one_worker_and_on_connected_never_fires(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    trader, account, callback = _connected(tmp_path, fake_xtquant)
    seq = trader.order_stock_async(account, "510300.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 4.0,
                                   "s", "1")  # fmt: skip
    response = callback.wait_for("on_order_stock_async_response")[0]
    assert response.seq == seq
    assert response.order_remark == "1"
    fake_xtquant.fill(response.order_id)
    callback.wait_for("on_stock_trade")
    assert len(callback.threads) == 1
    assert next(iter(callback.threads)) != threading.current_thread().name
    assert callback.of("on_connected") == []


def test_sync_order_inside_a_callback_fails_loudly(tmp_path: Path, fake_xtquant: Any) -> None:
    trader, account, callback = _connected(tmp_path, fake_xtquant)
    caught: list[BaseException] = []

    def on_disconnected() -> None:
        try:
            trader.order_stock(account, "510300.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 4.0)
        except BaseException as exc:
            caught.append(exc)
        callback.on_stock_asset(None)

    callback.on_disconnected = on_disconnected  # type: ignore[method-assign]
    fake_xtquant.drop()
    callback.wait_for("on_stock_asset")
    assert "FakeDeadlockError" in type(caught[0]).__name__
    assert fake_xtquant.deadlocks
    fake_xtquant.deadlocks.clear()


def test_minus_one_but_live_order_is_visible_by_remark(tmp_path: Path, fake_xtquant: Any) -> None:
    trader, account, _ = _connected(tmp_path, fake_xtquant)
    fake_xtquant.minus_one_but_live = True
    rc = trader.order_stock(account, "000001.SZ", xc.STOCK_BUY, 100, xc.FIX_PRICE, 10.0, "", "77")
    assert rc == -1
    assert [o.order_remark for o in trader.query_stock_orders(account)] == ["77"]


def test_market_data_translates_xtdata(fake_xtquant: Any) -> None:
    from xtquant import _fake

    _fake.ticks["600000.SH"] = {"time": 1_735_000_000_000, "lastPrice": 7.5, "volume": 12,
                                "askPrice": (7.51, 0, 0, 0, 0)}  # fmt: skip
    _fake.details["600000.SH"] = {"InstrumentName": "浦发银行", "UpStopPrice": 8.25,
                                  "DownStopPrice": 6.75, "PriceTick": 0.01}  # fmt: skip
    _fake.bars[("600000.SH", "1d")] = [
        {"time": t, "open": 7.0, "high": 7.6, "low": 6.9, "close": 7.5, "volume": 3, "amount": 2e3}
        for t in (1_000, 2_000, 3_000)
    ]
    md = real.RealMarketData()
    tick = md.get_full_tick(["600000.SH", "000002.SZ"])
    assert list(tick) == ["600000.SH"]
    assert tick["600000.SH"]["askPrice"] == [7.51, 0, 0, 0, 0]
    assert tick["600000.SH"]["pvolume"] == 1200
    assert tick["600000.SH"]["timetag"].startswith("20241224")
    assert md.get_instrument_detail("600000.SH")["UpStopPrice"] == 8.25  # type: ignore[index]
    assert md.get_instrument_detail("000002.SZ") is None
    bars = md.get_bars("600000.SH", "1d", 2)
    assert [b["time"] for b in bars] == [2_000, 3_000]
    assert bars[0]["volume"] == 300
    assert _fake.downloads[0][:2] == ("600000.SH", "1d")
    with pytest.raises(ValueError, match="period"):
        md.get_bars("600000.SH", "5m", 2)
    _fake.sectors["沪深300"] = ["600000.SH", "000001.SZ"]
    assert md.get_stock_list_in_sector("沪深300") == ["600000.SH", "000001.SZ"]
    assert md.get_stock_list_in_sector("不存在") == []

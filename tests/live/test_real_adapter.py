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


def test_session_ids_come_from_a_small_range_and_cool_down_before_reuse() -> None:
    now = [100.0]
    ids = real.SessionIds(base=42, size=3, reuse_after=3.0, clock=lambda: now[0])
    assert [ids.acquire() for _ in range(4)] == [42, 43, 44, None]  # all held
    ids.release(43)
    assert ids.acquire() is None  # released 0 s ago: MiniQMT may still hold it
    now[0] += 3.0
    assert ids.acquire() == 43
    assert ids.in_use() == {42, 43, 44}
    with pytest.raises(ValueError, match="out of range"):
        real.SessionIds(base=0)


def test_trader_is_built_off_the_calling_thread(tmp_path: Path, fake_xtquant: Any) -> None:
    trader = real.build_trader(tmp_path, 11)
    assert trader.session_id == 11
    assert trader.sdk.built_on.startswith("xtquant-build-")
    assert trader.sdk.built_on != threading.current_thread().name
    assert not hasattr(trader.sdk, "session_id")  # the SDK keeps none; RealTrader does


def test_connect_is_one_shot_and_a_session_id_is_reusable_only_after_it_ended(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    trader, _, _ = _connected(tmp_path, fake_xtquant, session=21)
    assert trader.connect() == -1
    again = real.build_trader(tmp_path, 21)
    again.start()
    assert again.connect() == -1  # session 21 is live
    trader.close()
    later = real.build_trader(tmp_path, 21)
    later.start()
    assert later.connect() == -1  # ended moments ago
    fake_xtquant.ended_sessions[21] -= 10
    assert later.connect() == -1  # one-shot: this instance already tried
    fresh = real.build_trader(tmp_path, 21)
    fresh.start()
    assert fresh.connect() == 0
    assert sorted(p.name for p in tmp_path.glob("down_queue_*")) == ["down_queue_21"]
    for t in (again, later, fresh):
        t.close()


def test_close_releases_a_call_stuck_in_a_hung_terminal(tmp_path: Path, fake_xtquant: Any) -> None:
    trader, account, _ = _connected(tmp_path, fake_xtquant)
    fake_xtquant.hung = True
    answers: list[Any] = []
    stuck = threading.Thread(target=lambda: answers.append(trader.query_stock_orders(account)))
    stuck.start()
    stuck.join(0.3)
    assert stuck.is_alive()  # the SDK has no timeout
    assert fake_xtquant.stuck_waiters() == 1
    trader.close()
    stuck.join(5)
    assert not stuck.is_alive()
    assert answers == [None]  # a released wait is a failed query, never "no orders"
    assert fake_xtquant.stuck_waiters() == 0


def test_failed_queries_answer_none(tmp_path: Path, fake_xtquant: Any) -> None:
    trader, account, _ = _connected(tmp_path, fake_xtquant)
    fake_xtquant.failing_queries = {"orders", "trades", "positions", "asset"}
    assert trader.query_stock_orders(account) is None
    assert trader.query_stock_trades(account) is None
    assert trader.query_stock_positions(account) is None
    assert trader.query_stock_asset(account) is None


def test_remarks_are_cut_to_24_characters_and_foreign_orders_are_visible(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    trader, account, callback = _connected(tmp_path, fake_xtquant)
    trader.order_stock_async(account, "510300.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 4.0, "",
                             "x" * 30)  # fmt: skip
    foreign = fake_xtquant.add_foreign_order("3")
    pushed = callback.wait_for("on_stock_order", 2)
    assert {len(o.order_remark) for o in pushed} == {24, 1}
    assert foreign.order_id in {o.order_id for o in trader.query_stock_orders(account)}


def test_new_order_pushes_48_49_with_a_late_sysid_and_repeats(
    tmp_path: Path, fake_xtquant: Any
) -> None:
    trader, account, callback = _connected(tmp_path, fake_xtquant)
    fake_xtquant.first_statuses = (xc.ORDER_UNREPORTED, xc.ORDER_WAIT_REPORTING)
    fake_xtquant.sysid_late = True
    fake_xtquant.repeat_pushes = 2
    trader.order_stock_async(account, "510300.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 4.0, "", "1")
    pushed = callback.wait_for("on_stock_order", 6)
    assert [o.order_status for o in pushed] == [48, 48, 49, 49, 50, 50]
    assert [bool(o.order_sysid) for o in pushed] == [False, False, True, True, True, True]


def test_order_error_without_an_order_push(tmp_path: Path, fake_xtquant: Any) -> None:
    trader, account, callback = _connected(tmp_path, fake_xtquant)
    fake_xtquant.error_without_push = "[COUNTER] 资金不足"
    trader.order_stock_async(account, "510300.SH", xc.STOCK_BUY, 100, xc.FIX_PRICE, 4.0, "", "1")
    (error,) = callback.wait_for("on_order_error")
    assert "资金不足" in error.error_msg
    assert callback.of("on_stock_order") == []


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


def test_market_data_reads_the_terminals_trading_calendar(fake_xtquant: Any) -> None:
    from datetime import date

    from xtquant import _fake

    _fake.calendar[2027] = [date(2027, 1, 4), date(2027, 1, 5)]
    md = real.RealMarketData()
    assert md.get_trading_calendar(2027) == [date(2027, 1, 4), date(2027, 1, 5)]
    with pytest.raises(Exception, match="节假日"):  # xtdata raises a bare Exception
        md.get_trading_calendar(2030)

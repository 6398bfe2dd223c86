"""Backtest engine: figures against a hand-computed case, the A-share rules, determinism."""

from __future__ import annotations

import itertools
import math
import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backend.app.services.strategies.backtest import BacktestSpec, run_backtest
from backend.app.services.strategies.guard import Guard
from backend.app.services.strategies.qmt_api import RunLog

# Five daily bars. Previous close 10.50 puts day 3's limit-up at 11.55.
FIVE_BARS = """\
time,open,high,low,close,volume
2024-01-02,10.00,10.10,9.90,10.00,100000
2024-01-03,10.00,10.60,9.95,10.50,100000
2024-01-04,10.50,11.00,10.40,11.00,100000
2024-01-05,11.00,11.10,10.70,10.80,100000
2024-01-08,10.80,11.60,10.80,11.50,100000
"""

BUY_THEN_SELL = """
    def handlebar(C):
        if C.barpos == 0:
            passorder(23, 1101, account, C.stock_code, 5, 0, 1000, C)
        if C.barpos == 3:
            for p in get_trade_detail_data(account, 'stock', 'position'):
                code = p.m_strInstrumentID + '.' + p.m_strExchangeID
                passorder(24, 1101, account, code, 11, 10.80, p.m_nCanUseVolume, C)
"""


def backtest(tmp_path: Path, source: str, csv: str | None = FIVE_BARS, **kw: Any) -> dict[str, Any]:
    path = None
    if csv is not None:
        path = tmp_path / "bars.csv"
        path.write_text(csv, encoding="utf-8")
    spec = BacktestSpec(
        name="t", source=textwrap.dedent(source), filename="t.py",
        codes=kw.pop("codes", ["600000.SH"]), csv_path=path, **kw,
    )  # fmt: skip
    return run_backtest(spec, Guard(5.0), RunLog(), lambda done, total: None)


def test_backtest_hand_computed_round_trip(tmp_path: Path) -> None:
    r = backtest(tmp_path, BUY_THEN_SELL)

    # Buy 1000 @ 10.00: value 10,000; commission max(5, 2.50) = 5.00; transfer 0.10 -> 5.10.
    # Sell 1000 @ 10.80: value 10,800; commission 5.00; stamp 5.40; transfer 0.108 -> 0.11.
    buy, sell = r["trades"]
    assert (buy["side"], buy["price"], buy["quantity"], buy["fees"]) == ("buy", 10.0, 1000, 5.10)
    assert (sell["commission"], sell["stamp_duty"], sell["transfer_fee"]) == (5.0, 5.4, 0.11)
    assert sell["fees"] == 10.51
    cash = 1_000_000 - 10_005.10 + 10_789.49
    curve = [v for _, v in r["equity_curve"]]
    assert curve == pytest.approx([999_994.90, 1_000_494.90, 1_000_994.90, cash, cash])
    assert r["equity_curve"][0][0] == "2024-01-02T00:00:00+08:00"
    assert r["total_return"] == pytest.approx(cash / 1_000_000 - 1)
    assert r["annual_return"] == pytest.approx((cash / 1_000_000) ** (252 / 5) - 1)
    # Peak 1,000,994.90 on day 3, trough 1,000,784.39 on day 4.
    assert r["max_drawdown"] == pytest.approx(1 - cash / 1_000_994.90)
    assert r["trades_count"] == 2
    assert r["round_trips"] == [
        {"code": "600000.SH", "opened": "2024-01-02T00:00:00+08:00",
         "closed": "2024-01-05T00:00:00+08:00", "pnl": 784.39}
    ]  # fmt: skip
    assert r["win_rate"] == 1.0
    daily = [1_000_000, *curve]
    rets = [b / a - 1 for a, b in itertools.pairwise(daily)]
    mean = sum(rets) / 5
    std = math.sqrt(sum((x - mean) ** 2 for x in rets) / 4)
    assert r["sharpe"] == pytest.approx(mean / std * math.sqrt(252))


def test_backtest_losing_round_trip_counts_against_win_rate(tmp_path: Path) -> None:
    source = """
        def handlebar(C):
            if C.barpos in (0, 2):
                passorder(23, 1101, account, C.stock_code, 5, 0, 100, C)
            if C.barpos in (1, 3):
                passorder(24, 1101, account, C.stock_code, 5, 0, 100, C)
    """
    r = backtest(tmp_path, source)
    # 100 @ 10.00 -> 10.50 makes 50 - 5.00 - 0.01 - 5.00 - 0.03 - 0.01 > 0; 11.00 -> 10.80 loses.
    assert [t["pnl"] > 0 for t in r["round_trips"]] == [True, False]
    assert r["win_rate"] == 0.5


def test_backtest_t_plus_one_refuses_same_day_sell(tmp_path: Path) -> None:
    source = """
        def handlebar(C):
            if C.barpos == 0:
                passorder(23, 1101, account, C.stock_code, 5, 0, 1000, C)
                passorder(24, 1101, account, C.stock_code, 5, 0, 1000, C)
    """
    r = backtest(tmp_path, source)
    assert [t["side"] for t in r["trades"]] == ["buy"]
    assert any("证券可用数量不足" in line for line in r["log"])


def test_backtest_no_buy_fill_at_limit_up_close(tmp_path: Path) -> None:
    sealed = "2024-01-04,10.50,11.55,10.40,11.55"
    csv = FIVE_BARS.replace("2024-01-04,10.50,11.00,10.40,11.00", sealed)
    source = """
        def handlebar(C):
            if C.barpos == 2:
                passorder(23, 1101, account, C.stock_code, 5, 0, 100, C)
    """
    r = backtest(tmp_path, csv=csv, source=source)
    assert r["trades"] == []
    assert any("涨停" in line for line in r["log"])


def test_backtest_refuses_odd_lot_cash_and_bad_tick(tmp_path: Path) -> None:
    source = """
        def handlebar(C):
            if C.barpos == 0:
                passorder(23, 1101, account, C.stock_code, 5, 0, 150, C)       # not a lot
                passorder(23, 1101, account, C.stock_code, 11, 10.005, 100, C)  # not a tick
                passorder(23, 1101, account, C.stock_code, 5, 0, 200000, C)    # 2,000,000 CNY
                passorder(23, 1101, account, C.stock_code, 11, 9.80, 100, C)   # below the low
                orders = get_trade_detail_data(account, 'stock', 'order')
                print('statuses', [o.m_nOrderStatus for o in orders])
    """
    r = backtest(tmp_path, source, initial_cash=Decimal("100000"))
    assert r["trades"] == []
    log = "\n".join(r["log"])
    for reason in ("100的整数倍", "最小变动价位", "可用资金不足"):
        assert reason in log
    assert "限价未触及" in log
    assert "statuses [57, 57, 57, 54]" in log  # 废单 x3, then 已撤 (cancelled at the close)


def test_backtest_star_board_lots_from_simulated_bars() -> None:
    source = """
        def handlebar(C):
            if not get_trade_detail_data(account, 'stock', 'position'):
                passorder(23, 1101, account, '688981.SH', 5, 0, 100, C)   # below 200: refused
                passorder(23, 1101, account, '688981.SH', 5, 0, 201, C)   # 200 + steps of 1
    """
    spec = BacktestSpec(
        name="t", source=textwrap.dedent(source), filename="t.py", codes=["688981.SH"],
        start=date(2024, 3, 1), end=date(2024, 3, 8), seed=11,
    )  # fmt: skip
    r = run_backtest(spec, Guard(5.0), RunLog(), lambda done, total: None)
    assert [t["quantity"] for t in r["trades"]] == [201]
    assert any("≥200" in line for line in r["log"])


def test_backtest_same_seed_same_result() -> None:
    source = Path(__file__).parents[2].joinpath("strategies", "ma_cross.py").read_text("utf-8")

    def once(seed: int) -> dict[str, Any]:
        spec = BacktestSpec(
            name="ma_cross", source=source, filename="ma_cross.py", codes=["600036.SH"],
            start=date(2024, 1, 2), end=date(2024, 9, 30), seed=seed,
            params={"short": 3, "long": 8},
        )  # fmt: skip
        return run_backtest(spec, Guard(5.0), RunLog(), lambda done, total: None)

    first, second, other = once(7), once(7), once(8)
    assert first == second
    assert first["trades_count"] > 0
    assert first["equity_curve"] != other["equity_curve"]


def test_backtest_market_data_has_no_look_ahead(tmp_path: Path) -> None:
    source = """
        seen = []
        def handlebar(C):
            df = C.get_market_data_ex(['close', 'preClose'], [C.stock_code], period='1d')
            seen.append((C.barpos, list(df[C.stock_code].index), C.is_last_bar()))
            today = timetag_to_datetime(C.get_bar_timetag(C.barpos), '%Y%m%d')
            assert df[C.stock_code].index[-1] == today
            if C.barpos == 4:
                print(seen[1], seen[4][2], list(df[C.stock_code]['preClose'])[1:])
    """
    r = backtest(tmp_path, source)
    assert r["log"][-1].endswith(
        "(1, ['20240102', '20240103'], False) True [10.0, 10.5, 11.0, 10.8]"
    )

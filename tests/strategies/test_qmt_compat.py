# ruff: noqa: E501  (the snippets keep the long one-line calls QMT scripts are written with)
"""QMT scripts as people write them: the idioms of the real corpus, run unchanged.

Each snippet reproduces (in our own words) a call pattern found in published QMT scripts
(docs/strategy_guide.md, corpus table): the legacy data calls, sectors, prTypes, chart calls,
callbacks, the global `ContextInfo`, QMT-era pandas, TA-Lib.
"""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backend.app.services.strategies.backtest import BacktestSpec, run_backtest
from backend.app.services.strategies.guard import Guard, StrategyError
from backend.app.services.strategies.qmt_api import RunLog
from backend.app.services.strategies.trade import quote_price

BARS = """\
time,open,high,low,close,volume
2024-01-02,10.00,10.10,9.90,10.00,100000
2024-01-03,10.00,10.60,9.95,10.50,100000
2024-01-04,10.50,11.00,10.40,11.00,100000
"""


def csv_run(tmp_path: Path, source: str, **kw: Any) -> dict[str, Any]:
    path = tmp_path / "bars.csv"
    path.write_text(BARS, encoding="utf-8")
    spec = BacktestSpec(
        name="t", source=textwrap.dedent(source), filename="t.py", codes=["600000.SH"],
        csv_path=path, **kw,
    )  # fmt: skip
    return run_backtest(spec, Guard(10.0), RunLog(limit=5000), lambda done, total: None)


def sim_run(source: str, **kw: Any) -> dict[str, Any]:
    spec = BacktestSpec(
        name="t", source=textwrap.dedent(source), filename="t.py",
        codes=kw.pop("codes", ["600000.SH"]), start=kw.pop("start", date(2024, 3, 1)),
        end=kw.pop("end", date(2024, 3, 8)), seed=kw.pop("seed", 7), **kw,
    )  # fmt: skip
    return run_backtest(spec, Guard(30.0), RunLog(limit=5000), lambda done, total: None)


def logged(r: dict[str, Any]) -> str:
    return "\n".join(r["log"])


# --- fills as QMT's backtest matches them ---------------------------------------------------


def test_limit_inside_the_bar_fills_at_the_limit_outside_at_close_or_not_at_all(
    tmp_path: Path,
) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            if C.barpos == 0:
                passorder(23, 1101, account, C.stock_code, 11, 9.95, 100, C)   # inside 9.90-10.10
                passorder(23, 1101, account, C.stock_code, 11, 10.50, 100, C)  # above the high
                passorder(23, 1101, account, C.stock_code, 11, 9.80, 100, C)   # below the low
        """,
    )
    assert [(t["price"], t["quantity"]) for t in r["trades"]] == [(9.95, 100), (10.0, 100)]
    assert "限价未触及本K线" in logged(r)


def test_counterparty_price_type_14_and_book_prices_fill_at_the_close(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            if C.barpos == 1:
                for pr in (14, 0, 10, 12, 13, 44):
                    passorder(23, 1101, account, C.stock_code, pr, -1, 100, 'x', 2, 'm', C)
        """,
    )
    assert [t["price"] for t in r["trades"]] == [10.5] * 6


def test_a_sell_beyond_the_sellable_quantity_fills_what_is_sellable(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            if C.barpos == 0:
                order_shares(C.stock_code, 300, C)
            if C.barpos == 1:
                passorder(24, 1101, account, C.stock_code, 5, -1, 1000, C)
        """,
    )
    assert [(t["side"], t["quantity"]) for t in r["trades"]] == [("buy", 300), ("sell", 300)]
    assert "按可用数量撮合" in logged(r)


def test_ratio_order_type_1123_takes_a_share_of_cash_or_holding(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            if C.barpos == 0:
                passorder(23, 1123, account, C.stock_code, 5, -1, 0.5, C)  # half the cash
            if C.barpos == 1:
                passorder(24, 1123, account, C.stock_code, 5, -1, 0.5, C)  # half the holding
        """,
        initial_cash=Decimal("100000"),
    )
    assert [t["quantity"] for t in r["trades"]] == [5000, 2500]


def test_ratio_order_type_1113_takes_a_share_of_total_assets(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def init(C):
            C.start = '2023-11-15 10:00:00'   # QMT's backtest panel setting: named, not applied
        def handlebar(C):
            if C.barpos == 0:
                passorder(23, 1113, account, C.stock_code, 11, 10.00, 0.25, C)
        """,
        initial_cash=Decimal("100000"),
    )
    assert [t["quantity"] for t in r["trades"]] == [2500]
    assert "does not change the backtest range" in logged(r)


def test_unknown_price_type_names_itself(tmp_path: Path) -> None:
    with pytest.raises(StrategyError, match="prType 99"):
        csv_run(
            tmp_path,
            "def handlebar(C):\n    passorder(23, 1101, account, C.stock_code, 99, 0, 100, C)\n",
        )


# --- the data calls of the legacy API --------------------------------------------------------


def test_get_history_data_over_a_sector_universe() -> None:
    r = sim_run(
        """
        def init(C):
            C.s = C.get_stock_list_in_sector('上证50')
            C.set_universe(C.s)
        def handlebar(C):
            closes = C.get_history_data(21, '1d', 'close')
            if C.is_last_bar():
                print(len(C.s), len(closes), {len(v) for v in closes.values()}, type(closes[C.s[0]]).__name__)
                print(C.get_stock_list_in_sector('不存在的板块'))
        """
    )
    assert "40 40 {21} list" in logged(r)
    assert "未知板块 '不存在的板块'" in logged(r)


def test_index_closes_and_legacy_market_data_shapes() -> None:
    r = sim_run(
        """
        def handlebar(C):
            if C.is_last_bar():
                now = C.get_bar_timetag(C.barpos)
                hs300 = C.get_close_price('SH', '000300', now, 86400000)
                one = C.get_market_data(['close'], stock_code=['000300.SH'])
                row = C.get_market_data(['open', 'close'])
                frame = C.get_market_data(['close'], count=5)
                many = C.get_market_data(['close'], stock_code=['600000.SH', '000001.SZ'], count=3)
                print(hs300 == one, type(row).__name__, list(row.index), frame.shape, sorted(many))
                passorder(23, 1101, account, '000300.SH', 5, -1, 100, C)
        """
    )
    assert "True QmtSeries ['open', 'close'] (5, 1) ['000001.SZ', '600000.SH']" in logged(r)
    assert "指数，不可交易" in logged(r)


def test_codes_not_on_the_command_line_load_on_demand_and_unknown_ones_are_named() -> None:
    r = sim_run(
        """
        def handlebar(C):
            if C.is_last_bar():
                d = C.get_market_data_ex(['close'], ['600519.SH', '603999.SH'], period='1d', count=3)
                print({k: len(v) for k, v in d.items()})
                print(C.get_history_data(3, '1d', 'close'))
        def init(C):
            C.set_universe(['BAD.XX'])
        """
    )
    text = logged(r)
    assert "{'600519.SH': 3, '603999.SH': 3}" in text
    assert "603999.SH 不在模拟行情目录中" in text  # synthetic bars, said by name
    assert "无效代码 'BAD.XX'" in text


def test_qmt_era_numpy_and_pandas_idioms_and_talib() -> None:
    r = sim_run(
        """
        import numpy as np
        import talib
        def handlebar(C):
            df = C.get_market_data_ex(['close'], [C.stock_code], period='1d', count=30)[C.stock_code]
            last = float(df.values[-1])          # a one-element array, numpy 1 style
            same = df.close[-1]                  # positional [] on a timetag index, pandas 1 style
            ma = talib.MA(np.array(df.close, dtype=float), timeperiod=5)[-1]
            if C.is_last_bar():
                print('ok', last == same, round(ma, 2) > 0, int(10000 / df.values[-1] / 100))
        """
    )
    assert "ok True True" in logged(r)


def test_minute_bars_are_labelled_by_their_end_as_in_qmt() -> None:
    r = sim_run(
        """
        labels = []
        def handlebar(C):
            labels.append(timetag_to_datetime(C.get_bar_timetag(C.barpos), '%H%M'))
            if C.is_last_bar():
                idx = list(C.get_market_data_ex(['close'], [C.stock_code], period='1m', count=240)[C.stock_code].index)
                print(labels[0], labels[119], labels[120], labels[-1], idx[0][-6:], idx[-1][-6:])
        """,
        period="1m", start=date(2024, 3, 1), end=date(2024, 3, 1),
    )  # fmt: skip
    assert "0931 1130 1301 1500 093100 150000" in logged(r)


def test_history_is_anchored_to_the_calendar_not_to_the_end_date() -> None:
    probe = """
        def handlebar(C):
            if timetag_to_datetime(C.get_bar_timetag(C.barpos), '%Y%m%d') == '20240301':
                print('close', C.get_history_data(1, '1d', 'close'))
        def init(C):
            C.set_universe([C.stock_code])
    """
    short = sim_run(probe, start=date(2024, 2, 26), end=date(2024, 3, 8))
    long = sim_run(probe, start=date(2024, 2, 1), end=date(2024, 6, 28))
    line = next(x for x in short["log"] if "close" in x).split("] ", 1)[1]
    assert line in logged(long)


# --- chart calls, callbacks, globals ------------------------------------------------------


def test_paint_and_draw_text_are_recorded_in_the_result_and_drawn(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            C.paint('均线', C.barpos * 1.5, -1, 0, 'white', 'noaxis')
            C.draw_text(C.barpos == 1, 0.5, '买入')
        """,
        chart_path=tmp_path / "run.png",
    )
    assert [v for _, v in r["paint"]["均线"]] == [0.0, 1.5, 3.0]
    assert [(m["kind"], m["text"]) for m in r["marks"]] == [("text", "买入")]
    # Drawn on the run's chart too (a third panel), without font warnings failing anything.
    assert r["chart"] == "run.png"
    assert (tmp_path / "run.png").stat().st_size > 10_000


def test_callbacks_after_init_and_stop_are_called(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def init(C):
            pass
        def after_init(C):
            print('after_init')
        def handlebar(C):
            if C.barpos == 0:
                order_shares(C.stock_code, 100, C)
        def order_callback(C, o):
            print('order', o.m_strOrderSysID, o.m_nOrderStatus)
        def deal_callback(C, d):
            print('deal', d.m_nVolume, d.m_dPrice)
        def account_callback(C, a):
            print('account', a.m_dAvailable < 1000000)
        def stop(C):
            print('stop')
        """,
    )
    lines = [line.split("] ", 1)[-1] for line in r["log"] if "成交" not in line]
    assert lines == ["after_init", "order 1 56", "deal 100 10.0", "account True", "stop"]


def test_global_contextinfo_and_capital_from_init(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def helper():
            return ContextInfo.stockcode + '.' + ContextInfo.market
        def init(ContextInfo):
            ContextInfo.capital = 50000
        def handlebar(ContextInfo):
            if ContextInfo.barpos == 0:
                print(helper(), get_trade_detail_data(ContextInfo.accID, 'stock', 'account')[0].m_dAvailable)
        """,
    )
    assert "600000.SH 50000.0" in logged(r)
    assert r["initial_cash"] == 50000.0


def test_order_lookups_of_the_manual(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def handlebar(C):
            if C.barpos == 0:
                print('none', get_last_order_id(C.accid, 'stock', 'order'))
                order_lots(C.stock_code, 1, 'COMPETE', C, C.accid)
                oid = get_last_order_id(C.accid, 'stock', 'order')
                o = get_value_by_order_id(oid, C.accid, 'stock', 'order')
                print('last', oid, o.m_strInstrumentID, o.m_nVolumeTraded, can_cancel_order(oid, C.accid, 'stock'))
                do_order(C)
        """,
    )
    assert "none -1" in logged(r)
    assert "last 1 600000 100 False" in logged(r)


def test_unsupported_qmt_calls_say_so_by_name(tmp_path: Path) -> None:
    caught = csv_run(
        tmp_path,
        """
        def handlebar(C):
            try:
                C.get_risk_free_rate(C.barpos)
            except Exception as e:
                print('caught', type(e).__name__)
        """,
    )
    assert "ContextInfo.get_risk_free_rate is not supported" in logged(caught)
    with pytest.raises(StrategyError, match="get_result_records is not supported"):
        csv_run(tmp_path, "def handlebar(C):\n    get_result_records('buys', 0, C)\n")
    with pytest.raises(StrategyError, match="buy_open is not supported"):
        csv_run(tmp_path, "def handlebar(C):\n    buy_open('IF2406.IF', 1, C, 'acct')\n")


def test_subscribe_quote_callbacks_get_each_bar(tmp_path: Path) -> None:
    r = csv_run(
        tmp_path,
        """
        def init(C):
            def on_quote(data):
                for code in data:
                    print(code, data[code]['close'], data[code]['preClose'])
            C.subscribe_quote(C.stock_code, period='1d', callback=on_quote)
        """,
    )
    assert [line.split("] ", 1)[-1] for line in r["log"]][1:] == [
        "600000.SH 10.5 10.0",
        "600000.SH 11.0 10.5",
    ]


# --- trade mode: the price each prType names ---------------------------------------------------


def test_trade_mode_prices_of_qmt_price_types() -> None:
    tick = {
        "lastPrice": 10.0, "askPrice": [10.01, 10.02, 10.03, 10.04, 10.05],
        "bidPrice": [9.99, 9.98, 9.97, 9.96, 9.95], "upStopPrice": 11.0, "downStopPrice": 9.0,
    }  # fmt: skip
    assert quote_price(14, "buy", tick) == 10.01  # 对手价: the ask for a buy
    assert quote_price(14, "sell", tick) == 9.99
    assert quote_price(13, "buy", tick) == 9.99  # 挂单价: own side
    assert quote_price(0, "buy", tick) == 10.05  # 卖5价
    assert quote_price(10, "sell", tick) == 9.95  # 买5价
    assert quote_price(5, "buy", tick) == 10.0
    assert (quote_price(12, "buy", tick), quote_price(44, "sell", tick)) == (11.0, 9.0)
    assert quote_price(14, "buy", {"lastPrice": 10.0, "askPrice": [0] * 5}) == 10.0
    assert quote_price(14, "buy", {}) is None


def test_trade_mode_sectors_come_from_xtdata_when_it_has_them() -> None:
    from backend.app.services.strategies.trade import LiveMarket

    class Bare:
        def get_bars(self, code: str, period: str, count: int) -> list[dict[str, Any]]:
            return []

    class WithSectors(Bare):
        def get_stock_list_in_sector(self, name: str) -> list[str]:
            return ["600000.SH"] if name == "沪深300" else []

    assert LiveMarket(WithSectors(), "600000.SH", "1d").sector("000300.SH") == ["600000.SH"]  # type: ignore[arg-type]
    snapshot = LiveMarket(Bare(), "600000.SH", "1d").sector("上证50")  # type: ignore[arg-type]
    assert "600519.SH" in (snapshot or [])
    assert LiveMarket(Bare(), "600000.SH", "1d").sector("不存在") is None  # type: ignore[arg-type]

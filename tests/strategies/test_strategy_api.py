"""The strategies API: listing, runs in both modes, containment, trade-mode orders and risk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from backend.app.core.config import Settings
from backend.app.db.session import Database
from backend.app.db.tables import StrategyRun

# One QMT-style script, run unchanged in both modes.
PROBE = '''
    #coding:gbk
    """Probe: buys one lot on its first bar, then reports what it holds."""
    bought = False

    def init(C):
        C.accID = account

    def handlebar(C):
        global bought
        df = C.get_market_data_ex(['close'], [C.stock_code], period=C.period, count=5)
        if not bought:
            passorder(23, 1101, C.accID, C.stock_code, 5, 0, volume, 'probe', 2, 'first', C)
            bought = True
        held = [p.m_nVolume for p in get_trade_detail_data(C.accID, 'stock', 'position')]
        cash = get_trade_detail_data(C.accID, 'stock', 'account')[0].m_dAvailable
        print('bar', C.barpos, 'closes', len(df[C.stock_code]), 'held', held, 'cash>0', cash > 0)
'''


def start(client: TestClient, headers: dict[str, str], name: str, **body: Any) -> Any:
    return client.post(f"/api/v1/strategies/{name}/runs", json=body, headers=headers)


def test_backtest_run_finishes_with_result_and_chart(
    client: TestClient, trader_token: str, auth: Callable[..., Any], write_strategy: Any,
    wait_run: Any,
) -> None:  # fmt: skip
    write_strategy("probe.py", PROBE)
    headers = auth(trader_token)
    r = start(client, headers, "probe", mode="backtest", stock_codes=["600036"],
              params={"volume": 300}, start="2024-02-01", end="2024-02-29", seed=3)  # fmt: skip
    assert r.status_code == 201, r.text
    run = r.json()
    assert (run["strategy"], run["mode"], run["status"]) == ("probe", "backtest", "running")
    done = wait_run(client, headers, run["run_id"])
    assert done["status"] == "finished", done
    result = done["result"]
    assert set(result) >= {"total_return", "annual_return", "max_drawdown", "sharpe",
                           "trades_count", "win_rate", "equity_curve", "trades"}  # fmt: skip
    assert result["trades"][0]["quantity"] == 300
    assert result["equity_curve"][0][0].startswith("2024-02-01")
    assert "bar" in result["log"][-1]
    chart = client.get(done["chart_url"], headers=auth(trader_token))
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    # The backtest never touched the trading account.
    orders = client.get("/api/v1/trading/orders", headers=headers).json()["items"]
    assert orders == []


def test_trade_run_orders_go_through_the_journal_and_risk_rules(
    client: TestClient, trader_token: str, admin_token: str, auth: Callable[..., Any],
    write_strategy: Any, wait_run: Any, eventually: Callable[..., Any],
) -> None:  # fmt: skip
    write_strategy("probe.py", PROBE)
    write_strategy("greedy.py", '''
        """Orders more than the risk rules allow, every bar."""
        def handlebar(C):
            passorder(23, 1101, account, C.stock_code, 5, 0, 1000, C)
            print('still alive at bar', C.barpos)
    ''')  # fmt: skip
    headers = auth(trader_token)
    r = client.put("/api/v1/trading/risk-rules", json={"max_order_quantity": 500},
                   headers=auth(admin_token))  # fmt: skip
    assert r.status_code == 200, r.text

    run = start(client, headers, "probe", mode="trade", stock_codes=["600000.SH"],
                period="1m", params={"volume": 200}).json()  # fmt: skip
    order = eventually(lambda: [
        o for o in client.get("/api/v1/trading/orders", headers=headers).json()["items"]
        if o["strategy_name"] == "probe"
    ])[0]  # fmt: skip
    assert (order["stock_code"], order["side"], order["quantity"]) == ("600000.SH", "buy", 200)
    assert order["remark"] == "first"

    greedy = start(client, headers, "greedy", mode="trade", stock_codes=["600000.SH"]).json()
    logged = eventually(lambda: [
        line for line in client.get(f"/api/v1/strategies/runs/{greedy['run_id']}",
                                    headers=headers).json()["result"]["log"]
        if "RISK_REJECTED" in line
    ])  # fmt: skip
    assert "max_order_quantity" in logged[0]
    assert client.get(f"/api/v1/strategies/runs/{greedy['run_id']}", headers=headers).json()[
        "status"] == "running"  # fmt: skip
    assert not [o for o in client.get("/api/v1/trading/orders", headers=headers).json()["items"]
                if o["strategy_name"] == "greedy"]  # fmt: skip

    for run_id in (run["run_id"], greedy["run_id"]):
        stopped = client.delete(f"/api/v1/strategies/runs/{run_id}", headers=headers)
        assert stopped.status_code == 200
        assert stopped.json()["status"] == "stopped"
    probe = client.get(f"/api/v1/strategies/runs/{run['run_id']}", headers=headers).json()
    assert probe["result"]["orders"] == 1
    assert any("held [200]" in line or "held []" in line for line in probe["result"]["log"])


def test_failing_and_endless_strategies_are_contained(
    client: TestClient, trader_token: str, auth: Callable[..., Any], write_strategy: Any,
    wait_run: Any,
) -> None:  # fmt: skip
    write_strategy("broken.py", '''
        def handlebar(C):
            if C.barpos >= 0:
                helper(C)

        def helper(C):
            return 1 / 0
    ''')  # fmt: skip
    headers = auth(trader_token)
    run = start(client, headers, "broken", mode="backtest", data_file=None, start="2024-03-01",
                end="2024-03-05", seed=1).json()  # fmt: skip
    done = wait_run(client, headers, run["run_id"])
    assert done["status"] == "failed"
    error = done["error"]
    assert error.endswith("ZeroDivisionError: division by zero")
    assert 'File "broken.py", line 6, in helper' in error
    assert "backend" not in error
    assert "site-packages" not in error

    write_strategy("endless.py", '''
        def handlebar(C):
            n = 0
            while True:
                n += 1
    ''')  # fmt: skip
    run = start(client, headers, "endless", mode="backtest", start="2024-03-01", end="2024-03-05",
                seed=1).json()  # fmt: skip
    assert client.get("/api/v1/strategies", headers=headers).status_code == 200
    done = wait_run(client, headers, run["run_id"], timeout=10)
    assert done["status"] == "failed"
    assert done["error"].startswith("handlebar exceeded 1 s")
    assert client.get("/health").status_code == 200


def test_list_strategies_unknown_strategy_and_bad_requests(
    client: TestClient, trader_token: str, viewer_token: str, auth: Callable[..., Any],
    write_strategy: Any,
) -> None:  # fmt: skip
    write_strategy("probe.py", PROBE)
    write_strategy("_helper.py", "x = 1\n")
    listed = client.get("/api/v1/strategies", headers=auth(viewer_token))
    assert listed.status_code == 200
    assert listed.json()["items"] == [
        {
            "name": "probe",
            "description": "Probe: buys one lot on its first bar, then reports what it holds.",
        }
    ]
    headers = auth(trader_token)
    r = start(client, headers, "nope", mode="backtest")
    assert (r.status_code, r.json()["code"]) == (404, "NOT_FOUND")
    assert r.headers["content-type"] == "application/problem+json"
    assert start(client, headers, "..%2Fprobe", mode="backtest").status_code == 404
    for body in (
        {"mode": "replay"},
        {"mode": "backtest", "params": {"passorder": 1}},
        {"mode": "backtest", "params": {"not an identifier": 1}},
        {"mode": "backtest", "start": "2024-05-01", "end": "2024-04-01"},
        {"mode": "backtest", "data_file": "../etc/passwd"},
        {"mode": "backtest", "period": "5m"},
    ):
        r = start(client, headers, "probe", **body)
        assert (r.status_code, r.json()["code"]) == (422, "VALIDATION_ERROR"), body
    # A code is refused as an order's code is (issue 14: one answer for codes everywhere).
    r = start(client, headers, "probe", mode="backtest", stock_codes=["999999.XX"])
    assert (r.status_code, r.json()["code"]) == (422, "INVALID_STOCK_CODE")
    assert start(client, auth(viewer_token), "probe", mode="backtest").status_code == 403
    assert client.get("/api/v1/strategies/runs/999", headers=headers).status_code == 404
    assert client.get("/api/v1/strategies/runs/999/chart", headers=headers).status_code == 404


def test_backtest_from_a_csv_in_strategy_dir(
    client: TestClient, trader_token: str, auth: Callable[..., Any], write_strategy: Any,
    wait_run: Any, settings: Settings,
) -> None:  # fmt: skip
    write_strategy("probe.py", PROBE)
    (settings.strategy_dir / "bars.csv").write_text(
        "time,open,high,low,close,volume\n"
        "20240102,10,10.2,9.9,10.1,1000\n20240103,10.1,10.3,10,10.2,1000\n",
        encoding="utf-8",
    )
    headers = auth(trader_token)
    run = start(client, headers, "probe", mode="backtest", data_file="bars.csv",
                params={"volume": 100}).json()  # fmt: skip
    done = wait_run(client, headers, run["run_id"])
    assert done["status"] == "finished", done
    assert [p for _, p in done["result"]["equity_curve"]] == [999_994.99, 1_000_004.99]
    listed = client.get("/api/v1/strategies/runs", headers=headers).json()["items"]
    assert [x["run_id"] for x in listed] == [run["run_id"]]


def test_running_rows_become_stopped_on_restart(settings: Settings, client: TestClient) -> None:
    from datetime import UTC, datetime

    from backend.app.main import create_app

    db = Database(settings.database_url)
    with db.session() as s:
        s.add(StrategyRun(strategy="x", mode="trade", status="running", params={}, username="u",
                          started_at=datetime.now(UTC)))  # fmt: skip
    db.dispose()
    # The `client` app still holds the simulated books (a second server on them refuses to
    # start): the restarted app shares the database but has books of its own.
    again_settings = settings.model_copy(update={"data_dir": Path(settings.data_dir) / "again"})
    with TestClient(create_app(again_settings)) as again:
        assert again.get("/health").status_code == 200
    db = Database(settings.database_url)
    with db.session() as s:
        row = s.query(StrategyRun).one()
        assert row.status == "stopped"
        assert "restarted" in (row.error or "")
    db.dispose()
    assert Path(settings.strategy_dir).name == "strategies"


def test_trade_mode_runs_qmt_idioms_through_the_journal(
    client: TestClient, trader_token: str, auth: Callable[..., Any], write_strategy: Any,
    eventually: Callable[..., Any],
) -> None:  # fmt: skip
    write_strategy("qmt_idioms.py", '''
        """对手价 order, callbacks, global ContextInfo, paint, a sector."""
        done = False
        def code():
            return ContextInfo.stockcode + '.' + ContextInfo.market
        def handlebar(C):
            global done
            C.paint('bar', C.barpos, -1, 0)
            if not done:
                print('sector', len(get_stock_list_in_sector('沪深300')) > 0)
                passorder(23, 1101, account, code(), 14, -1, 100, 'idioms', 2, 'cp', C)
                done = True
        def order_callback(C, o):
            print('order_callback', o.m_strRemark, o.m_dLimitPrice > 0)
        def stop(C):
            print('stopped cleanly')
    ''')  # fmt: skip
    headers = auth(trader_token)
    run = start(client, headers, "qmt_idioms", mode="trade", stock_codes=["600000.SH"],
                period="1m").json()  # fmt: skip
    order = eventually(lambda: [
        o for o in client.get("/api/v1/trading/orders", headers=headers).json()["items"]
        if o["strategy_name"] == "idioms"
    ])[0]  # fmt: skip
    assert (order["order_type"], order["remark"]) == ("limit", "cp")
    url = f"/api/v1/strategies/runs/{run['run_id']}"
    eventually(lambda: [
        line for line in client.get(url, headers=headers).json()["result"]["log"]
        if "order_callback cp True" in line
    ])  # fmt: skip
    assert client.get(url, headers=headers).json()["result"]["paint"]["bar"]
    final = client.delete(url, headers=headers).json()
    log = "\n".join(final["result"]["log"])
    assert "sector True" in log
    assert "stopped cleanly" in log

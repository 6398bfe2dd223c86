"""kill -9 in the middle of a burst: everything a callback announced is in the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.unit.adapter.simkit import ACCOUNT, make_trader
from xtquant_adapter import xtconstant as xc

FINAL = {xc.ORDER_PART_CANCEL, xc.ORDER_CANCELED, xc.ORDER_SUCCEEDED, xc.ORDER_JUNK}

# The child places marketable orders and snapshots forever; its callbacks print what they are
# told (order id + status, trade id) and flush, so the parent knows what was announced.
CHILD = textwrap.dedent(
    """
    import sys
    import time
    from datetime import datetime
    from decimal import Decimal
    from pathlib import Path
    from xtquant_adapter import xtconstant as xc
    from xtquant_adapter.ashare.calendar import SHANGHAI
    from xtquant_adapter.sim import ManualClock, SimConfig, SimulatedXtQuantTrader
    from xtquant_adapter.xttype import StockAccount

    class Echo:
        def on_stock_order(self, o):
            sys.stdout.write(f"order {o.order_id} {o.order_status}\\n")
            sys.stdout.flush()

        def on_stock_trade(self, t):
            sys.stdout.write(f"trade {t.traded_id} {t.order_id}\\n")
            sys.stdout.flush()

    clock = ManualClock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
    cfg = SimConfig(seed=7, initial_cash=Decimal("100000000"))
    trader = SimulatedXtQuantTrader(Path(sys.argv[1]), 1, config=cfg, clock=clock)
    trader.register_callback(Echo())
    trader.start()
    trader.connect()
    acct = StockAccount(cfg.account_id)
    codes = ["601398.SH", "000001.SZ", "510300.SH"]
    asks = {c: trader.market.get_full_tick([c])[c]["askPrice"][4] for c in codes}
    while True:
        for i in range(50):
            c = codes[i % 3]
            trader.order_stock_async(acct, c, xc.STOCK_BUY, 100, xc.FIX_PRICE, asks[c])
        trader.step()
        # A real caller does other work between bursts; a loop that never lets go of the
        # trader's lock starves the push thread and makes this test take a minute.
        time.sleep(0.001)
    """
)


def test_kill_9_loses_nothing_announced(tmp_path: Path) -> None:
    books = tmp_path / "books"
    root = Path(__file__).resolve().parents[3]
    env = {**os.environ, "PYTHONPATH": str(root)}
    child = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", CHILD, str(books)], stdout=subprocess.PIPE, text=True, env=env
    )
    announced: dict[int, int] = {}
    trades: dict[str, int] = {}
    try:
        assert child.stdout is not None
        while len(trades) < 400:  # well into the burst, with pushes still flowing
            kind, key, value = child.stdout.readline().split()
            if kind == "order":
                announced[int(key)] = int(value)
            else:
                trades[key] = int(value)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    trader, _, _ = make_trader(books, seed=7)
    try:
        stored = {o.order_id: o for o in trader.query_stock_orders(ACCOUNT)}
        for order_id, status in announced.items():
            assert order_id in stored, f"order {order_id} was announced but not stored"
            now = stored[order_id].order_status
            assert now == status or now in FINAL, (order_id, status, now)
            assert not (status in FINAL and now != status)
        stored_trades = {t.traded_id: t.order_id for t in trader.query_stock_trades(ACCOUNT)}
        assert trades.items() <= stored_trades.items()
        asset = trader.query_stock_asset(ACCOUNT)
        assert asset.cash >= 0
        assert asset.frozen_cash >= 0
    finally:
        trader.close()

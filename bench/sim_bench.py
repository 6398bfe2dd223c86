"""Orders per second through the simulated MiniQMT alone: place + match + persist + push.

Usage: uv run python bench/sim_bench.py [--orders N] [--batch B]
Each round places B marketable async orders on liquid instruments, takes one market snapshot
(which fills them, walking the book) and waits until the push thread has committed everything
to SQLite and delivered every callback.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from xtquant_adapter import xtconstant as xc
from xtquant_adapter.ashare.calendar import SHANGHAI
from xtquant_adapter.sim import ManualClock, SimConfig, SimulatedXtQuantTrader
from xtquant_adapter.xttype import StockAccount

CODES = ["601398.SH", "000001.SZ", "510300.SH", "003816.SZ"]


class Counter:
    def __init__(self) -> None:
        self.n = 0

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def count(*_: object) -> None:
            self.n += 1

        return count


def run(orders: int, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
        cfg = SimConfig(seed=1, initial_cash=Decimal("10000000000"))
        trader = SimulatedXtQuantTrader(Path(tmp), 1, config=cfg, clock=clock)
        cb = Counter()
        trader.register_callback(cb)  # type: ignore[arg-type]
        trader.start()
        trader.connect()
        acct = StockAccount(cfg.account_id)
        asks = {c: trader.market.get_full_tick([c])[c]["askPrice"][4] for c in CODES}
        start = time.perf_counter()
        placed = 0
        while placed < orders:
            for i in range(batch):
                code = CODES[i % len(CODES)]
                trader.order_stock_async(acct, code, xc.STOCK_BUY, 100, xc.FIX_PRICE, asks[code])
            placed += batch
            trader.step()
        trader.flush(timeout=600)
        elapsed = time.perf_counter() - start
        trades = len(trader.query_stock_trades(acct))
        trader.close()
    return {
        "orders": placed,
        "trades": trades,
        "callbacks": cb.n,
        "seconds": elapsed,
        "orders_per_s": placed / elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=500)
    args = ap.parse_args()
    r = run(args.orders, args.batch)
    print(f"{'orders':>10} {'trades':>10} {'callbacks':>10} {'seconds':>9} {'orders/s':>10}")
    print(
        f"{r['orders']:>10} {r['trades']:>10} {r['callbacks']:>10} {r['seconds']:>9.2f} "
        f"{r['orders_per_s']:>10.0f}"
    )


if __name__ == "__main__":
    main()

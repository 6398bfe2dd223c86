"""Orders per second through the simulated MiniQMT alone: place + match + persist + push.

Usage: uv run python bench/sim_bench.py [--orders N] [--batch B] [--repeat R]
Each round places B marketable async orders on liquid instruments, takes one market snapshot
(which fills them, walking the book) and waits until the push thread has committed everything
to SQLite and delivered every callback (7 per order: async response, reported, asset after the
freeze, trade, filled, position, asset). `orders/s` is wall clock; `cpu s` is the process's CPU
time over the same span (the push thread included), which varies less on a busy machine. With
`--repeat` each run uses fresh books and the best run is reported as well.

`--resting N` first parks N buy orders 1-20 ticks under the fifth bid (they rest all run long,
as in the issue-15 report of 22,000 resting buys) and also times idle market steps (no new
orders): with a price-indexed book both should match an empty book's figures.
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
    """A callback that counts what it is told (the cheapest honest consumer)."""

    def __init__(self) -> None:
        self.n = 0

    def _count(self, *_: object) -> None:
        self.n += 1

    on_order_stock_async_response = on_stock_order = on_stock_trade = _count
    on_stock_position = on_stock_asset = on_order_error = on_cancel_error = _count
    on_account_status = on_disconnected = on_cancel_order_stock_async_response = _count


def rest(trader: SimulatedXtQuantTrader, acct: StockAccount, n: int) -> None:
    """`n` buy orders under the market that stay unfilled, spread over the codes."""
    for i in range(n):
        code = CODES[i % len(CODES)]
        tick = Decimal("0.001") if code.startswith("51") else Decimal("0.01")
        bid = Decimal(repr(trader.market.get_full_tick([code])[code]["bidPrice"][4]))
        price = bid * Decimal("0.97") - tick * (i % 20)
        price = (price / tick).to_integral_value() * tick
        trader.order_stock_async(acct, code, xc.STOCK_BUY, 100, xc.FIX_PRICE, float(price))
    trader.flush(timeout=600)


def idle_steps(trader: SimulatedXtQuantTrader, n: int = 300) -> float:
    """Milliseconds of CPU per market step with nothing new to match."""
    cpu = time.process_time()
    for _ in range(n):
        trader.step()
    trader.flush(timeout=600)
    return (time.process_time() - cpu) / n * 1000


def run(orders: int, batch: int, resting: int = 0) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        clock = ManualClock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))
        cfg = SimConfig(seed=1, initial_cash=Decimal("10000000000"))
        trader = SimulatedXtQuantTrader(Path(tmp), 1, config=cfg, clock=clock)
        cb = Counter()
        trader.register_callback(cb)  # type: ignore[arg-type]
        trader.start()
        trader.connect()
        acct = StockAccount(cfg.account_id)
        rest(trader, acct, resting)
        idle_ms = idle_steps(trader)
        asks = {c: trader.market.get_full_tick([c])[c]["askPrice"][4] for c in CODES}
        start, cpu = time.perf_counter(), time.process_time()
        placed = 0
        while placed < orders:
            for i in range(batch):
                code = CODES[i % len(CODES)]
                trader.order_stock_async(acct, code, xc.STOCK_BUY, 100, xc.FIX_PRICE, asks[code])
            placed += batch
            trader.step()
        trader.flush(timeout=600)
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu
        trades = len(trader.query_stock_trades(acct))
        still = len(trader.query_stock_orders(acct, cancelable_only=True))
        trader.close()
    return {
        "orders": placed,
        "trades": trades,
        "callbacks": cb.n,
        "seconds": elapsed,
        "cpu_seconds": cpu,
        "orders_per_s": placed / elapsed,
        "resting": still,
        "idle_step_ms": idle_ms,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--orders", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--resting", type=int, default=0, help="orders resting under the market")
    args = ap.parse_args()
    print(
        f"{'orders':>10} {'trades':>10} {'callbacks':>10} {'seconds':>9} {'cpu s':>7} "
        f"{'orders/s':>10} {'resting':>8} {'idle step ms':>12}"
    )
    runs = []
    for _ in range(max(1, args.repeat)):
        r = run(args.orders, args.batch, args.resting)
        runs.append(r)
        print(
            f"{r['orders']:>10} {r['trades']:>10} {r['callbacks']:>10} {r['seconds']:>9.2f} "
            f"{r['cpu_seconds']:>7.2f} {r['orders_per_s']:>10.0f} {r['resting']:>8} "
            f"{r['idle_step_ms']:>12.3f}"
        )
    if len(runs) > 1:
        best = max(runs, key=lambda r: r["orders_per_s"])
        print(
            f"best of {len(runs)}: {best['orders_per_s']:.0f} orders/s "
            f"({best['orders'] / best['cpu_seconds']:.0f} per CPU second)"
        )


if __name__ == "__main__":
    main()

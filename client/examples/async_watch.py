"""Watch the account with AsyncQmtClient: every fill and order change, resumed after drops.

QMT_URL=http://127.0.0.1:8000 QMT_USER=alice QMT_PASSWORD=... python async_watch.py
"""

from __future__ import annotations

import asyncio
import os

from qmt_api_client import AsyncQmtClient


async def main() -> None:
    async with AsyncQmtClient(os.environ.get("QMT_URL", "http://127.0.0.1:8000"),
                              username=os.environ["QMT_USER"],
                              password=os.environ["QMT_PASSWORD"]) as c:  # fmt: skip
        acct = await c.account()
        print(f"cash {acct.available_cash}, total {acct.total_value}")
        open_orders = await c.list_orders(status="open")
        print(f"{len(open_orders)} open orders")
        async for ev in c.stream():
            if ev.type == "order":
                o = ev.data
                print(f"#{ev.seq} order {o['order_id']} {o['status']} "
                      f"{o['filled_quantity']}/{o['quantity']}")  # fmt: skip
            elif ev.type == "trade":
                t = ev.data
                print(
                    f"#{ev.seq} trade {t['side']} {t['quantity']} {t['stock_code']} @ {t['price']}"
                )


if __name__ == "__main__":
    asyncio.run(main())

"""A small grid bot on qmt-api: buys a lot when the price falls a step, sells it a step higher.

It keeps its place in the event stream in a file, so a restarted bot (or a dropped network)
misses no fill and handles none twice.

    QMT_URL=http://127.0.0.1:8000 QMT_USER=alice QMT_PASSWORD=... python grid_bot.py
"""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

from qmt_api_client import Event, QmtApiError, QmtClient

CODE = os.environ.get("BOT_CODE", "000001.SZ")
STEP = Decimal(os.environ.get("BOT_STEP", "0.005"))  # 0.5 % between grid lines
LOT = 100
CURSOR = Path(os.environ.get("BOT_CURSOR", "grid_bot.seq"))
TICK = Decimal("0.01")


def load_cursor() -> int | None:
    return int(CURSOR.read_text()) if CURSOR.exists() else None


def save_cursor(seq: int) -> None:
    tmp = CURSOR.with_suffix(".tmp")
    tmp.write_text(str(seq))
    tmp.replace(CURSOR)  # atomic: a crash leaves the old cursor or the new one


def place_grid(c: QmtClient, center: Decimal) -> None:
    """One buy a step under `center` and, if we hold sellable shares, one sell a step above."""
    buy = (center * (1 - STEP)).quantize(TICK)
    c.place_order(stock_code=CODE, side="buy", quantity=LOT, price=buy, strategy_name="grid")
    held = {p.stock_code: p for p in c.positions()}.get(CODE)
    if held and held.can_use_volume >= LOT:
        sell = (center * (1 + STEP)).quantize(TICK)
        c.place_order(stock_code=CODE, side="sell", quantity=LOT, price=sell, strategy_name="grid")


def on_event(c: QmtClient, ev: Event) -> None:
    if ev.type == "trade" and ev.data["stock_code"] == CODE:
        price = Decimal(ev.data["price"])
        print(f"#{ev.seq} filled {ev.data['side']} {ev.data['quantity']} @ {price}")
        c.cancel_all(stock_code=CODE)  # re-centre the grid on the fill
        place_grid(c, price)
    elif ev.type == "connection" and not ev.data.get("connected", True):
        print(f"#{ev.seq} broker disconnected: {ev.data.get('detail')}")


def main() -> None:
    c = QmtClient(os.environ.get("QMT_URL", "http://127.0.0.1:8000"),
                  username=os.environ["QMT_USER"], password=os.environ["QMT_PASSWORD"])  # fmt: skip
    since = load_cursor()
    try:
        if since is None:  # first start: a fresh grid around the last price
            c.cancel_all(stock_code=CODE)
            place_grid(c, c.quote(CODE).last_price)
        for ev in c.stream(since=since):  # reconnects and resumes by itself
            try:
                on_event(c, ev)
            except QmtApiError as exc:  # e.g. INSUFFICIENT_FUNDS, RISK_REJECTED: log, go on
                print(f"#{ev.seq} {exc.code}: {exc.detail}")
            save_cursor(ev.seq)
    except QmtApiError as exc:
        if exc.code != "EVENTS_EXPIRED":
            raise
        print("cursor too old: starting afresh")  # re-read state instead of replaying
        CURSOR.unlink(missing_ok=True)
    finally:
        c.close()


if __name__ == "__main__":
    main()

"""The resumable stream end to end: a bot that loses its stream mid-burst, or whose server is
killed with SIGKILL and restarted, still sees every logged event exactly once and in order."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from live_server import TRADER, Server
from qmt_api_client import AsyncQmtClient, Event, QmtApiError, QmtClient

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),  # starts servers (twice for the kill -9 test): slow when loaded
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only"),
]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Server]:
    """A server of the test's own (it gets killed)."""
    srv = Server(tmp_path)
    srv.start()
    srv.add_trader()
    yield srv
    srv.stop()


def _client(srv: Server) -> QmtClient:
    return QmtClient(srv.url, username=TRADER[0], password=TRADER[1])


def _burst(srv: Server, n: int, stop: threading.Event | None = None) -> None:
    """`n` orders, half of them marketable (fills: order, trade, position, asset events)."""
    with _client(srv) as c:
        for i in range(n):
            if stop is not None and stop.is_set():
                return
            try:
                q = c.quote("000001.SZ")
                price = q.ask[0][0] * Decimal("1.01") if i % 2 else q.bid[0][0] * Decimal("0.985")
                c.place_order(stock_code="000001.SZ", side="buy", quantity=100,
                              price=price.quantize(Decimal("0.01")))  # fmt: skip
            except (QmtApiError, httpx.HTTPError):
                return  # the server was killed under us


def _logged(srv: Server, upto: int) -> list[tuple[int, str]]:
    """(seq, type) of every event in the log up to `upto`, read with the REST pages."""
    out: list[tuple[int, str]] = []
    with _client(srv) as c:
        since = 0
        while True:
            page = c.events(since=since, limit=1000)
            out += [(e.seq, e.type) for e in page.items if e.seq <= upto]
            if not page.items or page.next_since >= upto:
                return out
            since = page.next_since


def _head(srv: Server) -> int:
    with _client(srv) as c:
        since = 0
        while page := c.events(since=since, limit=1000).items:
            since = page[-1].seq
        return since


def _read_until(stream: Iterator[Event], upto: int, into: list[Event]) -> None:
    for ev in stream:
        into.append(ev)
        if ev.seq >= upto:
            return


def _exactly_once_in_order(seen: list[Event], logged: list[tuple[int, str]]) -> None:
    got = [(e.seq, e.type) for e in seen if e.seq <= logged[-1][0]]
    assert got == logged  # every logged event, once, in seq order: no gap, no repeat


def test_a_stream_dropped_mid_burst_resumes_with_since(server: Server) -> None:
    fresh = server
    seen: list[Event] = []
    burst = threading.Thread(target=_burst, args=(fresh, 30))
    with _client(fresh) as c:
        start = _head(fresh)
        stream = c.stream(since=start)
        burst.start()
        for ev in stream:
            seen.append(ev)
            if len(seen) == 25:
                break
        stream.close()  # the connection is gone; the burst goes on
        last = seen[-1].seq
        burst.join(60)
        upto = _head(fresh)
        _read_until(c.stream(since=last), upto, seen)
    logged = [x for x in _logged(fresh, upto) if x[0] > start]
    assert len(logged) > 25
    _exactly_once_in_order(seen, logged)


def test_the_stream_survives_a_kill_9_of_the_server_and_resumes_by_itself(
    fresh: Server,
) -> None:
    seen: list[Event] = []
    stop = threading.Event()
    with _client(fresh) as c:
        start = _head(fresh)
        stream = c.stream(since=start, max_backoff=0.5)
        burst = threading.Thread(target=_burst, args=(fresh, 200, stop))
        burst.start()
        for ev in stream:
            seen.append(ev)
            if len(seen) == 20:
                break
        fresh.kill9()  # mid-burst: orders in flight, events not yet read by the client
        stop.set()
        burst.join(60)
        fresh.start()
        _burst(fresh, 6)  # life goes on after the restart
        upto = _head(fresh)
        # the same generator: it notices the dead connection, reconnects, resumes
        _read_until(stream, upto, seen)
    logged = [x for x in _logged(fresh, upto) if x[0] > start]
    _exactly_once_in_order(seen, logged)
    assert any(e.type == "connection" for e in seen)  # the restart's broker connection


def test_the_async_stream_resumes_too(server: Server) -> None:
    fresh = server

    async def run() -> tuple[list[Event], int, int]:
        seen: list[Event] = []
        async with AsyncQmtClient(fresh.url, username=TRADER[0], password=TRADER[1]) as c:
            start = _head(fresh)
            stream = c.stream(since=start)
            burst = asyncio.create_task(asyncio.to_thread(_burst, fresh, 16))
            async for ev in stream:
                seen.append(ev)
                if len(seen) == 10:
                    break
            await stream.aclose()
            await burst
            upto = _head(fresh)
            async for ev in c.stream(since=seen[-1].seq):
                seen.append(ev)
                if ev.seq >= upto:
                    break
        return seen, start, upto

    seen, start, upto = asyncio.run(run())
    _exactly_once_in_order(seen, [x for x in _logged(fresh, upto) if x[0] > start])

"""GET /trading/stream: a WebSocket of order, trade, position, asset and connection events.

Every message is `{"seq", "type", "data"}`. With `?since=n` the stream first replays every
logged event with seq > n, then goes live, with no gap and no repeat: it subscribes before
it replays, and drops live events it has already sent. A live event whose seq jumps past the
last one sent (another writer's commit published later, or this subscriber's queue having
overflowed) is filled from the log first, so events always leave in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from backend.app.api.deps import authenticate_token
from backend.app.core.errors import EventsExpired, Unauthorized
from backend.app.services.event_log import EventLog

router = APIRouter(prefix="/trading", tags=["trading"])
AUTH_TIMEOUT = 10.0
CLOSE_UNAUTHORIZED = 4401
CLOSE_EXPIRED = 4410  # `since` is older than the retained log (HTTP would say 410)
REPLAY_PAGE = 500


async def _token(ws: WebSocket, token: str | None) -> str:
    if token:
        return token
    with contextlib.suppress(TimeoutError, ValueError, KeyError, TypeError):
        first: Any = await asyncio.wait_for(ws.receive_json(), AUTH_TIMEOUT)
        return str(first.get("token") or "")
    return ""


async def _until_closed(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


class _Sender:
    """Sends events strictly after `last`, reading the log for whatever the bus skipped."""

    def __init__(self, ws: WebSocket, log: EventLog, last: int) -> None:
        self.ws, self.log, self.last = ws, log, last

    async def replay(self) -> None:
        while True:
            rows, _ = await self.log.read(self.last, REPLAY_PAGE)
            for r in rows:
                await self.ws.send_json({"seq": r.seq, "type": r.type, "data": r.data})
                self.last = r.seq
            if len(rows) < REPLAY_PAGE:
                return

    async def live(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        if seq <= self.last:
            return  # replayed already
        if seq > self.last + 1:
            for r in await self.log.between(self.last, seq - 1):
                await self.ws.send_json({"seq": r.seq, "type": r.type, "data": r.data})
                self.last = r.seq
        await self.ws.send_json(event)
        self.last = seq


@router.websocket("/stream")
async def stream(ws: WebSocket, token: str | None = None, since: int | None = None) -> None:
    """Token as `?token=` or a first message `{"token": ...}`; a bad one closes with 4401.
    `?since=<seq>` replays what came after it first; an expired one closes with 4410."""
    await ws.accept()
    try:
        actor = await authenticate_token(ws, await _token(ws, token))
    except (Unauthorized, WebSocketDisconnect):
        with contextlib.suppress(RuntimeError):
            await ws.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    state = ws.app.state
    log: EventLog = state.event_log
    async with state.events.subscribe() as sub:
        try:
            if since is not None:
                await log.read(since, 1)  # raises when `since` is past retention
            start = max(since, 0) if since is not None else await log.head()
        except EventsExpired as exc:
            with contextlib.suppress(RuntimeError):
                await ws.close(code=CLOSE_EXPIRED, reason=exc.code)
            return
        # The greeting is not an event of the log: its seq is where this stream starts after.
        await ws.send_json({"seq": start, "type": "connection", "data": {
            "connected": state.qmt.is_connected(), "detail": "subscribed",
            "mode": state.settings.qmt_mode, "account_id": state.qmt.account_id,
            "user": actor.username,
        }})  # fmt: skip
        sender = _Sender(ws, log, start)
        closed = asyncio.create_task(_until_closed(ws))
        try:
            await sender.replay()
            while True:
                nxt = asyncio.create_task(sub.get())
                done, _ = await asyncio.wait({nxt, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    nxt.cancel()
                    return
                await sender.live(nxt.result())
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            closed.cancel()

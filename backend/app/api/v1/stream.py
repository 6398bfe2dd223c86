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

from backend.app.api.v1.stream_guard import (
    CLOSE_UNAUTHORIZED,
    authenticate_stream,
    close,
    until_revoked,
)
from backend.app.core.errors import EventsExpired
from backend.app.domain.enums import Role
from backend.app.domain.masking import for_role
from backend.app.services.event_log import EventLog

router = APIRouter(prefix="/trading", tags=["trading"])
CLOSE_EXPIRED = 4410  # `since` is older than the retained log (HTTP would say 410)
REPLAY_PAGE = 500


async def _until_closed(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


class _Sender:
    """Sends events strictly after `last`, reading the log for whatever the bus skipped."""

    def __init__(self, ws: WebSocket, log: EventLog, last: int, role: Role) -> None:
        self.ws, self.log, self.last, self.role = ws, log, last, role

    async def _send(self, event: dict[str, Any]) -> None:
        await self.ws.send_json(for_role(event, self.role))  # viewers: account id masked

    async def replay(self) -> None:
        while True:
            rows, _ = await self.log.read(self.last, REPLAY_PAGE)
            for r in rows:
                await self._send({"seq": r.seq, "type": r.type, "data": r.data})
                self.last = r.seq
            if len(rows) < REPLAY_PAGE:
                return

    async def live(self, event: dict[str, Any]) -> None:
        seq = int(event["seq"])
        if seq <= self.last:
            return  # replayed already
        if seq > self.last + 1:
            for r in await self.log.between(self.last, seq - 1):
                await self._send({"seq": r.seq, "type": r.type, "data": r.data})
                self.last = r.seq
        await self._send(event)
        self.last = seq


@router.websocket("/stream")
async def stream(ws: WebSocket, token: str | None = None, since: int | None = None) -> None:
    """Token as `?token=` or a first message `{"token": ...}`; a bad one closes with 4401, a
    malformed first message with 4400, a revoked token later with 4401.
    `?since=<seq>` replays what came after it first; an expired one closes with 4410."""
    await ws.accept()
    authed = await authenticate_stream(ws, token)
    if authed is None:
        return
    actor, token = authed
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
        await ws.send_json(for_role({"seq": start, "type": "connection", "data": {
            "connected": state.qmt.is_connected(), "detail": "subscribed",
            "mode": state.settings.qmt_mode, "account_id": state.qmt.account_id,
            "user": actor.username,
        }}, actor.role))  # fmt: skip
        sender = _Sender(ws, log, start, actor.role)
        closed = asyncio.create_task(_until_closed(ws))
        revoked = asyncio.create_task(until_revoked(ws, token, actor))
        try:
            await sender.replay()
            while True:
                nxt = asyncio.create_task(sub.get())
                done, _ = await asyncio.wait(
                    {nxt, closed, revoked}, return_when=asyncio.FIRST_COMPLETED
                )
                if closed in done or revoked in done:
                    nxt.cancel()
                    if revoked in done:
                        await close(ws, CLOSE_UNAUTHORIZED, "token revoked")
                    return
                await sender.live(nxt.result())
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            closed.cancel()
            revoked.cancel()

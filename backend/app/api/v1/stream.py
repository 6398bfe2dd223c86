"""GET /trading/stream: a WebSocket of order, trade, position, asset and connection events."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from backend.app.api.v1.stream_guard import (
    CLOSE_UNAUTHORIZED,
    authenticate_stream,
    close,
    until_revoked,
)
from backend.app.domain.masking import for_role

router = APIRouter(prefix="/trading", tags=["trading"])


async def _until_closed(ws: WebSocket) -> None:
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while True:
            await ws.receive_text()


@router.websocket("/stream")
async def stream(ws: WebSocket, token: str | None = None) -> None:
    """Token as `?token=` or a first message `{"token": ...}`; a bad one closes with 4401, a
    malformed first message with 4400; a revoked token later closes with 4401."""
    await ws.accept()
    authed = await authenticate_stream(ws, token)
    if authed is None:
        return
    actor, token = authed
    state = ws.app.state
    async with state.events.subscribe() as sub:
        await ws.send_json(for_role({"type": "connection", "data": {
            "connected": state.qmt.is_connected(), "detail": "subscribed",
            "mode": state.settings.qmt_mode, "account_id": state.qmt.account_id,
            "user": actor.username,
        }}, actor.role))  # fmt: skip
        closed = asyncio.create_task(_until_closed(ws))
        revoked = asyncio.create_task(until_revoked(ws, token, actor))
        try:
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
                await ws.send_json(for_role(nxt.result(), actor.role))
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            closed.cancel()
            revoked.cancel()

"""GET /trading/stream: a WebSocket of order, trade, position, asset and connection events."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from backend.app.api.deps import authenticate_token
from backend.app.core.errors import Unauthorized

router = APIRouter(prefix="/trading", tags=["trading"])
AUTH_TIMEOUT = 10.0
CLOSE_UNAUTHORIZED = 4401


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


@router.websocket("/stream")
async def stream(ws: WebSocket, token: str | None = None) -> None:
    """Token as `?token=` or a first message `{"token": ...}`; a bad one closes with 4401."""
    await ws.accept()
    try:
        actor = await authenticate_token(ws, await _token(ws, token))
    except (Unauthorized, WebSocketDisconnect):
        with contextlib.suppress(RuntimeError):
            await ws.close(code=CLOSE_UNAUTHORIZED, reason="unauthorized")
        return
    state = ws.app.state
    async with state.events.subscribe() as sub:
        await ws.send_json({"type": "connection", "data": {
            "connected": state.qmt.is_connected(), "detail": "subscribed",
            "mode": state.settings.qmt_mode, "account_id": state.qmt.account_id,
            "user": actor.username,
        }})  # fmt: skip
        closed = asyncio.create_task(_until_closed(ws))
        try:
            while True:
                nxt = asyncio.create_task(sub.get())
                done, _ = await asyncio.wait({nxt, closed}, return_when=asyncio.FIRST_COMPLETED)
                if closed in done:
                    nxt.cancel()
                    return
                await ws.send_json(nxt.result())
        except (WebSocketDisconnect, RuntimeError):
            return
        finally:
            closed.cancel()

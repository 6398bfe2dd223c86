"""Who may hold a stream open: the first-message handshake and the re-checks after it.

- The token comes as `?token=` or as a first message `{"token": "..."}` within AUTH_TIMEOUT.
  A first message that is not such an object (`[1,2]`, not JSON, a token with a control
  character) closes with 4400; no token in time, or a bad one, closes with 4401. Never a
  traceback: every way a client can get it wrong is one of the two closes.
- Once open, the stream re-checks its token whenever its user is changed (this process, or
  another one through Redis: services/risk/sync.py) and every RECHECK_SECONDS regardless,
  reading the user row each time; a disabled, demoted or re-passworded user's stream closes
  with 4401 within a second or two.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect

from backend.app.api.deps import authenticate_token
from backend.app.api.edge_text import text_error
from backend.app.core.errors import Unauthorized
from backend.app.domain.actor import Actor

AUTH_TIMEOUT = 10.0
RECHECK_SECONDS = 2.0
CLOSE_BAD_MESSAGE = 4400
CLOSE_UNAUTHORIZED = 4401
_MAX_FIRST_MESSAGE = 8192


class _Refused(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


async def _first_message_token(ws: WebSocket) -> str:
    try:
        message = await asyncio.wait_for(ws.receive(), AUTH_TIMEOUT)
    except TimeoutError:
        raise _Refused(CLOSE_UNAUTHORIZED, f"no token within {AUTH_TIMEOUT:g} s") from None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text")
    if raw is None and message.get("bytes") is not None:
        raw = message["bytes"].decode("utf-8", "replace")
    if not raw or len(raw) > _MAX_FIRST_MESSAGE:
        raise _Refused(CLOSE_BAD_MESSAGE, 'first message must be {"token": "..."}')
    try:
        first: Any = json.loads(raw)
    except ValueError:
        raise _Refused(CLOSE_BAD_MESSAGE, "first message is not JSON") from None
    token = first.get("token") if isinstance(first, dict) else None
    if not isinstance(token, str):
        raise _Refused(CLOSE_BAD_MESSAGE, 'first message must be {"token": "..."}')
    return token


async def authenticate_stream(ws: WebSocket, token: str | None) -> tuple[Actor, str] | None:
    """The (accepted) stream's user and token, or None after closing it with 4400/4401."""
    try:
        if not token:
            token = await _first_message_token(ws)
        if text_error(("token",), token) is not None:
            raise _Refused(CLOSE_BAD_MESSAGE, "token holds a control character")
        return await authenticate_token(ws, token), token
    except WebSocketDisconnect:
        return None
    except Unauthorized:
        await close(ws, CLOSE_UNAUTHORIZED, "unauthorized")
    except _Refused as refused:
        await close(ws, refused.code, refused.reason)
    return None


async def until_revoked(ws: WebSocket, token: str, actor: Actor) -> None:
    """Return once `token` no longer authenticates (the caller closes with 4401)."""
    users = ws.app.state.users
    with users.watch(actor.username) as changed:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), RECHECK_SECONDS)
            changed.clear()
            try:
                await users.authenticate(token=token, fresh=True)
            except Unauthorized:
                return


async def close(ws: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await ws.close(code=code, reason=reason)

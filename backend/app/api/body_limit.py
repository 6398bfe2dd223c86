"""Request bodies: at most MAX_BODY_BYTES, each chunk within BODY_TIMEOUT_SECONDS.

A pure ASGI middleware that never buffers: a `Content-Length` above the limit is answered
413 before the app runs (nothing is read); a body without one (chunked) is counted as the
app reads it, and the read that crosses the limit raises `BodyTooLarge`, an HTTPException
the problem handler turns into the same 413. A client that stops sending halfway gets 408.
Without this, a 10 MB JSON body was parsed and echoed on the event loop for 13 s.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.app.api.problems import HTTP_CODES, problem, request_id_of


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, _too_large(limit), headers={"Connection": "close"})


class BodyTimeout(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            408,
            f"请求体发送超时（{seconds:g} 秒无数据）/ request body stalled for {seconds:g} s",
            headers={"Connection": "close"},
        )


def _too_large(limit: int) -> str:
    return f"请求体超过 {limit} 字节 / request body larger than {limit} bytes (MAX_BODY_BYTES)"


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", ()):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            conn = HTTPConnection(scope)
            response = problem(
                413,
                HTTP_CODES[413],
                _too_large(self.max_bytes),
                instance=conn.url.path,
                headers={"Connection": "close"},
                request_id=request_id_of(conn),
            )
            await response(scope, receive, send)
            return
        seen = 0
        done = declared == 0

        async def limited_receive() -> Message:
            nonlocal seen, done
            if done:  # the body is in: from here on receive() only waits for a disconnect
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except TimeoutError:
                raise BodyTimeout(self.timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
                done = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)

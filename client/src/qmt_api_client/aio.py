"""AsyncQmtClient: the asyncio client, method for method the same as QmtClient."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from qmt_api_client import _calls as calls
from qmt_api_client import models as m
from qmt_api_client._auth import TOKEN_PATH, TokenState
from qmt_api_client._stream import StreamCursor
from qmt_api_client.errors import QmtApiError, error_from_response

T = TypeVar("T")
Price = Decimal | str | float | None


class AsyncQmtClient:
    """`async with AsyncQmtClient(url, username=..., password=...) as c: await c.account()`."""

    def __init__(
        self, base_url: str, *, username: str | None = None, password: str | None = None,
        token: str | None = None, timeout: float = 10.0, max_retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._auth = TokenState(username, password, token)
        self._login_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout,
                                       transport=transport)  # fmt: skip

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncQmtClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    # --- plumbing ----------------------------------------------------------------------------

    async def login(self) -> str:
        r = await self._http.post(TOKEN_PATH, data=self._auth.form())
        if r.status_code != 200:
            raise error_from_response(r)
        self._auth.accept(r.json())
        return self._auth.token or ""

    async def token(self) -> str:
        if self._auth.needs_login():
            async with self._login_lock:  # many concurrent calls, one login
                if self._auth.needs_login():
                    await self.login()
        return self._auth.token or ""

    async def _do(self, call: calls.Call[T]) -> T:
        attempt, relogged = 0, False
        while True:
            await self.token()
            try:
                r = await self._http.request(
                    call.method,
                    call.path,
                    params=dict(call.params),
                    json=call.json,
                    headers=self._auth.headers(),
                )
            except httpx.TransportError as exc:
                delay = calls.delay_after_error(call, exc, attempt)
                if delay is None or attempt >= self.max_retries:
                    raise
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if r.status_code == 401 and self._auth.can_login and not relogged:
                relogged = True
                await self.login()
                continue
            if r.status_code < 400:
                return call.parse(r.json())
            delay = calls.delay_after_response(call, r, attempt)
            if delay is None or attempt >= self.max_retries:
                raise error_from_response(r)
            attempt += 1
            await asyncio.sleep(delay)

    # --- orders ------------------------------------------------------------------------------

    async def place_order(
        self, *, stock_code: str, side: str, quantity: int, price: Price = None,
        order_type: str = "limit", client_order_id: str | None = None,
        strategy_name: str = "", remark: str = "",
    ) -> m.Order:  # fmt: skip
        return await self._do(calls.place_order(
            stock_code=stock_code, side=side, quantity=quantity, price=price,
            order_type=order_type, client_order_id=client_order_id,
            strategy_name=strategy_name, remark=remark,
        ))  # fmt: skip

    async def get_order(self, order_id: int) -> m.Order:
        return await self._do(calls.get_order(order_id))

    async def list_orders(self, **filters: Any) -> list[m.Order]:
        return (await self._do(calls.list_orders(**filters))).items

    async def orders_page(self, **filters: Any) -> m.OrderPage:
        return await self._do(calls.list_orders(**filters))

    async def cancel_order(self, order_id: int) -> m.Order:
        return await self._do(calls.cancel_order(order_id))

    async def cancel_all(
        self, *, stock_code: str | None = None, side: str | None = None
    ) -> list[m.CancelResult]:
        return await self._do(calls.cancel_all(stock_code, side))

    async def replace_order(
        self, order_id: int, *, price: Price = None, quantity: int | None = None,
        client_order_id: str | None = None,
    ) -> m.Order:  # fmt: skip
        return await self._do(calls.replace_order(
            order_id, price=price, quantity=quantity, client_order_id=client_order_id))  # fmt: skip

    async def trades(self, **filters: Any) -> list[m.Trade]:
        return (await self._do(calls.trades(**filters))).items

    # --- account and market ------------------------------------------------------------------

    async def account(self) -> m.Account:
        return await self._do(calls.account())

    async def positions(self) -> list[m.Position]:
        return await self._do(calls.positions())

    async def close_position(self, stock_code: str, *, order_type: str = "limit") -> m.CloseResult:
        return (await self._do(calls.close_position(stock_code, order_type)))[0]

    async def close_all(self, *, order_type: str = "limit") -> list[m.CloseResult]:
        return await self._do(calls.close_all(order_type))

    async def status(self) -> m.Status:
        return await self._do(calls.status())

    async def quote(self, stock_code: str) -> m.Quote:
        return await self._do(calls.quote(stock_code))

    async def me(self) -> m.Me:
        return await self._do(calls.me())

    # --- events ------------------------------------------------------------------------------

    async def events(self, since: int | None = None, limit: int = 100) -> m.EventPage:
        return await self._do(calls.events(since, limit))

    async def stream(
        self, since: int | None = None, *, max_backoff: float = 10.0, open_timeout: float = 10.0
    ) -> AsyncIterator[m.Event]:
        """`async for ev in c.stream(since)`: as QmtClient.stream, on asyncio."""
        cursor = StreamCursor(since)
        failures = 0
        while True:
            try:
                url = calls.ws_url(self.base_url, await self.token(), cursor.last)
                async with connect(url, open_timeout=open_timeout, max_size=2**24) as ws:
                    async for raw in ws:
                        failures = 0
                        ev = cursor.accept(json.loads(raw))
                        if ev is not None:
                            yield ev
                    cursor.closed(ws.close_code, ws.close_reason)
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError) as exc:
                if isinstance(exc, ConnectionClosed):
                    cursor.closed(exc.rcvd.code if exc.rcvd else None,
                                  exc.rcvd.reason if exc.rcvd else "")  # fmt: skip
            except QmtApiError:
                raise
            if cursor.needs_login:
                cursor.needs_login = False
                await self.login()
            await asyncio.sleep(min(calls.backoff(failures), max_backoff))
            failures += 1
            cursor.reset_connection()

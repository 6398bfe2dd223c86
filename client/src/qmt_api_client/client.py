"""QmtClient: the synchronous client (httpx + websockets' sync client)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, TypeVar

import httpx
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

from qmt_api_client import _calls as calls
from qmt_api_client import models as m
from qmt_api_client._auth import TOKEN_PATH, TokenState
from qmt_api_client._stream import StreamCursor
from qmt_api_client.errors import QmtApiError, error_from_response

T = TypeVar("T")
Price = Decimal | str | float | None


class QmtClient:
    """`QmtClient("http://127.0.0.1:8000", username=..., password=...)` or `token=...`.

    Every refused request raises `QmtApiError`; tokens are renewed before they expire (and
    once more on a 401); 429 waits `Retry-After`; see `_calls` for what is retried.
    """

    def __init__(
        self, base_url: str, *, username: str | None = None, password: str | None = None,
        token: str | None = None, timeout: float = 10.0, max_retries: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:  # fmt: skip
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self._auth = TokenState(username, password, token)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> QmtClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------------------------

    def login(self) -> str:
        """Log in now (also done by itself when needed); the new token."""
        r = self._http.post(TOKEN_PATH, data=self._auth.form())
        if r.status_code != 200:
            raise error_from_response(r)
        self._auth.accept(r.json())
        return self._auth.token or ""

    def token(self) -> str:
        if self._auth.needs_login():
            self.login()
        return self._auth.token or ""

    def _do(self, call: calls.Call[T]) -> T:
        attempt, relogged = 0, False
        while True:
            self.token()
            try:
                r = self._http.request(call.method, call.path, params=dict(call.params),
                                       json=call.json, headers=self._auth.headers())  # fmt: skip
            except httpx.TransportError as exc:
                delay = calls.delay_after_error(call, exc, attempt)
                if delay is None or attempt >= self.max_retries:
                    raise
                attempt += 1
                time.sleep(delay)
                continue
            if r.status_code == 401 and self._auth.can_login and not relogged:
                relogged = True  # expired or revoked early: one fresh login, then as answered
                self.login()
                continue
            if r.status_code < 400:
                return call.parse(r.json())
            delay = calls.delay_after_response(call, r, attempt)
            if delay is None or attempt >= self.max_retries:
                raise error_from_response(r)
            attempt += 1
            time.sleep(delay)

    # --- orders ------------------------------------------------------------------------------

    def place_order(
        self, *, stock_code: str, side: str, quantity: int, price: Price = None,
        order_type: str = "limit", client_order_id: str | None = None,
        strategy_name: str = "", remark: str = "",
    ) -> m.Order:  # fmt: skip
        """Place an order; its client_order_id (generated unless given) makes retries safe."""
        return self._do(calls.place_order(
            stock_code=stock_code, side=side, quantity=quantity, price=price,
            order_type=order_type, client_order_id=client_order_id,
            strategy_name=strategy_name, remark=remark,
        ))  # fmt: skip

    def get_order(self, order_id: int) -> m.Order:
        return self._do(calls.get_order(order_id))

    def list_orders(self, **filters: Any) -> list[m.Order]:
        """Orders, newest first (`status="open"`, `stock_code`, `side`, `since`, `limit`)."""
        return self._do(calls.list_orders(**filters)).items

    def orders_page(self, **filters: Any) -> m.OrderPage:
        return self._do(calls.list_orders(**filters))

    def cancel_order(self, order_id: int) -> m.Order:
        return self._do(calls.cancel_order(order_id))

    def cancel_all(
        self, *, stock_code: str | None = None, side: str | None = None
    ) -> list[m.CancelResult]:
        return self._do(calls.cancel_all(stock_code, side))

    def replace_order(
        self, order_id: int, *, price: Price = None, quantity: int | None = None,
        client_order_id: str | None = None,
    ) -> m.Order:  # fmt: skip
        """Cancel `order_id` and, once that is confirmed, place the rest anew; the new order."""
        return self._do(calls.replace_order(
            order_id, price=price, quantity=quantity, client_order_id=client_order_id))  # fmt: skip

    def trades(self, **filters: Any) -> list[m.Trade]:
        return self._do(calls.trades(**filters)).items

    # --- account and market ------------------------------------------------------------------

    def account(self) -> m.Account:
        return self._do(calls.account())

    def positions(self) -> list[m.Position]:
        return self._do(calls.positions())

    def close_position(self, stock_code: str, *, order_type: str = "limit") -> m.CloseResult:
        return self._do(calls.close_position(stock_code, order_type))[0]

    def close_all(self, *, order_type: str = "limit") -> list[m.CloseResult]:
        return self._do(calls.close_all(order_type))

    def status(self) -> m.Status:
        return self._do(calls.status())

    def quote(self, stock_code: str) -> m.Quote:
        return self._do(calls.quote(stock_code))

    def me(self) -> m.Me:
        return self._do(calls.me())

    # --- events ------------------------------------------------------------------------------

    def events(self, since: int | None = None, limit: int = 100) -> m.EventPage:
        """One page of the event log (for callers without WebSocket)."""
        return self._do(calls.events(since, limit))

    def stream(
        self, since: int | None = None, *, max_backoff: float = 10.0, open_timeout: float = 10.0
    ) -> Iterator[m.Event]:
        """Events as they happen, each exactly once and in `seq` order, forever.

        `since=None` starts now; `since=n` first replays every event after n. A dropped
        connection (or a restarted server) is reconnected with backoff and resumed after the
        last event yielded. An expired cursor raises QmtApiError(EVENTS_EXPIRED).
        """
        cursor = StreamCursor(since)
        failures = 0
        while True:
            try:
                url = calls.ws_url(self.base_url, self.token(), cursor.last)
                with connect(url, open_timeout=open_timeout, max_size=2**24) as ws:
                    for raw in ws:
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
                self.login()
            time.sleep(min(calls.backoff(failures), max_backoff))
            failures += 1
            cursor.reset_connection()

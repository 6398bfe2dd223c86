"""`RealTrader`: xtquant's `XtQuantTrader` behind the `Trader` protocol, plus the two things the
SDK lacks (XTQUANT.md "Read first").

* `session_id`: the real trader does not keep the id it was built with.
* `close()`: `stop()` plus the release of every synchronous call still waiting for MiniQMT.
  The SDK waits on a `Future` with no timeout and nothing completes it on a disconnect
  (`XtQuantTrader.common_op_sync_with_seq`, ~xttrader.py:410): a thread that called into a hung
  or dead terminal never comes back. Closing the dead session completes those waits with `None`,
  which the SDK's own code already treats as a failed answer (`query_*` -> None,
  `subscribe` -> None, `order_stock` -> AttributeError on `None.order_id`), so the thread returns.

Everything else is plain delegation; no retries, mapping or logging live here.
"""

from __future__ import annotations

from typing import Any, Final

from xtquant_adapter.protocol import (
    AccountLike,
    TraderCallback,
    XtAssetLike,
    XtOrderLike,
    XtPositionLike,
)

# The SDK's sync waiters are lambdas defined in this method; async callbacks are bound methods.
_SYNC_WAITER: Final = "common_op_sync_with_seq.<locals>.<lambda>"


def release_sync_waiters(sdk: Any) -> int:
    """Complete, with `None`, every sync call of `sdk` still waiting for an answer.

    Only the SDK's own sync waiters are touched: the callbacks registered for `*_async` calls
    (our bridge's methods) are left alone. Returns how many were released.
    """
    pending: dict[int, Any] | None = getattr(sdk, "cbs", None)
    if not isinstance(pending, dict):
        return 0
    released = 0
    for seq, waiter in list(pending.items()):
        if not getattr(waiter, "__qualname__", "").endswith(_SYNC_WAITER):
            continue
        if pending.pop(seq, None) is None:
            continue  # answered meanwhile
        try:
            waiter(None)
        except Exception:  # noqa: S112 - an already-completed Future: nothing to release
            continue
        released += 1
    return released


class RealTrader:
    """A `protocol.Trader` over one `XtQuantTrader` session."""

    def __init__(self, sdk: Any, session_id: int) -> None:
        self._sdk = sdk
        self._session_id = session_id
        self._started = False

    @property
    def session_id(self) -> int:
        return self._session_id

    @property
    def sdk(self) -> Any:
        """The wrapped `XtQuantTrader` (diagnostics and tests only)."""
        return self._sdk

    def register_callback(self, callback: TraderCallback) -> None:
        self._sdk.register_callback(callback)

    def start(self) -> None:
        self._sdk.start()
        self._started = True

    def stop(self) -> None:
        # The SDK's stop() dereferences executors that only start() creates.
        if self._started:
            self._started = False
            self._sdk.stop()

    def close(self) -> None:
        """Release the waiting sync calls, then stop. Safe to call twice."""
        release_sync_waiters(self._sdk)
        self.stop()

    def connect(self) -> int:
        return int(self._sdk.connect())

    def subscribe(self, account: AccountLike) -> int:
        rc = self._sdk.subscribe(account)
        return -1 if rc is None else int(rc)

    def order_stock(
        self,
        account: AccountLike,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        return int(
            self._sdk.order_stock(
                account, stock_code, order_type, order_volume, price_type, price,
                strategy_name, order_remark,
            )
        )  # fmt: skip

    def order_stock_async(
        self,
        account: AccountLike,
        stock_code: str,
        order_type: int,
        order_volume: int,
        price_type: int,
        price: float,
        strategy_name: str = "",
        order_remark: str = "",
    ) -> int:
        return int(
            self._sdk.order_stock_async(
                account, stock_code, order_type, order_volume, price_type, price,
                strategy_name, order_remark,
            )
        )  # fmt: skip

    def cancel_order_stock(self, account: AccountLike, order_id: int) -> int:
        return int(self._sdk.cancel_order_stock(account, order_id))

    def cancel_order_stock_async(self, account: AccountLike, order_id: int) -> int:
        return int(self._sdk.cancel_order_stock_async(account, order_id))

    def query_stock_asset(self, account: AccountLike) -> XtAssetLike | None:
        result: XtAssetLike | None = self._sdk.query_stock_asset(account)
        return result

    def query_stock_order(self, account: AccountLike, order_id: int) -> XtOrderLike | None:
        result: XtOrderLike | None = self._sdk.query_stock_order(account, order_id)
        return result

    # The list queries answer None on failure (xttrader.md ~1494-1546): passed on unchanged,
    # never turned into an empty list here.
    def query_stock_orders(
        self, account: AccountLike, cancelable_only: bool = False
    ) -> list[Any] | None:
        result: list[Any] | None = self._sdk.query_stock_orders(account, cancelable_only)
        return result

    def query_stock_trades(self, account: AccountLike) -> list[Any] | None:
        result: list[Any] | None = self._sdk.query_stock_trades(account)
        return result

    def query_stock_position(self, account: AccountLike, stock_code: str) -> XtPositionLike | None:
        result: XtPositionLike | None = self._sdk.query_stock_position(account, stock_code)
        return result

    def query_stock_positions(self, account: AccountLike) -> list[Any] | None:
        result: list[Any] | None = self._sdk.query_stock_positions(account)
        return result

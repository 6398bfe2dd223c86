"""The script's optional entry points besides init/handlebar, called the way QMT calls them.

* `after_init(C)` once after `init`; `stop(C)` once when the run ends (finished or stopped);
* `order_callback(C, order)`, `deal_callback(C, deal)`, `account_callback(C, account)` with
  the same `m_*` records `get_trade_detail_data` returns; the broker queues them as they
  happen and they are delivered after the current `handlebar` returns (QMT delivers pushes
  on its own thread, never inside the caller's passorder);
* `subscribe_quote` callbacks with `{code: bar}` after every bar.

Each call runs under the run's guard (the same time budget as handlebar).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from backend.app.services.strategies.guard import Guard
from backend.app.services.strategies.loader import LoadedStrategy

if TYPE_CHECKING:
    from backend.app.services.strategies.context import ContextInfo

CALLBACK_OF: Final = {
    "order": "order_callback",
    "deal": "deal_callback",
    "account": "account_callback",
    "position": "position_callback",
}


class ScriptHooks:
    def __init__(self, loaded: LoadedStrategy, ctx: ContextInfo, guard: Guard) -> None:
        self.ctx, self.guard = ctx, guard
        self._fns = {
            name: loaded.entry(name) for name in ("after_init", "stop", *CALLBACK_OF.values())
        }
        self._queue: list[tuple[str, Any]] = []

    def emit(self, kind: str, record: Any) -> None:
        if self._fns.get(CALLBACK_OF.get(kind, "")) is not None:
            self._queue.append((kind, record))

    def _call(self, name: str, *args: Any) -> None:
        fn = self._fns.get(name)
        if fn is not None:
            self.guard.call(name, fn, self.ctx, *args)

    def after_init(self) -> None:
        self._call("after_init")

    def stop(self) -> None:
        self._call("stop")

    def after_bar(self) -> None:
        """Deliver queued pushes, then the quote subscriptions' callbacks."""
        queue, self._queue = self._queue, []
        for kind, record in queue:
            self._call(CALLBACK_OF[kind], record)
        for codes, period, callback in list(self.ctx.subscriptions.values()):
            self.guard.call("subscribe_quote", callback, self.ctx.quote_for(codes, period))

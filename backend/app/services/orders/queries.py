"""The read side of trading: orders, trades, positions, account, status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from backend.app.core.config import Settings
from backend.app.core.errors import DomainError, OrderNotFound, ValidationFailed
from backend.app.db.repositories import orders as order_repo
from backend.app.db.repositories import trades as trade_repo
from backend.app.db.session import Database
from backend.app.domain.enums import MarketSession
from backend.app.domain.ids import id_from_text
from backend.app.models.orders import OrderDetail, OrderPage, TradePage
from backend.app.models.trading import AccountInfo, PositionPage, PositionRead, TradingStatus
from backend.app.services.broker.service import QMTService
from backend.app.services.broker.xt_mapping import AssetSnapshot, PositionSnapshot
from backend.app.services.calendar import calendar_note
from backend.app.services.orders.rows import order_json, order_row_json, page_json, trade_json
from backend.app.services.orders.validation import OrderValidator, normalize
from backend.app.services.risk.engine import RiskEngine

_FEN = Decimal("0.01")


def _px(d: Decimal) -> Decimal:
    n = d.normalize()
    return n.quantize(_FEN) if int(n.as_tuple().exponent) > -2 else n


MAX_PAGE = 500
_PAGES_KEPT = 64  # distinct order-list queries cached (~60 KB each at limit=100)


# --- the account's objects: one builder each, for REST and the WebSocket stream alike -------


def is_held(p: PositionSnapshot) -> bool:
    """A position `GET /trading/positions` lists (shares held or frozen)."""
    return p.volume > 0 or p.frozen_volume > 0


def profit_loss(p: PositionSnapshot) -> Decimal:
    """A position's profit/loss at the last price, to the fen."""
    return ((p.last_price - p.avg_price) * p.volume).quantize(_FEN, ROUND_HALF_UP)


def position_read(p: PositionSnapshot, stock_name: str) -> PositionRead:
    """A broker position as the REST position item, profit/loss at the last price."""
    pl = profit_loss(p)
    return PositionRead(
        stock_code=p.stock_code, stock_name=stock_name, volume=p.volume,
        can_use_volume=p.can_use_volume, frozen_volume=p.frozen_volume,
        avg_price=_px(p.avg_price), last_price=_px(p.last_price),
        market_value=p.market_value, profit_loss=pl,
    )  # fmt: skip


def account_info_json(
    account_id: str, asset: AssetSnapshot, positions: Iterable[PositionSnapshot]
) -> dict[str, Any]:
    """`GET /trading/account-info`'s object as JSON, from the broker's asset and positions:
    the one builder for the route (validated into AccountInfo) and for the asset event the
    stream sends after every order (a pydantic model per position there was ~7% of the event
    loop's CPU per order; a property test holds it to the models' arithmetic)."""
    count, pl = 0, Decimal("0.00")
    for p in positions:
        if is_held(p):
            count += p.volume > 0
            pl += profit_loss(p)
    return {
        "account_id": account_id, "available_cash": str(asset.cash),
        "frozen_cash": str(asset.frozen_cash), "market_value": str(asset.market_value),
        "total_value": str(asset.total_asset), "positions_count": count,
        "total_profit_loss": str(pl),
    }  # fmt: skip


def _cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    before = id_from_text(cursor)
    if before is None:
        raise ValidationFailed(
            "cursor 无效 / invalid cursor",
            errors=[
                {
                    "type": "value_error",
                    "loc": ["query", "cursor"],
                    "msg": "not a cursor from next_cursor",
                }
            ],
        )
    return before


SESSIONS_ENFORCED = (
    "按交易所时段和交易日历接单、撮合（集合竞价、午休、节假日） / exchange sessions, auctions, "
    "lunch break and holidays apply"
)
SESSIONS_IGNORED = (
    "模拟器未启用交易时段（SIM_ENFORCE_TRADING_HOURS=false）：任何时刻都按连续竞价处理，"
    "没有集合竞价、午休和节假日 / the simulator ignores the exchange clock: always continuous "
    "trading, no auctions, lunch break or holidays (set SIM_ENFORCE_TRADING_HOURS=true)"
)


class TradingQueries:
    """Reads of the journal (orders, fills) and of the broker (positions, asset, status)."""

    def __init__(
        self, *, settings: Settings, db: Database, qmt: QMTService, risk: RiskEngine,
        validator: OrderValidator,
    ) -> None:  # fmt: skip
        self._settings, self._db, self._qmt, self._risk = settings, db, qmt, risk
        self._account = settings.miniqmt_account_id
        self._validator = validator
        # Order-list pages as sent, by query, with the database's write count when read: a bot
        # polling an unchanged list costs a dict lookup instead of a query and 100 rows of JSON.
        # Any committed write moves the count (db/session.py), so a page is never served stale.
        self._pages: dict[tuple[Any, ...], tuple[int, bytes]] = {}

    async def get_order(self, *, order_id: int) -> OrderDetail:
        """One order with its fills.

        Raises:
            OrderNotFound.
        """

        def read(s: Any) -> tuple[Any, list[Any]]:
            o = order_repo.get(s, self._account, order_id)
            return o, list(trade_repo.of_order(s, order_id)) if o is not None else []

        order, fills = await self._db.run(read)
        if order is None:
            raise OrderNotFound(f"订单 {order_id} 不存在 / order {order_id} not found")
        return OrderDetail.model_validate(
            {**order_json(order), "fills": [trade_json(t) for t in fills]}
        )

    async def list_orders(
        self, *, status: str | None = None, stock_code: str | None = None,
        side: str | None = None, since: datetime | None = None, limit: int = 100,
        cursor: str | None = None,
    ) -> OrderPage:  # fmt: skip
        """Orders, newest first, keyset-paged (`next_cursor`)."""
        items, nxt = await self.list_orders_json(
            status=status, stock_code=stock_code, side=side, since=since, limit=limit,
            cursor=cursor,
        )  # fmt: skip
        return OrderPage.model_validate({"items": items, "next_cursor": nxt})

    async def list_orders_json(
        self, *, status: str | None = None, stock_code: str | None = None,
        side: str | None = None, since: datetime | None = None, limit: int = 100,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
        """`list_orders` as OrderRead dicts (for `order_rows.page_json`) and the next cursor,
        straight from Core rows."""
        code = self._code_filter(stock_code)
        limit = max(1, min(limit, MAX_PAGE))
        before = _cursor(cursor)
        rows = await self._db.run_core(lambda c: order_repo.list_page_rows(
            c, self._account, status=status, stock_code=code, side=side, since=since,
            before_id=before, limit=limit + 1))  # fmt: skip
        nxt = str(rows[limit - 1].id) if len(rows) > limit else None
        return [order_row_json(r) for r in rows[:limit]], nxt

    async def list_orders_page(
        self, *, status: str | None = None, stock_code: str | None = None,
        side: str | None = None, since: datetime | None = None, limit: int = 100,
        cursor: str | None = None,
    ) -> bytes:  # fmt: skip
        """`GET /trading/orders`' body (OrderPage's JSON): `list_orders_json` as bytes, kept
        until the next write to the database."""
        key = (status, stock_code, side, since, limit, cursor)
        seen = self._db.writes  # before the read: a write landing meanwhile drops the page
        hit = self._pages.get(key)
        if hit is not None and hit[0] == seen:
            return hit[1]
        items, nxt = await self.list_orders_json(
            status=status, stock_code=stock_code, side=side, since=since, limit=limit,
            cursor=cursor,
        )  # fmt: skip
        body = page_json(items, nxt)
        if len(self._pages) >= _PAGES_KEPT:
            self._pages.clear()
        self._pages[key] = (seen, body)
        return body

    async def list_trades(
        self, *, order_id: int | None = None, stock_code: str | None = None,
        since: datetime | None = None, limit: int = 100, cursor: str | None = None,
    ) -> TradePage:  # fmt: skip
        """Fills, newest first, keyset-paged."""
        code = self._code_filter(stock_code)
        limit = max(1, min(limit, MAX_PAGE))
        before = _cursor(cursor)
        rows = await self._db.run(lambda s: trade_repo.list_page(
            s, self._account, order_id=order_id, stock_code=code, since=since,
            before_id=before, limit=limit + 1))  # fmt: skip
        nxt = str(rows[limit - 1].id) if len(rows) > limit else None
        return TradePage.model_validate(
            {"items": [trade_json(t) for t in rows[:limit]], "next_cursor": nxt}
        )

    def _code_filter(self, stock_code: str | None) -> str | None:
        return normalize(stock_code) if stock_code else None

    async def get_positions(self) -> PositionPage:
        """Holdings from the broker, with profit/loss at the last price.

        Raises:
            BrokerUnavailable.
        """
        positions = await self._qmt.get_all_positions()
        return PositionPage(
            items=[position_read(p, await self.stock_name(p)) for p in positions if is_held(p)]
        )

    def known_name(self, p: PositionSnapshot) -> str | None:
        """The position's stock name without asking the broker, or None when not known yet."""
        if p.stock_name:
            return p.stock_name
        detail = self._validator.cached_instrument(p.stock_code)
        return None if detail is None else str(detail.get("InstrumentName") or "")

    async def stock_name(self, p: PositionSnapshot) -> str:
        name = self.known_name(p)
        if name is not None:
            return name
        try:
            return str((await self._validator.instrument(p.stock_code))
                       .get("InstrumentName") or "")  # fmt: skip
        except DomainError:
            return ""

    async def get_account_info(self) -> AccountInfo:
        """Cash, market value and P/L of the account.

        Raises:
            BrokerUnavailable.
        """
        asset = await self._qmt.get_account_info()
        positions = await self._qmt.get_all_positions()
        return AccountInfo.model_validate(account_info_json(self._account, asset, positions))

    def get_status(self) -> TradingStatus:
        """Mode, connection, kill switch, account and market session, and whether that session
        follows the exchange's clock (the simulator may run around the clock)."""
        s = self._settings
        enforced = not s.is_simulated or s.sim_enforce_trading_hours
        return TradingStatus(
            mode=s.qmt_mode, connected=self._qmt.is_connected(),
            trading_enabled=self._risk.trading_enabled, account_id=self._account,
            account_type=self._settings.miniqmt_account_type,
            session=MarketSession(self._validator.session().value),
            server_time=self._qmt.now(), detail=self._qmt.last_error,
            sessions_enforced=enforced,
            sessions_note=SESSIONS_ENFORCED if enforced else SESSIONS_IGNORED,
            calendar_note=calendar_note(self._qmt.now().date()),
        )  # fmt: skip

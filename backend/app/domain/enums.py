"""Wire values: each StrEnum value is the exact string of the API contract."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_ROLE_RANK = {Role.VIEWER: 0, Role.TRADER: 1, Role.ADMIN: 2}


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    LIMIT = "limit"
    MARKET = "market"


class OrderStatus(StrEnum):
    PENDING = "pending"  # accepted here, not yet confirmed by the broker
    REPORTED = "reported"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    PENDING_CANCEL = "pending_cancel"
    CANCELLED = "cancelled"
    PARTIALLY_CANCELLED = "partially_cancelled"
    REJECTED = "rejected"


class MarketSession(StrEnum):
    CLOSED = "closed"
    PRE_OPEN = "pre_open"
    CALL_AUCTION = "call_auction"
    CONTINUOUS = "continuous"
    LUNCH_BREAK = "lunch_break"
    CLOSING_AUCTION = "closing_auction"

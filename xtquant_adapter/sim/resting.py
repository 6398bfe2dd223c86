"""Price-indexed working orders, so a market step costs what crosses, not what rests.

Per code, limit buys and sells are kept sorted by (price, order id). At each snapshot only the
buys priced at or above the best ask and the sells at or below the best bid can trade (a
resting order that does not cross the touch cannot fill), so `crossing` reads just those from
the ends of the lists. Parked orders (outside an SZ/BSE price cage, ASHARE_RULES §3.4) sit in
their own lists and `joining` returns those the cage has moved over. Market orders still
waiting for their first snapshot are a plain set.

Entries are removed when the order stops working; the exchange calls `discard` for that.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Final

from xtquant_adapter.sim.books import Order

_BEFORE_ALL: Final = -1  # order ids are >= 1: (price, -1) sorts first at its price
_AFTER_ALL: Final = 2**63  # ... and (price, 2**63) last
Entry = tuple[Decimal, int]


class _Sides:
    __slots__ = ("buys", "sells")

    def __init__(self) -> None:
        self.buys: dict[str, list[Entry]] = {}
        self.sells: dict[str, list[Entry]] = {}

    def lists(self, o: Order) -> dict[str, list[Entry]]:
        return self.buys if o.side == "buy" else self.sells

    def add(self, o: Order) -> None:
        insort(self.lists(o).setdefault(o.code, []), (o.price, o.order_id))

    def discard(self, o: Order) -> bool:
        lst = self.lists(o).get(o.code)
        if not lst:
            return False
        key = (o.price, o.order_id)
        i = bisect_left(lst, key)
        if i < len(lst) and lst[i] == key:
            del lst[i]
            return True
        return False

    def clear(self) -> None:
        self.buys.clear()
        self.sells.clear()


class RestingOrders:
    """The exchange's view of working orders by price; see the module docstring."""

    def __init__(self) -> None:
        self.book = _Sides()  # limit orders in the book
        self.parked = _Sides()  # out-of-cage orders the exchange keeps aside
        self.market: set[int] = set()  # market orders not yet priced

    def add(self, o: Order) -> None:
        if o.parked:
            self.parked.add(o)
        elif o.price > 0:
            self.book.add(o)
        else:
            self.market.add(o.order_id)

    def discard(self, o: Order) -> None:
        self.market.discard(o.order_id)
        if not self.book.discard(o):
            self.parked.discard(o)

    def clear(self) -> None:
        self.book.clear()
        self.parked.clear()
        self.market.clear()

    def rebuild(self, working: Iterable[Order]) -> None:
        self.clear()
        for o in working:
            self.add(o)

    def crossing(self, touch: Callable[[str], tuple[Decimal | None, Decimal | None]]) -> list[int]:
        """Ids of book orders that cross the touch; `touch(code)` is (best ask, best bid)."""
        out: list[int] = []
        for code, lst in self.book.buys.items():
            ask = touch(code)[0] if lst else None
            if ask is not None:
                out += [oid for _, oid in lst[bisect_left(lst, (ask, _BEFORE_ALL)) :]]
        for code, lst in self.book.sells.items():
            bid = touch(code)[1] if lst else None
            if bid is not None:
                out += [oid for _, oid in lst[: bisect_right(lst, (bid, _AFTER_ALL))]]
        return out

    def joining(self, code: str, low: Decimal, high: Decimal) -> list[int]:
        """Ids of parked orders of `code` now inside the cage [low (sells), high (buys)]."""
        out: list[int] = []
        buys = self.parked.buys.get(code)
        if buys:
            out += [oid for _, oid in buys[: bisect_right(buys, (high, _AFTER_ALL))]]
        sells = self.parked.sells.get(code)
        if sells:
            out += [oid for _, oid in sells[bisect_left(sells, (low, _BEFORE_ALL)) :]]
        return out

    def parked_codes(self) -> list[str]:
        return [c for c, lst in (*self.parked.buys.items(), *self.parked.sells.items()) if lst]

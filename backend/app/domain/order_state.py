"""The order state machine as data (STYLE §3.5): one table, one pure function."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from backend.app.domain.enums import OrderStatus

S = OrderStatus

FINAL: Final = frozenset({S.FILLED, S.CANCELLED, S.PARTIALLY_CANCELLED, S.REJECTED})
OPEN: Final = frozenset(set(S) - FINAL)

TRANSITIONS: Final[Mapping[OrderStatus, frozenset[OrderStatus]]] = {
    # Pushes can skip REPORTED: a marketable order may be reported and filled in one burst,
    # and a crash between submit and the first push is reconciled straight to the truth.
    S.PENDING: frozenset(
        {
            S.REPORTED,
            S.REJECTED,
            S.PENDING_CANCEL,
            S.CANCELLED,
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.PARTIALLY_CANCELLED,
        }
    ),
    # 废单 can follow 已报 (the exchange rejects after the counter accepted).
    S.REPORTED: frozenset(
        {
            S.PARTIALLY_FILLED,
            S.FILLED,
            S.PENDING_CANCEL,
            S.CANCELLED,
            S.REJECTED,
            S.PARTIALLY_CANCELLED,
        }
    ),
    S.PARTIALLY_FILLED: frozenset(
        {S.PARTIALLY_FILLED, S.FILLED, S.PENDING_CANCEL, S.PARTIALLY_CANCELLED}
    ),
    S.PENDING_CANCEL: frozenset(
        {
            S.PENDING_CANCEL,
            S.CANCELLED,
            S.PARTIALLY_CANCELLED,
            S.REPORTED,  # cancel refused (e.g. 9:20-9:25): the order works on
            S.PARTIALLY_FILLED,  # cancel refused after a partial fill, or a fill raced it
            S.FILLED,  # the fill won the race
        }
    ),
    **{s: frozenset() for s in FINAL},
}


class IllegalTransition(Exception):
    """A broker push that the table does not allow; logged and audited, never fatal."""

    def __init__(self, current: OrderStatus, new: OrderStatus) -> None:
        super().__init__(f"illegal order transition {current} -> {new}")
        self.current, self.new = current, new


def advance(current: OrderStatus, new: OrderStatus) -> OrderStatus:
    """Return `new` if the move is allowed; a repeated status is a no-op."""
    if new == current:
        return current
    if new not in TRANSITIONS[current]:
        raise IllegalTransition(current, new)
    return new


def implied_by_fills(status: OrderStatus, filled: int, quantity: int) -> OrderStatus:
    """The status an order's fills imply, for when the broker's status push lags its fills
    (xtquant pushes the trade before the order): everything filled is FILLED, some filled is
    at least PARTIALLY_FILLED. A final status, PENDING_CANCEL with a part filled, and no fills
    at all keep `status`. Every move it returns is one `TRANSITIONS` allows."""
    if filled <= 0 or status in FINAL:
        return status
    if filled >= quantity:
        return S.FILLED
    if status in (S.PENDING, S.REPORTED):
        return S.PARTIALLY_FILLED
    return status


def is_final(status: OrderStatus) -> bool:
    return status in FINAL

"""The stream's cursor: exactly once and in order across reconnects.

Each connection starts with a greeting (`type` connection, `data.detail` "subscribed") whose
`seq` is where that connection's events start after; it is not an event of the log and is not
yielded. Events at or below the last one yielded are dropped (the server never sends them,
but a cursor that holds this line cannot yield twice whatever happens on the wire).
"""

from __future__ import annotations

from typing import Any

from qmt_api_client.errors import QmtApiError
from qmt_api_client.models import Event

CLOSE_UNAUTHORIZED = 4401
CLOSE_EXPIRED = 4410


class StreamCursor:
    def __init__(self, since: int | None) -> None:
        self.last = since
        self.needs_login = False
        self._greeted = False
        self._unauthorized = 0

    def accept(self, message: Any) -> Event | None:
        """The event to yield for one message, or None (greeting, repeat)."""
        ev = Event.model_validate(message)
        if not self._greeted:
            self._greeted = True
            self._unauthorized = 0
            if self.last is None:
                self.last = ev.seq  # "from now on": resume after this point from now on
            return None
        if self.last is not None and ev.seq <= self.last:
            return None
        self.last = ev.seq
        return ev

    def closed(self, code: int | None, reason: str | None) -> None:
        """A connection ended with `code`; raise if it must not be retried."""
        if code == CLOSE_EXPIRED:
            raise QmtApiError("EVENTS_EXPIRED", 410, reason or "since is older than the log")
        if code == CLOSE_UNAUTHORIZED:
            self._unauthorized += 1
            if self._unauthorized > 1:
                raise QmtApiError("UNAUTHORIZED", 401, "the stream refused a fresh token")
            self.needs_login = True

    def reset_connection(self) -> None:
        self._greeted = False

"""A run's log: what a strategy printed and what the runner said about it (bounded)."""

from __future__ import annotations

from collections.abc import Callable


class RunLog:
    """A run's log lines (bounded); the newest `limit` are kept."""

    def __init__(self, limit: int = 500) -> None:
        self.limit = limit
        self.lines: list[str] = []
        self.total = 0  # lines ever written (the oldest are dropped past `limit`)
        self.clock: Callable[[], str] = lambda: ""

    def write(self, text: str) -> None:
        stamp = self.clock()
        for line in str(text).splitlines() or [""]:
            self.lines.append(f"[{stamp}] {line}" if stamp else line)
            self.total += 1
        if len(self.lines) > self.limit:
            del self.lines[: len(self.lines) - self.limit]

"""The stream's ordering rule: live events leave in seq order, once each; a live event that
jumps past the last one sent (another writer published later, or the subscriber's queue
overflowed) is preceded by the missing ones read from the log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from backend.app.api.v1.stream import _Sender
from backend.app.db.tables import EventRecord
from backend.app.domain.enums import Role


class _Ws:
    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send_json(self, message: dict[str, Any]) -> None:
        self.sent.append(int(message["seq"]))


class _Log:
    """The committed log: seqs of this account (gaps are other accounts' events)."""

    def __init__(self, seqs: list[int]) -> None:
        self.seqs = seqs

    def _rows(self, after: int, upto: int) -> list[EventRecord]:
        now = datetime.now(UTC)
        return [EventRecord(seq=s, type="order", data={}, created_at=now)
                for s in self.seqs if after < s <= upto]  # fmt: skip

    async def between(self, after: int, upto: int) -> list[EventRecord]:
        return self._rows(after, upto)

    async def read(self, since: int, limit: int) -> tuple[list[EventRecord], int]:
        rows = self._rows(since, 10**9)[:limit]
        return rows, rows[-1].seq if rows else since


def _run(log: list[int], start: int, live: list[int]) -> list[int]:
    async def go() -> list[int]:
        ws = _Ws()
        sender = _Sender(ws, _Log(log), start, Role.TRADER)  # type: ignore[arg-type]
        await sender.replay()
        for seq in live:
            await sender.live({"seq": seq, "type": "order", "data": {}})
        return ws.sent

    return asyncio.run(go())


def test_replay_then_live_drops_what_was_replayed() -> None:
    assert _run([1, 2, 3, 4], start=1, live=[3, 4, 5]) == [2, 3, 4, 5]


def test_a_late_published_lower_seq_is_sent_first_from_the_log_and_not_again() -> None:
    assert _run([5, 6, 7], start=4, live=[5, 7, 6]) == [5, 6, 7]


def test_events_lost_to_a_full_queue_come_from_the_log() -> None:
    assert _run(list(range(1, 11)), start=0, live=[1, 2, 9, 10]) == list(range(1, 11))


def test_gaps_of_other_accounts_are_simply_skipped() -> None:
    assert _run([2, 5, 9], start=0, live=[2, 5, 9]) == [2, 5, 9]

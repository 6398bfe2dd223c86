"""AuditLog: secrets never stored, account ids masked, keyset pages, filters."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from backend.app.core.errors import ValidationFailed
from backend.app.db.session import Database
from backend.app.db.tables import Base
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role
from backend.app.services.accounts.audit import AuditLog, mask_account, sanitize

ALICE = Actor(username="alice", role=Role.TRADER, client_ip="192.0.2.7", request_id="req-a")


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("SIM000001", "*****0001"), ("12345", "*2345"), ("1234", "****"), ("", "")],
)
def test_mask_account_keeps_last_four(raw: str, masked: str) -> None:
    assert mask_account(raw) == masked


def test_sanitize_drops_secrets_masks_accounts_and_makes_json() -> None:
    out = sanitize(
        {
            "password": "hunter2",
            "access_token": "eyJ...",
            "Authorization": "Bearer x",
            "account_id": "8800012345",
            "nested": {"new_password": "p", "price": Decimal("1.50")},
            "codes": ("600519.SH",),
        }
    )
    assert out == {
        "account_id": "******2345",
        "nested": {"price": "1.50"},
        "codes": ["600519.SH"],
    }


@pytest.fixture
def audit(tmp_path: Path) -> AuditLog:
    db = Database(f"sqlite:///{tmp_path / 'audit.db'}")
    Base.metadata.create_all(db.engine)
    return AuditLog(db)


def test_pages_are_newest_first_and_filters_apply(audit: AuditLog) -> None:
    async def scenario() -> None:
        bob = Actor(username="bob", role=Role.ADMIN)
        for i in range(5):
            await audit.record(actor=ALICE, action="order.place", target=str(i), outcome="ok")
        await audit.record(actor=bob, action="order.cancel", target="3", outcome="ok")
        await audit.record(actor=bob, action="user.create", target="carol", outcome="ok")

        page1 = await audit.list(limit=3)
        page2 = await audit.list(limit=3, cursor=page1.next_cursor)
        page3 = await audit.list(limit=3, cursor=page2.next_cursor)
        ids = [e.id for p in (page1, page2, page3) for e in p.items]
        assert ids == sorted(ids, reverse=True)
        assert len(ids) == 7
        assert page3.next_cursor is None

        orders = await audit.list(action="order")
        assert {e.action for e in orders.items} == {"order.place", "order.cancel"}
        assert len((await audit.list(action="order.cancel")).items) == 1
        assert len((await audit.list(username="bob")).items) == 2
        first = (await audit.list(username="alice", limit=500)).items[-1]
        assert (first.client_ip, first.request_id, first.target) == ("192.0.2.7", "req-a", "0")
        future = datetime.now(UTC) + timedelta(hours=1)
        assert (await audit.list(since=future)).items == []
        assert (
            len((await audit.list(since=future.replace(tzinfo=None) - timedelta(days=1))).items)
            == 7
        )

    asyncio.run(scenario())


@pytest.mark.parametrize("cursor", ["!!", "abc", "YTp4"])
def test_bad_cursor_is_a_validation_error(audit: AuditLog, cursor: str) -> None:
    with pytest.raises(ValidationFailed):
        asyncio.run(audit.list(cursor=cursor))

"""RiskEngine.check: every rule trips just over its limit and passes at it; sides differ.
RiskEngine.refresh and RiskStateSync: several processes on one database agree."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from backend.app.core.errors import RiskRejected, TradingDisabled
from backend.app.db.session import Database
from backend.app.db.tables import Base
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Role, Side
from backend.app.models.risk import RiskRules, RiskRulesUpdate
from backend.app.services.accounts.audit import AuditLog
from backend.app.services.risk.engine import RiskContext, RiskEngine
from backend.app.services.risk.sync import RiskStateSync

D = Decimal
T = TypeVar("T")
ADMIN = Actor(username="root", role=Role.ADMIN, client_ip="10.0.0.1", request_id="r-1")

# 100 shares at 10.00 = 1000.00; last price 10.00; nothing held; nothing done today.
BASE = RiskContext(
    stock_code="600000.SH",
    side=Side.BUY,
    quantity=100,
    price=D("10.00"),
    last_price=D("10.00"),
    position_value=D("0"),
    orders_today=0,
    turnover_today=D("0"),
    client_order_id="c-1",
    recent_same_orders=0,
)


def engine(**rules: Any) -> RiskEngine:
    eng = RiskEngine(db=None, audit=None)  # type: ignore[arg-type]  # check() does no I/O
    eng._rules = RiskRules(**rules)
    return eng


# (rule, rules, context changes that trip it, context changes just under/at the limit)
CASES: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("max_order_value", {"max_order_value": 1000}, {"quantity": 200}, {}),
    ("max_order_value", {"max_order_value": D("999.99")}, {}, {"price": D("9.99")}),
    ("max_order_quantity", {"max_order_quantity": 100}, {"quantity": 200}, {}),
    (
        "max_position_value_per_stock",
        {"max_position_value_per_stock": 5000},
        {"position_value": D("4000.01")},
        {"position_value": D("4000")},
    ),
    ("max_daily_orders", {"max_daily_orders": 3}, {"orders_today": 3}, {"orders_today": 2}),
    (
        "max_daily_turnover",
        {"max_daily_turnover": 10_000},
        {"turnover_today": D("9000.01")},
        {"turnover_today": D("9000")},
    ),
    (
        "max_price_deviation_pct",
        {"max_price_deviation_pct": 5},
        {"price": D("10.51")},
        {"price": D("10.50")},
    ),
    (
        "max_price_deviation_pct",
        {"max_price_deviation_pct": 5},
        {"price": D("9.49")},
        {"price": D("9.50")},
    ),
    ("blocked_codes", {"blocked_codes": ["600000"]}, {}, {"stock_code": "600001.SH"}),
    (
        "allowed_codes",
        {"allowed_codes": ["sh600001", "000001"]},
        {},
        {"stock_code": "000001.SZ"},
    ),
    (
        "max_duplicate_orders",
        {"duplicate_window_seconds": 5, "max_duplicate_orders": 2},
        {"recent_same_orders": 2},
        {"recent_same_orders": 1},
    ),
]


@pytest.mark.parametrize(("rule", "rules", "trip", "ok"), CASES)
def test_rule_trips_over_and_passes_at_limit(
    rule: str, rules: dict[str, Any], trip: dict[str, Any], ok: dict[str, Any]
) -> None:
    eng = engine(**rules)
    with pytest.raises(RiskRejected) as info:
        eng.check(replace(BASE, **trip))
    assert info.value.rule == rule
    assert info.value.extra["rule"] == rule
    assert rule in info.value.detail
    assert "风控" in info.value.detail  # Chinese and English in one detail
    eng.check(replace(BASE, **ok))


@pytest.mark.parametrize(("rule", "rules", "trip", "ok"), CASES)
def test_rule_zero_or_null_is_off(
    rule: str, rules: dict[str, Any], trip: dict[str, Any], ok: dict[str, Any]
) -> None:
    off: dict[str, Any] = {k: (0 if isinstance(v, int | D) else None) for k, v in rules.items()}
    off = {k: ([] if k.endswith("_codes") else v) for k, v in off.items()}
    engine(**off).check(replace(BASE, **trip))


BUY_ONLY = [
    c
    for c in CASES
    if c[0] in {"max_order_value", "max_position_value_per_stock", "max_daily_turnover"}
]
BOTH_SIDES = [c for c in CASES if c not in BUY_ONLY]


@pytest.mark.parametrize(("rule", "rules", "trip", "ok"), BUY_ONLY)
def test_value_caps_never_block_a_sell(
    rule: str, rules: dict[str, Any], trip: dict[str, Any], ok: dict[str, Any]
) -> None:
    engine(**rules).check(replace(BASE, side=Side.SELL, **trip))


@pytest.mark.parametrize(("rule", "rules", "trip", "ok"), BOTH_SIDES)
def test_size_count_price_and_code_rules_block_a_sell(
    rule: str, rules: dict[str, Any], trip: dict[str, Any], ok: dict[str, Any]
) -> None:
    with pytest.raises(RiskRejected) as info:
        engine(**rules).check(replace(BASE, side=Side.SELL, **trip))
    assert info.value.rule == rule


def test_price_deviation_skips_market_orders_and_unknown_last_price() -> None:
    eng = engine(max_price_deviation_pct=1)
    eng.check(replace(BASE, price=D("11"), order_type="market"))
    eng.check(replace(BASE, price=D("11"), last_price=None))


def test_duplicate_guard_needs_both_window_and_count() -> None:
    engine(duplicate_window_seconds=5).check(replace(BASE, recent_same_orders=9))
    engine(max_duplicate_orders=1).check(replace(BASE, recent_same_orders=9))


def test_kill_switch_off_raises_trading_disabled_before_any_rule() -> None:
    eng = engine(blocked_codes=["600000.SH"])
    eng._kill = eng._kill.model_copy(update={"trading_enabled": False, "reason": "drill"})
    with pytest.raises(TradingDisabled, match="drill"):
        eng.check(BASE)


def test_rules_reject_bad_codes_and_negative_limits() -> None:
    with pytest.raises(ValueError, match="blocked_codes"):
        RiskRules(blocked_codes=["XYZ"])
    with pytest.raises(ValueError, match="max_order_value"):
        RiskRules(max_order_value=-1)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'risk.db'}")
    Base.metadata.create_all(database.engine)
    return database


def test_rules_and_kill_switch_persist_and_are_audited(db: Database) -> None:
    async def scenario() -> None:
        audit = AuditLog(db)
        eng = RiskEngine(db, audit)
        await eng.update_rules(rules=RiskRulesUpdate(max_order_quantity=500), actor=ADMIN)
        await eng.update_rules(rules=RiskRulesUpdate(blocked_codes=["600519"]), actor=ADMIN)
        await eng.set_trading_enabled(enabled=False, reason="halt", actor=ADMIN)

        again = RiskEngine(db, audit)
        await again.load()
        assert again.rules.max_order_quantity == 500  # a partial update keeps the others
        assert again.rules.blocked_codes == ["600519.SH"]
        assert not again.trading_enabled
        assert again.kill_reason == "halt"

        page = await audit.list(limit=10)
        actions = [e.action for e in page.items]
        assert actions == ["kill_switch.update", "risk.update", "risk.update"]
        first = page.items[-1]
        assert (first.username, first.client_ip, first.request_id) == ("root", "10.0.0.1", "r-1")
        assert first.detail["changed"]["max_order_quantity"] == {"old": None, "new": 500}

    asyncio.run(scenario())


# --- several processes on one database (services/risk_sync.py) -------------------------


async def until(pred: Callable[[], object]) -> None:
    """Await until pred() is truthy, for at most 5 s (the asyncio twin of `eventually`)."""
    async with asyncio.timeout(5.0):
        while True:
            if pred():
                return
            await asyncio.sleep(0.01)


class FlakyDatabase(Database):
    """A real Database that fails every unit of work while `broken` is set."""

    broken = False

    async def run(self, fn: Callable[[Session], T]) -> T:
        if self.broken:
            raise OperationalError("SELECT", {}, Exception("database is down"))
        return await super().run(fn)


def test_refresh_takes_over_only_what_another_process_wrote(db: Database) -> None:
    async def scenario() -> None:
        a, b = RiskEngine(db, AuditLog(db)), RiskEngine(db, AuditLog(db))
        await b.load()
        assert await b.refresh() == []
        await a.set_trading_enabled(enabled=False, reason="halt", actor=ADMIN)
        assert await a.refresh() == []  # its own write: nothing to take over
        assert await b.refresh() == ["kill_switch"]
        with pytest.raises(TradingDisabled, match="halt"):
            b.check(BASE)
        await a.update_rules(rules=RiskRulesUpdate(max_order_quantity=50), actor=ADMIN)
        assert await b.refresh() == ["risk_rules"]
        assert b.rules.max_order_quantity == 50
        assert b.versions == a.versions == {"risk_rules": 1, "kill_switch": 1}

    asyncio.run(scenario())


def test_concurrent_writers_in_two_processes_never_reuse_a_version(tmp_path: Path) -> None:
    """Two Database objects (two processes' pools) on one file: every write gets its own
    version, and the last one is what both processes end up holding."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    db_a, db_b = Database(url), Database(url)
    Base.metadata.create_all(db_a.engine)

    async def scenario() -> None:
        a, b = RiskEngine(db_a, AuditLog(db_a)), RiskEngine(db_b, AuditLog(db_b))
        results = await asyncio.gather(
            *(
                eng.update_rules(rules=RiskRulesUpdate(max_daily_orders=i + 1), actor=ADMIN)
                for i in range(10)
                for eng in (a, b)
            )
        )
        assert len(results) == 20
        await a.refresh()
        await b.refresh()
        assert a.versions["risk_rules"] == b.versions["risk_rules"] == 20
        assert a.rules == b.rules

    try:
        asyncio.run(scenario())
    finally:
        db_a.dispose()
        db_b.dispose()


def test_sync_logs_database_errors_and_keeps_refreshing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'flaky.db'}"
    flaky, plain = FlakyDatabase(url), Database(url)
    Base.metadata.create_all(plain.engine)

    async def scenario() -> None:
        b = RiskEngine(flaky, AuditLog(flaky))
        await b.load()
        sync = RiskStateSync(b, interval=0.02)
        await sync.start()
        try:
            flaky.broken = True
            await until(lambda: sync.refresh_errors >= 3)
            other = RiskEngine(plain, AuditLog(plain))
            await other.set_trading_enabled(enabled=False, reason="x", actor=ADMIN)
            assert b.trading_enabled  # still the last state read
            flaky.broken = False
            await until(lambda: not b.trading_enabled)
        finally:
            await sync.stop()

    try:
        asyncio.run(scenario())
    finally:
        flaky.dispose()
        plain.dispose()


def test_polling_carries_on_when_redis_is_down(tmp_path: Path) -> None:
    """REDIS_URL pointing at nothing: changes still persist and still arrive by polling."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    url = f"sqlite:///{tmp_path / 'noredis.db'}"
    db_a, db_b = Database(url), Database(url)
    Base.metadata.create_all(db_a.engine)

    async def scenario() -> None:
        a, b = RiskEngine(db_a, AuditLog(db_a)), RiskEngine(db_b, AuditLog(db_b))
        syncs = [RiskStateSync(e, interval=0.05, redis_url=dead) for e in (a, b)]
        for sync in syncs:
            await sync.start()
        try:
            await a.set_trading_enabled(enabled=False, reason="no redis", actor=ADMIN)
            await until(lambda: not b.trading_enabled)
            assert not any(sync.listening for sync in syncs)
        finally:
            for sync in syncs:
                await sync.stop()

    try:
        asyncio.run(scenario())
    finally:
        db_a.dispose()
        db_b.dispose()

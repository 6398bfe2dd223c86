"""Pre-trade risk rules and the kill switch.

`RiskEngine.check` is pure and fast (no I/O): TradingService calls it under its per-account
lock together with the journal insert, so concurrent orders cannot slip past a cap
together. The counts it needs (orders and turnover today, the position's value, identical
recent orders) are computed by TradingService from the journal and handed in a
`RiskContext`.

Which side each rule checks is documented on `RiskRules` (models/risk.py) and in
docs/risk.md: the value caps only make sense for buys, so a sell can always close a
position; quantity, count, price, code and duplicate rules apply to both sides.

Several server processes may share one database (DESIGN.md). The rules and the kill switch
are settings rows with a write counter (`version`); `refresh()` reads both rows in one
SELECT and takes over whatever another process wrote. services/risk_sync.py runs it in the
background (every RISK_STATE_REFRESH_SECONDS, and at once on a Redis notification), so
`check()` itself never touches the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from loguru import logger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.app.core.errors import RiskRejected, TradingDisabled
from backend.app.db.repositories.settings import (
    VERSION_FIELD,
    lock_setting,
    put_setting,
    read_settings,
    setting_version,
)
from backend.app.db.session import Database
from backend.app.db.tables import Setting
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Side
from backend.app.models.risk import KillSwitchRead, RiskRules, RiskRulesUpdate
from backend.app.services.accounts.audit import AuditLog

__all__ = ["RiskContext", "RiskEngine", "RiskRules", "RiskRulesUpdate"]

RULES_KEY = "risk_rules"
KILL_SWITCH_KEY = "kill_switch"
STATE_KEYS = (RULES_KEY, KILL_SWITCH_KEY)

_T = TypeVar("_T")
# (key, version) of a change this process just persisted; see add_change_listener.
ChangeListener = Callable[[str, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RiskContext:
    """One order as the risk rules see it, with the account's state at that moment.

    `price` is the value price (the limit price, or for a market order the price the
    order is valued at); `position_value` is what is already held in `stock_code`;
    `orders_today` and `turnover_today` count today's orders that were not refused before
    reaching the broker (both sides); `recent_same_orders` counts orders with the same
    code, side, quantity and price within `rules.duplicate_window_seconds`.
    """

    stock_code: str
    side: Side
    quantity: int
    price: Decimal
    last_price: Decimal | None
    position_value: Decimal
    orders_today: int
    turnover_today: Decimal
    client_order_id: str
    recent_same_orders: int
    order_type: str = "limit"

    @property
    def value(self) -> Decimal:
        return self.price * self.quantity


def _on(limit: Decimal | int | float | None) -> bool:
    return limit is not None and limit > 0


def _fmt(v: Decimal | int | float) -> str:
    if isinstance(v, Decimal):
        return f"{v.quantize(Decimal('0.01')):f}"
    return str(v)


def _reject(rule: str, zh: str, en: str, **extra: object) -> RiskRejected:
    return RiskRejected(f"风控拒绝 [{rule}]：{zh} / risk rule {rule}: {en}", rule=rule, **extra)


def _check_codes(r: RiskRules, ctx: RiskContext) -> None:
    if ctx.stock_code in r.blocked_codes:
        raise _reject(
            "blocked_codes",
            f"{ctx.stock_code} 在禁止交易列表中",
            f"{ctx.stock_code} is on the blocked list",
        )
    if r.allowed_codes and ctx.stock_code not in r.allowed_codes:
        raise _reject(
            "allowed_codes",
            f"{ctx.stock_code} 不在允许交易列表中",
            f"{ctx.stock_code} is not on the allowed list",
        )


def _check_size(r: RiskRules, ctx: RiskContext, buy: bool) -> None:
    if _on(r.max_order_quantity) and ctx.quantity > (q := r.max_order_quantity or 0):
        raise _reject(
            "max_order_quantity",
            f"委托数量 {ctx.quantity} 超过上限 {q}",
            f"quantity {ctx.quantity} exceeds {q}",
        )
    if buy and _on(r.max_order_value) and ctx.value > (v := r.max_order_value or Decimal(0)):
        raise _reject(
            "max_order_value",
            f"委托金额 {_fmt(ctx.value)} 超过上限 {_fmt(v)}",
            f"order value {_fmt(ctx.value)} exceeds {_fmt(v)}",
        )


def _check_price(r: RiskRules, ctx: RiskContext) -> None:
    pct = r.max_price_deviation_pct
    last = ctx.last_price
    # A market order's value price is an estimate, not a price the client chose.
    if not _on(pct) or last is None or last <= 0 or ctx.order_type != "limit":
        return
    dev = abs(ctx.price - last) / last * 100
    if dev > (pct or Decimal(0)):
        raise _reject(
            "max_price_deviation_pct",
            f"委托价 {_fmt(ctx.price)} 偏离最新价 {_fmt(last)} 达 {_fmt(dev)}%，上限 {pct}%",
            f"price {_fmt(ctx.price)} is {_fmt(dev)}% from the last price {_fmt(last)}, "
            f"limit {pct}%",
        )


def _check_account(r: RiskRules, ctx: RiskContext, buy: bool) -> None:
    cap = r.max_position_value_per_stock
    if buy and _on(cap) and ctx.position_value + ctx.value > (cap or Decimal(0)):
        raise _reject(
            "max_position_value_per_stock",
            f"买入后 {ctx.stock_code} 持仓市值 {_fmt(ctx.position_value + ctx.value)} "
            f"将超过上限 {_fmt(cap or Decimal(0))}",
            f"position in {ctx.stock_code} would be worth "
            f"{_fmt(ctx.position_value + ctx.value)}, above {_fmt(cap or Decimal(0))}",
        )
    if _on(r.max_daily_orders) and ctx.orders_today + 1 > (n := r.max_daily_orders or 0):
        raise _reject(
            "max_daily_orders",
            f"今日委托已达 {ctx.orders_today} 笔，上限 {n} 笔",
            f"{ctx.orders_today} orders today, the limit is {n}",
        )
    turnover = r.max_daily_turnover
    if buy and _on(turnover) and ctx.turnover_today + ctx.value > (turnover or Decimal(0)):
        raise _reject(
            "max_daily_turnover",
            f"今日委托金额将达 {_fmt(ctx.turnover_today + ctx.value)}，"
            f"超过上限 {_fmt(turnover or Decimal(0))}",
            f"today's turnover would reach {_fmt(ctx.turnover_today + ctx.value)}, "
            f"above {_fmt(turnover or Decimal(0))}",
        )


def _check_duplicates(r: RiskRules, ctx: RiskContext) -> None:
    window, most = r.duplicate_window_seconds, r.max_duplicate_orders
    if _on(window) and _on(most) and ctx.recent_same_orders >= (most or 0):
        raise _reject(
            "max_duplicate_orders",
            f"{window} 秒内已有 {ctx.recent_same_orders} 笔相同委托（疑似重复下单）",
            f"{ctx.recent_same_orders} identical orders within {window} s "
            "(looks like an accidental duplicate)",
        )


@dataclass(frozen=True, slots=True)
class _Row:
    """A settings row as plain data, read in a worker thread."""

    value: dict[str, Any]
    version: int
    updated_at: datetime
    updated_by: str

    @classmethod
    def of(cls, row: Setting) -> _Row:
        return cls(dict(row.value), setting_version(row.value), row.updated_at, row.updated_by)


def _read_state(s: Session) -> dict[str, _Row]:
    return {key: _Row.of(row) for key, row in read_settings(s, STATE_KEYS).items()}


def _locked_row(s: Session, key: str) -> _Row | None:
    """The row as stored now, write-locked until the transaction ends."""
    row = lock_setting(s, key)
    return None if row is None else _Row.of(row)


def _rules_of(row: _Row | None) -> RiskRules:
    if row is None:
        return RiskRules()
    return RiskRules.model_validate({k: v for k, v in row.value.items() if k != VERSION_FIELD})


def _kill_of(row: _Row | None) -> KillSwitchRead:
    if row is None:
        return KillSwitchRead(trading_enabled=True)
    return KillSwitchRead(
        trading_enabled=bool(row.value.get("trading_enabled", True)),
        reason=str(row.value.get("reason") or ""),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _merge(base: RiskRules, rules: RiskRules | RiskRulesUpdate) -> RiskRules:
    if not isinstance(rules, RiskRulesUpdate):
        return rules
    merged = base.model_dump() | rules.model_dump(exclude_unset=True)
    merged = {k: ([] if v is None and k.endswith("_codes") else v) for k, v in merged.items()}
    return RiskRules.model_validate(merged)


class RiskEngine:
    """Holds the rules and the kill switch in memory; persists and audits every change, and
    takes over changes other processes persisted (`refresh`)."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        self._rules = RiskRules()
        self._kill = KillSwitchRead(trading_enabled=True)
        # key -> version of the row the in-memory state came from (absent: defaults).
        self._versions: dict[str, int] = {}
        # Orders a refresh's read-and-apply against this process's own writes, so a read
        # taken just before a local write can never roll the state back.
        self._state_lock = asyncio.Lock()
        self._listeners: list[ChangeListener] = []
        self._loaded = False

    @property
    def rules(self) -> RiskRules:
        return self._rules

    @property
    def trading_enabled(self) -> bool:
        return self._kill.trading_enabled

    @property
    def kill_reason(self) -> str:
        return self._kill.reason

    @property
    def kill_switch(self) -> KillSwitchRead:
        return self._kill

    @property
    def versions(self) -> dict[str, int]:
        """The version of each setting this process holds (for logs, metrics and tests)."""
        return dict(self._versions)

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Call `await listener(key, version)` after this process persists a change (the
        Redis notifier); a listener's failure is logged, never raised to the caller."""
        self._listeners.append(listener)

    def check(self, ctx: RiskContext) -> None:
        """Pass or raise; pure, no I/O.

        Raises:
            TradingDisabled: the kill switch is off.
            RiskRejected: a rule fired; `rule` names its field in RiskRules.
        """
        if not self._kill.trading_enabled:
            reason = f"（{self._kill.reason}）" if self._kill.reason else ""
            raise TradingDisabled(
                f"交易开关已关闭{reason}，撤单仍可用 / trading is disabled by the kill switch"
                + (f" ({self._kill.reason})" if self._kill.reason else "")
                + "; cancels still work"
            )
        r = self._rules
        buy = ctx.side == Side.BUY
        _check_codes(r, ctx)
        _check_size(r, ctx, buy)
        _check_price(r, ctx)
        _check_account(r, ctx, buy)
        _check_duplicates(r, ctx)

    async def load(self) -> None:
        """Read the persisted rules and kill switch (at start-up)."""
        await self.refresh()

    async def refresh(self) -> list[str]:
        """Take over what another process persisted: one SELECT of the two settings rows;
        the state changes only where a row's version differs from the one held. Returns
        the keys that changed. Raises what the database raises (the caller logs it)."""
        async with self._state_lock:
            rows = await self._db.run(_read_state)
            held = self._versions
            changed = [
                k for k in STATE_KEYS if held.get(k) != getattr(rows.get(k), "version", None)
            ]
            # Validate both before applying either: a bad row leaves the state as it was.
            rules = _rules_of(rows.get(RULES_KEY)) if RULES_KEY in changed else self._rules
            kill = _kill_of(rows.get(KILL_SWITCH_KEY)) if KILL_SWITCH_KEY in changed else self._kill
            self._rules, self._kill = rules, kill
            for key in changed:
                row = rows.get(key)
                if row is None:
                    self._versions.pop(key, None)
                else:
                    self._versions[key] = row.version
                if self._loaded:
                    logger.warning(
                        "risk: took over {} v{} from another process (trading_enabled={})",
                        key, held.get(key, 0), kill.trading_enabled,
                    )  # fmt: skip
            self._loaded = True
            return changed

    async def _persist(self, write: Callable[[Session], _T]) -> _T:
        try:
            return await self._db.run(write)
        except IntegrityError:
            # Another process inserted this setting's first row at the same moment; the
            # retry finds the row, locks it and updates it.
            return await self._db.run(write)

    async def _notify(self, key: str, version: int) -> None:
        for listener in self._listeners:
            try:
                await listener(key, version)
            except Exception as exc:  # a notifier must never fail an admin's change
                logger.error("risk: change notification for {} failed: {}", key, exc)

    async def update_rules(self, *, rules: RiskRules | RiskRulesUpdate, actor: Actor) -> RiskRules:
        """Replace the rules (a RiskRules) or change some (a RiskRulesUpdate); audited.

        A partial update merges into the rules as stored now, not as this process last saw
        them, so it never undoes another process's change to other fields."""

        def write(s: Session) -> tuple[RiskRules, int]:
            old = _rules_of(_locked_row(s, RULES_KEY))
            new = _merge(old, rules)
            changed = {
                k: {"old": getattr(old, k), "new": getattr(new, k)}
                for k in RiskRules.model_fields
                if getattr(old, k) != getattr(new, k)
            }
            row = put_setting(s, RULES_KEY, new.model_dump(mode="json"), by=actor.username)
            self._audit.record_sync(
                s,
                actor=actor,
                action="risk.update",
                target=RULES_KEY,
                outcome="ok",
                detail={"changed": changed},
            )
            return new, setting_version(row.value)

        async with self._state_lock:
            new, version = await self._persist(write)
            self._rules, self._versions[RULES_KEY] = new, version
        await self._notify(RULES_KEY, version)
        return new

    async def set_trading_enabled(
        self, *, enabled: bool, reason: str | None, actor: Actor
    ) -> KillSwitchRead:
        """Turn trading on or off (the kill switch); persisted and audited."""
        value = {"trading_enabled": enabled, "reason": reason or ""}

        def write(s: Session) -> tuple[KillSwitchRead, int]:
            was = _kill_of(_locked_row(s, KILL_SWITCH_KEY)).trading_enabled
            row = put_setting(s, KILL_SWITCH_KEY, value, by=actor.username)
            self._audit.record_sync(
                s,
                actor=actor,
                action="kill_switch.update",
                target=KILL_SWITCH_KEY,
                outcome="ok",
                detail={"trading_enabled": enabled, "was": was, "reason": reason or ""},
            )
            return _kill_of(_Row.of(row)), setting_version(row.value)

        async with self._state_lock:
            kill, version = await self._persist(write)
            self._kill, self._versions[KILL_SWITCH_KEY] = kill, version
        await self._notify(KILL_SWITCH_KEY, version)
        return kill

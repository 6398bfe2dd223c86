"""Pre-trade risk rules and the kill switch.

`RiskEngine.check` is pure and fast (no I/O): TradingService calls it under its per-account
lock together with the journal insert, so concurrent orders cannot slip past a cap
together. The counts it needs (orders and turnover today, the position's value, identical
recent orders) are computed by TradingService from the journal and handed in a
`RiskContext`.

Which side each rule checks is documented on `RiskRules` (models/risk.py) and in
docs/risk.md: the value caps only make sense for buys, so a sell can always close a
position; quantity, count, price, code and duplicate rules apply to both sides.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from backend.app.core.errors import RiskRejected, TradingDisabled
from backend.app.db.repositories.settings import get_setting, put_setting
from backend.app.db.session import Database
from backend.app.domain.actor import Actor
from backend.app.domain.enums import Side
from backend.app.models.risk import KillSwitchRead, RiskRules, RiskRulesUpdate
from backend.app.services.audit import AuditLog

__all__ = ["RiskContext", "RiskEngine", "RiskRules", "RiskRulesUpdate"]

RULES_KEY = "risk_rules"
KILL_SWITCH_KEY = "kill_switch"


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


class RiskEngine:
    """Holds the rules and the kill switch in memory; persists and audits every change."""

    def __init__(self, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit
        self._rules = RiskRules()
        self._kill = KillSwitchRead(trading_enabled=True)

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
        """Read the persisted rules and kill switch (at start-up, or to pick up another
        process's change)."""

        def read(s: Session) -> tuple[dict[str, Any] | None, KillSwitchRead | None]:
            rules = get_setting(s, RULES_KEY)
            kill = get_setting(s, KILL_SWITCH_KEY)
            ks = None
            if kill is not None:
                ks = KillSwitchRead(
                    trading_enabled=bool(kill.value.get("trading_enabled", True)),
                    reason=str(kill.value.get("reason") or ""),
                    updated_at=kill.updated_at,
                    updated_by=kill.updated_by,
                )
            return (dict(rules.value) if rules is not None else None), ks

        rules, kill = await self._db.run(read)
        if rules is not None:
            self._rules = RiskRules.model_validate(rules)
        if kill is not None:
            self._kill = kill

    async def update_rules(self, *, rules: RiskRules | RiskRulesUpdate, actor: Actor) -> RiskRules:
        """Replace the rules (a RiskRules) or change some (a RiskRulesUpdate); audited."""
        if isinstance(rules, RiskRulesUpdate):
            merged = self._rules.model_dump() | rules.model_dump(exclude_unset=True)
            merged = {
                k: ([] if v is None and k.endswith("_codes") else v) for k, v in merged.items()
            }
            new = RiskRules.model_validate(merged)
        else:
            new = rules
        old = self._rules
        changed = {
            k: {"old": getattr(old, k), "new": getattr(new, k)}
            for k in RiskRules.model_fields
            if getattr(old, k) != getattr(new, k)
        }
        value = new.model_dump(mode="json")

        def write(s: Session) -> None:
            put_setting(s, RULES_KEY, value, by=actor.username)
            self._audit.record_sync(
                s,
                actor=actor,
                action="risk.update",
                target=RULES_KEY,
                outcome="ok",
                detail={"changed": changed},
            )

        await self._db.run(write)
        self._rules = new
        return new

    async def set_trading_enabled(
        self, *, enabled: bool, reason: str | None, actor: Actor
    ) -> KillSwitchRead:
        """Turn trading on or off (the kill switch); persisted and audited."""
        now = datetime.now(UTC)
        value = {"trading_enabled": enabled, "reason": reason or ""}
        was = self._kill.trading_enabled

        def write(s: Session) -> None:
            put_setting(s, KILL_SWITCH_KEY, value, by=actor.username)
            self._audit.record_sync(
                s,
                actor=actor,
                action="kill_switch.update",
                target=KILL_SWITCH_KEY,
                outcome="ok",
                detail={"trading_enabled": enabled, "was": was, "reason": reason or ""},
            )

        await self._db.run(write)
        self._kill = KillSwitchRead(
            trading_enabled=enabled,
            reason=reason or "",
            updated_at=now,
            updated_by=actor.username,
        )
        return self._kill

"""Risk controls under /trading: the kill switch, the pre-trade rules and the audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from backend.app.api.deps import AdminUser, AuditDep, RiskDep, ViewerUser
from backend.app.domain.ids import CURSOR_PATTERN
from backend.app.models.risk import (
    AuditPage,
    KillSwitchRead,
    KillSwitchUpdate,
    RiskRules,
    RiskRulesUpdate,
)
from backend.app.models.strict import IsoDateTime

router = APIRouter(prefix="/trading", tags=["risk"])


@router.get("/kill-switch", response_model=KillSwitchRead)
async def get_kill_switch(risk: RiskDep, _: ViewerUser) -> KillSwitchRead:
    """Whether new orders are accepted, and why not."""
    return risk.kill_switch


@router.put("/kill-switch", response_model=KillSwitchRead)
async def put_kill_switch(body: KillSwitchUpdate, risk: RiskDep, user: AdminUser) -> KillSwitchRead:
    """Turn trading off (new orders get 422 TRADING_DISABLED; cancels still work) or on."""
    return await risk.set_trading_enabled(
        enabled=body.trading_enabled, reason=body.reason, actor=user
    )


@router.get("/risk-rules", response_model=RiskRules)
async def get_risk_rules(risk: RiskDep, _: ViewerUser) -> RiskRules:
    """The pre-trade rules in force (`null` or `0` = off)."""
    return risk.rules


@router.put("/risk-rules", response_model=RiskRules)
async def put_risk_rules(body: RiskRulesUpdate, risk: RiskDep, user: AdminUser) -> RiskRules:
    """Change the rules: only the fields sent change; audited."""
    return await risk.update_rules(rules=body, actor=user)


@router.get("/audit", response_model=AuditPage)
async def get_audit(
    audit: AuditDep,
    _: AdminUser,
    action: Annotated[
        str | None,
        Query(max_length=48, description="`order.place`, or a prefix such as `order`"),
    ] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[IsoDateTime | None, Query(description="ISO 8601 with offset")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(pattern=CURSOR_PATTERN)] = None,
) -> AuditPage:
    """Who placed, cancelled or changed what, when, from where, with what outcome; newest
    first."""
    return await audit.list(
        action=action, username=username, since=since, limit=limit, cursor=cursor
    )

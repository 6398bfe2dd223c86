"""API schemas of the risk controls: the rules, the kill switch and the audit trail."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backend.app.core.errors import InvalidStockCode
from backend.app.models.strict import (
    JSON_INT,
    STOCK_CODE_PATTERN,
    STRICT,
    DecimalRule,
    StrictBool,
)
from xtquant_adapter.ashare.codes import InvalidStockCode as AdapterInvalidStockCode
from xtquant_adapter.ashare.codes import normalize_code

_Money = Annotated[Decimal, DecimalRule(le=10**16)]
_Percent = Annotated[Decimal, DecimalRule(le=1000)]
_Count = Annotated[int, Field(ge=0, le=10**12), JSON_INT, STRICT]
_Codes = Annotated[list[Annotated[str, Field(pattern=STOCK_CODE_PATTERN)]], Field(max_length=5000)]


def _normalize_codes(v: list[str] | None) -> list[str] | None:
    """Raises:
    InvalidStockCode: (the domain error, 422 INVALID_STOCK_CODE as for an order) a code of
        the stated form that names no code range.
    """
    if v is None:
        return None
    try:
        return sorted({normalize_code(c) for c in v})
    except AdapterInvalidStockCode as exc:
        raise InvalidStockCode(str(exc)) from None


class RiskRules(BaseModel):
    """Pre-trade rules. `0` or `null` turns a limit off; empty code lists are off too.

    Which side each rule checks (a sell reduces exposure, so the caps on value never keep
    you from closing a position):

    | rule | buy | sell |
    | --- | --- | --- |
    | max_order_value, max_position_value_per_stock, max_daily_turnover | yes | no |
    | max_order_quantity, max_daily_orders, max_price_deviation_pct | yes | yes |
    | blocked_codes, allowed_codes, max_duplicate_orders | yes | yes |
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_value: _Money | None = Field(
        default=None, description="单笔委托金额上限（元，仅买入）/ per-order value cap, CNY, buys"
    )
    max_order_quantity: _Count | None = Field(
        default=None, description="单笔委托数量上限（股）/ per-order quantity cap, shares"
    )
    max_position_value_per_stock: _Money | None = Field(
        default=None,
        description="单只股票持仓市值上限（元，仅买入）/ per-stock position value cap, buys",
    )
    max_daily_orders: _Count | None = Field(
        default=None, description="每日委托笔数上限 / orders per day"
    )
    max_daily_turnover: _Money | None = Field(
        default=None,
        description="每日委托金额上限（元，买卖合计，仅拦截买入）/ daily turnover cap, blocks buys",
    )
    max_price_deviation_pct: _Percent | None = Field(
        default=None, description="委托价偏离最新价的最大百分比 / max % from the last price"
    )
    blocked_codes: _Codes = Field(default_factory=list, description="禁止交易 / never traded")
    allowed_codes: _Codes = Field(
        default_factory=list, description="非空时只允许这些代码 / when set, only these"
    )
    duplicate_window_seconds: Annotated[float, Field(ge=0, le=86400)] | None = Field(
        default=None, description="重复委托检测窗口（秒）/ duplicate-order window, seconds"
    )
    max_duplicate_orders: _Count | None = Field(
        default=None,
        description="窗口内相同委托的最大笔数 / identical orders allowed within the window",
    )

    _codes = field_validator("blocked_codes", "allowed_codes")(_normalize_codes)


class RiskRulesUpdate(BaseModel):
    """PUT /trading/risk-rules: only the fields sent change; `null` or `0` turns one off."""

    model_config = ConfigDict(extra="forbid")

    max_order_value: _Money | None = None
    max_order_quantity: _Count | None = None
    max_position_value_per_stock: _Money | None = None
    max_daily_orders: _Count | None = None
    max_daily_turnover: _Money | None = None
    max_price_deviation_pct: _Percent | None = None
    blocked_codes: _Codes | None = None
    allowed_codes: _Codes | None = None
    duplicate_window_seconds: Annotated[float, Field(ge=0, le=86400), STRICT] | None = None
    max_duplicate_orders: _Count | None = None

    _codes = field_validator("blocked_codes", "allowed_codes")(_normalize_codes)


class KillSwitchUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trading_enabled: StrictBool
    reason: Annotated[str, Field(max_length=500)] | None = None


class KillSwitchRead(BaseModel):
    trading_enabled: bool
    reason: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""


class AuditEntryRead(BaseModel):
    id: int
    created_at: datetime
    username: str
    action: str
    target: str
    outcome: str
    detail: dict[str, Any]
    client_ip: str
    request_id: str


class AuditPage(BaseModel):
    items: list[AuditEntryRead]
    next_cursor: str | None = None

"""API schemas of strategies and their runs."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator, model_validator

from backend.app.core.errors import InvalidStockCode as DomainInvalidStockCode
from backend.app.models.strict import JSON_INT, STOCK_CODE_PATTERN, STRICT, DecimalRule, IsoDate
from xtquant_adapter.ashare.codes import InvalidStockCode, normalize_code

RunMode = Literal["backtest", "trade"]
RunStatus = Literal["running", "finished", "failed", "stopped"]
ParamValue = str | int | float | bool | None | list[str | int | float | bool]

_IDENT: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Names a parameter may not take: they would hide the QMT functions or the script's hooks.
RESERVED_PARAMS: Final = frozenset({
    "passorder", "order_shares", "order_lots", "order_value", "cancel",
    "get_trade_detail_data", "timetag_to_datetime", "print", "account", "accountType",
    "init", "handlebar", "after_init", "stop",
})  # fmt: skip
# What `_params` allows, stated in the schema: an identifier, not reserved, no dunder.
_RESERVED_NAMES: Final[list[JsonValue]] = [*sorted(RESERVED_PARAMS)]
PARAM_NAMES_SCHEMA: Final[dict[str, JsonValue]] = {
    "pattern": _IDENT.pattern,
    "not": {"anyOf": [{"enum": _RESERVED_NAMES}, {"pattern": "^__"}]},
}
DATA_FILE_RE: Final = re.compile(r"^[A-Za-z0-9_\-]+\.csv$")


def unique_codes(codes: list[str]) -> list[str]:
    """`codes` normalized, repeats dropped, first-seen order kept.

    Raises InvalidStockCode for the first code that is not valid.
    """
    out: list[str] = []
    for raw in codes:
        code = normalize_code(raw)
        if code not in out:
            out.append(code)
    return out


class StrategyRead(BaseModel):
    name: str
    description: str


class StrategyList(BaseModel):
    items: list[StrategyRead]


class RunCreate(BaseModel):
    """Start a run. Only `mode` is required; the rest default as documented."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"mode": "backtest", "stock_codes": ["600000.SH"], "period": "1d",
                 "start": "2024-01-02", "end": "2024-12-31", "initial_cash": "1000000",
                 "params": {"short": 5, "long": 20}, "seed": 7}
            ]
        },
    )  # fmt: skip

    mode: RunMode
    params: dict[str, ParamValue] = Field(
        default_factory=dict,
        description="策略参数，作为全局变量与 C.params / script parameters",
        json_schema_extra={"propertyNames": PARAM_NAMES_SCHEMA},
    )
    stock_codes: Annotated[
        list[Annotated[str, Field(pattern=STOCK_CODE_PATTERN)]], Field(min_length=1, max_length=50)
    ] = Field(
        default_factory=lambda: ["600000.SH"], description="首个为主图代码 / first is C.stock_code"
    )
    period: Literal["1d", "1m"] = "1d"
    start: IsoDate | None = Field(
        default=None, description="回测开始日，不晚于 end / backtest first day, not after end"
    )
    end: IsoDate | None = Field(default=None, description="回测结束日 / backtest last day")
    initial_cash: Annotated[Decimal, DecimalRule(le=10**12, positive=True)] = Decimal("1000000")
    seed: Annotated[int, Field(ge=0, le=2**53), JSON_INT, STRICT] | None = Field(
        default=None, description="回测行情种子，默认 SIM_SEED / bar seed (default SIM_SEED)"
    )
    data_file: str | None = Field(
        default=None,
        pattern=DATA_FILE_RE.pattern,
        description="STRATEGY_DIR 下的 CSV（time,open,high,low,close,volume）替代模拟行情，"
        "仅用于回测 / a CSV in STRATEGY_DIR instead of simulated bars; backtests only",
    )

    @field_validator("stock_codes")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        try:
            return unique_codes(v)
        except InvalidStockCode as exc:  # of the stated form, no such code range: as orders
            raise DomainInvalidStockCode(str(exc)) from None

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, ParamValue]) -> dict[str, ParamValue]:
        for key in v:
            if not _IDENT.fullmatch(key) or key in RESERVED_PARAMS or key.startswith("__"):
                raise ValueError(f"参数名 {key!r} 不可用 / parameter name {key!r} is not allowed")
        return v

    @field_validator("data_file")
    @classmethod
    def _data_file(cls, v: str | None) -> str | None:
        if v is not None and not DATA_FILE_RE.fullmatch(v):
            raise ValueError("data_file 须为 STRATEGY_DIR 下的 NAME.csv / must be NAME.csv")
        return v

    @model_validator(mode="after")
    def _range(self) -> RunCreate:
        if self.start and self.end and self.start > self.end:
            raise ValueError("start 晚于 end / start is after end")
        if self.mode == "trade" and self.data_file:
            raise ValueError("trade 模式不使用 data_file / data_file is for backtests")
        return self


class RunRead(BaseModel):
    run_id: int
    strategy: str
    mode: RunMode
    status: RunStatus
    started_at: datetime
    finished_at: datetime | None
    error: str | None
    result: dict[str, Any] | None
    params: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    username: str = ""
    chart_url: str | None = None


class RunList(BaseModel):
    items: list[RunRead]

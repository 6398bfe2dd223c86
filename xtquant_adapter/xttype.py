"""xtquant.xttype-shaped records (XTQUANT.md §4).

Field names are exactly xttype's, so code written against the real SDK reads these unchanged.
Records are frozen: a callback receives a snapshot, never a live object the simulator mutates.
Money fields are floats like the SDK's; the simulator keeps exact money internally and only
converts at this boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from xtquant_adapter import xtconstant

_ACCOUNT_TYPES: dict[str, int] = {
    "FUTURE": xtconstant.FUTURE_ACCOUNT,
    "STOCK": xtconstant.SECURITY_ACCOUNT,
    "CREDIT": xtconstant.CREDIT_ACCOUNT,
    "FUTURE_OPTION": xtconstant.FUTURE_OPTION_ACCOUNT,
    "STOCK_OPTION": xtconstant.STOCK_OPTION_ACCOUNT,
    "HUGANGTONG": xtconstant.HUGANGTONG_ACCOUNT,
    "INCOME_SWAP": xtconstant.INCOME_SWAP_ACCOUNT,
    "NEW3BOARD": xtconstant.NEW3BOARD_ACCOUNT,
    "SHENGANGTONG": xtconstant.SHENGANGTONG_ACCOUNT,
}


class StockAccount:
    """An account handle: `StockAccount("SIM000001")` has `account_type == 2` like xttype's.

    Unlike the real class (whose `__new__` returns an error *string* for a non-str id), a bad
    id or type raises `ValueError`, because a silent string would travel far before failing.
    """

    __slots__ = ("account_id", "account_type")

    def __init__(self, account_id: str, account_type: str = "STOCK") -> None:
        if not isinstance(account_id, str) or not account_id:
            raise ValueError("资金账号必须为字符串类型 / account_id must be a non-empty str")
        kind = _ACCOUNT_TYPES.get(str(account_type).upper())
        if kind is None:
            raise ValueError(f"不支持的账号类型：{account_type}！/ unsupported account type")
        self.account_id: str = account_id
        self.account_type: int = kind

    def __repr__(self) -> str:
        return f"StockAccount({self.account_id!r}, account_type={self.account_type})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, StockAccount)
            and other.account_id == self.account_id
            and other.account_type == self.account_type
        )

    def __hash__(self) -> int:
        return hash((self.account_id, self.account_type))


@dataclass(frozen=True, slots=True)
class XtAsset:
    account_type: int
    account_id: str
    cash: float
    frozen_cash: float
    market_value: float
    total_asset: float
    fetch_balance: float


@dataclass(frozen=True, slots=True)
class XtOrder:
    account_type: int
    account_id: str
    stock_code: str
    order_id: int
    order_sysid: str
    order_time: int
    order_type: int
    order_volume: int
    price_type: int
    price: float
    traded_volume: int
    traded_price: float
    order_status: int
    status_msg: str
    strategy_name: str
    order_remark: str
    direction: int
    offset_flag: int
    secu_account: str = ""
    instrument_name: str = ""


@dataclass(frozen=True, slots=True)
class XtTrade:
    account_type: int
    account_id: str
    stock_code: str
    order_type: int
    traded_id: str
    traded_time: int
    traded_price: float
    traded_volume: int
    traded_amount: float
    order_id: int
    order_sysid: str
    strategy_name: str
    order_remark: str
    direction: int
    offset_flag: int
    commission: float
    secu_account: str = ""
    instrument_name: str = ""


@dataclass(frozen=True, slots=True)
class XtPosition:
    account_type: int
    account_id: str
    stock_code: str
    volume: int
    can_use_volume: int
    open_price: float
    market_value: float
    frozen_volume: int
    on_road_volume: int
    yesterday_volume: int
    avg_price: float
    direction: int
    last_price: float
    profit_rate: float
    secu_account: str = ""
    instrument_name: str = ""
    float_profit: float = 0.0
    open_date: str = ""
    position_profit: float = 0.0


@dataclass(frozen=True, slots=True)
class XtOrderError:
    account_type: int
    account_id: str
    order_id: int
    error_id: int
    error_msg: str
    strategy_name: str = ""
    order_remark: str = ""
    seq: int = 0


@dataclass(frozen=True, slots=True)
class XtCancelError:
    account_type: int
    account_id: str
    order_id: int
    market: int
    order_sysid: str
    error_id: int
    error_msg: str
    seq: int = 0


@dataclass(frozen=True, slots=True)
class XtOrderResponse:
    account_type: int
    account_id: str
    order_id: int
    strategy_name: str
    order_remark: str
    error_msg: str
    seq: int


@dataclass(frozen=True, slots=True)
class XtCancelOrderResponse:
    account_type: int
    account_id: str
    cancel_result: int
    order_id: int
    order_sysid: str
    seq: int
    error_msg: str = ""


@dataclass(frozen=True, slots=True)
class XtAccountStatus:
    account_id: str
    account_type: int
    status: int

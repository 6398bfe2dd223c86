"""Fake `xtquant.xttype`: the adapter's records, whose field names equal the real SDK's."""

from xtquant_adapter.xttype import (
    StockAccount,
    XtAccountStatus,
    XtAsset,
    XtCancelError,
    XtCancelOrderResponse,
    XtOrder,
    XtOrderError,
    XtOrderResponse,
    XtPosition,
    XtTrade,
)

__all__ = [
    "StockAccount",
    "XtAccountStatus",
    "XtAsset",
    "XtCancelError",
    "XtCancelOrderResponse",
    "XtOrder",
    "XtOrderError",
    "XtOrderResponse",
    "XtPosition",
    "XtTrade",
]

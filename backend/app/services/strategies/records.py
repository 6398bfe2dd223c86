"""What `get_trade_detail_data` returns: objects with QMT's own `m_*` attribute names.

Real QMT hands scripts C++ objects (`m_strInstrumentID`, `m_nVolume`, `m_dAvailable`, ...);
ported scripts read those names, so both the backtest account and the trade-mode bridge build
these plain records. Codes are split QMT-style: `m_strInstrumentID="600519"`,
`m_strExchangeID="SH"`. Money fields are floats, as QMT gives them.
"""

from __future__ import annotations

from dataclasses import dataclass

# QMT's order direction flags (m_nOffsetFlag / m_nDirection): 48 buy, 49 sell.
FLAG_BUY = 48
FLAG_SELL = 49


def split_code(code: str) -> tuple[str, str]:
    digits, _, exchange = code.partition(".")
    return digits, exchange


@dataclass(slots=True)
class PositionRecord:
    m_strAccountID: str
    m_strInstrumentID: str
    m_strExchangeID: str
    m_strInstrumentName: str
    m_nVolume: int
    m_nCanUseVolume: int
    m_nFrozenVolume: int
    m_nYesterdayVolume: int
    m_nOnRoadVolume: int
    m_dOpenPrice: float
    m_dMarketValue: float
    m_dLastPrice: float
    m_dPositionProfit: float
    m_dFloatProfit: float
    m_dProfitRate: float
    m_nDirection: int = FLAG_BUY


@dataclass(slots=True)
class AccountRecord:
    m_strAccountID: str
    m_dAvailable: float
    m_dBalance: float
    m_dAssetBalance: float
    m_dInstrumentValue: float
    m_dFrozenCash: float
    m_dFetchBalance: float
    m_dCommission: float
    m_dPositionProfit: float
    m_strStatus: str = "正常"


@dataclass(slots=True)
class OrderRecord:
    m_strAccountID: str
    m_strOrderSysID: str
    m_strInstrumentID: str
    m_strExchangeID: str
    m_strInstrumentName: str
    m_nOffsetFlag: int
    m_nDirection: int
    m_strOptName: str
    m_nOrderPriceType: int
    m_dLimitPrice: float
    m_nVolumeTotalOriginal: int
    m_nVolumeTraded: int
    m_nVolumeTotal: int
    m_dTradedPrice: float
    m_dTradeAmount: float
    m_nOrderStatus: int
    m_strErrorMsg: str
    m_strInsertDate: str
    m_strInsertTime: str
    m_strRemark: str
    m_strStrategyName: str


@dataclass(slots=True)
class DealRecord:
    m_strAccountID: str
    m_strTradeID: str
    m_strOrderSysID: str
    m_strInstrumentID: str
    m_strExchangeID: str
    m_strInstrumentName: str
    m_nOffsetFlag: int
    m_nDirection: int
    m_strOptName: str
    m_dPrice: float
    m_nVolume: int
    m_dTradeAmount: float
    m_dComssion: float  # sic: QMT's own spelling of the deal's commission field
    m_strTradeDate: str
    m_strTradeTime: str
    m_strRemark: str
    m_strStrategyName: str

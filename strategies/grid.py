# coding:gbk
# ruff: noqa: F821, T201 - QMT provides passorder, account, ... as globals; print goes to the run log
"""网格交易 / Grid trading.

以首根K线收盘价为基准，每下跌 `step`（比例）买入 `lots` 手，每上涨 `step` 卖出 `lots` 手，
最多持有 `max_levels` 格。
Around the first bar's close: buy `lots` lots at every `step` fall, sell `lots` lots at every
`step` rise, holding at most `max_levels` grid levels. Parameters: step (0.02), lots (5),
max_levels (5).
"""

# Defaults; a run's parameters of the same name replace them.
step = 0.02
lots = 5
max_levels = 5


def init(C):
    C.base = None
    C.level = 0
    print("grid init", C.stock_code, "step", step, "lots", lots)


def handlebar(C):
    code = C.stock_code
    df = C.get_market_data_ex(["close"], [code], period=C.period, count=1)[code]
    if df.empty:
        return
    price = float(df["close"].iloc[-1])
    if C.base is None:
        C.base = price
        return

    sellable = 0
    for pos in get_trade_detail_data(account, "STOCK", "POSITION"):
        if pos.m_strInstrumentID == C.stockcode and pos.m_strExchangeID == C.market:
            sellable = pos.m_nCanUseVolume

    target = int((C.base - price) / (C.base * step))
    target = max(0, min(max_levels, target))
    volume = lots * 100
    if target > C.level:
        passorder(23, 1101, account, code, 11, round(price, 2), volume, "grid", 2, "", C)
        C.level += 1
    elif target < C.level and sellable >= volume:
        passorder(24, 1101, account, code, 11, round(price, 2), volume, "grid", 2, "", C)
        C.level -= 1

# coding:gbk
# ruff: noqa: F821, T201 - QMT provides passorder, account, ... as globals; print goes to the run log
"""双均线交叉 / Moving-average cross.

短均线上穿长均线时买入 `lots` 手，下穿时卖出全部可卖持仓。
Buys `lots` lots when the short MA crosses above the long MA; sells the whole sellable
position when it crosses below. Parameters: short (5), long (20), lots (10).
"""

# Defaults; a run's parameters of the same name replace them.
short = 5
long = 20
lots = 10


def init(C):
    C.accID = account
    print("init", C.stock_code, C.period, "short", short, "long", long, "lots", lots)


def handlebar(C):
    code = C.stock_code
    data = C.get_market_data_ex(["close"], [code], period=C.period, count=long + 1)
    closes = data[code]["close"]
    if len(closes) < long + 1:
        return
    short_now = closes.iloc[-short:].mean()
    long_now = closes.iloc[-long:].mean()
    short_prev = closes.iloc[-short - 1 : -1].mean()
    long_prev = closes.iloc[-long - 1 : -1].mean()

    holding = 0
    for pos in get_trade_detail_data(C.accID, "stock", "position"):
        if pos.m_strInstrumentID + "." + pos.m_strExchangeID == code:
            holding = pos.m_nCanUseVolume

    bar_time = timetag_to_datetime(C.get_bar_timetag(C.barpos), "%Y-%m-%d %H:%M")
    if short_prev <= long_prev and short_now > long_now:
        cash = get_trade_detail_data(C.accID, "stock", "account")[0].m_dAvailable
        if cash > closes.iloc[-1] * lots * 100:
            print(bar_time, "golden cross, buy", lots * 100)
            passorder(23, 1101, C.accID, code, 5, 0, lots * 100, "ma_cross", 2, "", C)
    elif short_prev >= long_prev and short_now < long_now and holding > 0:
        print(bar_time, "death cross, sell", holding)
        passorder(24, 1101, C.accID, code, 5, 0, holding, "ma_cross", 2, "", C)

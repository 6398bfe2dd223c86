"""Indexes, sector lists and instruments on demand, for the simulator and backtests.

QMT scripts name indexes (`000300.SH`), sectors (`get_stock_list_in_sector('沪深300')`) and
arbitrary stocks. The simulated market's own instruments (`universe.UNIVERSE`) are a few
dozen; this module adds, without touching them:

* `INDEXES`: the main indexes as instruments (prices are index points, not quotes);
* `SECTORS`: a **static, dated, partial** snapshot of the main index memberships
  (`SNAPSHOT_DATE`): the largest members as they stood then, not the complete official list
  (a simulator needs codes that exist and plausible names, not index replication). 沪深A股
  is every instrument known here;
* `instrument(code)`: the instrument for any valid code — the universe's, an index, a
  snapshot member, or else a **synthetic** one (`synthetic=True`: name `模拟<digits>`, a price
  level derived from the code) so that a script's bars exist for every code it names; callers
  log the synthetic ones by name.

Levels are plausible late-2024 prices, not quotes.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Final

from xtquant_adapter.ashare.codes import EQUITY_BOARDS, FUND_BOARDS, Board, board_of
from xtquant_adapter.ashare.rules import is_t0
from xtquant_adapter.sim.universe import BY_CODE, UNIVERSE, Instrument

SNAPSHOT_DATE: Final = date(2024, 12, 31)


def _inst(code: str, name: str, level: str, vol: float = 0.02) -> Instrument:
    return Instrument(code, name, Decimal(level), 300, vol, t0=is_t0(code))


INDEXES: Final[tuple[Instrument, ...]] = (
    _inst("000001.SH", "上证指数", "3351.76", 0.011),
    _inst("000016.SH", "上证50", "2694.01", 0.011),
    _inst("000300.SH", "沪深300", "3934.91", 0.011),
    _inst("000905.SH", "中证500", "5688.59", 0.014),
    _inst("000852.SH", "中证1000", "6085.71", 0.016),
    _inst("000688.SH", "科创50", "1000.26", 0.02),
    _inst("399001.SZ", "深证成指", "10414.61", 0.013),
    _inst("399006.SZ", "创业板指", "2141.60", 0.017),
)

# (code, name, level): the largest members of each index at SNAPSHOT_DATE (partial).
_SZ50: Final = (
    ("600519.SH", "贵州茅台", "1524.00"), ("601318.SH", "中国平安", "52.77"),
    ("600036.SH", "招商银行", "38.02"), ("600900.SH", "长江电力", "29.45"),
    ("601166.SH", "兴业银行", "19.05"), ("600030.SH", "中信证券", "29.55"),
    ("601899.SH", "紫金矿业", "15.60"), ("600276.SH", "恒瑞医药", "45.99"),
    ("600887.SH", "伊利股份", "30.20"), ("601398.SH", "工商银行", "6.80"),
    ("601288.SH", "农业银行", "5.28"), ("601988.SH", "中国银行", "5.37"),
    ("601328.SH", "交通银行", "7.52"), ("601857.SH", "中国石油", "8.70"),
    ("600028.SH", "中国石化", "6.14"), ("601088.SH", "中国神华", "43.09"),
    ("600309.SH", "万华化学", "71.10"), ("601012.SH", "隆基绿能", "15.78"),
    ("688981.SH", "中芯国际", "96.70"), ("601728.SH", "中国电信", "6.95"),
    ("600941.SH", "中国移动", "115.50"), ("601628.SH", "中国人寿", "38.01"),
    ("601601.SH", "中国太保", "32.31"), ("600050.SH", "中国联通", "5.38"),
    ("601225.SH", "陕西煤业", "23.56"), ("600031.SH", "三一重工", "16.32"),
    ("601668.SH", "中国建筑", "5.93"), ("601390.SH", "中国中铁", "6.40"),
    ("600048.SH", "保利发展", "8.73"), ("603259.SH", "药明康德", "53.49"),
    ("600690.SH", "海尔智家", "28.32"), ("600809.SH", "山西汾酒", "185.50"),
    ("601919.SH", "中远海控", "15.20"), ("600406.SH", "国电南瑞", "24.67"),
    ("601816.SH", "京沪高铁", "5.50"), ("603288.SH", "海天味业", "45.08"),
    ("600104.SH", "上汽集团", "14.43"), ("688111.SH", "金山办公", "287.50"),
    ("688041.SH", "海光信息", "159.00"), ("600150.SH", "中国船舶", "36.90"),
)  # fmt: skip
_HS300_SZ: Final = (
    ("300750.SZ", "宁德时代", "266.00"), ("000333.SZ", "美的集团", "75.22"),
    ("000858.SZ", "五粮液", "139.30"), ("002594.SZ", "比亚迪", "283.00"),
    ("000001.SZ", "平安银行", "11.70"), ("300059.SZ", "东方财富", "25.60"),
    ("002415.SZ", "海康威视", "28.90"), ("000651.SZ", "格力电器", "45.10"),
    ("300760.SZ", "迈瑞医疗", "254.50"), ("002475.SZ", "立讯精密", "40.50"),
    ("000725.SZ", "京东方A", "4.38"), ("002714.SZ", "牧原股份", "38.21"),
    ("000568.SZ", "泸州老窖", "124.60"), ("300124.SZ", "汇川技术", "57.90"),
    ("002352.SZ", "顺丰控股", "40.43"), ("000100.SZ", "TCL科技", "5.05"),
    ("000002.SZ", "万科A", "7.12"), ("300015.SZ", "爱尔眼科", "13.20"),
    ("000063.SZ", "中兴通讯", "40.20"), ("002371.SZ", "北方华创", "420.00"),
    ("000423.SZ", "东阿阿胶", "60.10"), ("600000.SH", "浦发银行", "10.18"),
    ("601138.SH", "工业富联", "22.55"), ("600585.SH", "海螺水泥", "24.08"),
)  # fmt: skip
_ZZ500: Final = (
    ("600109.SH", "国金证券", "8.30"), ("000547.SZ", "航天发展", "8.94"),
    ("002223.SZ", "鱼跃医疗", "35.80"), ("600536.SH", "中国软件", "45.20"),
    ("000738.SZ", "航发控制", "20.48"), ("002405.SZ", "四维图新", "8.96"),
    ("600879.SH", "航天电子", "7.45"), ("000629.SZ", "钒钛股份", "2.60"),
    ("600171.SH", "上海贝岭", "19.70"), ("002273.SZ", "水晶光电", "19.87"),
    ("300058.SZ", "蓝色光标", "9.13"), ("000400.SZ", "许继电气", "26.20"),
    ("600516.SH", "方大炭素", "5.20"), ("002465.SZ", "海格通信", "11.59"),
    ("300285.SZ", "国瓷材料", "18.20"), ("600867.SH", "通化东宝", "7.45"),
)  # fmt: skip
_ETFS: Final = (
    ("510500.SH", "中证500ETF", "5.800"), ("513100.SH", "纳指ETF", "1.580"),
    ("159915.SZ", "创业板ETF", "2.160"), ("159937.SZ", "博时黄金ETF", "6.020"),
    ("511130.SH", "30年国债ETF", "115.000"), ("518880.SH", "黄金ETF", "6.030"),
)  # fmt: skip

_MEMBERS: Final = {code: _inst(code, name, level) for code, name, level in (
    *_SZ50, *_HS300_SZ, *_ZZ500, *_ETFS)}  # fmt: skip
INDEX_BY_CODE: Final = {inst.code: inst for inst in INDEXES}

_A_SHARES: Final = sorted(code for code in {*BY_CODE, *_MEMBERS} if board_of(code) in EQUITY_BOARDS)
SECTORS: Final[dict[str, tuple[str, ...]]] = {
    "上证50": tuple(c for c, _, _ in _SZ50),
    "沪深300": tuple(c for c, _, _ in (*_SZ50, *_HS300_SZ)),
    "中证500": tuple(c for c, _, _ in _ZZ500),
    "沪深A股": tuple(_A_SHARES),
    "上证A股": tuple(c for c in _A_SHARES if c.endswith(".SH")),
    "深证A股": tuple(c for c in _A_SHARES if c.endswith(".SZ")),
    "沪深ETF": tuple(sorted({c for c in {*BY_CODE, *_MEMBERS} if board_of(c) is Board.ETF})),
}
# QMT's get_sector(index code) names the index by code.
SECTOR_OF_INDEX: Final = {"000016.SH": "上证50", "000300.SH": "沪深300", "000905.SH": "中证500"}


def sector_of_index(name: str) -> str:
    """The sector name of an index code (000300.SH -> 沪深300); other names unchanged."""
    return SECTOR_OF_INDEX.get(name, name)


def sector_members(name: str) -> tuple[str, ...] | None:
    """The snapshot's members of sector `name` or of index code `name`; None if unknown."""
    return SECTORS.get(SECTOR_OF_INDEX.get(name, name))


def known(code: str) -> bool:
    return code in BY_CODE or code in INDEX_BY_CODE or code in _MEMBERS


def instrument(code: str) -> Instrument:
    """The instrument of a normalized code; synthetic (see module doc) when not known here."""
    inst = BY_CODE.get(code) or INDEX_BY_CODE.get(code) or _MEMBERS.get(code)
    if inst is not None:
        return inst
    digest = int(hashlib.sha256(code.encode()).hexdigest()[:8], 16)
    fund = board_of(code) in FUND_BOARDS
    level = Decimal(1 + digest % 4000) / (1000 if fund else 100) + (1 if fund else 3)
    return replace(_inst(code, f"模拟{code.split('.')[0]}", str(level)), float_volume=500_000_000)


__all__ = [
    "INDEXES",
    "SECTORS",
    "SNAPSHOT_DATE",
    "UNIVERSE",
    "instrument",
    "known",
    "sector_members",
    "sector_of_index",
]
